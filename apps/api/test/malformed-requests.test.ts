import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, shopper, startStack } from './support/stack.js';

/**
 * Thousands of generated malformed requests to every endpoint: every answer is a 4xx in the error
 * shape, never a 5xx. Each case is broken by construction (a field missing, of the wrong type,
 * too long, not allowed, or a body that is not a JSON object at all).
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

const valid = {
  'request-otp/': () => shopper({ otp_method: 'whatsapp', mobile: '+14155552671' }),
  'verify-otp/': () => ({ email: 'ann@example.com', otp: '123456' }),
  'resend-otp/': () => ({ email: 'ann@example.com', otp_method: 'email' }),
} satisfies Record<string, () => Record<string, unknown>>;
type Endpoint = keyof typeof valid;

const notAString = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
);
const pollutingKeys = fc.constantFrom('__proto__', 'constructor', 'prototype', 'isAdmin', 'success', 'ó', '');

/** A body that fails validation: one field removed, retyped, stretched, malformed, or an extra key. */
const brokenBody = (endpoint: Endpoint) => {
  const base = valid[endpoint]();
  const fields = Object.keys(base);
  const field = fc.constantFrom(...fields);
  return fc.oneof(
    field.map((name) => Object.fromEntries(Object.entries(base).filter(([key]) => key !== name))),
    fc.tuple(field, notAString).map(([name, value]) => ({ ...base, [name]: value })),
    fc
      .tuple(field, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }))
      .map(([name, unit]) => ({ ...base, [name]: unit.repeat(Math.ceil(300 / unit.length)) })),
    fc
      .string({ unit: 'grapheme', maxLength: 40 })
      .map((junk) => ({ ...base, email: junk.replaceAll('@', '') })),
    fc
      .tuple(pollutingKeys, fc.jsonValue())
      .filter(([key]) => !fields.includes(key))
      .map(([key, value]) =>
        JSON.parse(`{${JSON.stringify(key)}:${JSON.stringify(value)},${JSON.stringify(base).slice(1)}`),
      ),
    fc
      .oneof(fc.jsonValue(), fc.anything())
      .filter((value) => typeof value !== 'object' || value === null || Array.isArray(value)),
  );
};

/** Raw requests: bad JSON, huge bodies, wrong content types. */
const brokenRaw = fc.oneof(
  fc.record({
    contentType: fc.constant('application/json'),
    payload: fc.string({ unit: 'binary', maxLength: 200 }),
  }),
  fc.record({
    contentType: fc.constant('application/json'),
    payload: fc.nat({ max: 5 }).map((extra) => `{"email":"${'a'.repeat(17_000 + extra)}@example.com"}`),
  }),
  fc.record({
    contentType: fc.constantFrom(
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/xml',
      'multipart/form-data; boundary=x',
    ),
    payload: fc.string({ maxLength: 100 }),
  }),
  fc.record({
    contentType: fc.constant('application/json'),
    payload: fc.constantFrom(
      '{"__proto__":{"admin":true}}',
      '{"constructor":{"prototype":{"x":1}}}',
      '',
      'null',
      '[]',
      '{"email":',
    ),
  }),
);

async function expectClientError(response: { statusCode: number; body: string }) {
  expect(response.statusCode, response.body).toBeGreaterThanOrEqual(400);
  expect(response.statusCode, response.body).toBeLessThan(500);
  const body = JSON.parse(response.body) as Record<string, unknown>;
  expect(body).toMatchObject({ success: false, code: expect.any(String), message: expect.any(String) });
}

describe('malformed requests', () => {
  for (const endpoint of Object.keys(valid) as Endpoint[]) {
    it(`${endpoint}: broken bodies get a 4xx in the error shape`, async () => {
      await fc.assert(
        fc.asyncProperty(brokenBody(endpoint), async (payload) => {
          await expectClientError(
            await stack.app.inject({
              method: 'POST',
              url: `/api/accounts/${endpoint}`,
              headers: { 'content-type': 'application/json' },
              payload: JSON.stringify(payload),
            }),
          );
        }),
        { numRuns: 700 },
      );
    });

    it(`${endpoint}: raw garbage gets a 4xx in the error shape`, async () => {
      await fc.assert(
        fc.asyncProperty(brokenRaw, async ({ contentType, payload }) => {
          await expectClientError(
            await stack.app.inject({
              method: 'POST',
              url: `/api/accounts/${endpoint}`,
              headers: { 'content-type': contentType },
              payload,
            }),
          );
        }),
        { numRuns: 300 },
      );
    });
  }

  it('me: garbage authorization headers get a 401 in the error shape', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary-ascii', maxLength: 300 }), async (garbage) => {
        const header = `Bearer ${garbage.replace(/[^\x20-\x7e]/g, '')}`;
        await expectClientError(
          await stack.app.inject({
            method: 'GET',
            url: '/api/accounts/me',
            headers: { authorization: header },
          }),
        );
      }),
      { numRuns: 300 },
    );
  });
});
