import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import {
  createDeadLetterQueue,
  createDeliveryQueue,
  createRedisClient,
  DEAD_LETTER_QUEUE,
} from '@otp-relay/core';
import { type Delivery, deliveries, registrationFlows } from '@otp-relay/db';
import { replayDeadDeliveries } from '@otp-relay/worker';
import { asc, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { post, type Stack, shopper, startStack } from './support/stack.js';

/**
 * A registration notice carries no code, so none of the code's rules can refuse its replay: a
 * notice that died (Twilio refused it for good) is sent again by `pnpm dlq:replay` (from the
 * build: run `pnpm build` first) and by Bull Board's Retry alike, once the cause is fixed.
 */

const ADMIN = { user: 'ops', password: 'correct horse battery' };

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password } });
  stack.startWorker();
});
afterEach(() => {
  stack.twilio.reset();
  stack.google.reset();
});
afterAll(() => stack.close());

const whatsappCode = (body: string | undefined) => /(\d{6}) is your verification code/.exec(body ?? '')?.[1];
const whatsappTo = (mobile: string) => `whatsapp:${mobile.replace(/[^\d+]/g, '')}`;

async function deliveriesOf(email: string): Promise<Delivery[]> {
  const rows = await stack.db.db
    .select({ delivery: deliveries })
    .from(deliveries)
    .innerJoin(registrationFlows, eq(deliveries.flowId, registrationFlows.id))
    .where(eq(registrationFlows.email, email))
    .orderBy(asc(deliveries.createdAt));
  return rows.map((row) => row.delivery);
}

/**
 * A phone that has an account, then someone else registering with it, and Twilio refusing that
 * notice for good (21211): it dies on its first attempt.
 */
async function deadWhatsAppNotice(mobile: string): Promise<Delivery> {
  const owner = shopper({ otp_method: 'whatsapp', mobile });
  expect((await post(stack.app, 'request-otp/', owner)).statusCode).toBe(200);
  const [message] = await stack.twilio.waitForMessages(1, { to: whatsappTo(mobile) });
  const otp = whatsappCode(message?.body);
  expect((await post(stack.app, 'verify-otp/', { email: owner.email, otp })).statusCode).toBe(200);
  stack.advanceClock(stack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);

  stack.twilio.failSends(1, { kind: 'status', status: 400, code: 21211 });
  const stranger = shopper({ otp_method: 'whatsapp', mobile });
  expect((await post(stack.app, 'request-otp/', stranger)).statusCode).toBe(200);
  const [notice] = await deliveriesOf(stranger.email);
  await stack.settled(notice?.id ?? '');
  const [dead, ...others] = await deliveriesOf(stranger.email);
  expect(dead).toMatchObject({
    kind: 'registration-notice',
    channel: 'whatsapp',
    provider: 'twilio',
    status: 'dead',
    attempts: 1,
  });
  // A notice to a phone has no fallback: the email beside it has no account to speak of.
  expect(others).toEqual([]);
  if (!dead) throw new Error('no notice delivery');
  return dead;
}

async function withQueues<T>(use: (deps: Parameters<typeof replayDeadDeliveries>[0]) => Promise<T>) {
  const connection = createRedisClient(stack.redisUrl, 'worker');
  const deliveryQueue = createDeliveryQueue(connection, stack.config.QUEUE_PREFIX);
  const deadLetterQueue = createDeadLetterQueue(connection, stack.config.QUEUE_PREFIX);
  try {
    return await use({
      db: stack.db.db,
      deliveryQueue,
      deadLetterQueue,
      retryPolicy: { maxAttempts: stack.config.DELIVERY_MAX_ATTEMPTS },
      now: stack.now,
    });
  } finally {
    await Promise.all([deliveryQueue.close(), deadLetterQueue.close()]);
    connection.disconnect();
  }
}

/** The notice is sent once more, and its row records the sending. */
async function expectNoticeSent(notice: Delivery, mobile: string) {
  const messages = await stack.twilio.waitForMessages(2, { to: whatsappTo(mobile) });
  expect(messages[1]?.body).toMatch(/already have one/);
  await stack.settled(notice.id);
  const [row] = await stack.db.db.select().from(deliveries).where(eq(deliveries.id, notice.id));
  expect(row).toMatchObject({ status: 'sent', attempts: 2, providerMessageId: messages[1]?.sid });
}

describe('a dead registration notice', () => {
  it('is replayed by `pnpm dlq:replay`', async () => {
    const mobile = '+1 415 555 0171';
    const notice = await deadWhatsAppNotice(mobile);

    // As an operator does it: the CLI from the build, with the worker's environment.
    const cli = spawn(process.execPath, ['apps/worker/dist/dlq-replay-cli.js', notice.id], {
      cwd: fileURLToPath(new URL('../../..', import.meta.url)),
      env: { PATH: process.env.PATH, ...stack.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    cli.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const [exitCode] = await once(cli, 'exit');
    expect(exitCode).toBe(0);
    expect(output).toContain(`replayed  ${notice.id}`);
    await expectNoticeSent(notice, mobile);
    // The dead-letter copy went with the replay: the row is the truth.
    await withQueues(async ({ deadLetterQueue }) => {
      expect(await deadLetterQueue.getJob(`${notice.id}-1`)).toBeUndefined();
    });
  });

  it('is replayed by Retry on its dead-letter job in Bull Board', async () => {
    const mobile = '+1 415 555 0172';
    const notice = await deadWhatsAppNotice(mobile);

    const retried = await stack.admin.inject({
      method: 'PUT',
      url: `/admin/queues/api/queues/${DEAD_LETTER_QUEUE}/${notice.id}-1/retry`,
      headers: {
        authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`,
      },
    });
    expect(retried.statusCode).toBe(204);
    await expectNoticeSent(notice, mobile);
  });

  it('is replayed even after its flow has expired: a notice has no code to go stale', async () => {
    const mobile = '+1 415 555 0173';
    const notice = await deadWhatsAppNotice(mobile);
    stack.advanceClock(stack.config.OTP_TTL_SECONDS + 1);

    const report = await withQueues((deps) => replayDeadDeliveries(deps, [notice.id]));
    expect(report).toEqual({ replayed: [notice.id], skipped: [], notDead: [] });
    await expectNoticeSent(notice, mobile);
  });
});
