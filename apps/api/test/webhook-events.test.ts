import { randomBytes } from 'node:crypto';
import {
  createDeadLetterQueue,
  createRedisClient,
  createWebhookQueue,
  WEBHOOK_DEAD_LETTER_JOB,
} from '@otp-relay/core';
import { users, webhookEvents } from '@otp-relay/db';
import { type FakeWebhookReceiver, type ReceivedWebhook, startFakeWebhookReceiver } from '@otp-relay/testkit';
import { replayDeadWebhookEvents, sweepExpiredVerifications } from '@otp-relay/worker';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { openFlow, post, type Stack, shopper, startStack } from './support/stack.js';

/**
 * Events for the shop's backend (Standard Webhooks), end to end in one process: the API and the
 * worker record them with the facts, the worker signs and sends them, a receiver verifies each
 * with the `standardwebhooks` package and takes each webhook-id once.
 */

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
// Two secrets, as during a rotation: every event carries a signature by each.
const current = newSecret();
const previous = newSecret();

let receiver: FakeWebhookReceiver;
let stack: Stack;

beforeAll(async () => {
  receiver = await startFakeWebhookReceiver({ secrets: [current, previous] });
  stack = await startStack({
    env: {
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: `${current}, ${previous}`,
      // Three attempts, back to back: the schedule's own length is what is tested here.
      WEBHOOK_RETRY_SCHEDULE: '0,0',
      WEBHOOK_TIMEOUT_SECONDS: '2',
      DELIVERY_MAX_ATTEMPTS: '2',
    },
  });
  stack.startWorker();
});
afterAll(async () => {
  await stack?.close();
  await receiver?.close();
});
beforeEach(() => {
  receiver.reset();
  stack.google.reset();
});

/** Registers a shopper by email code, with metadata: the account, the token, the flow's id and its code. */
async function register(metadata?: Record<string, unknown>) {
  const body = shopper(metadata ? { metadata } : {});
  const { code, verificationId } = await openFlow(stack, body);
  const verified = await post(stack.app, 'verify-otp/', {
    email: body.email,
    otp: code,
    verification_id: verificationId,
  });
  expect(verified.statusCode).toBe(200);
  const { user, token } = verified.json();
  return { body, code, verificationId, user, token: token as string };
}

const eventsOf = (type: string, match: (event: ReceivedWebhook) => boolean) =>
  receiver.events.filter((event) => event.type === type && match(event));

async function eventRow(id: string) {
  const [row] = await stack.db.db.select().from(webhookEvents).where(eq(webhookEvents.id, id));
  return row;
}

describe('user.registered and verification.approved', () => {
  it('come once each with a new account, signed by every secret, with the documented payloads', async () => {
    const { body, verificationId, user } = await register({ customer_ref: 'C-1042', newsletter: true });
    const [approved] = await receiver.waitForEvents(1, { type: 'verification.approved' });
    const [registered] = await receiver.waitForEvents(1, { type: 'user.registered' });

    expect(registered?.payload).toEqual({
      type: 'user.registered',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      data: {
        verification_id: verificationId,
        user: {
          id: user.id,
          email: body.email,
          mobile: null,
          username: body.username,
          first_name: 'Ann',
          last_name: 'Lee',
          is_verified: true,
          email_verified: true,
          phone_verified: false,
          metadata: { customer_ref: 'C-1042', newsletter: true },
        },
      },
    });
    // The same user object verify-otp answered.
    expect(registered?.payload.data).toMatchObject({ user });
    expect(approved?.payload).toEqual({
      type: 'verification.approved',
      timestamp: registered?.payload.timestamp,
      data: {
        verification_id: verificationId,
        user_id: user.id,
        channel: 'email',
        proved: 'email',
        contact: body.email,
      },
    });
    // Each signature verifies on its own: a receiver that knows only one of the secrets takes it.
    expect(registered?.verifiedBy).toEqual([0, 1]);
    expect(approved?.verifiedBy).toEqual([0, 1]);
    expect(registered?.headers['webhook-signature']?.split(' ')).toHaveLength(2);
    // The webhook-id is the outbox row's, and the row says delivered.
    await vi.waitFor(async () => expect((await eventRow(registered?.id ?? ''))?.status).toBe('delivered'));
  });

  it('never carry the code, the password, its hash or the token', async () => {
    const { code, body, token, user } = await register();
    await receiver.waitForEvents(2);
    const [account] = await stack.db.db
      .select({ passwordHash: users.passwordHash })
      .from(users)
      .where(eq(users.id, user.id));
    const bodies = eventsOf('user.registered', (event) => event.body.includes(user.id))
      .concat(eventsOf('verification.approved', (event) => event.body.includes(user.id)))
      .map((event) => event.body);
    expect(bodies).toHaveLength(2);
    for (const sent of bodies) {
      expect(sent).not.toContain(code);
      expect(sent).not.toContain(body.password);
      expect(sent).not.toContain(account?.passwordHash);
      expect(sent).not.toContain(token);
      expect(sent).not.toContain('password');
    }
  });

  it('are not made by a wrong code, nor a second time by a repeated verify', async () => {
    const body = shopper();
    const { code, verificationId } = await openFlow(stack, body);
    const wrong = code === '000000' ? '111111' : '000000';
    const call = { email: body.email, verification_id: verificationId };
    expect((await post(stack.app, 'verify-otp/', { ...call, otp: wrong })).statusCode).toBe(400);
    expect((await post(stack.app, 'verify-otp/', { ...call, otp: code })).statusCode).toBe(200);
    expect((await post(stack.app, 'verify-otp/', { ...call, otp: code })).statusCode).toBe(400);
    await receiver.waitForEvents(2);
    const rows = await stack.db.db.select().from(webhookEvents);
    const mine = rows.filter((row) => JSON.stringify(row.payload).includes(verificationId));
    expect(mine.map((row) => row.type).sort()).toEqual(['user.registered', 'verification.approved']);
  });
});

describe('verification.expired', () => {
  it('comes once for a flow whose code expired unverified, however often the sweep runs', async () => {
    const body = shopper();
    const { verificationId } = await openFlow(stack, body);
    const canceled = await openFlow(stack, shopper());
    const cancel = await stack.app.inject({
      method: 'POST',
      url: `/api/accounts/verifications/${canceled.verificationId}/cancel`,
    });
    expect(cancel.statusCode).toBe(200);
    const webhooks = stack.startWorker().webhooks;
    if (!webhooks) throw new Error('webhooks are on in this stack');

    // Before the code's lifetime is over: nothing.
    expect(await sweepExpiredVerifications({ db: stack.db.db, webhooks, at: stack.now() })).toBe(0);
    stack.advanceClock(stack.config.OTP_TTL_SECONDS + 1);
    const at = stack.now();
    const [first, second] = await Promise.all([
      sweepExpiredVerifications({ db: stack.db.db, webhooks, at }),
      sweepExpiredVerifications({ db: stack.db.db, webhooks, at }),
    ]);
    expect((first ?? 0) + (second ?? 0)).toBeGreaterThanOrEqual(1);
    expect(await sweepExpiredVerifications({ db: stack.db.db, webhooks, at })).toBe(0);

    const [expired] = await receiver.waitForEvents(1, { type: 'verification.expired' });
    const mine = eventsOf(
      'verification.expired',
      (event) => event.payload.data.verification_id === verificationId,
    );
    expect(mine).toHaveLength(1);
    expect(expired?.payload.data).toMatchObject({ channel: 'email', expired_at: expect.any(String) });
    expect(mine[0]?.payload).toEqual({
      type: 'verification.expired',
      timestamp: mine[0]?.payload.data.expired_at,
      data: { verification_id: verificationId, channel: 'email', expired_at: expect.any(String) },
    });
    // A canceled flow did not expire: it ended.
    expect(
      eventsOf(
        'verification.expired',
        (event) => event.payload.data.verification_id === canceled.verificationId,
      ),
    ).toEqual([]);
  });
});

describe('delivery.failed and delivery.dead', () => {
  it('come with a delivery that failed for good, delivery.dead because nothing took over', async () => {
    // Gmail refuses the message itself (a 400 is not retried): the delivery dies on its first attempt.
    stack.google.failSends(Number.POSITIVE_INFINITY, { kind: 'status', status: 400 });
    const body = shopper();
    const response = await post(stack.app, 'request-otp/', body);
    expect(response.statusCode).toBe(200);
    const verificationId = response.json().verification_id as string;
    const [failed] = await receiver.waitForEvents(1, { type: 'delivery.failed' });
    const [dead] = await receiver.waitForEvents(1, { type: 'delivery.dead' });
    const common = {
      delivery_id: expect.any(String),
      verification_id: verificationId,
      kind: 'otp',
      channel: 'email',
      provider: 'gmail',
      error_code: null,
      error: expect.stringMatching(/400/),
    };
    expect(failed?.payload).toEqual({
      type: 'delivery.failed',
      timestamp: expect.any(String),
      data: { ...common, fallback: null },
    });
    expect(dead?.payload).toEqual({ type: 'delivery.dead', timestamp: expect.any(String), data: common });
    expect(dead?.payload.data.delivery_id).toBe(failed?.payload.data.delivery_id);
    // Masked like every stored error: the address is not in it.
    expect(failed?.body).not.toContain(body.email);
  });
});

describe('retries, dead letters and replay', () => {
  it('a receiver that keeps failing: retried on the schedule, then dead and in the dead-letter queue; a replay delivers it under the same webhook-id', async () => {
    // Two events (approved, registered), each failed three times: both die.
    receiver.failNext(6, { kind: 'status', status: 503 });
    const { user } = await register();
    let deadId = '';
    await vi.waitFor(
      async () => {
        const rows = await stack.db.db.select().from(webhookEvents).where(eq(webhookEvents.status, 'dead'));
        const mine = rows.find(
          (row) => row.type === 'user.registered' && JSON.stringify(row.payload).includes(user.id),
        );
        expect(mine).toMatchObject({ attempts: 3, lastError: 'http_503' });
        deadId = mine?.id ?? '';
      },
      { timeout: 10_000 },
    );
    expect(receiver.requests.filter((request) => request.id === deadId).map((r) => r.status)).toEqual([
      503, 503, 503,
    ]);
    expect(receiver.events.some((event) => event.id === deadId)).toBe(false);

    const connection = createRedisClient(stack.redisUrl, 'worker');
    const deadLetterQueue = createDeadLetterQueue(connection, stack.config.QUEUE_PREFIX);
    const webhookQueue = createWebhookQueue(connection, stack.config.QUEUE_PREFIX);
    try {
      await vi.waitFor(async () => {
        const copies = await deadLetterQueue.getJobs(['failed', 'wait', 'completed']);
        expect(
          copies.filter((job) => job.name === WEBHOOK_DEAD_LETTER_JOB).map((job) => job.data),
        ).toContainEqual(expect.objectContaining({ eventId: deadId, reason: 'http_503', attempts: 3 }));
      });
      const report = await replayDeadWebhookEvents({ db: stack.db.db, webhookQueue, deadLetterQueue }, [
        deadId,
      ]);
      expect(report).toEqual({ replayed: [deadId], notDead: [] });
      await vi.waitFor(() => expect(receiver.events.map((event) => event.id)).toContain(deadId));
      expect((await eventRow(deadId))?.status).toBe('delivered');
      // A second replay finds nothing dead.
      expect(
        await replayDeadWebhookEvents({ db: stack.db.db, webhookQueue, deadLetterQueue }, [deadId]),
      ).toEqual({
        replayed: [],
        notDead: [deadId],
      });
    } finally {
      await Promise.all([deadLetterQueue.close(), webhookQueue.close()]);
      connection.disconnect();
    }
  });

  it('Retry on the dead-letter copy in Bull Board replays the event', async () => {
    receiver.failNext(6, { kind: 'status', status: 500 });
    const { user } = await register();
    let deadId = '';
    await vi.waitFor(
      async () => {
        const rows = await stack.db.db.select().from(webhookEvents).where(eq(webhookEvents.status, 'dead'));
        deadId =
          rows.find((row) => row.type === 'user.registered' && JSON.stringify(row.payload).includes(user.id))
            ?.id ?? '';
        expect(deadId).not.toBe('');
      },
      { timeout: 10_000 },
    );
    const connection = createRedisClient(stack.redisUrl, 'worker');
    const deadLetterQueue = createDeadLetterQueue(connection, stack.config.QUEUE_PREFIX);
    try {
      await vi.waitFor(async () => {
        const copy = await deadLetterQueue.getJob(`${deadId}-3`);
        expect(await copy?.isFailed()).toBe(true);
      });
      await (await deadLetterQueue.getJob(`${deadId}-3`))?.retry();
      await vi.waitFor(() => expect(receiver.events.map((event) => event.id)).toContain(deadId), {
        timeout: 10_000,
      });
    } finally {
      await deadLetterQueue.close();
      connection.disconnect();
    }
  });
});

describe('a receiver that is down', () => {
  it('never fails a registration, and codes still arrive while every attempt hangs', async () => {
    receiver.failNext(Number.POSITIVE_INFINITY, { kind: 'hang' });
    const first = await register();
    const second = await register();
    expect(first.user.id).not.toBe(second.user.id);
    expect(receiver.events).toEqual([]);
  });
});
