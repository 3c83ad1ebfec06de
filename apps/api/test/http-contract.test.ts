import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, type Stack, shopper, startStack } from './support/stack.js';

let stack: Stack;
let debugStack: Stack;

beforeAll(async () => {
  [stack, debugStack] = await Promise.all([
    startStack(),
    startStack({ env: { OTP_DEBUG_RESPONSE: 'true' } }),
  ]);
});
afterAll(() => Promise.all([stack.close(), debugStack.close()]));

describe('validation errors', () => {
  it('names a missing field', async () => {
    const { password: _password, ...body } = shopper();
    const response = await post(stack.app, 'request-otp/', body);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      success: false,
      code: 'VALIDATION_ERROR',
      message: expect.any(String),
      errors: { password: { code: 'required', params: {}, message: 'is required' } },
    });
  });

  it("gives the first version's `{field: message}` to a client that asks with X-Error-Format: messages", async () => {
    const { password: _password, ...body } = shopper();
    const response = await stack.app.inject({
      method: 'POST',
      url: '/api/accounts/request-otp/',
      headers: { 'x-error-format': 'messages' },
      payload: { ...body, username: 'has spaces' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      success: false,
      code: 'VALIDATION_ERROR',
      message: expect.any(String),
      errors: {
        password: 'is required',
        username: "must be 3 to 30 characters and may only contain letters, digits, '_', '.' and '-'",
      },
    });
  });

  it.each([
    ['email', { email: 'not-an-email' }],
    ['otp_method', { otp_method: 'carrier-pigeon' }],
    ['password', { password: 'short' }],
    ['password', { password: 'x'.repeat(129) }],
    ['username', { username: 'has spaces' }],
    ['first_name', { first_name: '' }],
    ['first_name', { first_name: '<b>Ann</b>' }],
    ['last_name', { last_name: 'Lee\u0000' }],
    ['last_name', { last_name: ' ' }],
    ['password', { password: 12345678 }],
    ['nickname', { nickname: 'extra' }],
  ])('names %s when it is wrong', async (field, override) => {
    const response = await post(stack.app, 'request-otp/', shopper(override));
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('VALIDATION_ERROR');
    expect(Object.keys(response.json().errors)).toContain(field);
  });

  it('accepts names in any script, with marks, apostrophes and hyphens', async () => {
    for (const [first_name, last_name] of [
      ['José', "O'Brien"],
      ['Anne-Marie', 'Nguyễn'],
      ['李', '小龙'],
    ]) {
      const response = await post(stack.app, 'request-otp/', shopper({ first_name, last_name }));
      expect(response.statusCode, response.body).toBe(200);
    }
  });

  it('names the code when it is not digits', async () => {
    const response = await post(stack.app, 'verify-otp/', { email: 'a@example.com', otp: '12ab56' });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toHaveProperty('otp');
  });

  it('answers bad JSON, a wrong content type and an empty body with a 4xx in the error shape', async () => {
    const badJson = await stack.app.inject({
      method: 'POST',
      url: '/api/accounts/request-otp/',
      headers: { 'content-type': 'application/json' },
      payload: '{"email":',
    });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json()).toMatchObject({ success: false, code: 'VALIDATION_ERROR' });

    const text = await stack.app.inject({
      method: 'POST',
      url: '/api/accounts/request-otp/',
      headers: { 'content-type': 'text/plain' },
      payload: 'email=a@example.com',
    });
    expect(text.statusCode).toBe(415);
    expect(text.json()).toMatchObject({ success: false, code: 'UNSUPPORTED_MEDIA_TYPE' });

    const empty = await stack.app.inject({ method: 'POST', url: '/api/accounts/verify-otp/' });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().success).toBe(false);
  });

  it('answers an unknown route with 404 in the error shape', async () => {
    const response = await stack.app.inject({ method: 'GET', url: '/api/nothing-here' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ success: false, code: 'NOT_FOUND' });
  });
});

describe('usernames', () => {
  it('answers 409 USERNAME_TAKEN for a username an account has, whatever its case', async () => {
    const first = shopper();
    const issued = await post(debugStack.app, 'request-otp/', first);
    const code = issued.json().debug_otp as string;
    expect((await post(debugStack.app, 'verify-otp/', { email: first.email, otp: code })).statusCode).toBe(
      200,
    );

    const second = shopper({ username: first.username.toUpperCase() });
    const taken = await post(debugStack.app, 'request-otp/', second);
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toMatchObject({
      success: false,
      code: 'USERNAME_TAKEN',
      errors: { username: { code: 'taken', params: {}, message: expect.any(String) } },
    });
  });
});

describe('debug_otp', () => {
  it('is absent by default', async () => {
    const response = await post(stack.app, 'request-otp/', shopper());
    expect(response.json()).not.toHaveProperty('debug_otp');
  });

  it('carries the code when OTP_DEBUG_RESPONSE=true outside production', async () => {
    const body = shopper();
    const response = await post(debugStack.app, 'request-otp/', body);
    expect(response.json().debug_otp).toMatch(/^\d{6}$/);
    const verified = await post(debugStack.app, 'verify-otp/', {
      email: body.email,
      otp: response.json().debug_otp,
    });
    expect(verified.statusCode).toBe(200);
  });
});

describe('tokens', () => {
  it('answers /me without, with a tampered, or with a foreign token with 401 in the error shape', async () => {
    const none = await stack.app.inject({ method: 'GET', url: '/api/accounts/me' });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ success: false, code: 'UNAUTHORIZED' });

    const body = shopper();
    const issued = await post(debugStack.app, 'request-otp/', body);
    const verified = await post(debugStack.app, 'verify-otp/', {
      email: body.email,
      otp: issued.json().debug_otp,
    });
    const token = verified.json().token as string;
    const [header, payload, signature] = token.split('.');
    const tampered = [header, payload, `${signature?.slice(0, -2)}xx`].join('.');
    const bad = await debugStack.app.inject({
      method: 'GET',
      url: '/api/accounts/me/',
      headers: { authorization: `Bearer ${tampered}` },
    });
    expect(bad.statusCode).toBe(401);
    expect(bad.json()).toMatchObject({ success: false, code: 'UNAUTHORIZED' });

    // Signed by another deployment's secret.
    const foreign = await stack.app.inject({
      method: 'GET',
      url: '/api/accounts/me',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(foreign.statusCode).toBe(401);

    // Parts that are not base64url: a decoding failure is the client's token, never a 500.
    const undecodable = await stack.app.inject({
      method: 'GET',
      url: '/api/accounts/me',
      headers: { authorization: 'Bearer ..!' },
    });
    expect(undecodable.statusCode).toBe(401);
    expect(undecodable.json()).toMatchObject({ success: false, code: 'UNAUTHORIZED' });
  });
});

describe('health', () => {
  it('is live and ready when Postgres and Redis answer and a worker consumes', async () => {
    expect((await stack.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    await stack.startWorker().worker.waitUntilReady();
    const ready = await stack.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ok', checks: { postgres: 'ok', redis: 'ok', worker: 'ok' } });
  });
});
