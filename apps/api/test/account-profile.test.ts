import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFlow, post, type Stack, shopper, startStack } from './support/stack.js';

/** The profile that fits more shops: a username only when the shop wants one, and a small metadata object. */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { USERNAME_REQUIRED: 'false' } });
  stack.startWorker();
});
afterAll(() => stack?.close());

/** request-otp, then verify with the emailed code: the verify answer. */
async function registerWith(body: Record<string, unknown>) {
  const { code, verificationId } = await openFlow(stack, body as ReturnType<typeof shopper>);
  return post(stack.app, 'verify-otp/', { email: body.email, otp: code, verification_id: verificationId });
}

const withoutUsername = () => {
  const { username: _left, ...body } = shopper();
  return body;
};

describe('USERNAME_REQUIRED=false', () => {
  it('registers accounts without a username (null), as many as there are', async () => {
    const first = await registerWith(withoutUsername());
    const second = await registerWith(withoutUsername());
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    expect(first.json().user.username).toBeNull();
    expect(second.json().user.username).toBeNull();
    const me = await stack.app.inject({
      method: 'GET',
      url: '/api/accounts/me',
      headers: { authorization: `Bearer ${first.json().token}` },
    });
    expect(me.json().user).toMatchObject({ username: null, metadata: {} });
  });

  it('still keeps a given username unique, whatever its case', async () => {
    const body = shopper();
    expect((await registerWith(body)).statusCode).toBe(200);
    const again = await post(stack.app, 'request-otp/', shopper({ username: body.username.toUpperCase() }));
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('USERNAME_TAKEN');
  });
});

describe('USERNAME_REQUIRED=true (the default)', () => {
  it('refuses request-otp without a username with a 400 naming it', async () => {
    const strict = await stack.anotherApi({ config: { USERNAME_REQUIRED: true } });
    try {
      const response = await post(strict.app, 'request-otp/', withoutUsername());
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({
        code: 'VALIDATION_ERROR',
        errors: { username: { code: 'required', params: {}, message: 'is required' } },
      });
      expect((await post(strict.app, 'request-otp/', shopper())).statusCode).toBe(200);
    } finally {
      await strict.close();
    }
  });
});

describe('metadata', () => {
  it('is kept from request-otp to the account, and shown in its user object', async () => {
    const metadata = {
      customer_ref: 'C-1042',
      'utm.source': 'spring-sale',
      tier: 2,
      newsletter: false,
      note: null,
    };
    const verified = await registerWith(shopper({ metadata }));
    expect(verified.statusCode).toBe(200);
    expect(verified.json().user.metadata).toEqual(metadata);
    const me = await stack.app.inject({
      method: 'GET',
      url: '/api/accounts/me',
      headers: { authorization: `Bearer ${verified.json().token}` },
    });
    expect(me.json().user.metadata).toEqual(metadata);
  });

  const sixteenKeys = Object.fromEntries(Array.from({ length: 16 }, (_, index) => [`key_${index}`, 'x']));
  const refused: [string, unknown][] = [
    ['17 keys', { ...sixteenKeys, one_more: 'x' }],
    ['a key of 41 characters', { ['k'.repeat(41)]: 'x' }],
    ['a key with a space', { 'customer ref': 'x' }],
    ['an empty key', { '': 'x' }],
    ['a string of 501 characters', { note: 'x'.repeat(501) }],
    ['a nested object', { address: { city: 'Leeds' } }],
    ['an array value', { tags: ['a'] }],
    ['an array', ['a']],
    ['a string', 'customer'],
    ['null', null],
    [
      'more than 2 KB as JSON',
      Object.fromEntries(Array.from({ length: 5 }, (_, index) => [`k${index}`, 'x'.repeat(450)])),
    ],
  ];
  it.each(refused)('refuses %s with a 400 naming metadata', async (_what, metadata) => {
    const response = await post(stack.app, 'request-otp/', shopper({ metadata }));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      code: 'VALIDATION_ERROR',
      errors: { metadata: { code: expect.any(String), message: expect.any(String) } },
    });
  });

  it('takes the largest object the limits allow', async () => {
    // 16 keys of 40 characters, values filling up to just under 2 KB of JSON.
    const metadata = Object.fromEntries(
      Array.from({ length: 16 }, (_, index) => [
        `${String(index).padStart(2, '0')}${'k'.repeat(38)}`,
        'v'.repeat(76),
      ]),
    );
    expect(Buffer.byteLength(JSON.stringify(metadata))).toBeLessThanOrEqual(2048);
    expect((await post(stack.app, 'request-otp/', shopper({ metadata }))).statusCode).toBe(200);
  });
});
