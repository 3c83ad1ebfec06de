import { setTimeout as sleep } from 'node:timers/promises';
import { deliveries, registrationFlows } from '@otp-relay/db';
import { eq } from 'drizzle-orm';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { type OpenApiDocument, operationOf } from './support/openapi.js';
import { codeIn, openFlow, post, type Stack, shopper, startStack } from './support/stack.js';

/**
 * GET /api/accounts/verifications/{id} and POST …/{id}/cancel: what the holder of a flow's id may
 * know of it (its state, where its code went, when it may resend), and nothing about accounts.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
  stack.startWorker();
});
afterEach(() => {
  stack.twilio.reset();
});
afterAll(() => stack.close());

interface Verification {
  verification_id: string;
  status: string;
  channel: string;
  delivery: { status: string; error_code: string | null } | null;
  fell_back: boolean;
  expires_in: number;
  resend_after: number | null;
  attempts_left: number;
  locale: string;
}

const statusCall = (verificationId: string, suffix = '', app: App = stack.app) =>
  app.inject({ method: 'GET', url: `/api/accounts/verifications/${verificationId}${suffix}` });
const cancelCall = (verificationId: string) =>
  stack.app.inject({ method: 'POST', url: `/api/accounts/verifications/${verificationId}/cancel` });

async function statusOf(verificationId: string, app: App = stack.app): Promise<Verification> {
  const answer = await statusCall(verificationId, '', app);
  expect(answer.statusCode, answer.body).toBe(200);
  return answer.json().verification;
}

/** Polls the status as a frontend would, until `reached` (the worker runs beside the test). */
async function statusWhen(
  verificationId: string,
  reached: (status: Verification) => boolean,
  app: App = stack.app,
) {
  let status = await statusOf(verificationId, app);
  for (let poll = 0; poll < 400 && !reached(status); poll += 1) {
    await sleep(25);
    status = await statusOf(verificationId, app);
  }
  if (!reached(status)) throw new Error(`the status never got there: ${JSON.stringify(status)}`);
  return status;
}
const sent = (status: Verification) => status.delivery?.status === 'sent';

const wrongFor = (code: string) => (code === '000000' ? '000001' : '000000');
const verify = (email: string, verificationId: string, otp: string) =>
  post(stack.app, 'verify-otp/', { email, otp, verification_id: verificationId });
const resend = (email: string, verificationId: string) =>
  post(stack.app, 'resend-otp/', { email, otp_method: 'email', verification_id: verificationId });
const flowRow = async (verificationId: string) => {
  const [flow] = await stack.db.db
    .select()
    .from(registrationFlows)
    .where(eq(registrationFlows.verificationId, verificationId));
  if (!flow) throw new Error(`no flow ${verificationId}`);
  return flow;
};
const deliveriesOf = async (verificationId: string) =>
  stack.db.db
    .select()
    .from(deliveries)
    .where(eq(deliveries.flowId, (await flowRow(verificationId)).id));

describe('the status of a verification', () => {
  it('is pending after request-otp (with or without a trailing slash), then approved after verify', async () => {
    const body = shopper();
    const flow = await openFlow(stack, body);
    const pending = await statusWhen(flow.verificationId, sent);
    expect(pending).toEqual({
      verification_id: flow.verificationId,
      status: 'pending',
      channel: 'email',
      delivery: { status: 'sent', error_code: null },
      fell_back: false,
      expires_in: expect.any(Number),
      resend_after: expect.any(Number),
      attempts_left: stack.config.OTP_MAX_ATTEMPTS,
      locale: 'en',
    });
    expect(pending.expires_in).toBeGreaterThan(0);
    expect(pending.expires_in).toBeLessThanOrEqual(stack.config.OTP_TTL_SECONDS);
    expect(pending.resend_after).toBeGreaterThan(0);
    expect(pending.resend_after).toBeLessThanOrEqual(stack.config.OTP_RESEND_COOLDOWN_SECONDS);

    const slashed = await statusCall(flow.verificationId, '/');
    expect(slashed.statusCode).toBe(200);
    expect(slashed.json().verification.status).toBe('pending');
    expect(slashed.headers['cache-control']).toBe('no-store');
    expect(slashed.headers['x-ratelimit-limit']).toBe(String(stack.config.RATE_LIMIT_IP_MAX));

    expect((await verify(body.email, flow.verificationId, flow.code)).statusCode).toBe(200);
    expect(await statusOf(flow.verificationId)).toEqual({
      verification_id: flow.verificationId,
      status: 'approved',
      channel: 'email',
      delivery: null,
      fell_back: false,
      expires_in: 0,
      resend_after: null,
      attempts_left: stack.config.OTP_MAX_ATTEMPTS,
      locale: 'en',
    });
  });

  it('shows a fallback as it happens: a WhatsApp code that cannot be sent goes by email', async () => {
    stack.twilio.failSends(1, { kind: 'status', status: 400, code: 21211 });
    const body = shopper({ otp_method: 'whatsapp', mobile: '+1 415 555 0191' });
    const requested = await post(stack.app, 'request-otp/', body);
    expect(requested.statusCode).toBe(200);
    const verificationId: string = requested.json().verification_id;

    const fellBack = await statusWhen(verificationId, (status) => status.fell_back && sent(status));
    expect(fellBack).toMatchObject({
      status: 'pending',
      channel: 'email',
      delivery: { status: 'sent', error_code: null },
      fell_back: true,
    });
    // The cooldown of the number the code was asked for, still running.
    expect(fellBack.resend_after).toBeGreaterThan(0);
    const [whatsapp, email] = (await deliveriesOf(verificationId)).sort(
      (a, b) => Number(a.fallbackOf !== null) - Number(b.fallbackOf !== null),
    );
    expect(whatsapp).toMatchObject({ channel: 'whatsapp', status: 'dead' });
    expect(email).toMatchObject({ channel: 'email', fallbackOf: whatsapp?.id, status: 'sent' });

    const [message] = await stack.google.waitForEmails(1, { to: body.email });
    expect((await verify(body.email, verificationId, codeIn(message))).statusCode).toBe(200);
    expect(await statusOf(verificationId)).toMatchObject({
      status: 'approved',
      channel: 'email',
      fell_back: true,
    });
  });

  it('is expired once the code has run out, and pending again after a resend', async () => {
    const body = shopper();
    const flow = await openFlow(stack, body);
    stack.advanceClock(stack.config.OTP_TTL_SECONDS + 1);
    expect(await statusOf(flow.verificationId)).toMatchObject({
      status: 'expired',
      delivery: null,
      expires_in: 0,
      resend_after: 0,
      attempts_left: stack.config.OTP_MAX_ATTEMPTS,
      locale: 'en',
    });

    expect((await resend(body.email, flow.verificationId)).statusCode).toBe(200);
    const renewed = await statusOf(flow.verificationId);
    expect(renewed.status).toBe('pending');
    expect(renewed.expires_in).toBeGreaterThan(0);
    expect(renewed.resend_after).toBeGreaterThan(0);
  });

  it('counts wrong codes down, and is max_attempts_reached after OTP_MAX_ATTEMPTS of them', async () => {
    const body = shopper();
    const flow = await openFlow(stack, body);
    const max = stack.config.OTP_MAX_ATTEMPTS;
    for (let guess = 1; guess <= max; guess += 1) {
      expect((await verify(body.email, flow.verificationId, wrongFor(flow.code))).statusCode).toBe(400);
      const status = await statusOf(flow.verificationId);
      expect(status.attempts_left).toBe(max - guess);
      expect(status.status).toBe(guess < max ? 'pending' : 'max_attempts_reached');
    }
    expect(await statusOf(flow.verificationId)).toMatchObject({
      delivery: null,
      expires_in: 0,
      resend_after: null,
    });
  });

  it('reads canceled when another registration proved the contact first', async () => {
    const body = shopper();
    const first = await openFlow(stack, body);
    stack.advanceClock(stack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);
    const second = await openFlow(stack, { ...body, username: `${body.username}_2` });
    expect((await verify(body.email, second.verificationId, second.code)).statusCode).toBe(200);
    expect(await statusOf(first.verificationId)).toMatchObject({ status: 'canceled', resend_after: null });
    expect((await flowRow(first.verificationId)).canceledAt).toBeNull();
  });
});

describe("the status of a verification, with the provider's receipts", () => {
  const PUBLIC_BASE_URL = 'https://otp.shop.test';
  const RECEIPT_URL = `${PUBLIC_BASE_URL}/api/webhooks/twilio/message-status`;
  let receiving: Stack;
  beforeAll(async () => {
    receiving = await startStack({ env: { PUBLIC_BASE_URL } });
    receiving.startWorker();
  });
  afterAll(() => receiving.close());

  /** Twilio's status callback for the message it accepted for this flow, signed as Twilio signs it. */
  async function report(mobile: string, status: string) {
    const [message] = await receiving.twilio.waitForMessages(1, { to: `whatsapp:${mobile}` });
    const form = {
      MessageSid: message?.sid ?? '',
      AccountSid: receiving.twilioCredentials.accountSid,
      MessageStatus: status,
    };
    return receiving.app.inject({
      method: 'POST',
      url: '/api/webhooks/twilio/message-status',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': getExpectedTwilioSignature(
          receiving.twilioCredentials.authToken,
          RECEIPT_URL,
          form,
        ),
      },
      payload: new URLSearchParams(form).toString(),
    });
  }

  async function whatsappFlow(mobile: string) {
    const requested = await post(receiving.app, 'request-otp/', shopper({ otp_method: 'whatsapp', mobile }));
    expect(requested.statusCode).toBe(200);
    const verificationId: string = requested.json().verification_id;
    // Reported only once the worker has recorded Twilio's acceptance.
    await statusWhen(verificationId, sent, receiving.app);
    return verificationId;
  }

  it('shows what the provider reports: delivered, then read', async () => {
    const verificationId = await whatsappFlow('+14155550192');
    expect((await report('+14155550192', 'delivered')).statusCode).toBe(204);
    expect((await statusOf(verificationId, receiving.app)).delivery).toEqual({
      status: 'delivered',
      error_code: null,
    });
    expect((await report('+14155550192', 'read')).statusCode).toBe(204);
    expect(await statusOf(verificationId, receiving.app)).toMatchObject({
      channel: 'whatsapp',
      delivery: { status: 'read', error_code: null },
      fell_back: false,
    });
  });
});

describe('cancel', () => {
  it('ends a pending flow for good: its code fails, a resend sends nothing, and it says so again', async () => {
    const body = shopper();
    const flow = await openFlow(stack, body);
    const canceled = await cancelCall(flow.verificationId);
    expect(canceled.statusCode).toBe(200);
    expect(canceled.json()).toEqual({
      success: true,
      verification: {
        verification_id: flow.verificationId,
        status: 'canceled',
        channel: 'email',
        delivery: null,
        fell_back: false,
        expires_in: 0,
        resend_after: null,
        attempts_left: stack.config.OTP_MAX_ATTEMPTS,
        locale: 'en',
      },
    });
    const row = await flowRow(flow.verificationId);
    expect(row.canceledAt).not.toBeNull();
    expect(row.closedAt).toEqual(row.canceledAt);
    expect(row.passwordHash).toBeNull();
    expect((await deliveriesOf(flow.verificationId)).map((delivery) => delivery.payloadCiphertext)).toEqual([
      null,
    ]);

    // Idempotent: the same answer, and the first cancel's time stays.
    const again = await cancelCall(flow.verificationId);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(canceled.json());
    expect((await flowRow(flow.verificationId)).canceledAt).toEqual(row.canceledAt);

    const late = await verify(body.email, flow.verificationId, flow.code);
    expect(late.statusCode).toBe(400);
    expect(late.json().code).toBe('OTP_INVALID');

    stack.advanceClock(stack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);
    expect((await resend(body.email, flow.verificationId)).statusCode).toBe(200);
    expect(await deliveriesOf(flow.verificationId)).toHaveLength(1);
    expect((await statusOf(flow.verificationId)).status).toBe('canceled');
  });

  it("cancels only the flow its id names: a stranger's flow for the same address cannot end the shopper's", async () => {
    const body = shopper();
    const shoppers = await openFlow(stack, body);
    // Someone else registers the same address (after the cooldown) and cancels their own flow.
    stack.advanceClock(stack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);
    const strangers = await openFlow(stack, {
      ...body,
      username: `${body.username}_x`,
      password: 'a stranger password',
    });
    expect((await cancelCall(strangers.verificationId)).json().verification.status).toBe('canceled');
    expect((await statusOf(shoppers.verificationId)).status).toBe('pending');
    const verified = await verify(body.email, shoppers.verificationId, shoppers.code);
    expect(verified.statusCode).toBe(200);
  });

  it('leaves an approved flow approved, and answers that', async () => {
    const body = shopper();
    const flow = await openFlow(stack, body);
    expect((await verify(body.email, flow.verificationId, flow.code)).statusCode).toBe(200);
    const canceled = await cancelCall(flow.verificationId);
    expect(canceled.statusCode).toBe(200);
    expect(canceled.json().verification.status).toBe('approved');
    expect((await flowRow(flow.verificationId)).canceledAt).toBeNull();
  });
});

describe('who may know what', () => {
  it('an unknown id is 404 VERIFICATION_NOT_FOUND, a malformed one 400 naming verification_id', async () => {
    const unknown = 'vf_AAAAAAAAAAAAAAAAAAAAAAAA';
    for (const answer of [await statusCall(unknown), await cancelCall(unknown)]) {
      expect(answer.statusCode).toBe(404);
      expect(answer.json()).toMatchObject({ success: false, code: 'VERIFICATION_NOT_FOUND' });
    }
    for (const malformed of ['short', 'vf_AAAAAAAAAAAAAAAAAA%21AAAA', 'x'.repeat(129)]) {
      for (const answer of [await statusCall(malformed), await cancelCall(malformed)]) {
        expect(answer.statusCode, malformed).toBe(400);
        expect(answer.json()).toMatchObject({
          success: false,
          code: 'VALIDATION_ERROR',
          errors: { verification_id: { code: expect.any(String), message: expect.any(String) } },
        });
      }
    }
    // What the router refuses before the route's schema sees it: still the error contract.
    for (const unroutable of ['x'.repeat(300), 'vf_AAAAAAAAAAAAAAAAAAAAA%E0%A4%A']) {
      for (const answer of [await statusCall(unroutable), await cancelCall(unroutable)]) {
        expect(answer.statusCode).toBe(400);
        expect(answer.json()).toMatchObject({ success: false, code: 'VALIDATION_ERROR' });
      }
    }
  });

  it('a caller without the id learns nothing: there is no asking by address', async () => {
    const body = shopper();
    await openFlow(stack, body);
    const nobody = shopper();
    const byAddress = (email: string) =>
      [
        `/api/accounts/verifications?email=${encodeURIComponent(email)}`,
        `/api/accounts/verifications/?email=${encodeURIComponent(email)}`,
        `/api/accounts/verifications/${encodeURIComponent(email)}`,
      ].map((url) => stack.app.inject({ method: 'GET', url }));
    const [pending, none] = await Promise.all([
      Promise.all(byAddress(body.email)),
      Promise.all(byAddress(nobody.email)),
    ]);
    pending.forEach((answer, index) => {
      expect(answer.statusCode).toBeGreaterThanOrEqual(400);
      expect(answer.body).not.toContain('vf_');
      expect(answer.body).not.toContain(body.email);
      const other = none[index];
      expect(answer.statusCode).toBe(other?.statusCode);
      expect(answer.json().code).toBe(other?.json().code);
    });
  });

  it('a notice flow (the address already has an account) reads exactly as a code flow at every stage', async () => {
    const registered = shopper();
    const own = await openFlow(stack, registered);
    expect((await verify(registered.email, own.verificationId, own.code)).statusCode).toBe(200);
    stack.advanceClock(stack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);

    const fresh = shopper();
    const onAccount = shopper({ email: registered.email });
    const code = await openFlow(stack, fresh);
    const noticeOpened = await post(stack.app, 'request-otp/', onAccount);
    expect(noticeOpened.statusCode).toBe(200);
    const notice = { verificationId: noticeOpened.json().verification_id as string };
    const [, noticeEmail] = await stack.google.waitForEmails(2, { to: registered.email });
    expect(noticeEmail?.text).not.toMatch(/code is/);
    expect((await flowRow(notice.verificationId)).kind).toBe('notice');

    /** The two statuses, the same apart from the id and the second between the two requests. */
    const comparable = (status: Verification) => ({
      ...status,
      verification_id: typeof status.verification_id,
      expires_in: status.expires_in > 0,
      resend_after: status.resend_after === null ? null : status.resend_after > 0,
    });
    const expectAlike = async (stage: string, reached: (status: Verification) => boolean = () => true) => {
      const [ofCode, ofNotice] = await Promise.all([
        statusWhen(code.verificationId, reached),
        statusWhen(notice.verificationId, reached),
      ]);
      expect(comparable(ofNotice), stage).toEqual(comparable(ofCode));
      return ofCode;
    };

    expect((await expectAlike('sent', sent)).status).toBe('pending');
    const wrong = wrongFor(code.code);
    await verify(fresh.email, code.verificationId, wrong);
    await verify(onAccount.email, notice.verificationId, wrong);
    expect((await expectAlike('a wrong code')).attempts_left).toBe(stack.config.OTP_MAX_ATTEMPTS - 1);

    stack.advanceClock(stack.config.OTP_TTL_SECONDS + 1);
    expect((await expectAlike('expired')).status).toBe('expired');

    expect((await resend(fresh.email, code.verificationId)).statusCode).toBe(200);
    expect((await resend(onAccount.email, notice.verificationId)).statusCode).toBe(200);
    expect((await expectAlike('resent', sent)).status).toBe('pending');

    for (let guess = 1; guess < stack.config.OTP_MAX_ATTEMPTS; guess += 1) {
      await verify(fresh.email, code.verificationId, wrong);
      await verify(onAccount.email, notice.verificationId, wrong);
    }
    expect((await expectAlike('locked')).status).toBe('max_attempts_reached');

    const [canceledCode, canceledNotice] = await Promise.all([
      cancelCall(code.verificationId),
      cancelCall(notice.verificationId),
    ]);
    expect(canceledNotice.statusCode).toBe(canceledCode.statusCode);
    expect(comparable(canceledNotice.json().verification)).toEqual(
      comparable(canceledCode.json().verification),
    );
    expect((await expectAlike('canceled')).status).toBe('canceled');
  });

  it('status and cancel draw on a per-IP count of their own', async () => {
    const limited = await stack.anotherApi({ config: { RATE_LIMIT_IP_MAX: 2 } });
    try {
      const from = (method: 'GET' | 'POST', url: string, payload?: object) =>
        limited.app.inject({
          method,
          url,
          remoteAddress: '203.0.113.90',
          ...(payload ? { payload } : {}),
        });
      const flow = await openFlow(stack, shopper());
      const url = `/api/accounts/verifications/${flow.verificationId}`;
      expect((await from('GET', url)).headers['x-ratelimit-remaining']).toBe('1');
      expect((await from('POST', `${url}/cancel`)).statusCode).toBe(200);
      const refused = await from('GET', url);
      expect(refused.statusCode).toBe(429);
      expect(refused.json().code).toBe('RATE_LIMITED');
      // The sending endpoints' count is untouched.
      expect((await from('POST', '/api/accounts/request-otp/', shopper())).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('are in the OpenAPI document with their answers', async () => {
    const document = (
      await stack.admin.inject({ method: 'GET', url: '/docs/json' })
    ).json() as OpenApiDocument;
    const status = operationOf(document, '/api/accounts/verifications/{verification_id}', 'get');
    const cancel = operationOf(document, '/api/accounts/verifications/{verification_id}/cancel', 'post');
    for (const operation of [status, cancel]) {
      expect(Object.keys(operation?.responses ?? {})).toEqual(
        expect.arrayContaining(['200', '400', '404', '429']),
      );
    }
    expect(JSON.stringify(status?.responses['200'])).toContain('max_attempts_reached');
  });
});
