// `pnpm otp:lookup` against a real Postgres: flows found by any spelling of the address or the
// number, deliveries with their fallbacks, accounts, and nothing secret or unmasked printed.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createDatabase, type DatabaseHandle, deliveries, registrationFlows, users } from '@otp-relay/db';
import { createTestDatabase, type TestDatabase } from '@otp-relay/testkit';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type LookupReport, lookupReport, orderDeliveries } from '../src/lookup/format-lookup.js';
import { parseLookupContact } from '../src/lookup/lookup-contact.js';
import { findRegistrations } from '../src/lookup/lookup-repository.js';
import { parseSince, runOtpLookup } from '../src/lookup/run-otp-lookup.js';
import { OTP_RELAY_COMMANDS } from '../src/otp-relay-commands.js';
import { REPO_ROOT } from '../src/paths.js';
import { captureIo, tempDir } from './support/cli-io.js';

const NOW = new Date('2025-05-20T12:00:00.000Z');
const ago = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);

// What must never be printed: secrets, whole verification ids, contacts as stored.
const SECRETS = {
  passwordHash: '$argon2id$v=19$SECRET-PASSWORD-HASH',
  codeHash: 'hmac-SECRET-CODE-HASH',
  payload: 'SEALED-SECRET-PAYLOAD',
};
const ANN = { email: 'Ann.Lee+shop@gmail.com', key: 'annlee@gmail.com', mobile: '+447700900123' };
const BOB = { email: 'bob@example.com', mobile: '+14155552671' };
const verificationIds = {
  annWhatsapp: 'vf_annWA1xxxxxxxxxxxxxxxxxxx',
  annNotice: 'vf_annNT2xxxxxxxxxxxxxxxxxxx',
  annOld: 'vf_annOL3xxxxxxxxxxxxxxxxxxx',
  bob: 'vf_bobSM4xxxxxxxxxxxxxxxxxxx',
};
const FORBIDDEN = [
  ...Object.values(SECRETS),
  ...Object.values(verificationIds),
  'Ann.Lee',
  'annlee@',
  '7700900123',
  '7700 900123',
  '4155552671',
  'bob@',
];

let database: TestDatabase;
let handle: DatabaseHandle;
const ids = { whatsapp: randomUUID(), fallback: randomUUID(), resend: randomUUID(), notice: randomUUID() };

function flow(
  verificationId: string,
  values: Partial<typeof registrationFlows.$inferInsert> &
    Pick<typeof registrationFlows.$inferInsert, 'email' | 'emailKey' | 'channel' | 'destination'>,
): typeof registrationFlows.$inferInsert {
  return {
    id: randomUUID(),
    verificationId,
    username: `user-${verificationId}`,
    firstName: 'Ann',
    lastName: 'Lee',
    passwordHash: SECRETS.passwordHash,
    codeHash: SECRETS.codeHash,
    expiresAt: ago(-10),
    ...values,
  };
}

beforeAll(async () => {
  database = await createTestDatabase(inject('testServices'));
  handle = createDatabase(database.url, { maxConnections: 2 });
  const { db } = handle;
  const [annWhatsapp, annNotice, , bob] = await db
    .insert(registrationFlows)
    .values([
      // A code asked for by WhatsApp that never arrived, fell back to email, was resent and verified.
      flow(verificationIds.annWhatsapp, {
        email: ANN.email,
        emailKey: ANN.key,
        channel: 'email',
        destination: ANN.email,
        mobile: ANN.mobile,
        codeSequence: 2,
        failedAttempts: 1,
        verifiedAt: ago(170),
        passwordHash: null,
        createdAt: ago(180),
      }),
      // Someone registering again with the proven address: a notice goes instead of a code.
      flow(verificationIds.annNotice, {
        kind: 'notice',
        email: 'annlee@googlemail.com',
        emailKey: ANN.key,
        channel: 'email',
        destination: 'annlee@googlemail.com',
        failedAttemptsWithoutId: 2,
        createdAt: ago(60),
      }),
      // Ten days old: outside `--since 7d`.
      flow(verificationIds.annOld, {
        email: 'ANN.LEE@gmail.com',
        emailKey: ANN.key,
        channel: 'email',
        destination: 'ANN.LEE@gmail.com',
        expiresAt: ago(10 * 24 * 60 - 10),
        createdAt: ago(10 * 24 * 60),
      }),
      // Another shopper, by SMS, locked by wrong codes.
      flow(verificationIds.bob, {
        email: BOB.email,
        emailKey: BOB.email,
        channel: 'sms',
        destination: BOB.mobile,
        mobile: BOB.mobile,
        failedAttempts: 5,
        createdAt: ago(2 * 24 * 60),
      }),
    ])
    .returning({ id: registrationFlows.id });
  if (!annWhatsapp || !annNotice || !bob) throw new Error('flows not seeded');

  await db.insert(deliveries).values({
    id: ids.whatsapp,
    flowId: annWhatsapp.id,
    codeSequence: 1,
    channel: 'whatsapp',
    provider: 'twilio',
    destination: `whatsapp:${ANN.mobile}`,
    status: 'sent',
    attempts: 2,
    interruptedAttempts: 1,
    providerMessageId: 'SM0123456789abcdef0123456789abcdef',
    // Stored unmasked on purpose: the lookup must mask what it prints whatever the row holds.
    lastError: 'Twilio 63016: failed to send to +44 7700 900123 outside the window',
    errorHistory: [
      {
        attempt: 1,
        at: ago(179).toISOString(),
        provider: 'twilio',
        error: 'timeout sending to 447700900123',
        retryable: true,
      },
    ],
    sentAt: ago(179),
    providerStatus: 'undelivered',
    providerErrorCode: '63016',
    providerStatusAt: ago(178),
    createdAt: ago(180),
  });
  await db.insert(deliveries).values([
    // The worker stamps fallbacks with the database's clock: this one reads as older than its origin.
    {
      id: ids.fallback,
      flowId: annWhatsapp.id,
      codeSequence: 1,
      channel: 'email',
      provider: 'gmail',
      fallbackOf: ids.whatsapp,
      destination: ANN.email,
      payloadCiphertext: SECRETS.payload,
      status: 'sent',
      attempts: 1,
      sentAt: ago(177),
      createdAt: ago(181),
    },
    {
      id: ids.resend,
      flowId: annWhatsapp.id,
      codeSequence: 2,
      channel: 'email',
      provider: 'gmail',
      destination: ANN.email,
      payloadCiphertext: SECRETS.payload,
      status: 'sent',
      attempts: 1,
      sentAt: ago(171),
      createdAt: ago(172),
    },
    {
      id: ids.notice,
      kind: 'registration-notice',
      flowId: annNotice.id,
      channel: 'email',
      provider: 'gmail',
      destination: 'annlee@googlemail.com',
      status: 'dead',
      attempts: 8,
      lastError: 'Gmail 400: invalid To header <annlee@googlemail.com>',
      createdAt: ago(60),
    },
  ]);
  await db.insert(users).values({
    email: ANN.email,
    phone: ANN.mobile,
    username: 'ann',
    firstName: 'Ann',
    lastName: 'Lee',
    passwordHash: SECRETS.passwordHash,
    emailVerifiedAt: ago(170),
    createdAt: ago(170),
  });
});

afterAll(async () => {
  await handle?.close();
  await database?.drop();
});

/** The flows found, by verification id prefix. */
const prefixes = (report: LookupReport) => report.flows.map((found) => found.verificationIdPrefix);

async function lookup(input: string, options: { limit?: number; since?: Date } = {}) {
  const contact = parseLookupContact(input);
  const query = { contact, limit: options.limit ?? 10, since: options.since };
  const records = await findRegistrations(handle.db, query);
  return lookupReport(records, { ...query, at: NOW, maxAttempts: 5 });
}

/** runOtpLookup with the test database and no env file, as the operator would run it. */
async function run(args: string[], env: Record<string, string | undefined> = {}) {
  const io = captureIo();
  const envPath = path.join(await tempDir(), 'missing.env');
  const code = await runOtpLookup([...args, '--env-path', envPath], {
    ...io,
    env: { DATABASE_URL: database.url, ...env },
    now: () => NOW,
  });
  return { code, out: io.out.join('\n'), err: io.err.join('\n') };
}

function expectNothingForbidden(text: string) {
  for (const forbidden of FORBIDDEN) expect(text, `prints ${forbidden}`).not.toContain(forbidden);
}

describe('otp:lookup contacts', () => {
  it('reads an address as its mailbox key and a number as E.164, in any notation', () => {
    expect(parseLookupContact(' A.N.N.Lee+x@GoogleMail.com ')).toEqual({
      kind: 'email',
      email: 'A.N.N.Lee+x@GoogleMail.com',
      mailboxKey: ANN.key,
    });
    for (const spelling of ['+44 7700 900123', '0044 (7700) 900-123', 'whatsapp:+447700900123']) {
      expect(parseLookupContact(spelling)).toEqual({ kind: 'phone', e164: ANN.mobile });
    }
    expect(() => parseLookupContact('07700 900123')).toThrow(/country code/);
    expect(() => parseLookupContact('ann@')).toThrow(/not an email/);
  });

  it('reads --since as an ISO date or a span back from now', () => {
    expect(parseSince('7d', NOW)).toEqual(ago(7 * 24 * 60));
    expect(parseSince('12h', NOW)).toEqual(ago(12 * 60));
    expect(parseSince('2025-05-01', NOW)).toEqual(new Date('2025-05-01T00:00:00Z'));
    expect(() => parseSince('last week', NOW)).toThrow(/--since/);
  });
});

describe('otp:lookup against the database', () => {
  it('finds the flows of a mailbox by any spelling of its address, newest first', async () => {
    for (const spelling of ['A.N.N.Lee+x@Gmail.com', 'annlee@googlemail.com', ANN.email]) {
      expect(prefixes(await lookup(spelling))).toEqual(['vf_annNT2', 'vf_annWA1', 'vf_annOL3']);
    }
    expect(prefixes(await lookup(ANN.email, { limit: 1 }))).toEqual(['vf_annNT2']);
    expect(prefixes(await lookup(ANN.email, { since: ago(7 * 24 * 60) }))).toEqual([
      'vf_annNT2',
      'vf_annWA1',
    ]);
  });

  it('finds flows by the number they were given or sent to, in another notation', async () => {
    expect(prefixes(await lookup('0044 7700 900-123'))).toEqual(['vf_annWA1']);
    const bob = await lookup('+1 (415) 555-2671');
    expect(prefixes(bob)).toEqual(['vf_bobSM4']);
    expect(bob.flows[0]).toMatchObject({ state: 'locked', channel: 'sms', destination: '+141******71' });
    expect(bob.accounts).toEqual([]);
  });

  it("shows each flow's state, and its deliveries in order with the fallback under its origin", async () => {
    const report = await lookup(ANN.email);
    const [notice, verified, old] = report.flows;
    expect(notice).toMatchObject({ kind: 'notice', state: 'pending', wrongCodesWithoutId: 2 });
    expect(old).toMatchObject({ kind: 'code', state: 'expired' });
    expect(verified).toMatchObject({
      verificationIdPrefix: 'vf_annWA1',
      state: 'verified',
      email: 'A***@gmail.com',
      mobile: '+447*******23',
      codeSequence: 2,
      wrongCodes: 1,
    });
    expect(verified?.deliveries.map((d) => [d.number, d.id, d.fallbackOf])).toEqual([
      [1, ids.whatsapp, null],
      [2, ids.fallback, 1],
      [3, ids.resend, null],
    ]);
    expect(verified?.deliveries[0]).toMatchObject({
      channel: 'whatsapp',
      provider: 'twilio',
      destination: '+447*******23',
      providerStatus: 'undelivered',
      providerErrorCode: '63016',
      attempts: 2,
      interruptedAttempts: 1,
      lastError: 'Twilio 63016: failed to send to +447*******23 outside the window',
    });
    expect(verified?.deliveries[0]?.errors[0]?.error).toBe('timeout sending to 4477******23');
    expect(report.accounts).toEqual([
      {
        email: 'A***@gmail.com',
        emailProvenAt: ago(170).toISOString(),
        phone: '+447*******23',
        phoneProvenAt: null,
        createdAt: ago(170).toISOString(),
      },
    ]);
  });

  it('prints the report masked, with no secret column', async () => {
    const { code, out, err } = await run(['A.N.N.Lee+x@Gmail.com']);
    expect(err).toBe('');
    expect(code).toBe(0);
    expectNothingForbidden(out);
    expect(out).toContain('Registrations of A***@Gmail.com (mailbox a***@gmail.com): 3 flows');
    expect(out).toContain(
      'email A***@gmail.com proven 2025-05-20 09:10:00Z · phone +447*******23 not proven',
    );
    expect(out).toMatch(
      /Flow vf_annWA1… · created 2025-05-20 09:00:00Z · code · verified 2025-05-20 09:10:00Z/,
    );
    expect(out).toMatch(
      /1\. code #1 · whatsapp via twilio to \+447\*{7}23 · sent · 2 attempts \(1 interrupted/,
    );
    expect(out).toContain('provider reports undelivered (error 63016)');
    expect(out).toMatch(/2\. ↳ fallback of 1 · code #1 · email via gmail to A\*\*\*@gmail\.com · sent/);
    expect(out).toContain('last error: Twilio 63016: failed to send to +447*******23 outside the window');
    expect(out).toMatch(/notice \(the contact already had an account: no code sent\) · pending/);
    expect(out).toContain('last error: Gmail 400: invalid To header <a***@googlemail.com>');
  });

  it('--json prints one parseable document, masked, with no secret column', async () => {
    const { code, out } = await run(['+44 7700 900123', '--json']);
    expect(code).toBe(0);
    expectNothingForbidden(out);
    const report = JSON.parse(out) as LookupReport;
    expect(report.contact).toEqual({ kind: 'phone', value: '+447*******23', mailboxKey: null });
    expect(prefixes(report)).toEqual(['vf_annWA1']);
    expect(report.flows[0]?.deliveries).toHaveLength(3);
    expect(Object.keys(report.flows[0] ?? {})).not.toEqual(
      expect.arrayContaining(['passwordHash', 'codeHash', 'payloadCiphertext']),
    );
  });

  it('says when nothing is found, and refuses a wrong command line or a missing DATABASE_URL', async () => {
    const none = await run(['nobody@example.com']);
    expect(none.code).toBe(0);
    expect(none.out).toContain('No registration flows found for this email.');
    expect(none.out).toContain('Account: none carries this email.');

    expect((await run([])).code).toBe(2);
    expect((await run(['ann'])).err).toMatch(/country code/);
    expect((await run([ANN.email, '--since', 'yesterday'])).code).toBe(2);
    expect((await run([ANN.email, '--limit', '0'])).code).toBe(2);
    const unset = await run([ANN.email], { DATABASE_URL: undefined });
    expect(unset.code).toBe(1);
    expect(unset.err).toContain('DATABASE_URL is not set');
  });

  it('reads DATABASE_SCHEMA as the services do: refuses a wrong one, and looks only there', async () => {
    const wrong = await run([ANN.email], { DATABASE_SCHEMA: 'Shop Tables' });
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain('DATABASE_SCHEMA: "Shop Tables" is not a plain Postgres name');
    // Empty is unset (the default, otp_relay, where the test database has its tables).
    expect((await run([ANN.email], { DATABASE_SCHEMA: '' })).code).toBe(0);
    const elsewhere = await run([ANN.email], { DATABASE_SCHEMA: 'another_install' });
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.err).toMatch(/the lookup failed/);
  });

  it('reads OTP_MAX_ATTEMPTS as the API does (empty: the default, as docker-compose.yml passes it)', async () => {
    expect((await run(['+1 415 555 2671'], { OTP_MAX_ATTEMPTS: '' })).out).toContain('wrong codes 5 of 5');
    const stricter = await run([ANN.email], { OTP_MAX_ATTEMPTS: '1' });
    expect(stricter.out).toMatch(/vf_annWA1… .* verified/);
    expect(stricter.out).toContain('wrong codes 1 of 1');
    expect((await run([ANN.email], { OTP_MAX_ATTEMPTS: 'many' })).code).toBe(1);
  });

  it('runs as a command (the root script: tsx with the source condition)', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@otp-relay/source',
        'apps/cli/src/otp-lookup.ts',
        'ANN.LEE@gmail.com',
        '--json',
        '--env-path',
        path.join(await tempDir(), 'missing.env'),
      ],
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH, DATABASE_URL: database.url }, stdio: 'pipe' },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code] = await once(child, 'exit');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expectNothingForbidden(stdout);
    expect(prefixes(JSON.parse(stdout) as LookupReport)).toEqual(['vf_annNT2', 'vf_annWA1', 'vf_annOL3']);
  });
});

describe('otp:lookup in the image', () => {
  const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');

  it('ships the built CLI with its dependencies, and documents the command', () => {
    const shipped = /for dir in ([^;]+); do/.exec(dockerfile)?.[1]?.split(/\s+/) ?? [];
    expect(shipped).toContain('apps/cli');
    // What the built command imports at run time, installed with the CLI's production dependencies.
    for (const dir of ['packages/core', 'packages/db', 'apps/worker']) expect(shipped).toContain(dir);
    // The image's one command runs it: `otp-relay lookup <email|phone>`.
    expect(dockerfile).toContain('otp-relay lookup');
    expect(OTP_RELAY_COMMANDS.lookup.entry).toBe('apps/cli/dist/otp-lookup.js');
  });

  it('runs from the build output at the documented path', () => {
    // `pnpm test` builds first, as the container tests rely on.
    expect(existsSync(path.join(REPO_ROOT, 'apps/cli/dist/otp-lookup.js'))).toBe(true);
  });
});

describe('orderDeliveries', () => {
  it('keeps a fallback after its origin and a chain in order, whatever their clocks say', () => {
    const at = (minute: number) => ago(-minute);
    const row = (id: string, minute: number, fallbackOf: string | null = null) =>
      ({ id, createdAt: at(minute), fallbackOf }) as Parameters<typeof orderDeliveries>[0][number];
    const ordered = orderDeliveries([row('c', 1, 'b'), row('b', 0, 'a'), row('a', 2), row('d', 3)]);
    expect(ordered.map((delivery) => delivery.id)).toEqual(['a', 'b', 'c', 'd']);
  });
});
