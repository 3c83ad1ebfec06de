import { deliveries, deliveryReceipts, registrationFlows } from '@otp-relay/db';
import { freePort } from '@otp-relay/testkit/node-processes';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { codeIn, post, type Stack, shopper, startStack } from './support/stack.js';

/**
 * Receipts the way they happen: the worker's real twilio client asks for status callbacks at
 * PUBLIC_BASE_URL, the fake Twilio posts them signed to the listening API, and the API applies
 * them. (twilio-receipts.test.ts posts receipts by hand, for the cases the fake need not play.)
 */

let stack: Stack;
beforeAll(async () => {
  const port = await freePort();
  // A shop whose codes fall back from WhatsApp to email only (twilio-receipts.test.ts has the chain through SMS).
  stack = await startStack({
    env: { PUBLIC_BASE_URL: `http://127.0.0.1:${port}`, FALLBACK_CHAIN: 'whatsapp,email' },
  });
  await stack.app.listen({ host: '127.0.0.1', port });
  stack.startWorker();
});
afterEach(() => {
  stack.twilio.reset();
  stack.google.reset();
});
afterAll(() => stack.close());

async function deliveriesOf(email: string) {
  const rows = await stack.db.db
    .select({ delivery: deliveries })
    .from(deliveries)
    .innerJoin(registrationFlows, eq(registrationFlows.id, deliveries.flowId))
    .where(eq(registrationFlows.email, email))
    .orderBy(asc(deliveries.createdAt));
  return rows.map((row) => row.delivery);
}

/** Waits until the API has answered every callback the fake posted for `to` (the fake records answers). */
async function callbacksAnswered(to: string, count: number) {
  return stack.twilio.waitForCallbacks(count, { to });
}

describe('status callbacks from Twilio', () => {
  it('a 63016 failure after acceptance brings the code by email within seconds', async () => {
    const mobile = '+14155550151';
    stack.twilio.scriptOutcome({ to: `whatsapp:${mobile}`, outcome: { failed: 63016 } });
    const body = shopper({ otp_method: 'whatsapp', mobile });
    expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
    const [whatsapp] = await stack.twilio.waitForMessages(1, { to: `whatsapp:${mobile}` });
    expect(whatsapp?.form.StatusCallback).toBe(
      `${stack.config.PUBLIC_BASE_URL}/api/webhooks/twilio/message-status`,
    );

    const [email] = await stack.google.waitForEmails(1, { to: body.email });
    expect(codeIn(email)).toBe(/(\d{6}) is your verification code/.exec(whatsapp?.body ?? '')?.[1]);
    const [first, fallback] = await deliveriesOf(body.email);
    expect(first).toMatchObject({
      channel: 'whatsapp',
      status: 'dead',
      providerStatus: 'failed',
      providerErrorCode: '63016',
    });
    expect(fallback).toMatchObject({ channel: 'email', fallbackOf: first?.id });
    const callbacks = await callbacksAnswered(`whatsapp:${mobile}`, 2);
    expect(callbacks.map((callback) => callback.responseStatus)).toEqual([204, 204]);
  });

  it('an SMS registration end to end, its receipt recorded', async () => {
    const mobile = '+14155550152';
    stack.twilio.scriptOutcome({ to: mobile, outcome: 'delivered' });
    const body = shopper({ otp_method: 'sms', mobile });
    const opened = await post(stack.app, 'request-otp/', body);
    expect(opened.statusCode).toBe(200);
    const [text] = await stack.twilio.waitForMessages(1, { to: mobile });
    await callbacksAnswered(mobile, 3);
    const [delivery] = await deliveriesOf(body.email);
    expect(delivery).toMatchObject({ channel: 'sms', status: 'sent', providerStatus: 'delivered' });
    const code = /(\d{6}) is your verification code/.exec(text?.body ?? '')?.[1];
    const verified = await post(stack.app, 'verify-otp/', {
      email: body.email,
      otp: code,
      verification_id: opened.json().verification_id,
    });
    expect(verified.json().user).toMatchObject({ phone_verified: true, email_verified: false });
  });

  it('a callback with a bad signature is refused with 403 and changes nothing', async () => {
    const mobile = '+14155550153';
    stack.twilio.scriptOutcome({ to: `whatsapp:${mobile}`, outcome: 'delivered', badSignature: true });
    const body = shopper({ otp_method: 'whatsapp', mobile });
    expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
    const callbacks = await callbacksAnswered(`whatsapp:${mobile}`, 3);
    expect(callbacks.map((callback) => callback.responseStatus)).toEqual([403, 403, 403]);
    const [delivery] = await deliveriesOf(body.email);
    expect(delivery?.providerStatus).toBeNull();
  });

  it('a callback delivered twice is applied once', async () => {
    const mobile = '+14155550154';
    stack.twilio.scriptOutcome({
      to: `whatsapp:${mobile}`,
      outcome: { undelivered: 63003 },
      duplicate: 'undelivered',
    });
    const body = shopper({ otp_method: 'whatsapp', mobile });
    expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
    await callbacksAnswered(`whatsapp:${mobile}`, 4);
    await stack.google.waitForEmails(1, { to: body.email });
    const all = await deliveriesOf(body.email);
    // One fallback, however many times the failure was reported.
    expect(all.map((delivery) => delivery.channel)).toEqual(['whatsapp', 'email']);
    const receipts = await stack.db.db
      .select()
      .from(deliveryReceipts)
      .where(
        and(
          eq(deliveryReceipts.providerMessageId, all[0]?.providerMessageId ?? ''),
          eq(deliveryReceipts.status, 'undelivered'),
        ),
      );
    expect(receipts).toHaveLength(1);
  });
});
