import { deriveKey, hashCode, sealDeliveryPayload } from '@otp-relay/core';
import { runMigrations } from '@otp-relay/db';
import { createTestDatabase, installAsBeforeSchemas, type TestDatabase } from '@otp-relay/testkit';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { post, type Stack, startStack } from './support/stack.js';

/**
 * Migration 0001 (registration flows) on a database that holds what the first version wrote:
 * pending, replaced and used challenges, their deliveries, a flowless notice, and accounts made by
 * email and by WhatsApp codes. Nothing is lost, and a code pending across the upgrade still works.
 */

let stack: Stack;
let database: TestDatabase;
let sql: postgres.Sql;

const PENDING_CODE = '246801';
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

beforeAll(async () => {
  stack = await startStack();
  database = await createTestDatabase(inject('testServices'), { migrated: false });
  // The first version's tables, in public where it kept them; the upgrade below moves them too.
  await installAsBeforeSchemas(database.url, '0000_init');
  sql = postgres(database.url, { max: 1, onnotice: () => {} });

  const hmac = deriveKey(stack.config.OTP_PEPPER, 'otp-hmac');
  const sealKey = deriveKey(stack.config.OTP_ENCRYPTION_KEY, 'payload-encryption');
  const challenge = (id: string, fields: Record<string, unknown>) => ({
    id,
    channel: 'email',
    username: `user_${id.slice(0, 4)}`,
    first_name: 'Ann',
    last_name: 'Lee',
    password_hash: 'argon2-hash',
    code_hash: 'x',
    mobile: null,
    consumed_at: null,
    superseded_at: null,
    failed_attempts: 0,
    expires_at: minutesAgo(-5),
    created_at: minutesAgo(5),
    ...fields,
  });
  // The first version stored addresses in lower case, and the code's HMAC bound to the address.
  const pendingEmail = 'a.nn+shop@googlemail.com';
  await sql`INSERT INTO otp_challenges ${sql([
    challenge('10000000-0000-4000-8000-000000000001', {
      email: pendingEmail,
      destination: pendingEmail,
      username: 'pending_ann',
      code_hash: hashCode(hmac, pendingEmail, PENDING_CODE),
      failed_attempts: 2,
    }),
    challenge('10000000-0000-4000-8000-000000000002', {
      email: 'replaced@example.com',
      destination: 'replaced@example.com',
      superseded_at: minutesAgo(4),
    }),
    challenge('10000000-0000-4000-8000-000000000003', {
      email: 'by-whatsapp@example.com',
      channel: 'whatsapp',
      destination: '+14155550151',
      mobile: '+14155550151',
      username: 'wa_user',
      consumed_at: minutesAgo(3),
    }),
    challenge('10000000-0000-4000-8000-000000000004', {
      email: 'by-email@example.com',
      destination: 'by-email@example.com',
      username: 'mail_user',
      consumed_at: minutesAgo(3),
    }),
  ])}`;
  await sql`INSERT INTO users ${sql([
    {
      email: 'by-whatsapp@example.com',
      username: 'wa_user',
      first_name: 'W',
      last_name: 'A',
      password_hash: 'h',
    },
    {
      email: 'by-email@example.com',
      username: 'mail_user',
      first_name: 'M',
      last_name: 'U',
      password_hash: 'h',
    },
    {
      email: 'long-ago@example.com',
      username: 'old_user',
      first_name: 'O',
      last_name: 'U',
      password_hash: 'h',
    },
  ])}`;
  const pendingDelivery = '20000000-0000-4000-8000-000000000001';
  // As the first version sealed it: with the shopper's first name, which is no longer read.
  const FIRST_VERSION_PAYLOAD = { code: PENDING_CODE, firstName: 'Ann' };
  await sql`INSERT INTO deliveries ${sql([
    {
      id: pendingDelivery,
      kind: 'otp',
      challenge_id: '10000000-0000-4000-8000-000000000001',
      channel: 'email',
      destination: pendingEmail,
      payload_ciphertext: sealDeliveryPayload(sealKey, pendingDelivery, FIRST_VERSION_PAYLOAD),
      status: 'sent',
    },
    {
      id: '20000000-0000-4000-8000-000000000003',
      kind: 'otp',
      challenge_id: '10000000-0000-4000-8000-000000000003',
      channel: 'whatsapp',
      destination: '+14155550151',
      payload_ciphertext: 'v1.x.y.z',
      status: 'sent',
    },
    {
      id: '20000000-0000-4000-8000-000000000004',
      kind: 'otp',
      challenge_id: '10000000-0000-4000-8000-000000000004',
      channel: 'email',
      destination: 'by-email@example.com',
      payload_ciphertext: 'v1.x.y.z',
      status: 'sent',
    },
    {
      id: '20000000-0000-4000-8000-000000000009',
      kind: 'registration-notice',
      challenge_id: null,
      channel: 'email',
      destination: 'owner@example.com',
      payload_ciphertext: null,
      status: 'sent',
    },
  ])}`;

  await runMigrations(database.url);
  await sql.end();
  sql = postgres(database.url, { max: 1, onnotice: () => {}, connection: { search_path: 'otp_relay' } });
});

afterAll(async () => {
  await sql?.end();
  await database?.drop();
  await stack?.close();
});

describe('migration 0001', () => {
  it('carries pending registrations and accounts over', async () => {
    const flows = await sql`
      SELECT id, verification_id, email, email_key, code_sequence, failed_attempts, verified_at, closed_at
      FROM registration_flows ORDER BY id`;
    expect(flows).toHaveLength(4);
    const [pending, replaced, byWhatsApp, byEmail] = flows;
    expect(pending).toMatchObject({
      email: 'a.nn+shop@googlemail.com',
      email_key: 'ann@gmail.com',
      code_sequence: 1,
      failed_attempts: 2,
      verified_at: null,
      closed_at: null,
    });
    expect(new Set(flows.map((flow) => flow.verification_id)).size).toBe(4);
    for (const flow of flows) expect(flow.verification_id).toMatch(/^vf_[0-9a-f]{64}$/);
    expect(replaced?.closed_at).not.toBeNull();
    expect(byWhatsApp?.verified_at).not.toBeNull();
    expect(byEmail?.verified_at).not.toBeNull();

    const deliveries = await sql`SELECT id, kind, flow_id, code_sequence FROM deliveries ORDER BY id`;
    expect(deliveries.map((row) => [row.kind, row.flow_id, row.code_sequence])).toEqual([
      ['otp', pending?.id, 1],
      ['otp', byWhatsApp?.id, 1],
      ['otp', byEmail?.id, 1],
      ['registration-notice', null, null],
    ]);

    const accounts = await sql`
      SELECT username, email, phone, email_verified_at IS NOT NULL AS email_proven,
             phone_verified_at IS NOT NULL AS phone_proven
      FROM users ORDER BY username`;
    expect(accounts).toEqual([
      {
        username: 'mail_user',
        email: 'by-email@example.com',
        phone: null,
        email_proven: true,
        phone_proven: false,
      },
      // Only this account's flow is kept; a WhatsApp code proved its phone, not its email.
      {
        username: 'old_user',
        email: 'long-ago@example.com',
        phone: null,
        email_proven: true,
        phone_proven: false,
      },
      {
        username: 'wa_user',
        email: 'by-whatsapp@example.com',
        phone: '+14155550151',
        email_proven: false,
        phone_proven: true,
      },
    ]);
  });

  it('keeps a code pending across the upgrade working, and the address stays one mailbox', async () => {
    const upgraded = await stack.anotherApi({ databaseUrl: database.url });
    try {
      const verified = await post(upgraded.app, 'verify-otp/', { email: 'ann@gmail.com', otp: PENDING_CODE });
      expect(verified.statusCode).toBe(200);
      expect(verified.json().user).toMatchObject({
        username: 'pending_ann',
        email: 'a.nn+shop@googlemail.com',
        email_verified: true,
      });
    } finally {
      await upgraded.close();
    }
  });
});
