import { randomUUID } from 'node:crypto';
import type { ApiConfig } from '@otp-relay/core';
import { deliveries, registrationFlows, users } from '@otp-relay/db';
import { asc, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { post, SMS_FROM, type Stack, shopper, startStack } from './support/stack.js';

/**
 * Registration by SMS code, end to end: the API, the real worker, and the real `twilio` client
 * against the fake Twilio. SMS is a phone channel like WhatsApp: the same guards (country list,
 * per-country cap, budgets, cooldown), and its code proves the phone, never the email.
 */

const MESSAGING_SERVICE_SID = `MG${'0123456789abcdef'.repeat(2)}`;

let stack: Stack;
/** SMS through a Messaging Service, and no WhatsApp at all. */
let serviceStack: Stack;
const opened: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  [stack, serviceStack] = await Promise.all([
    startStack(),
    startStack({
      env: {
        TWILIO_SMS_FROM: '',
        TWILIO_MESSAGING_SERVICE_SID: MESSAGING_SERVICE_SID,
        WHATSAPP_PROVIDER: 'disabled',
      },
    }),
  ]);
  stack.startWorker();
  serviceStack.startWorker();
});
afterEach(() => {
  stack.twilio.reset();
  stack.google.reset();
  serviceStack.twilio.reset();
});
afterAll(async () => {
  await Promise.all(opened.map((api) => api.close()));
  await Promise.all([stack.close(), serviceStack.close()]);
});

const smsShopper = (mobile: string, overrides: Record<string, unknown> = {}) =>
  shopper({ otp_method: 'sms', mobile, ...overrides });
const codeInSms = (body: string | undefined) => /^(\d{6}) is your verification code/.exec(body ?? '')?.[1];
const tokenClaims = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
const verify = (app: App, email: string, verificationId: string, otp: string | undefined) =>
  post(app, 'verify-otp/', { email, otp, verification_id: verificationId });

async function deliveriesOf(target: Stack, email: string) {
  return target.db.db
    .select({ delivery: deliveries })
    .from(deliveries)
    .innerJoin(registrationFlows, eq(deliveries.flowId, registrationFlows.id))
    .where(eq(registrationFlows.email, email))
    .orderBy(asc(deliveries.createdAt))
    .then((rows) => rows.map((row) => row.delivery));
}

/** Another API on the stack's database with settings of its own, and limits counted apart. */
async function apiWith(config: Partial<ApiConfig>): Promise<App> {
  const other = await stack.anotherApi({
    config: { QUEUE_PREFIX: `${stack.config.QUEUE_PREFIX}-${randomUUID()}`, ...config },
  });
  opened.push(other);
  return other.app;
}

describe('registration by SMS code', () => {
  it('texts the code to the bare E.164 number from TWILIO_SMS_FROM, and the code proves the phone only', async () => {
    const body = smsShopper('+1 (415) 555-2671');
    const requested = await post(stack.app, 'request-otp/', body);
    expect(requested.statusCode).toBe(200);
    expect(requested.json().message).toMatch(/sms/);

    const [message] = await stack.twilio.waitForMessages(1, { to: '+14155552671' });
    expect(message).toMatchObject({
      to: '+14155552671',
      from: SMS_FROM,
      authorization: {
        username: stack.twilioCredentials.accountSid,
        password: stack.twilioCredentials.authToken,
      },
    });
    expect(message?.form).not.toHaveProperty('MessagingServiceSid');
    expect(message?.contentSid).toBeUndefined();
    expect(message?.body).toMatch(/^\d{6} is your verification code\. It expires in 10 minutes\./);
    const code = codeInSms(message?.body);

    const verified = await verify(stack.app, body.email, requested.json().verification_id, code);
    expect(verified.statusCode).toBe(200);
    expect(verified.json().user).toMatchObject({
      email: body.email,
      mobile: '+14155552671',
      is_verified: true,
      email_verified: false,
      phone_verified: true,
    });
    const claims = tokenClaims(verified.json().token);
    expect(claims).toMatchObject({
      email_verified: false,
      phone_number_verified: true,
      phone_number: '+14155552671',
    });
    expect(claims).not.toHaveProperty('email');

    const [delivery] = await deliveriesOf(stack, body.email);
    await stack.settled(delivery?.id ?? '');
    expect((await deliveriesOf(stack, body.email))[0]).toMatchObject({
      channel: 'sms',
      destination: '+14155552671',
      provider: 'twilio',
      status: 'sent',
      providerMessageId: message?.sid,
    });
    const [flow] = await stack.db.db
      .select()
      .from(registrationFlows)
      .where(eq(registrationFlows.email, body.email));
    expect(flow).toMatchObject({ channel: 'sms', destination: '+14155552671' });
  });

  it('sends through TWILIO_MESSAGING_SERVICE_SID when that is the sender, with no From', async () => {
    const body = smsShopper('+1 415 555 0201');
    const requested = await post(serviceStack.app, 'request-otp/', body);
    expect(requested.statusCode).toBe(200);
    const [message] = await serviceStack.twilio.waitForMessages(1, { to: '+14155550201' });
    expect(message?.from).toBe('');
    expect(message?.form).toMatchObject({ MessagingServiceSid: MESSAGING_SERVICE_SID });
    expect(message?.form).not.toHaveProperty('From');
    const code = codeInSms(message?.body);
    const verified = await verify(serviceStack.app, body.email, requested.json().verification_id, code);
    expect(verified.json().user).toMatchObject({ phone_verified: true, email_verified: false });
  });

  it('retries a 503 and texts the code once', async () => {
    serviceStack.twilio.failSends(1, { kind: 'status', status: 503 });
    const body = smsShopper('+1 415 555 0202');
    expect((await post(serviceStack.app, 'request-otp/', body)).statusCode).toBe(200);
    await serviceStack.twilio.waitForMessages(1, { to: '+14155550202' });
    const [delivery] = await deliveriesOf(serviceStack, body.email);
    await serviceStack.settled(delivery?.id ?? '');
    expect(serviceStack.twilio.requests).toBe(2);
    expect(serviceStack.twilio.sent).toHaveLength(1);
    expect((await deliveriesOf(serviceStack, body.email))[0]).toMatchObject({
      channel: 'sms',
      status: 'sent',
      attempts: 2,
    });
  });

  it('retries on SMS when WhatsApp is on Twilio too: one provider name, two channels', async () => {
    stack.twilio.failSends(1, { kind: 'status', status: 503 });
    const body = smsShopper('+1 415 555 0205');
    expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
    await stack.twilio.waitForMessages(1, { to: '+14155550205' });
    const [delivery] = await deliveriesOf(stack, body.email);
    await stack.settled(delivery?.id ?? '');
    expect(stack.twilio.sent.map((message) => message.to)).toEqual(['+14155550205']);
    expect((await deliveriesOf(stack, body.email))[0]).toMatchObject({ channel: 'sms', attempts: 2 });
  });

  it('lets a resend move an email registration with a mobile number to SMS', async () => {
    const body = shopper({ mobile: '+1 415 555 0203' });
    const requested = await post(stack.app, 'request-otp/', body);
    expect(requested.statusCode).toBe(200);
    await stack.google.waitForEmails(1, { to: body.email });
    stack.advanceClock(stack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);
    const verificationId = requested.json().verification_id;
    const resent = await post(stack.app, 'resend-otp/', {
      email: body.email,
      otp_method: 'sms',
      verification_id: verificationId,
    });
    expect(resent.statusCode).toBe(200);
    const [message] = await stack.twilio.waitForMessages(1, { to: '+14155550203' });
    const verified = await verify(stack.app, body.email, verificationId, codeInSms(message?.body));
    expect(verified.json().user).toMatchObject({ phone_verified: true, email_verified: false });
  });

  it('proving a number by SMS ends the open WhatsApp flows for that number', async () => {
    const mobile = '+1 415 555 0204';
    const byWhatsApp = shopper({ otp_method: 'whatsapp', mobile });
    const whatsappFlow = await post(stack.app, 'request-otp/', byWhatsApp);
    const [whatsappMessage] = await stack.twilio.waitForMessages(1, { to: 'whatsapp:+14155550204' });
    stack.advanceClock(stack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);

    const bySms = smsShopper(mobile);
    const smsFlow = await post(stack.app, 'request-otp/', bySms);
    const [smsMessage] = await stack.twilio.waitForMessages(1, { to: '+14155550204' });
    expect(
      (await verify(stack.app, bySms.email, smsFlow.json().verification_id, codeInSms(smsMessage?.body)))
        .statusCode,
    ).toBe(200);

    // The WhatsApp flow ended with it, and its code no longer verifies: the number has its account.
    const [ended] = await stack.db.db
      .select()
      .from(registrationFlows)
      .where(eq(registrationFlows.email, byWhatsApp.email));
    expect(ended?.closedAt).toBeInstanceOf(Date);
    const late = await verify(
      stack.app,
      byWhatsApp.email,
      whatsappFlow.json().verification_id,
      /(\d{6}) is your verification code/.exec(whatsappMessage?.body ?? '')?.[1],
    );
    expect(late.statusCode).toBe(400);
    expect(
      await stack.db.db.select().from(users).where(eq(users.username, byWhatsApp.username)),
    ).toHaveLength(0);
  });
});

describe('SMS to a number that already has an account', () => {
  it('texts a notice, no code, and answers as for a new number', async () => {
    const first = smsShopper('+1 415 555 0211');
    const opened = await post(stack.app, 'request-otp/', first);
    const [message] = await stack.twilio.waitForMessages(1, { to: '+14155550211' });
    const code = codeInSms(message?.body);
    expect((await verify(stack.app, first.email, opened.json().verification_id, code)).statusCode).toBe(200);
    stack.advanceClock(stack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);

    const taken = smsShopper('+1 415 555 0211');
    const onTaken = await post(stack.app, 'request-otp/', taken);
    const onNew = await post(stack.app, 'request-otp/', smsShopper('+1 415 555 0212'));
    expect(onTaken.statusCode).toBe(onNew.statusCode);
    expect(Object.keys(onTaken.json()).sort()).toEqual(Object.keys(onNew.json()).sort());

    const toTaken = await stack.twilio.waitForMessages(2, { to: '+14155550211' });
    const notice = toTaken[1]?.body;
    expect(notice).toMatch(/^Someone tried to create an account with this number/);
    expect(notice).not.toMatch(/\d/);
    expect(toTaken[1]?.from).toBe(SMS_FROM);
    expect((await verify(stack.app, taken.email, onTaken.json().verification_id, code)).json().code).toBe(
      'OTP_INVALID',
    );
  });

  it('counts an account proven by WhatsApp: the same number by SMS gets the notice', async () => {
    const byWhatsApp = shopper({ otp_method: 'whatsapp', mobile: '+1 415 555 0213' });
    const opened = await post(stack.app, 'request-otp/', byWhatsApp);
    const [message] = await stack.twilio.waitForMessages(1, { to: 'whatsapp:+14155550213' });
    const code = /(\d{6}) is your verification code/.exec(message?.body ?? '')?.[1];
    expect((await verify(stack.app, byWhatsApp.email, opened.json().verification_id, code)).statusCode).toBe(
      200,
    );
    stack.advanceClock(stack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);

    expect((await post(stack.app, 'request-otp/', smsShopper('+1 415 555 0213'))).statusCode).toBe(200);
    const [notice] = await stack.twilio.waitForMessages(1, { to: '+14155550213' });
    expect(notice?.body).toMatch(/already have one/);
  });
});

describe('SMS guards', () => {
  it('answers CHANNEL_UNAVAILABLE, naming otp_method, while SMS_PROVIDER=disabled', async () => {
    const app = await apiWith({ SMS_PROVIDER: 'disabled' });
    for (const [path, payload] of [
      ['request-otp/', smsShopper('+1 415 555 0221')],
      ['resend-otp/', { email: 'ann@example.com', otp_method: 'sms' }],
    ] as const) {
      const response = await post(app, path, payload);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({
        code: 'CHANNEL_UNAVAILABLE',
        errors: { otp_method: { code: 'unavailable', message: expect.stringMatching(/SMS/) } },
      });
    }
  });

  it('needs a mobile number, with its country code, of a country', async () => {
    for (const mobile of [undefined, '415 555 2671', '+44 20 7946 0958', '+881612345678']) {
      const response = await post(stack.app, 'request-otp/', smsShopper(mobile as string));
      expect(response.statusCode, String(mobile)).toBe(400);
      expect(response.json()).toMatchObject({ errors: { mobile: { message: expect.any(String) } } });
    }
  });

  it("refuses numbers outside SMS_ALLOWED_COUNTRIES, whatever WhatsApp's list says", async () => {
    const app = await apiWith({ SMS_ALLOWED_COUNTRIES: 'US', WHATSAPP_ALLOWED_COUNTRIES: 'GB' });
    const british = '+44 7400 123456';
    const refused = await post(app, 'request-otp/', smsShopper(british));
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({
      errors: { mobile: { code: 'country_not_allowed', message: expect.stringMatching(/country/) } },
    });
    expect((await post(app, 'request-otp/', smsShopper('+1 415 555 0222'))).statusCode).toBe(200);
    expect(
      (await post(app, 'request-otp/', shopper({ otp_method: 'whatsapp', mobile: british }))).statusCode,
    ).toBe(200);
  });

  it('refuses a resend to SMS for a number outside the list: the id holder is told, anyone else is not', async () => {
    const app = await apiWith({ SMS_ALLOWED_COUNTRIES: 'US', OTP_RESEND_COOLDOWN_SECONDS: 0 });
    const body = shopper({ mobile: '+44 7911 123457' });
    const requested = await post(app, 'request-otp/', body);
    expect(requested.statusCode).toBe(200);
    const holder = await post(app, 'resend-otp/', {
      email: body.email,
      otp_method: 'sms',
      verification_id: requested.json().verification_id,
    });
    expect(holder.statusCode).toBe(400);
    expect(holder.json()).toMatchObject({
      errors: { mobile: { code: 'country_not_allowed', message: expect.stringMatching(/country/) } },
    });
    const stranger = await post(app, 'resend-otp/', { email: body.email, otp_method: 'sms' });
    expect(stranger.statusCode).toBe(200);
  });

  it('caps SMS per country calling code on its own count, apart from WhatsApp', async () => {
    const app = await apiWith({ SMS_COUNTRY_HOURLY_CAP: 2, WHATSAPP_COUNTRY_HOURLY_CAP: 2 });
    const statuses: number[] = [];
    for (const mobile of ['+1 415 555 0231', '+1 415 555 0232', '+1 415 555 0233']) {
      statuses.push((await post(app, 'request-otp/', smsShopper(mobile))).statusCode);
    }
    expect(statuses).toEqual([200, 200, 429]);
    const capped = await post(app, 'request-otp/', smsShopper('+1 415 555 0234'));
    expect(capped.json()).toMatchObject({
      code: 'RATE_LIMITED',
      message: expect.stringMatching(/^SMS codes/),
    });
    expect(Number(capped.headers['retry-after'])).toBeGreaterThan(0);
    // Another country, and WhatsApp to this one, still go.
    expect((await post(app, 'request-otp/', smsShopper('+49 1512 3456780'))).statusCode).toBe(200);
    expect(
      (await post(app, 'request-otp/', shopper({ otp_method: 'whatsapp', mobile: '+1 415 555 0235' })))
        .statusCode,
    ).toBe(200);
  });

  it('spends the SMS send budget, leaving WhatsApp and email alone', async () => {
    const app = await apiWith({ SEND_BUDGET_SMS_HOURLY: 1 });
    expect((await post(app, 'request-otp/', smsShopper('+1 415 555 0241'))).statusCode).toBe(200);
    const exhausted = await post(app, 'request-otp/', smsShopper('+49 1512 3456781'));
    expect(exhausted.statusCode).toBe(503);
    expect(exhausted.json()).toMatchObject({ code: 'SEND_BUDGET_EXHAUSTED' });
    expect(
      (await post(app, 'request-otp/', shopper({ otp_method: 'whatsapp', mobile: '+1 415 555 0242' })))
        .statusCode,
    ).toBe(200);
    expect((await post(app, 'request-otp/', shopper())).statusCode).toBe(200);
  });

  it('holds the cooldown per number across WhatsApp and SMS', async () => {
    const mobile = '+1 415 555 0251';
    expect(
      (await post(stack.app, 'request-otp/', shopper({ otp_method: 'whatsapp', mobile }))).statusCode,
    ).toBe(200);
    const again = await post(stack.app, 'request-otp/', smsShopper(mobile));
    expect(again.statusCode).toBe(429);
    expect(again.json()).toMatchObject({ code: 'RESEND_TOO_SOON' });
  });
});
