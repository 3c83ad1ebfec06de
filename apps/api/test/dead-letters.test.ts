import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import {
  createDeadLetterQueue,
  createDeliveryQueue,
  createRedisClient,
  DEAD_LETTER_QUEUE,
} from '@otp-relay/core';
import { deliveries, registrationFlows } from '@otp-relay/db';
import { replayDeadDeliveries } from '@otp-relay/worker';
import { QueueEvents } from 'bullmq';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeIn, post, type Stack, shopper, startStack } from './support/stack.js';

const ADMIN = { user: 'ops', password: 'correct horse battery' };

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    smtpBackup: true,
    env: { DELIVERY_MAX_ATTEMPTS: '3', ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password },
  });
  stack.startWorker();
});
afterAll(() => stack.close());

async function deliveriesOf(email: string) {
  const rows = await stack.db.db
    .select({ delivery: deliveries })
    .from(deliveries)
    .innerJoin(registrationFlows, eq(deliveries.flowId, registrationFlows.id))
    .where(eq(registrationFlows.email, email))
    .orderBy(asc(deliveries.createdAt));
  return rows.map((row) => row.delivery);
}

async function withQueues<T>(use: (queues: Parameters<typeof replayDeadDeliveries>[0]) => Promise<T>) {
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

describe('the SMTP backup', () => {
  it('sends the email through SMTP when Gmail refuses the refresh token', async () => {
    stack.google.revokeRefreshToken();
    try {
      const body = shopper();
      expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
      const [mail] = await stack.smtp.waitForMails(1, { to: body.email });
      expect(mail?.subject).toMatch(/verification code/);
      const [gmail, smtp] = await deliveriesOf(body.email);
      expect(gmail).toMatchObject({
        provider: 'gmail',
        status: 'dead',
        lastError: expect.stringMatching(/invalid_grant/),
      });
      await stack.settled(smtp?.id ?? '');
      expect((await deliveriesOf(body.email))[1]).toMatchObject({
        provider: 'smtp',
        status: 'sent',
        fallbackOf: gmail?.id,
      });
      const code = /code is: (\d{6})/.exec(mail?.text ?? '')?.[1];
      expect((await post(stack.app, 'verify-otp/', { email: body.email, otp: code })).statusCode).toBe(200);
    } finally {
      stack.google.reset();
    }
  });
});

describe('dead letters', () => {
  it('replays a delivery that died while every provider was down, once they are back', async () => {
    stack.google.failSends(Number.POSITIVE_INFINITY, { kind: 'status', status: 503 });
    stack.smtp.failNext(Number.POSITIVE_INFINITY, 451);
    const body = shopper();
    expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
    const [gmail] = await deliveriesOf(body.email);
    await stack.settled(gmail?.id ?? '');
    const [, smtp] = await deliveriesOf(body.email);
    await stack.settled(smtp?.id ?? '');
    const dead = await deliveriesOf(body.email);
    expect(dead.map((row) => [row.provider, row.status, row.attempts])).toEqual([
      ['gmail', 'dead', 3],
      ['smtp', 'dead', 3],
    ]);

    stack.google.reset();
    stack.smtp.reset();
    // As an operator does it: the CLI behind `pnpm dlq:replay`, from the build, with the worker's environment.
    const cli = spawn(process.execPath, ['apps/worker/dist/dlq-replay-cli.js', dead[0]?.id ?? ''], {
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
    expect(output).toContain(`replayed  ${dead[0]?.id}`);
    const [email] = await stack.google.waitForEmails(1, { to: body.email });
    expect((await post(stack.app, 'verify-otp/', { email: body.email, otp: codeIn(email) })).statusCode).toBe(
      200,
    );
  });

  it('does not replay a code that has expired since: the delivery is skipped', async () => {
    stack.google.failSends(Number.POSITIVE_INFINITY, { kind: 'status', status: 400 });
    stack.smtp.failNext(Number.POSITIVE_INFINITY, 550);
    const body = shopper();
    expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
    const [gmail] = await deliveriesOf(body.email);
    await stack.settled(gmail?.id ?? '');
    const [, smtp] = await deliveriesOf(body.email);
    await stack.settled(smtp?.id ?? '');
    stack.google.reset();
    stack.smtp.reset();

    stack.advanceClock(stack.config.OTP_TTL_SECONDS + 1);
    const report = await withQueues((deps) => replayDeadDeliveries(deps, [gmail?.id ?? '', smtp?.id ?? '']));
    expect(report.replayed).toEqual([]);
    expect(report.skipped.map((skip) => skip.reason)).toEqual(['code expired', 'code expired']);
    expect((await deliveriesOf(body.email)).map((row) => row.status)).toEqual(['skipped', 'skipped']);
    expect(stack.google.sent.filter((sent) => sent.to.includes(body.email))).toHaveLength(0);
  });

  it('parks each dead delivery as a failed dead-letter job; retrying that job on Bull Board replays it', async () => {
    const deadLetterEvents = new QueueEvents(DEAD_LETTER_QUEUE, {
      connection: { url: stack.redisUrl },
      prefix: stack.config.QUEUE_PREFIX,
    });
    await deadLetterEvents.waitUntilReady();
    try {
      stack.google.failSends(Number.POSITIVE_INFINITY, { kind: 'status', status: 400 });
      stack.smtp.failNext(Number.POSITIVE_INFINITY, 550);
      const body = shopper();
      const [gmail] = await (async () => {
        expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
        return deliveriesOf(body.email);
      })();
      const parked = new Promise<string>((resolve) => {
        deadLetterEvents.on('failed', ({ jobId, failedReason }) => {
          if (jobId === `${gmail?.id}-1`) resolve(failedReason);
        });
      });
      await stack.settled(gmail?.id ?? '');
      expect(await parked).toMatch(/gmail: rejected \(HTTP 400\)/);
      const [, smtp] = await deliveriesOf(body.email);
      await stack.settled(smtp?.id ?? '');
      stack.google.reset();
      stack.smtp.reset();

      await withQueues(async ({ deadLetterQueue }) => {
        const job = await deadLetterQueue.getJob(`${gmail?.id}-1`);
        expect(await job?.getState()).toBe('failed');
      });
      // The operator's Retry button on the (otherwise read-only) board.
      const retried = await stack.admin.inject({
        method: 'PUT',
        url: `/admin/queues/api/queues/${DEAD_LETTER_QUEUE}/${gmail?.id}-1/retry`,
        headers: {
          authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`,
        },
      });
      expect(retried.statusCode).toBe(204);
      const [email] = await stack.google.waitForEmails(1, { to: body.email });
      expect(
        (await post(stack.app, 'verify-otp/', { email: body.email, otp: codeIn(email) })).statusCode,
      ).toBe(200);
    } finally {
      stack.google.reset();
      stack.smtp.reset();
      await deadLetterEvents.close();
    }
  });
});
