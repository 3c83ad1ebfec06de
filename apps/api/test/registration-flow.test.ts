import { deliveries, registrationFlows, users } from '@otp-relay/db';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  codeIn,
  EMAIL_FROM,
  openFlow,
  post,
  requestCode,
  type Stack,
  shopper,
  startStack,
} from './support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
  stack.startWorker();
});
afterAll(() => stack.close());

describe('registration by email code', () => {
  it('sends one email with the code and verifies it into an account and a token', async () => {
    const body = shopper();
    const response = await post(stack.app, 'request-otp/', body);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      success: true,
      message: expect.any(String),
      verification_id: expect.stringMatching(/^vf_[A-Za-z0-9_-]{24}$/),
      expires_in: 600,
      resend_after: 60,
      locale: 'en',
    });
    const verificationId = response.json().verification_id;

    const [email] = await stack.google.waitForEmails(1, { to: body.email });
    expect(email).toBeDefined();
    if (!email) return;
    expect(email.fromHeader).toContain('no-reply@shop.test');
    expect(email.from).toBe('no-reply@shop.test');
    expect(EMAIL_FROM).toContain(email.from);
    const code = codeIn(email);
    expect(code).toMatch(/^\d{6}$/);
    expect(email.html).toContain(code);
    expect(email.text).toMatch(/10 minutes/);
    expect(email.html).toMatch(/10 minutes/);
    expect(email.text).toMatch(/didn't try to create an account/);
    expect(email.text).not.toContain(body.username);

    const verified = await post(stack.app, 'verify-otp/', {
      email: body.email,
      otp: code,
      verification_id: verificationId,
    });
    expect(verified.statusCode).toBe(200);
    const verifiedBody = verified.json();
    expect(verifiedBody).toMatchObject({
      success: true,
      message: 'Registration successful',
      user: {
        email: body.email,
        username: body.username,
        first_name: 'Ann',
        last_name: 'Lee',
        is_verified: true,
        email_verified: true,
        phone_verified: false,
        mobile: null,
      },
    });

    const me = await stack.app.inject({
      method: 'GET',
      url: '/api/accounts/me',
      headers: { authorization: `Bearer ${verifiedBody.token}` },
    });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({ success: true, user: verifiedBody.user });

    const selectDelivery = () =>
      stack.db.db
        .select()
        .from(deliveries)
        .innerJoin(registrationFlows, eq(deliveries.flowId, registrationFlows.id))
        .where(eq(registrationFlows.email, body.email));
    // The row is recorded just after Gmail accepts; wait for the job to finish.
    await stack.settled((await selectDelivery())[0]?.deliveries.id ?? '');
    const [delivery] = await selectDelivery();
    expect(delivery?.deliveries).toMatchObject({
      status: 'sent',
      provider: 'gmail',
      providerMessageId: email.id,
      attempts: 1,
      lastError: null,
    });
  });

  it('answers on paths with and without the trailing slash, and matches the email in any case', async () => {
    const body = shopper();
    const response = await post(stack.app, 'request-otp', { ...body, email: body.email.toUpperCase() });
    expect(response.statusCode).toBe(200);
    const [email] = await stack.google.waitForEmails(1, { to: body.email });
    if (!email) throw new Error('no email');
    const verified = await post(stack.app, 'verify-otp', { email: body.email, otp: codeIn(email) });
    expect(verified.statusCode).toBe(200);
    // Stored and shown as typed.
    expect(verified.json().user.email).toBe(body.email.toUpperCase());
  });

  it('accepts a code once only', async () => {
    const body = shopper();
    const code = await requestCode(stack, body);
    expect((await post(stack.app, 'verify-otp/', { email: body.email, otp: code })).statusCode).toBe(200);
    const again = await post(stack.app, 'verify-otp/', { email: body.email, otp: code });
    expect(again.statusCode).toBe(400);
    expect(again.json()).toMatchObject({ success: false, code: 'OTP_INVALID' });
  });

  it('refuses a wrong code and still accepts the right one afterwards', async () => {
    const body = shopper();
    const code = await requestCode(stack, body);
    const wrong = code === '000000' ? '000001' : '000000';
    const refused = await post(stack.app, 'verify-otp/', { email: body.email, otp: wrong });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({
      success: false,
      code: 'OTP_INVALID',
      message: expect.any(String),
    });
    expect((await post(stack.app, 'verify-otp/', { email: body.email, otp: code })).statusCode).toBe(200);
  });

  it('after the maximum of wrong codes the flow is locked: the right code fails and no new code is sent', async () => {
    const body = shopper();
    const { code, verificationId } = await openFlow(stack, body);
    const ours = { email: body.email, verification_id: verificationId };
    const wrong = code === '000000' ? '000001' : '000000';
    for (let attempt = 0; attempt < stack.config.OTP_MAX_ATTEMPTS; attempt += 1) {
      const refused = await post(stack.app, 'verify-otp/', { ...ours, otp: wrong });
      expect(refused.json().code).toBe('OTP_INVALID');
    }
    const locked = await post(stack.app, 'verify-otp/', { ...ours, otp: code });
    expect(locked.statusCode).toBe(400);
    expect(locked.json().code).toBe('OTP_ATTEMPTS_EXCEEDED');

    // A resend does not buy new guesses: the count belongs to the flow, across its codes.
    stack.advanceClock(stack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);
    const resent = await post(stack.app, 'resend-otp/', { ...ours, otp_method: 'email' });
    expect(resent.statusCode).toBe(400);
    expect(resent.json().code).toBe('OTP_ATTEMPTS_EXCEEDED');
    const [flow] = await stack.db.db
      .select()
      .from(registrationFlows)
      .where(eq(registrationFlows.verificationId, verificationId));
    expect(flow).toMatchObject({ codeSequence: 1, failedAttempts: stack.config.OTP_MAX_ATTEMPTS });
  });

  it('keeps wrong codes across a resend of the flow', async () => {
    const body = shopper();
    const { code, verificationId } = await openFlow(stack, body);
    const ours = { email: body.email, verification_id: verificationId };
    const wrong = code === '000000' ? '000001' : '000000';
    for (let attempt = 1; attempt < stack.config.OTP_MAX_ATTEMPTS; attempt += 1) {
      expect((await post(stack.app, 'verify-otp/', { ...ours, otp: wrong })).json().code).toBe('OTP_INVALID');
    }
    stack.advanceClock(stack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);
    expect((await post(stack.app, 'resend-otp/', { ...ours, otp_method: 'email' })).statusCode).toBe(200);
    const emails = await stack.google.waitForEmails(2, { to: body.email });
    const newCode = codeIn(emails[1]);
    // One guess was left, and it is spent now; the new code comes too late.
    const newWrong = newCode === '000000' ? '000001' : '000000';
    expect((await post(stack.app, 'verify-otp/', { ...ours, otp: newWrong })).json().code).toBe(
      'OTP_INVALID',
    );
    expect((await post(stack.app, 'verify-otp/', { ...ours, otp: newCode })).json().code).toBe(
      'OTP_ATTEMPTS_EXCEEDED',
    );
  });

  it('refuses a code after its lifetime: OTP_EXPIRED to the id holder, OTP_INVALID to anyone else', async () => {
    const body = shopper();
    const { code, verificationId } = await openFlow(stack, body);
    stack.advanceClock(stack.config.OTP_TTL_SECONDS + 1);
    const expired = await post(stack.app, 'verify-otp/', {
      email: body.email,
      otp: code,
      verification_id: verificationId,
    });
    expect(expired.statusCode).toBe(400);
    expect(expired.json()).toMatchObject({ success: false, code: 'OTP_EXPIRED' });
    const anonymous = await post(stack.app, 'verify-otp/', { email: body.email, otp: code });
    expect(anonymous.json()).toMatchObject({ success: false, code: 'OTP_INVALID' });
  });

  it('resend sends a new code and kills the old one', async () => {
    const body = shopper();
    const first = await requestCode(stack, body);
    stack.advanceClock(stack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);
    const resent = await post(stack.app, 'resend-otp/', { email: body.email, otp_method: 'email' });
    expect(resent.statusCode).toBe(200);
    expect(resent.json()).toEqual({
      success: true,
      message: expect.any(String),
      expires_in: 600,
      resend_after: 60,
    });
    const emails = await stack.google.waitForEmails(2, { to: body.email });
    const second = codeIn(emails[1]);

    if (first !== second) {
      const old = await post(stack.app, 'verify-otp/', { email: body.email, otp: first });
      expect(old.json().code).toBe('OTP_INVALID');
    }
    expect((await post(stack.app, 'verify-otp/', { email: body.email, otp: second })).statusCode).toBe(200);
  });

  it('answers a resend inside the cooldown with 429 and Retry-After', async () => {
    const body = shopper();
    await requestCode(stack, body);
    stack.advanceClock(10);
    const early = await post(stack.app, 'resend-otp/', { email: body.email, otp_method: 'email' });
    expect(early.statusCode).toBe(429);
    expect(early.json()).toMatchObject({ success: false, code: 'RESEND_TOO_SOON' });
    const retryAfter = Number(early.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(stack.config.OTP_RESEND_COOLDOWN_SECONDS - 10 + 1);
  });

  it('gives exactly one success to 20 concurrent verifies of the right code', async () => {
    const body = shopper();
    const code = await requestCode(stack, body);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => post(stack.app, 'verify-otp/', { email: body.email, otp: code })),
    );
    const statuses = answers.map((answer) => answer.statusCode);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 400)).toHaveLength(19);
    const accounts = await stack.db.db.select().from(users).where(eq(users.email, body.email));
    expect(accounts).toHaveLength(1);
  });

  it('counts every one of many concurrent wrong codes, and then refuses the right one', async () => {
    const body = shopper();
    const { code, verificationId } = await openFlow(stack, body);
    const wrong = code === '000000' ? '000001' : '000000';
    const guesses = stack.config.OTP_MAX_ATTEMPTS + 3;
    const answers = await Promise.all(
      Array.from({ length: guesses }, () =>
        post(stack.app, 'verify-otp/', { email: body.email, otp: wrong, verification_id: verificationId }),
      ),
    );
    const codes = answers.map((answer) => answer.json().code);
    expect(codes.filter((answer) => answer === 'OTP_INVALID')).toHaveLength(stack.config.OTP_MAX_ATTEMPTS);
    expect(codes.filter((answer) => answer === 'OTP_ATTEMPTS_EXCEEDED')).toHaveLength(3);
    const [flow] = await stack.db.db
      .select()
      .from(registrationFlows)
      .where(eq(registrationFlows.email, body.email));
    expect(flow?.failedAttempts).toBe(stack.config.OTP_MAX_ATTEMPTS);
    const late = await post(stack.app, 'verify-otp/', {
      email: body.email,
      otp: code,
      verification_id: verificationId,
    });
    expect(late.json().code).toBe('OTP_ATTEMPTS_EXCEEDED');
  });

  it('refuses a right code whose username was taken since, and leaves the code usable', async () => {
    const first = shopper();
    const second = shopper({ username: first.username.toUpperCase() });
    const firstCode = await requestCode(stack, first);
    const secondCode = await requestCode(stack, second);
    expect((await post(stack.app, 'verify-otp/', { email: first.email, otp: firstCode })).statusCode).toBe(
      200,
    );

    const taken = await post(stack.app, 'verify-otp/', { email: second.email, otp: secondCode });
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toMatchObject({
      success: false,
      code: 'USERNAME_TAKEN',
      errors: { username: { code: 'taken', params: {}, message: expect.any(String) } },
    });
    const [flow] = await stack.db.db
      .select()
      .from(registrationFlows)
      .where(eq(registrationFlows.email, second.email));
    // The statement rolled back whole: the flow is neither verified nor charged a wrong guess.
    expect(flow).toMatchObject({ verifiedAt: null, failedAttempts: 0 });
    expect(await stack.db.db.select().from(users).where(eq(users.email, second.email))).toHaveLength(0);
  });

  it('answers the same for an address that already has an account, and sends it a notice, not a code', async () => {
    const body = shopper();
    const code = await requestCode(stack, body);
    expect((await post(stack.app, 'verify-otp/', { email: body.email, otp: code })).statusCode).toBe(200);

    stack.advanceClock(stack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);
    const fresh = await post(stack.app, 'request-otp/', shopper());
    const again = await post(stack.app, 'request-otp/', { ...body, username: `${body.username}_2` });
    expect(again.statusCode).toBe(fresh.statusCode);
    expect(Object.keys(again.json()).sort()).toEqual(Object.keys(fresh.json()).sort());
    const masked = (answer: Record<string, unknown>) => ({ ...answer, verification_id: '' });
    expect(masked(again.json())).toEqual(masked(fresh.json()));
    expect(again.json().verification_id).toMatch(/^vf_[A-Za-z0-9_-]{24}$/);

    const emails = await stack.google.waitForEmails(2, { to: body.email });
    const notice = emails[1];
    expect(notice?.subject).toBe('Someone tried to create an account with your email address');
    expect(notice?.text).toMatch(/already have an account/);
    expect(notice?.text).not.toMatch(/\d{6}/);
    // A notice flow: it answers like a real one, and its code was never sent to anyone.
    const flows = await stack.db.db
      .select()
      .from(registrationFlows)
      .where(eq(registrationFlows.email, body.email))
      .orderBy(registrationFlows.createdAt);
    expect(flows.map((flow) => flow.kind)).toEqual(['code', 'notice']);

    // Asking again at once is refused the same way as for a new address.
    const early = await post(stack.app, 'request-otp/', { ...body, username: `${body.username}_3` });
    expect(early.statusCode).toBe(429);
    expect(early.json().code).toBe('RESEND_TOO_SOON');
  });

  it('keeps neither the code nor the password in plaintext in any table', async () => {
    const body = shopper({ password: 'plaintext-detector-Xq93' });
    const code = await requestCode(stack, body);
    const dump = async () => {
      const tables = await stack.db.db.execute<{ tablename: string }>(
        sql`SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`,
      );
      let text = '';
      for (const { tablename } of tables) {
        const rows = await stack.db.db.execute(sql`SELECT * FROM ${sql.identifier(tablename)}`);
        text += JSON.stringify(rows);
      }
      return text;
    };
    const before = await dump();
    expect(before).toContain(body.email);
    expect(before).not.toContain(body.password);
    expect(before).not.toMatch(new RegExp(`(?<!\\d)${code}(?!\\d)`));

    expect((await post(stack.app, 'verify-otp/', { email: body.email, otp: code })).statusCode).toBe(200);
    const after = await dump();
    expect(after).not.toContain(body.password);
    expect(after).not.toMatch(new RegExp(`(?<!\\d)${code}(?!\\d)`));
  });
});

describe('the worker', () => {
  it('skips a delivery whose code was superseded before it went out', async () => {
    await stack.stopWorker();
    const body = shopper();
    await post(stack.app, 'request-otp/', body);
    stack.advanceClock(stack.config.OTP_RESEND_COOLDOWN_SECONDS + 1);
    await post(stack.app, 'resend-otp/', { email: body.email, otp_method: 'email' });

    stack.startWorker();
    const ids = await stack.db.db
      .select({ id: deliveries.id })
      .from(deliveries)
      .innerJoin(registrationFlows, eq(deliveries.flowId, registrationFlows.id))
      .where(eq(registrationFlows.email, body.email));
    await Promise.all(ids.map(({ id }) => stack.settled(id)));
    const [first, second] = await stack.db.db
      .select({ status: deliveries.status, lastError: deliveries.lastError })
      .from(deliveries)
      .innerJoin(registrationFlows, eq(deliveries.flowId, registrationFlows.id))
      .where(eq(registrationFlows.email, body.email))
      .orderBy(deliveries.createdAt);
    expect(first).toEqual({ status: 'skipped', lastError: 'code superseded by a newer one' });
    expect(second?.status).toBe('sent');
    expect(stack.google.sent.filter((sent) => sent.to.includes(body.email))).toHaveLength(1);
  });
});
