import { DEAD_LETTER_QUEUE, type DeadLetterJob } from '@otp-relay/core';
import { deliveries, registrationFlows } from '@otp-relay/db';
import { Queue } from 'bullmq';
import { asc, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { codeIn, post, type Stack, shopper, startStack, WHATSAPP_FROM } from './support/stack.js';

let stack: Stack;
let templated: Stack;
let disabled: Stack;

beforeAll(async () => {
  [stack, templated, disabled] = await Promise.all([
    startStack(),
    startStack({ env: { TWILIO_WHATSAPP_CONTENT_SID: `HX${'ab'.repeat(16)}` } }),
    startStack({ env: { WHATSAPP_PROVIDER: 'disabled' } }),
  ]);
  stack.startWorker();
  templated.startWorker();
});
afterEach(() => {
  stack.twilio.reset();
  stack.google.reset();
});
afterAll(() => Promise.all([stack.close(), templated.close(), disabled.close()]));

const whatsappShopper = (mobile = '+1 (415) 555-2671') => shopper({ otp_method: 'whatsapp', mobile });
const codeInWhatsApp = (body: string | undefined) =>
  /(\d{6}) is your verification code/.exec(body ?? '')?.[1];

async function deliveriesOf(target: Stack, email: string) {
  return target.db.db
    .select({ delivery: deliveries })
    .from(deliveries)
    .innerJoin(registrationFlows, eq(deliveries.flowId, registrationFlows.id))
    .where(eq(registrationFlows.email, email))
    .orderBy(asc(deliveries.createdAt))
    .then((rows) => rows.map((row) => row.delivery));
}

describe('registration by WhatsApp code', () => {
  it('sends the code to the E.164 number as Twilio expects, and the code verifies', async () => {
    const body = whatsappShopper();
    const response = await post(stack.app, 'request-otp/', body);
    expect(response.statusCode).toBe(200);

    const [message] = await stack.twilio.waitForMessages(1, { to: 'whatsapp:+14155552671' });
    expect(message).toMatchObject({
      to: 'whatsapp:+14155552671',
      from: WHATSAPP_FROM,
      authorization: {
        username: stack.twilioCredentials.accountSid,
        password: stack.twilioCredentials.authToken,
      },
    });
    expect(message?.body).toMatch(/expires in 10 minutes/);
    expect(message?.body).toMatch(/Never share this code/);
    const code = codeInWhatsApp(message?.body);
    expect(code).toMatch(/^\d{6}$/);

    const verified = await post(stack.app, 'verify-otp/', { email: body.email, otp: code });
    expect(verified.statusCode).toBe(200);
    await stack.settled((await deliveriesOf(stack, body.email))[0]?.id ?? '');
    const [delivery] = await deliveriesOf(stack, body.email);
    expect(delivery).toMatchObject({
      channel: 'whatsapp',
      destination: '+14155552671',
      provider: 'twilio',
      status: 'sent',
      providerMessageId: message?.sid,
    });
  });

  it('sends the approved template with the code as its variable, and no free-form body', async () => {
    const body = whatsappShopper('+49 1512 3456789');
    expect((await post(templated.app, 'request-otp/', body)).statusCode).toBe(200);
    const [message] = await templated.twilio.waitForMessages(1, { to: 'whatsapp:+4915123456789' });
    expect(message?.body).toBeUndefined();
    expect(message?.form).not.toHaveProperty('Body');
    expect(message?.contentSid).toBe(`HX${'ab'.repeat(16)}`);
    const code = message?.contentVariables?.['1'];
    expect(code).toMatch(/^\d{6}$/);
    expect((await post(templated.app, 'verify-otp/', { email: body.email, otp: code })).statusCode).toBe(200);
  });

  it('retries 503s and delivers exactly once', async () => {
    stack.twilio.failSends(2, { kind: 'status', status: 503 });
    const body = whatsappShopper('+1 415 555 0101');
    expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
    await stack.twilio.waitForMessages(1, { to: 'whatsapp:+14155550101' });
    const [delivery] = await deliveriesOf(stack, body.email);
    await stack.settled(delivery?.id ?? '');
    expect(stack.twilio.requests).toBe(3);
    expect(stack.twilio.sent).toHaveLength(1);
    expect((await deliveriesOf(stack, body.email))[0]).toMatchObject({ status: 'sent', attempts: 3 });
  });

  it("waits out a 429's Retry-After before the next attempt", async () => {
    stack.twilio.failSends(1, { kind: 'status', status: 429, retryAfterSeconds: 2 });
    const body = whatsappShopper('+1 415 555 0102');
    expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
    await stack.twilio.waitForMessages(1, { to: 'whatsapp:+14155550102' });
    const [first, second] = stack.twilio.requestTimes;
    expect(second && first ? second.getTime() - first.getTime() : 0).toBeGreaterThanOrEqual(2000);
  });

  it('gives up on an invalid number at once: dead letter, dead row, and the code goes by email instead', async () => {
    stack.twilio.failSends(1, { kind: 'status', status: 400, code: 21211 });
    const body = whatsappShopper('+1 415 555 0103');
    expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);

    const [email] = await stack.google.waitForEmails(1, { to: body.email });
    expect(stack.twilio.requests).toBe(1);
    const [whatsapp, fallback] = await deliveriesOf(stack, body.email);
    expect(whatsapp).toMatchObject({
      channel: 'whatsapp',
      status: 'dead',
      attempts: 1,
      lastError: expect.stringMatching(/^twilio: 21211 \(HTTP 400\)/),
      errorHistory: [expect.objectContaining({ attempt: 1, provider: 'twilio', retryable: false })],
    });
    expect(fallback).toMatchObject({ channel: 'email', destination: body.email, fallbackOf: whatsapp?.id });

    const deadLetters = new Queue<DeadLetterJob>(DEAD_LETTER_QUEUE, {
      connection: { url: stack.redisUrl },
      prefix: stack.config.QUEUE_PREFIX,
    });
    try {
      const jobs = await deadLetters.getJobs(['waiting', 'active', 'failed']);
      const job = jobs.find((candidate) => candidate.data.deliveryId === whatsapp?.id);
      expect(job?.data).toMatchObject({
        channel: 'whatsapp',
        provider: 'twilio',
        reason: expect.stringMatching(/21211/),
        errors: [expect.objectContaining({ attempt: 1 })],
      });
      expect(JSON.stringify(job?.data)).not.toContain(codeIn(email));
    } finally {
      await deadLetters.close();
    }

    // The same code, by the other channel.
    expect((await post(stack.app, 'verify-otp/', { email: body.email, otp: codeIn(email) })).statusCode).toBe(
      200,
    );
  });
});

describe('WhatsApp input', () => {
  it.each([
    ['a missing number', undefined, { code: 'required' }],
    [
      'a number without country code',
      '415 555 2671',
      { code: 'invalid_format', params: { format: 'phone' } },
    ],
    ['letters', '+1 415 CALL NOW', { code: 'invalid_format', params: { format: 'phone' } }],
    ['a landline', '+44 20 7946 0958', { code: 'not_mobile' }],
  ])('refuses %s with a 400 naming mobile', async (_case, mobile, problem) => {
    const response = await post(stack.app, 'request-otp/', shopper({ otp_method: 'whatsapp', mobile }));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      success: false,
      errors: { mobile: { ...problem, message: expect.any(String) } },
    });
  });

  it('answers CHANNEL_UNAVAILABLE, naming otp_method, when WhatsApp is not enabled', async () => {
    const response = await post(disabled.app, 'request-otp/', whatsappShopper());
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      code: 'CHANNEL_UNAVAILABLE',
      errors: { otp_method: { code: 'unavailable', params: {}, message: expect.any(String) } },
    });
  });

  it('lets a resend switch an email registration with a mobile number to WhatsApp', async () => {
    const body = shopper({ mobile: '+1 415 555 0104' });
    expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
    await stack.google.waitForEmails(1, { to: body.email });
    stack.advanceClock(stack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);
    const resent = await post(stack.app, 'resend-otp/', { email: body.email, otp_method: 'whatsapp' });
    expect(resent.statusCode).toBe(200);
    const [message] = await stack.twilio.waitForMessages(1, { to: 'whatsapp:+14155550104' });
    const code = codeInWhatsApp(message?.body);
    expect((await post(stack.app, 'verify-otp/', { email: body.email, otp: code })).statusCode).toBe(200);
  });
});
