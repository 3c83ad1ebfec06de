import { registrationFlows, users } from '@otp-relay/db';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { codeIn, openFlow, post, type Stack, shopper, startStack } from './support/stack.js';

/**
 * A registration belongs to whoever started it, and a code proves only the contact it reached.
 * Each case is an attack on the first version (re-request takeover, WhatsApp vouching for an email,
 * lock-outs, probes for pending registrations), and what now answers it.
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

const whatsappCode = (body: string | undefined) => /(\d{6}) is your verification code/.exec(body ?? '')?.[1];
const wrongFor = (code: string) => (code === '000000' ? '000001' : '000000');
const tokenClaims = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
/** verify-otp as the flow's own frontend calls it: with the flow's id. */
const verifyFlow = (email: string, flow: { verificationId: string }, otp: string) =>
  post(stack.app, 'verify-otp/', { email, otp, verification_id: flow.verificationId });
const accountsNamed = (username: string) =>
  stack.db.db.select().from(users).where(eq(users.username, username));
/** An answer without the parts that differ on every call anyway (the flow's id). */
const comparable = (answer: { statusCode: number; json(): Record<string, unknown> }) => ({
  status: answer.statusCode,
  body: { ...answer.json(), verification_id: typeof answer.json().verification_id },
});

describe('a flow belongs to whoever started it', () => {
  it("the re-request attack creates no account with the attacker's password, and the shopper's own flow still verifies", async () => {
    const victim = shopper();
    const own = await openFlow(stack, victim);
    stack.advanceClock(stack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);

    // Anyone who knows the address asks again, with their own username and password.
    const attacker = { ...victim, username: `${victim.username}_x`, password: 'attacker-chosen password' };
    const theirs = await openFlow(stack, attacker);
    expect(theirs.verificationId).not.toBe(own.verificationId);

    // The shopper types the newest code, which was made for the attacker's profile: it does not
    // verify the shopper's flow, and without an id it verifies nothing.
    const newest = await verifyFlow(victim.email, own, theirs.code);
    if (theirs.code !== own.code) expect(newest.json().code).toBe('OTP_INVALID');
    const withoutId = await post(stack.app, 'verify-otp/', { email: victim.email, otp: theirs.code });
    expect(withoutId.statusCode).toBe(400);
    expect(withoutId.json().code).toBe('VERIFICATION_ID_REQUIRED');
    expect(await accountsNamed(attacker.username)).toHaveLength(0);

    // The shopper's own code, with its id, still works: the second request changed nothing of it.
    const verified = await verifyFlow(victim.email, own, own.code);
    expect(verified.statusCode).toBe(200);
    expect(verified.json().user).toMatchObject({ username: victim.username, email_verified: true });

    // The attacker's flow ended when the address was taken: its code does nothing now.
    const late = await verifyFlow(victim.email, theirs, theirs.code);
    expect(late.statusCode).toBe(400);
    expect(await accountsNamed(attacker.username)).toHaveLength(0);
    const flows = await stack.db.db
      .select()
      .from(registrationFlows)
      .where(inArray(registrationFlows.verificationId, [own.verificationId, theirs.verificationId]));
    expect(flows.find((flow) => flow.verificationId === theirs.verificationId)?.closedAt).not.toBeNull();
  });

  it('20 concurrent verifies of one flow: exactly one succeeds', async () => {
    const body = shopper();
    const { code, verificationId } = await openFlow(stack, body);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        post(stack.app, 'verify-otp/', { email: body.email, otp: code, verification_id: verificationId }),
      ),
    );
    expect(answers.filter((answer) => answer.statusCode === 200)).toHaveLength(1);
    expect(answers.filter((answer) => answer.statusCode === 400)).toHaveLength(19);
    expect(await accountsNamed(body.username)).toHaveLength(1);
  });

  it('{email, otp} alone verifies with one open flow, and gets VERIFICATION_ID_REQUIRED with two', async () => {
    const single = shopper();
    const { code } = await openFlow(stack, single);
    expect((await post(stack.app, 'verify-otp/', { email: single.email, otp: code })).statusCode).toBe(200);

    const twice = shopper();
    const first = await openFlow(stack, twice);
    stack.advanceClock(stack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);
    await openFlow(stack, { ...twice, username: `${twice.username}_2` });
    for (const otp of [first.code, wrongFor(first.code)]) {
      const ambiguous = await post(stack.app, 'verify-otp/', { email: twice.email, otp });
      expect(ambiguous.statusCode).toBe(400);
      expect(ambiguous.json()).toMatchObject({
        success: false,
        code: 'VERIFICATION_ID_REQUIRED',
        errors: { verification_id: { code: 'required', message: expect.any(String) } },
      });
    }
    stack.advanceClock(stack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);
    const resend = await post(stack.app, 'resend-otp/', { email: twice.email, otp_method: 'email' });
    expect(resend.json().code).toBe('VERIFICATION_ID_REQUIRED');
    expect(await accountsNamed(twice.username)).toHaveLength(0);
    // With its id, each flow still works.
    const withId = await verifyFlow(twice.email, first, first.code);
    expect(withId.statusCode).toBe(200);
  });
  it('a verification_id works only with the address it was issued for', async () => {
    const body = shopper();
    const flow = await openFlow(stack, body);
    const other = shopper();
    // The right code and the right id, but another address: nothing verifies, nothing is sent.
    const elsewhere = await verifyFlow(other.email, flow, flow.code);
    expect(elsewhere.json().code).toBe('OTP_INVALID');
    stack.advanceClock(stack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);
    const sentBefore = stack.google.sent.length;
    const resent = await post(stack.app, 'resend-otp/', {
      email: other.email,
      otp_method: 'email',
      verification_id: flow.verificationId,
    });
    expect(resent.statusCode).toBe(200);
    // An id nobody was given answers exactly as a wrong code does.
    const made = await verifyFlow(body.email, { verificationId: 'vf_AAAAAAAAAAAAAAAAAAAAAAAA' }, flow.code);
    expect(comparable(made)).toEqual(comparable(elsewhere));
    expect(await accountsNamed(body.username)).toHaveLength(0);
    expect(stack.google.sent.length).toBe(sentBefore);
    // The flow itself is untouched: its own code still verifies it.
    expect((await verifyFlow(body.email, flow, flow.code)).statusCode).toBe(200);
  });
});

describe('a code proves only the contact it reached', () => {
  it("a WhatsApp registration proves the phone, never the email, and the email's owner can still register", async () => {
    const owner = shopper();
    const squatter = shopper({ email: owner.email, otp_method: 'whatsapp', mobile: '+1 415 555 0131' });
    const requested = await post(stack.app, 'request-otp/', squatter);
    expect(requested.statusCode).toBe(200);
    const [message] = await stack.twilio.waitForMessages(1, { to: 'whatsapp:+14155550131' });
    const verified = await post(stack.app, 'verify-otp/', {
      email: owner.email,
      otp: whatsappCode(message?.body),
      verification_id: requested.json().verification_id,
    });
    expect(verified.statusCode).toBe(200);
    expect(verified.json().user).toMatchObject({
      email: owner.email,
      mobile: '+14155550131',
      is_verified: true,
      email_verified: false,
      phone_verified: true,
    });
    const claims = tokenClaims(verified.json().token);
    expect(claims).toMatchObject({
      email_verified: false,
      phone_number_verified: true,
      phone_number: '+14155550131',
    });
    expect(claims).not.toHaveProperty('email');
    const [squatterAccount] = await accountsNamed(squatter.username);
    expect(squatterAccount).toMatchObject({ emailVerifiedAt: null, phone: '+14155550131' });

    // The email's owner gets a code, not "you already have an account", and takes the address.
    const own = await openFlow(stack, owner);
    const ownVerified = await verifyFlow(owner.email, own, own.code);
    expect(ownVerified.statusCode).toBe(200);
    expect(ownVerified.json().user).toMatchObject({
      email: owner.email,
      email_verified: true,
      phone_verified: false,
    });
    expect(tokenClaims(ownVerified.json().token)).toMatchObject({ email: owner.email, email_verified: true });
    // The unproven claim is released.
    expect((await accountsNamed(squatter.username))[0]?.email).toBeNull();
  });

  it('with WhatsApp, a registered and a new email get the same answer and the same message on the phone', async () => {
    const registered = shopper();
    const { code, verificationId } = await openFlow(stack, registered);
    const done = await post(stack.app, 'verify-otp/', {
      email: registered.email,
      otp: code,
      verification_id: verificationId,
    });
    expect(done.statusCode).toBe(200);

    const onRegistered = await post(
      stack.app,
      'request-otp/',
      shopper({ email: registered.email, otp_method: 'whatsapp', mobile: '+1 415 555 0141' }),
    );
    const onNew = await post(
      stack.app,
      'request-otp/',
      shopper({ otp_method: 'whatsapp', mobile: '+1 415 555 0142' }),
    );
    expect(comparable(onRegistered)).toEqual(comparable(onNew));
    const [toRegistered] = await stack.twilio.waitForMessages(1, { to: 'whatsapp:+14155550141' });
    const [toNew] = await stack.twilio.waitForMessages(1, { to: 'whatsapp:+14155550142' });
    const shape = (body: string | undefined) => body?.replace(/\d{6}/, 'CODE');
    expect(whatsappCode(toRegistered?.body)).toMatch(/^\d{6}$/);
    expect(shape(toRegistered?.body)).toBe(shape(toNew?.body));
  });
  it('with WhatsApp, a phone that already has an account gets a notice, and the same answer as a new phone', async () => {
    const first = shopper({ otp_method: 'whatsapp', mobile: '+1 415 555 0161' });
    const opened = await post(stack.app, 'request-otp/', first);
    const [message] = await stack.twilio.waitForMessages(1, { to: 'whatsapp:+14155550161' });
    const idOf = (answer: typeof opened) => ({ verificationId: answer.json().verification_id as string });
    const code = whatsappCode(message?.body) ?? '';
    expect((await verifyFlow(first.email, idOf(opened), code)).statusCode).toBe(200);
    stack.advanceClock(stack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);

    // Someone else types that number (with their own email); someone types a fresh one.
    const taken = shopper({ otp_method: 'whatsapp', mobile: '+1 415 555 0161' });
    const onTaken = await post(stack.app, 'request-otp/', taken);
    const onNew = await post(
      stack.app,
      'request-otp/',
      shopper({ otp_method: 'whatsapp', mobile: '+1 415 555 0162' }),
    );
    expect(comparable(onTaken)).toEqual(comparable(onNew));
    const toTaken = await stack.twilio.waitForMessages(2, { to: 'whatsapp:+14155550161' });
    const notice = toTaken[1]?.body;
    expect(notice).toMatch(/already have one/);
    expect(notice).not.toMatch(/\d{6}/);
    const [toNew] = await stack.twilio.waitForMessages(1, { to: 'whatsapp:+14155550162' });
    expect(whatsappCode(toNew?.body)).toMatch(/^\d{6}$/);
    // The notice's flow cannot verify: not with the number's last code, nor any other.
    expect((await verifyFlow(taken.email, idOf(onTaken), code)).json().code).toBe('OTP_INVALID');
    expect(await accountsNamed(taken.username)).toHaveLength(0);
  });
});

describe('strangers cannot lock you out or find out', () => {
  it('20 wrong verifies from one IP for an address with no open flow do not stop a later flow from another IP', async () => {
    // Tight limits, as an attacker would meet them: 20 guesses per IP, 5 per mailbox.
    const limited = await stack.anotherApi({
      config: { VERIFY_LIMIT_PER_IP: 20, VERIFY_LIMIT_PER_DESTINATION: 5 },
    });
    try {
      const from = (app: App, remoteAddress: string, path: string, payload: object) =>
        app.inject({ method: 'POST', url: `/api/accounts/${path}`, payload, remoteAddress });
      const body = shopper();
      for (let guess = 0; guess < 20; guess += 1) {
        const refused = await from(limited.app, '203.0.113.60', 'verify-otp/', {
          email: body.email,
          otp: '123456',
        });
        expect(refused.json().code).toBe('OTP_INVALID');
      }
      const requested = await from(limited.app, '203.0.113.61', 'request-otp/', body);
      expect(requested.statusCode).toBe(200);
      const [email] = await stack.google.waitForEmails(1, { to: body.email });
      const verified = await from(limited.app, '203.0.113.61', 'verify-otp/', {
        email: body.email,
        otp: codeIn(email),
        verification_id: requested.json().verification_id,
      });
      expect(verified.statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('a right code gives back the guess it was charged: only wrong codes spend the limits', async () => {
    const limited = await stack.anotherApi({ config: { VERIFY_LIMIT_PER_IP: 2 } });
    try {
      const fromOneIp = (payload: object) =>
        limited.app.inject({
          method: 'POST',
          url: '/api/accounts/verify-otp/',
          payload,
          remoteAddress: '203.0.113.70',
        });
      for (let shopperNumber = 0; shopperNumber < 4; shopperNumber += 1) {
        const body = shopper();
        const flow = await openFlow(stack, body);
        const verified = await fromOneIp({
          email: body.email,
          otp: flow.code,
          verification_id: flow.verificationId,
        });
        expect(verified.statusCode).toBe(200);
      }
      const guess = { email: shopper().email, otp: '123456' };
      expect((await fromOneIp(guess)).json().code).toBe('OTP_INVALID');
      expect((await fromOneIp(guess)).json().code).toBe('OTP_INVALID');
      expect((await fromOneIp(guess)).statusCode).toBe(429);
    } finally {
      await limited.close();
    }
  });

  it("wrong codes from callers without the flow's id do not lock its holder out", async () => {
    const body = shopper();
    const { code, verificationId } = await openFlow(stack, body);
    // A stranger who knows only the address spends every guess the address-only way has.
    for (let guess = 0; guess <= stack.config.OTP_MAX_ATTEMPTS; guess += 1) {
      await post(stack.app, 'verify-otp/', { email: body.email, otp: wrongFor(code) });
    }
    expect((await post(stack.app, 'verify-otp/', { email: body.email, otp: code })).json().code).toBe(
      'OTP_INVALID',
    );
    const own = await post(stack.app, 'verify-otp/', {
      email: body.email,
      otp: code,
      verification_id: verificationId,
    });
    expect(own.statusCode).toBe(200);
  });

  it('a wrong code gets the same answer with and without a pending flow', async () => {
    const pending = shopper();
    const { code } = await openFlow(stack, pending);
    const nobody = shopper();
    const wrong = wrongFor(code);
    // Past the flow's lock (OTP_MAX_ATTEMPTS), and past its lifetime, nothing tells them apart.
    for (let guess = 0; guess <= stack.config.OTP_MAX_ATTEMPTS; guess += 1) {
      const onPending = await post(stack.app, 'verify-otp/', { email: pending.email, otp: wrong });
      const onNobody = await post(stack.app, 'verify-otp/', { email: nobody.email, otp: wrong });
      expect(comparable(onPending)).toEqual(comparable(onNobody));
      expect(onPending.json().code).toBe('OTP_INVALID');
    }
    stack.advanceClock(stack.config.OTP_TTL_SECONDS + 1);
    const expired = await post(stack.app, 'verify-otp/', { email: pending.email, otp: code });
    expect(comparable(expired)).toEqual(
      comparable(await post(stack.app, 'verify-otp/', { email: nobody.email, otp: code })),
    );
  });

  it('resend-otp for a pending email-only flow with otp_method whatsapp answers like one with no flow', async () => {
    const pending = shopper();
    await openFlow(stack, pending);
    const nobody = shopper();
    stack.advanceClock(stack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);
    const resend = (email: string) => post(stack.app, 'resend-otp/', { email, otp_method: 'whatsapp' });
    // The first answer, and the one inside the cooldown that follows, are the same for both.
    for (let round = 0; round < 2; round += 1) {
      const onPending = await resend(pending.email);
      const onNobody = await resend(nobody.email);
      expect(comparable(onPending)).toEqual(comparable(onNobody));
      expect(onPending.statusCode).toBe(round === 0 ? 200 : 429);
      expect(onPending.headers['retry-after']).toBe(onNobody.headers['retry-after']);
    }
    expect(stack.twilio.requests).toBe(0);
  });

  it("a.b+x@gmail.com and ab@googlemail.com share ab@gmail.com's budgets", async () => {
    const local = `ab${Date.now().toString(36)}`;
    const spellings = [
      `${local.slice(0, 1)}.${local.slice(1)}+x@gmail.com`,
      `${local}@googlemail.com`,
      `${local.toUpperCase()}@gmail.com`,
    ];
    const request = (email: string) => post(stack.app, 'request-otp/', shopper({ email }));
    expect((await request(`${local}@gmail.com`)).statusCode).toBe(200);
    // One cooldown for the mailbox, whichever way it is written.
    for (const email of spellings) {
      const tooSoon = await request(email);
      expect(tooSoon.statusCode).toBe(429);
      expect(tooSoon.json().code).toBe('RESEND_TOO_SOON');
    }
    // One send budget too: SEND_LIMIT_PER_DESTINATION in all, across the spellings.
    const statuses: number[] = [];
    for (let send = 1; send <= stack.config.SEND_LIMIT_PER_DESTINATION; send += 1) {
      stack.advanceClock(stack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);
      const answer = await request(spellings[send % spellings.length] ?? '');
      statuses.push(answer.statusCode);
      if (answer.statusCode === 429) expect(answer.json().code).toBe('RATE_LIMITED');
    }
    expect(statuses).toEqual([...Array(stack.config.SEND_LIMIT_PER_DESTINATION - 1).fill(200), 429]);
    // Stored and mailed as typed.
    const flows = await stack.db.db
      .select({ email: registrationFlows.email })
      .from(registrationFlows)
      .where(eq(registrationFlows.emailKey, `${local}@gmail.com`));
    expect(flows.map((flow) => flow.email)).toEqual(expect.arrayContaining([`${local}@googlemail.com`]));
  });
});
