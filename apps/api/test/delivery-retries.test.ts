import { deliveries, registrationFlows } from '@otp-relay/db';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { post, type Stack, shopper, startStack } from './support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { DELIVERY_MAX_ATTEMPTS: '4' } });
});
afterEach(() => stack.google.reset());
afterAll(() => stack.close());

async function deliveryOf(email: string) {
  const [row] = await stack.db.db
    .select()
    .from(deliveries)
    .innerJoin(registrationFlows, eq(deliveries.flowId, registrationFlows.id))
    .where(eq(registrationFlows.email, email));
  if (!row) throw new Error(`no delivery for ${email}`);
  return row.deliveries;
}

describe('delivery retries', () => {
  it('retries a transient Gmail failure with backoff until the email goes out', async () => {
    stack.startWorker();
    stack.google.failSends(2, { kind: 'status', status: 503 });
    const body = shopper();
    expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
    await stack.google.waitForEmails(1, { to: body.email });
    expect(stack.google.sendRequests).toBe(3);
    // The row is recorded just after the provider accepts; wait for the job to finish.
    await stack.settled((await deliveryOf(body.email)).id);
    expect(await deliveryOf(body.email)).toMatchObject({ status: 'sent', attempts: 3, lastError: null });
  });

  it('does not retry a permanent failure: the delivery is dead at once, with the reason', async () => {
    stack.google.failSends(Number.POSITIVE_INFINITY, { kind: 'status', status: 400 });
    const body = shopper();
    expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
    stack.startWorker();
    await stack.settled((await deliveryOf(body.email)).id);
    expect(stack.google.sendRequests).toBe(1);
    expect(await deliveryOf(body.email)).toMatchObject({
      status: 'dead',
      attempts: 1,
      lastError: expect.stringMatching(/^gmail: rejected \(HTTP 400\)/),
    });
  });

  it('marks a delivery dead when a transient failure outlasts every attempt', async () => {
    stack.google.failSends(Number.POSITIVE_INFINITY, { kind: 'status', status: 503 });
    const body = shopper();
    expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
    stack.startWorker();
    await stack.settled((await deliveryOf(body.email)).id);
    expect(stack.google.sendRequests).toBe(4);
    expect(await deliveryOf(body.email)).toMatchObject({
      status: 'dead',
      attempts: 4,
      lastError: expect.stringMatching(/HTTP 503/),
    });
    // Every attempt's failure is on the record, in order.
    const { errorHistory } = await deliveryOf(body.email);
    expect(errorHistory.map(({ attempt, retryable }) => ({ attempt, retryable }))).toEqual(
      [1, 2, 3, 4].map((attempt) => ({ attempt, retryable: true })),
    );
  });
});
