import { createRedisClient } from '@otp-relay/core';
import { deliveries, registrationFlows } from '@otp-relay/db';
import { type FakeSmtp, startFakeSmtp } from '@otp-relay/testkit';
import { asc, eq } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { codeIn, post, type Stack, shopper, startStack } from './support/stack.js';

const DAILY_LIMIT = {
  kind: 'status',
  status: 403,
  reason: 'dailyLimitExceeded',
  message: 'Daily user sending limit exceeded.',
} as const;

async function deliveriesOf(stack: Stack, email: string) {
  const rows = await stack.db.db
    .select({ delivery: deliveries })
    .from(deliveries)
    .innerJoin(registrationFlows, eq(deliveries.flowId, registrationFlows.id))
    .where(eq(registrationFlows.email, email))
    .orderBy(asc(deliveries.createdAt));
  return rows.map((row) => row.delivery);
}

/** Asks for a code and waits until each of its deliveries (and any fallback) has finished. */
async function requestAndSettle(stack: Stack, body: ReturnType<typeof shopper>) {
  expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
  const settled = new Set<string>();
  for (;;) {
    const open = (await deliveriesOf(stack, body.email)).filter((row) => !settled.has(row.id));
    if (open.length === 0) break;
    for (const row of open) {
      await stack.settled(row.id);
      settled.add(row.id);
    }
  }
  return deliveriesOf(stack, body.email);
}

describe('Gmail run dry, with the SMTP backup', () => {
  let stack: Stack;
  let redis: Redis;
  const dryKey = () => `${stack.workerConfig.QUEUE_PREFIX}:provider-exhausted:gmail`;

  beforeAll(async () => {
    stack = await startStack({ smtpBackup: true });
    redis = createRedisClient(stack.redisUrl, 'api');
    stack.startWorker();
  });
  afterEach(async () => {
    await redis.del(dryKey());
    stack.google.reset();
    stack.smtp.reset();
  });
  afterAll(async () => {
    redis.disconnect();
    await stack.close();
  });

  it("after Gmail's daily limit, that code and the next go out by SMTP without another Gmail send", async () => {
    stack.google.failSends(1, DAILY_LIMIT);
    const first = shopper();
    const [dead, fallback] = await requestAndSettle(stack, first);
    expect(dead).toMatchObject({
      provider: 'gmail',
      status: 'dead',
      attempts: 1,
      lastError: expect.stringMatching(/^gmail: daily sending limit reached \(HTTP 403\)/),
    });
    expect(fallback).toMatchObject({ provider: 'smtp', status: 'sent', fallbackOf: dead?.id });
    const [mail] = await stack.smtp.waitForMails(1, { to: first.email });
    expect((await post(stack.app, 'verify-otp/', { email: first.email, otp: codeIn(mail) })).statusCode).toBe(
      200,
    );

    // The next codes skip Gmail: one delivery each, sent by SMTP on its first attempt.
    for (const next of [shopper(), shopper()]) {
      const rows = await requestAndSettle(stack, next);
      expect(rows.map(({ provider, status, attempts }) => ({ provider, status, attempts }))).toEqual([
        { provider: 'smtp', status: 'sent', attempts: 1 },
      ]);
      await stack.smtp.waitForMails(1, { to: next.email });
    }
    expect(stack.google.sendRequests).toBe(1);
    expect(stack.google.sent).toHaveLength(0);
  });

  it('keeps Gmail dry for all workers until its reset (a day), in Redis', async () => {
    stack.google.failSends(1, DAILY_LIMIT);
    await requestAndSettle(stack, shopper());
    const ttl = await redis.pttl(dryKey());
    expect(ttl).toBeGreaterThan(23 * 3600 * 1000);
    expect(ttl).toBeLessThanOrEqual(24 * 3600 * 1000);

    // Another worker (nothing of the first one's in memory) reads the same key.
    await stack.stopWorker();
    stack.startWorker();
    const later = shopper();
    const rows = await requestAndSettle(stack, later);
    expect(rows.map(({ provider, status }) => [provider, status])).toEqual([['smtp', 'sent']]);
    expect(stack.google.sendRequests).toBe(1);

    // Once the key is gone (the reset), Gmail sends again.
    await redis.del(dryKey());
    const afterReset = shopper();
    expect((await requestAndSettle(stack, afterReset)).map(({ provider }) => provider)).toEqual(['gmail']);
    await stack.google.waitForEmails(1, { to: afterReset.email });
  });

  it('marks Gmail dry for a 429 whose Retry-After outlasts the code, and falls back at once', async () => {
    stack.google.failSends(1, { kind: 'status', status: 429, retryAfterSeconds: 3600 });
    const body = shopper();
    const rows = await requestAndSettle(stack, body);
    expect(rows.map(({ provider, status, attempts }) => [provider, status, attempts])).toEqual([
      ['gmail', 'dead', 1],
      ['smtp', 'sent', 1],
    ]);
    const ttl = await redis.pttl(dryKey());
    expect(ttl).toBeGreaterThan(3000 * 1000);
    expect(ttl).toBeLessThanOrEqual(3600 * 1000);
  });

  it('does not mark Gmail dry for a short rate limit: the delivery is retried on Gmail', async () => {
    stack.google.failSends(1, { kind: 'status', status: 429, retryAfterSeconds: 1 });
    const body = shopper();
    const rows = await requestAndSettle(stack, body);
    expect(rows.map(({ provider, status, attempts }) => [provider, status, attempts])).toEqual([
      ['gmail', 'sent', 2],
    ]);
    expect(await redis.exists(dryKey())).toBe(0);
    expect(stack.smtp.attempts).toBe(0);
  });

  it('falls back at once when the retry would land after the code expires (Retry-After past it)', async () => {
    // A 503 is no quota: Gmail is not marked dry, only this code cannot wait.
    stack.google.failSends(1, { kind: 'status', status: 503, retryAfterSeconds: 900 });
    const body = shopper();
    const rows = await requestAndSettle(stack, body);
    expect(rows.map(({ provider, status, attempts }) => [provider, status, attempts])).toEqual([
      ['gmail', 'dead', 1],
      ['smtp', 'sent', 1],
    ]);
    expect(stack.google.sendRequests).toBe(1);
    expect(await redis.exists(dryKey())).toBe(0);
    await stack.smtp.waitForMails(1, { to: body.email });
  });

  it('falls back at once when the code is near its expiry and the retry would come after it', async () => {
    await stack.stopWorker();
    try {
      // 120 s would be fine for a fresh code (OTP_TTL_SECONDS=600), not for one with 50 s left.
      stack.google.failSends(1, { kind: 'status', status: 503, retryAfterSeconds: 120 });
      const body = shopper();
      expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
      stack.advanceClock(stack.config.OTP_TTL_SECONDS - 50);
      stack.startWorker();
      const [gmail] = await deliveriesOf(stack, body.email);
      await stack.settled(gmail?.id ?? '');
      const [, smtp] = await deliveriesOf(stack, body.email);
      await stack.settled(smtp?.id ?? '');
      const rows = await deliveriesOf(stack, body.email);
      expect(rows.map(({ provider, status, attempts }) => [provider, status, attempts])).toEqual([
        ['gmail', 'dead', 1],
        ['smtp', 'sent', 1],
      ]);
      expect(stack.google.sendRequests).toBe(1);
      await stack.smtp.waitForMails(1, { to: body.email });
    } finally {
      stack.advanceClock(-(stack.config.OTP_TTL_SECONDS - 50));
    }
  });
});

describe('Gmail run dry, without a backup', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
    stack.startWorker();
  });
  afterAll(() => stack.close());

  it('fails the code for good at once (a retry inside its lifetime would meet the same limit)', async () => {
    stack.google.failSends(1, DAILY_LIMIT);
    const rows = await requestAndSettle(stack, shopper());
    expect(rows.map(({ provider, status, attempts }) => [provider, status, attempts])).toEqual([
      ['gmail', 'dead', 1],
    ]);
    // With no backup to go to, the next code still tries Gmail.
    const next = shopper();
    expect((await requestAndSettle(stack, next)).map(({ provider, status }) => [provider, status])).toEqual([
      ['gmail', 'sent'],
    ]);
    expect(stack.google.sendRequests).toBe(2);
  });
});

describe('EMAIL_PROVIDER=smtp', () => {
  const SMTP = { user: 'relay', password: 'smtp-password' };
  let primary: FakeSmtp;
  let backup: FakeSmtp;
  let stack: Stack;

  beforeAll(async () => {
    [primary, backup] = await Promise.all([startFakeSmtp(SMTP), startFakeSmtp(SMTP)]);
    stack = await startStack({
      env: { EMAIL_PROVIDER: 'smtp', SMTP_URL: primary.url, SMTP_BACKUP_URL: backup.url },
    });
    stack.startWorker();
  });
  afterEach(() => {
    primary.reset();
    backup.reset();
  });
  afterAll(async () => {
    await stack.close();
    await Promise.all([primary.close(), backup.close()]);
  });

  it('sends codes by SMTP_URL, and never calls Gmail', async () => {
    const body = shopper();
    const rows = await requestAndSettle(stack, body);
    expect(rows.map(({ provider, status }) => [provider, status])).toEqual([['smtp', 'sent']]);
    const [mail] = await primary.waitForMails(1, { to: body.email });
    expect((await post(stack.app, 'verify-otp/', { email: body.email, otp: codeIn(mail) })).statusCode).toBe(
      200,
    );
    expect(backup.attempts).toBe(0);
    expect(stack.google.sendRequests).toBe(0);
  });

  it('falls back to SMTP_BACKUP_URL when the primary refuses a delivery for good', async () => {
    primary.failNext(1, 550);
    const body = shopper();
    const rows = await requestAndSettle(stack, body);
    expect(rows.map(({ provider, status }) => [provider, status])).toEqual([
      ['smtp', 'dead'],
      ['smtp-backup', 'sent'],
    ]);
    await backup.waitForMails(1, { to: body.email });
  });

  it('routes around a primary whose daily quota is spent', async () => {
    primary.failNext(1, 550, '5.4.5 Daily user sending limit exceeded.');
    const first = shopper();
    expect((await requestAndSettle(stack, first)).map(({ provider, status }) => [provider, status])).toEqual([
      ['smtp', 'dead'],
      ['smtp-backup', 'sent'],
    ]);
    const next = shopper();
    expect((await requestAndSettle(stack, next)).map(({ provider, status }) => [provider, status])).toEqual([
      ['smtp-backup', 'sent'],
    ]);
    expect(primary.attempts).toBe(1);
    await backup.waitForMails(1, { to: next.email });
  });
});
