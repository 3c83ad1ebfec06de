import { randomUUID } from 'node:crypto';
import {
  createDeadLetterQueue,
  createRedisClient,
  type DeadLetterJob,
  type DeadLetterQueue,
} from '@otp-relay/core';
import {
  deliveries,
  deliveryReceipts,
  type RegistrationFlow,
  registrationFlows,
  sendCooldowns,
  users,
} from '@otp-relay/db';
import { uniqueQueuePrefix } from '@otp-relay/testkit';
import { purgeExpired } from '@otp-relay/worker';
import { asc, eq, inArray } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFlow, post, requestCode, type Stack, shopper, startStack } from './support/stack.js';

let stack: Stack;
let connection: Redis;
let deadLetterQueue: DeadLetterQueue;
beforeAll(async () => {
  stack = await startStack();
  stack.startWorker();
  connection = createRedisClient(stack.redisUrl, 'worker');
  deadLetterQueue = createDeadLetterQueue(connection, stack.config.QUEUE_PREFIX);
});
afterAll(async () => {
  await deadLetterQueue.close();
  connection.disconnect();
  await stack.close();
});

const MAX_ATTEMPTS = 5;
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);
const retention = (overrides: Partial<Parameters<typeof purgeExpired>[0]> = {}) => ({
  db: stack.db.db,
  deadLetterQueue,
  retentionDays: 30,
  maxAttempts: MAX_ATTEMPTS,
  ...overrides,
});

/** A flow written straight to the table, with one sealed delivery per code sequence given. */
async function insertFlow(fields: Partial<RegistrationFlow>, deliveriesFor: number[] = [1]) {
  const id = randomUUID();
  await stack.db.db.insert(registrationFlows).values({
    id,
    verificationId: `vf_${id}`,
    email: `old-${id}@example.com`,
    emailKey: `old-${id}@example.com`,
    channel: 'email',
    destination: `old-${id}@example.com`,
    codeHash: 'x',
    username: `old_${id.slice(0, 8)}`,
    firstName: 'Old',
    lastName: 'Row',
    passwordHash: 'argon2-hash',
    expiresAt: minutesAgo(-10),
    ...fields,
  });
  for (const codeSequence of deliveriesFor) {
    await stack.db.db.insert(deliveries).values({
      id: randomUUID(),
      flowId: id,
      codeSequence,
      channel: 'email',
      destination: `old-${id}@example.com`,
      payloadCiphertext: 'v1.x.y.z',
      status: 'sent',
      createdAt: fields.createdAt ?? new Date(),
    });
  }
  return id;
}

async function oldFlow(expiredDaysAgo: number) {
  return insertFlow({
    expiresAt: daysAgo(expiredDaysAgo),
    createdAt: daysAgo(expiredDaysAgo + 1),
    verifiedAt: daysAgo(expiredDaysAgo + 1),
  });
}

/** Whether each flow still holds its password hash, and which code sequences still have a sealed code. */
async function secretsOf(flowIds: string[]) {
  const flows = await stack.db.db
    .select({ id: registrationFlows.id, passwordHash: registrationFlows.passwordHash })
    .from(registrationFlows)
    .where(inArray(registrationFlows.id, flowIds));
  const sealed = await stack.db.db
    .select({
      flowId: deliveries.flowId,
      codeSequence: deliveries.codeSequence,
      payload: deliveries.payloadCiphertext,
    })
    .from(deliveries)
    .where(inArray(deliveries.flowId, flowIds))
    .orderBy(asc(deliveries.createdAt));
  return flowIds.map((id) => ({
    passwordHash: flows.find((flow) => flow.id === id)?.passwordHash !== null,
    sealedCodes: sealed
      .filter((row) => row.flowId === id && row.payload !== null)
      .map((row) => row.codeSequence),
  }));
}

const deadLetter = (deliveryId: string): DeadLetterJob => ({
  deliveryId,
  channel: 'email',
  provider: 'gmail',
  reason: 'gmail: rejected (HTTP 400)',
  errors: [],
  diedAt: new Date().toISOString(),
});

describe('retention', () => {
  it('purges flows (with their deliveries), flowless notices, cooldowns and receipts past the retention, and nothing else', async () => {
    const ancient = await Promise.all([oldFlow(45), oldFlow(31)]);
    const recent = await oldFlow(5);
    await stack.db.db
      .insert(sendCooldowns)
      .values([{ destinationKey: 'long-ago@example.com', lastSentAt: daysAgo(31) }]);
    await stack.db.db.insert(deliveryReceipts).values([
      { provider: 'twilio', providerMessageId: 'SM-old', status: 'delivered', receivedAt: daysAgo(31) },
      { provider: 'twilio', providerMessageId: 'SM-new', status: 'delivered', receivedAt: daysAgo(1) },
    ]);
    const oldNotice = randomUUID();
    await stack.db.db.insert(deliveries).values({
      id: oldNotice,
      kind: 'registration-notice',
      channel: 'email',
      destination: 'owner@example.com',
      createdAt: daysAgo(40),
    });
    const body = shopper();
    const code = await requestCode(stack, body);
    expect((await post(stack.app, 'verify-otp/', { email: body.email, otp: code })).statusCode).toBe(200);

    const purged = await purgeExpired(retention(), new Date());
    // The recent verified flow's secrets go too (its verify came before this version).
    expect(purged).toEqual({
      flows: 2,
      notices: 1,
      cooldowns: 1,
      receipts: 1,
      deadLetters: 0,
      webhookEvents: 0,
      sealedCodes: 1,
      passwordHashes: 1,
    });
    // The cooldown of the shopper who just registered stays.
    expect(await stack.db.db.select().from(sendCooldowns)).toHaveLength(1);
    expect((await stack.db.db.select().from(deliveryReceipts)).map((row) => row.providerMessageId)).toEqual([
      'SM-new',
    ]);

    const left = await stack.db.db
      .select({ id: registrationFlows.id })
      .from(registrationFlows)
      .where(inArray(registrationFlows.id, [...ancient, recent]));
    expect(left).toEqual([{ id: recent }]);
    const orphans = await stack.db.db.select().from(deliveries).where(inArray(deliveries.flowId, ancient));
    expect(orphans).toEqual([]);
    expect(await stack.db.db.select().from(deliveries).where(eq(deliveries.id, oldNotice))).toEqual([]);
    expect(await stack.db.db.select().from(users).where(eq(users.email, body.email))).toHaveLength(1);
  });

  it('removes dead-letter jobs older than the retention, in whatever state they wait', async () => {
    // The stack's worker takes dead-letter jobs at once and leaves them failed (for Bull Board).
    const failed = await deadLetterQueue.add('dead', deadLetter(randomUUID()), { jobId: randomUUID() });
    await expect.poll(() => failed.getState()).toBe('failed');
    // Where no dead-letter worker runs, they wait.
    const idle = createDeadLetterQueue(connection, uniqueQueuePrefix());
    try {
      const old = await idle.add('dead', deadLetter(randomUUID()), { timestamp: daysAgo(31).getTime() });
      const recent = await idle.add('dead', deadLetter(randomUUID()));
      expect((await purgeExpired(retention({ deadLetterQueue: idle }), new Date())).deadLetters).toBe(1);
      expect(await idle.getJob(old.id ?? '')).toBeUndefined();
      expect(await recent.getState()).toBe('waiting');
    } finally {
      await idle.obliterate({ force: true });
      await idle.close();
    }

    expect((await purgeExpired(retention(), new Date())).deadLetters).toBe(0);
    expect(await failed.getState()).toBe('failed');
    // A month on, the failed copy is past the retention too.
    expect((await purgeExpired(retention(), new Date(Date.now() + 31 * 86_400_000))).deadLetters).toBe(1);
    expect(await deadLetterQueue.getJob(failed.id ?? '')).toBeUndefined();
  });
});

describe('secrets of flows that ended', () => {
  it('go when a flow verifies: its password hash, its sealed codes, and those of the flows it closes', async () => {
    const body = shopper();
    const first = await openFlow(stack, body);
    // A second registration of the same address, whose code is still on its way when the first verifies.
    await stack.stopWorker();
    stack.advanceClock(stack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);
    const second = await post(stack.app, 'request-otp/', { ...body, username: `${body.username}_2` });
    expect(second.statusCode).toBe(200);
    const verified = await post(stack.app, 'verify-otp/', {
      email: body.email,
      otp: first.code,
      verification_id: first.verificationId,
    });
    expect(verified.statusCode).toBe(200);

    const flows = await stack.db.db
      .select()
      .from(registrationFlows)
      .where(eq(registrationFlows.email, body.email))
      .orderBy(asc(registrationFlows.createdAt));
    expect(flows.map((flow) => [Boolean(flow.verifiedAt), Boolean(flow.closedAt)])).toEqual([
      [true, false],
      [false, true],
    ]);
    const ids = flows.map((flow) => flow.id);
    expect(await secretsOf(ids)).toEqual([
      { passwordHash: false, sealedCodes: [] },
      { passwordHash: false, sealedCodes: [] },
    ]);

    // The closed flow's pending code is skipped, not sent and not failed.
    stack.startWorker();
    const [pending] = await stack.db.db
      .select()
      .from(deliveries)
      .where(eq(deliveries.flowId, ids[1] ?? ''));
    await stack.settled(pending?.id ?? '');
    const [skipped] = await stack.db.db
      .select()
      .from(deliveries)
      .where(eq(deliveries.id, pending?.id ?? ''));
    expect(skipped).toMatchObject({
      status: 'skipped',
      lastError: 'registration ended',
      payloadCiphertext: null,
    });
    expect(stack.google.sent.filter((email) => email.to.includes(body.email))).toHaveLength(1);
    // The account has the hash the flow held.
    const [account] = await stack.db.db.select().from(users).where(eq(users.email, body.email));
    expect(account?.passwordHash).toMatch(/^\$argon2id\$/);
  });

  it('go at retention once nothing can use them: expired or replaced codes, and dead flows', async () => {
    const expiredAndLocked = await insertFlow({ expiresAt: minutesAgo(5), failedAttempts: MAX_ATTEMPTS });
    // A resend by the holder of its id may still revive it: the hash stays.
    const expired = await insertFlow({ expiresAt: minutesAgo(5), failedAttempts: MAX_ATTEMPTS - 1 });
    // Locked for the holder of its id, but a caller naming only the address may still verify it.
    const lockedLive = await insertFlow({ failedAttempts: MAX_ATTEMPTS });
    // Its first code was replaced by a second, which still works.
    const resent = await insertFlow({ codeSequence: 2 }, [1, 2]);
    const ids = [expiredAndLocked, expired, lockedLive, resent];

    await purgeExpired(retention(), new Date());
    expect(await secretsOf(ids)).toEqual([
      { passwordHash: false, sealedCodes: [] },
      { passwordHash: true, sealedCodes: [] },
      { passwordHash: true, sealedCodes: [1] },
      { passwordHash: true, sealedCodes: [2] },
    ]);
  });
});
