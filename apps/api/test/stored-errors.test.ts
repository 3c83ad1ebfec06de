import { createDeadLetterQueue, createDeliveryQueue, createRedisClient } from '@otp-relay/core';
import { deliveries, registrationFlows } from '@otp-relay/db';
import { Job } from 'bullmq';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { post, type Stack, shopper, startStack } from './support/stack.js';

/**
 * Providers' error texts quote the number they refused. What is stored of them (the delivery row,
 * its error history, the dead-letter copy, the failed job) has the number masked.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
  stack.startWorker();
});
afterEach(() => {
  stack.twilio.reset();
  stack.google.reset();
});
afterAll(() => stack.close());

async function whatsappDeliveryOf(email: string) {
  const [row] = await stack.db.db
    .select({ delivery: deliveries })
    .from(deliveries)
    .innerJoin(registrationFlows, eq(deliveries.flowId, registrationFlows.id))
    .where(and(eq(deliveries.channel, 'whatsapp'), eq(registrationFlows.email, email)))
    .orderBy(asc(deliveries.createdAt))
    .limit(1);
  if (!row) throw new Error(`no WhatsApp delivery for ${email}`);
  return row.delivery;
}

/** Everything kept of a dead delivery's failure, as one text. */
async function storedTextsOf(deliveryId: string, attempts: number): Promise<string> {
  const connection = createRedisClient(stack.redisUrl, 'worker');
  const deliveryQueue = createDeliveryQueue(connection, stack.config.QUEUE_PREFIX);
  const deadLetterQueue = createDeadLetterQueue(connection, stack.config.QUEUE_PREFIX);
  try {
    const [job, deadLetter] = await Promise.all([
      Job.fromId(deliveryQueue, deliveryId),
      deadLetterQueue.getJob(`${deliveryId}-${attempts}`),
    ]);
    expect(deadLetter?.data.reason).toBeTruthy();
    return JSON.stringify([job?.failedReason, job?.stacktrace, deadLetter?.data]);
  } finally {
    await Promise.all([deliveryQueue.close(), deadLetterQueue.close()]);
    connection.disconnect();
  }
}

describe('a permanent WhatsApp failure', () => {
  it.each([
    // Twilio's own wording for 21211, the number in E.164 after `whatsapp:`.
    ['as Twilio quotes it', '+1 415 555 0123', undefined, 'whatsapp:+141******23'],
    // Some of its texts carry the number without the plus.
    [
      'without the plus',
      '+1 415 555 0124',
      'To number: 14155550124, is not a WhatsApp user',
      'To number: 1415*****24, is not',
    ],
  ])('is stored with the number masked (%s)', async (_how, mobile, message, maskedAs) => {
    stack.twilio.failSends(1, {
      kind: 'status',
      status: 400,
      code: 21211,
      ...(message === undefined ? {} : { message }),
    });
    const body = shopper({ otp_method: 'whatsapp', mobile });
    expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
    // The fallback email is sent once the WhatsApp delivery is recorded dead.
    await stack.google.waitForEmails(1, { to: body.email });

    const dead = await whatsappDeliveryOf(body.email);
    expect(dead.status).toBe('dead');
    expect(dead.lastError).toMatch(/^twilio: 21211 \(HTTP 400\)/);
    expect(dead.lastError).toContain(maskedAs);
    // The national number's last seven digits, nowhere.
    const lastDigits = mobile.replace(/\D/g, '').slice(-7);
    const stored = [
      dead.lastError,
      JSON.stringify(dead.errorHistory),
      await storedTextsOf(dead.id, dead.attempts),
    ];
    for (const text of stored) expect(text).not.toContain(lastDigits);
  });
});

describe('a retried WhatsApp failure', () => {
  it('leaves no digits of the number in the job that Redis keeps', async () => {
    const mobile = '+1 415 555 0125';
    stack.twilio.failSends(1, {
      kind: 'status',
      status: 503,
      message: 'Upstream refused To number 14155550125, try again',
    });
    const body = shopper({ otp_method: 'whatsapp', mobile });
    expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
    await stack.twilio.waitForMessages(1, { to: `whatsapp:${mobile.replace(/\s/g, '')}` });
    const delivery = await whatsappDeliveryOf(body.email);
    await stack.settled(delivery.id);
    const connection = createRedisClient(stack.redisUrl, 'worker');
    const deliveryQueue = createDeliveryQueue(connection, stack.config.QUEUE_PREFIX);
    try {
      const job = await Job.fromId(deliveryQueue, delivery.id);
      // The failed attempt is kept with the job; its text is cleaned like the row's.
      expect((job?.stacktrace ?? []).join('\n')).toContain('1415*****25');
      const kept = JSON.stringify([job?.failedReason, job?.stacktrace]);
      expect(kept).not.toContain('5550125');
    } finally {
      await deliveryQueue.close();
      connection.disconnect();
    }
  });
});
