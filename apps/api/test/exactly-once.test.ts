import { randomBytes } from 'node:crypto';
import { DEAD_LETTER_QUEUE, DELIVERY_QUEUE } from '@otp-relay/core';
import { type Delivery, deliveries, registrationFlows } from '@otp-relay/db';
import { Queue } from 'bullmq';
import { asc, eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { codeIn, post, type Stack, shopper, startStack } from './support/stack.js';

/**
 * Exactly one message per accepted send: the provider's acceptance is the send, and a failure to
 * record it is retried as a record, never as a second send. Postgres is made to refuse the record
 * (a test-only trigger) just after the fake Gmail accepted the email.
 */

let stack: Stack;
let queue: Queue;
let deadLetters: Queue;
beforeAll(async () => {
  // Two attempts in all, and an SMTP backup: a record that failed as a send would be retried
  // once, then die and fall back; neither may happen.
  stack = await startStack({ smtpBackup: true, env: { DELIVERY_MAX_ATTEMPTS: '2' } });
  stack.startWorker();
  const redis = { connection: { url: stack.redisUrl }, prefix: stack.config.QUEUE_PREFIX };
  queue = new Queue(DELIVERY_QUEUE, redis);
  deadLetters = new Queue(DEAD_LETTER_QUEUE, redis);
});
afterEach(() => {
  stack.google.reset();
  stack.smtp.reset();
});
afterAll(async () => {
  await Promise.all([queue.close(), deadLetters.close()]);
  await stack.close();
});

/**
 * Makes Postgres refuse to mark the deliveries to `email` sent, `times` times: a trigger that
 * raises while a sequence (which a rolled-back statement does not rewind) is below `times`.
 * Resolves to how many records were tried so far.
 */
async function refuseRecords(email: string, times: number): Promise<() => Promise<number>> {
  const name = `refuse_record_${randomBytes(4).toString('hex')}`;
  await stack.db.db.execute(sql.raw(`CREATE SEQUENCE ${name}`));
  await stack.db.db.execute(
    sql.raw(`
      CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF nextval('${name}') <= ${times} THEN
          RAISE EXCEPTION 'test: Postgres refuses to record the send';
        END IF;
        RETURN NEW;
      END $$`),
  );
  await stack.db.db.execute(
    sql.raw(`
      CREATE TRIGGER ${name} BEFORE UPDATE ON deliveries FOR EACH ROW
      WHEN (NEW.status = 'sent' AND NEW.destination = '${email}')
      EXECUTE FUNCTION ${name}()`),
  );
  return async () => {
    const [row] = await stack.db.db.execute<{ tried: string }>(
      sql.raw(`SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS tried FROM ${name}`),
    );
    return Number(row?.tried);
  };
}

async function deliveriesOf(email: string): Promise<Delivery[]> {
  const rows = await stack.db.db
    .select({ delivery: deliveries })
    .from(deliveries)
    .innerJoin(registrationFlows, eq(deliveries.flowId, registrationFlows.id))
    .where(eq(registrationFlows.email, email))
    .orderBy(asc(deliveries.createdAt));
  return rows.map((row) => row.delivery);
}

/** Requests a code and waits until its delivery's job has finished. */
async function requestAndSettle(body: ReturnType<typeof shopper>): Promise<Delivery> {
  expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
  const [delivery] = await deliveriesOf(body.email);
  if (!delivery) throw new Error('no delivery');
  await stack.settled(delivery.id);
  return delivery;
}

describe('a send Postgres could not record at once', () => {
  it('is recorded by a retry of the record in the same run: one email, sent, with its id', async () => {
    const body = shopper();
    const tried = await refuseRecords(body.email, 1);
    const delivery = await requestAndSettle(body);

    const [email] = await stack.google.waitForEmails(1, { to: body.email });
    expect(stack.google.sendRequests).toBe(1);
    expect(stack.google.sent).toHaveLength(1);
    expect(await tried()).toBe(2);
    expect(await deliveriesOf(body.email)).toEqual([
      expect.objectContaining({
        status: 'sent',
        provider: 'gmail',
        providerMessageId: email?.id,
        attempts: 1,
        interruptedAttempts: 0,
        lastError: null,
        errorHistory: [],
      }),
    ]);
    // Recorded within the run: nothing had to be kept with the job.
    expect((await queue.getJob(delivery.id))?.data).toEqual({ deliveryId: delivery.id });
  });

  it('is kept with the job and recorded by a later run of it, which sends nothing', async () => {
    const body = shopper();
    // More refusals than one run tries: the acceptance has to outlive the run.
    const tried = await refuseRecords(body.email, 10);
    const delivery = await requestAndSettle(body);

    const [email] = await stack.google.waitForEmails(1, { to: body.email });
    expect(stack.google.sendRequests).toBe(1);
    expect(stack.google.sent).toHaveLength(1);
    expect(await tried()).toBe(11);
    const job = await queue.getJob(delivery.id);
    expect(job?.data).toEqual({
      deliveryId: delivery.id,
      accepted: {
        provider: 'gmail',
        providerMessageId: email?.id,
        at: expect.any(String),
        recordDeferrals: expect.any(Number),
      },
    });
    // Several runs, one attempt: the record's runs spent none of the attempts, which are for sends.
    expect(job?.attemptsStarted).toBeGreaterThan(1);
    expect(job?.attemptsMade).toBe(1);
    expect(await job?.getState()).toBe('completed');
    expect(await deliveriesOf(body.email)).toEqual([
      expect.objectContaining({
        status: 'sent',
        providerMessageId: email?.id,
        sentAt: new Date(job?.data.accepted.at),
        attempts: 1,
        interruptedAttempts: 0,
        errorHistory: [],
      }),
    ]);
    expect((await post(stack.app, 'verify-otp/', { email: body.email, otp: codeIn(email) })).statusCode).toBe(
      200,
    );
  });

  it('on the last attempt, is neither dead-lettered nor handed to a fallback', async () => {
    const body = shopper();
    // The first attempt fails at Gmail; the second, the last one, is accepted but not recorded.
    stack.google.failSends(1, { kind: 'status', status: 503 });
    const tried = await refuseRecords(body.email, 10);
    const delivery = await requestAndSettle(body);

    const [email] = await stack.google.waitForEmails(1, { to: body.email });
    expect(stack.google.sendRequests).toBe(2);
    expect(stack.google.sent).toHaveLength(1);
    expect(stack.smtp.attempts).toBe(0);
    expect(await tried()).toBe(11);
    expect(await deliveriesOf(body.email)).toEqual([
      expect.objectContaining({
        status: 'sent',
        providerMessageId: email?.id,
        attempts: 2,
        fallbackOf: null,
        errorHistory: [expect.objectContaining({ attempt: 1, retryable: true })],
      }),
    ]);
    expect(await deadLetters.getJob(`${delivery.id}-2`)).toBeUndefined();
  });
});
