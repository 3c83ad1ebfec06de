import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIELD_ERROR_CODES } from '../src/registration/field-errors.js';
import { committedDocument, type OpenApiDocument, operations } from './support/openapi.js';
import { post, type Stack, shopper, startStack } from './support/stack.js';

/**
 * Validation messages are written for people: each field of each body, given values that break
 * each of its rules, is named with a message that shows no regular expression or schema keyword.
 */

let stack: Stack;
let document: OpenApiDocument;
beforeAll(async () => {
  [stack, document] = await Promise.all([startStack(), committedDocument()]);
});
afterAll(() => stack.close());

const BAD_VALUES: readonly unknown[] = [
  12345,
  null,
  true,
  [],
  {},
  '',
  'x',
  'has spaces and <b>marks</b> !',
  '+',
  '0000',
  'é'.repeat(300),
];

// What regular expressions and ajv's defaults look like: anchors, classes, escapes, quantifiers.
const MACHINE_TALK = /[\^$\\[\]{}]|\bpattern\b|must match|must NOT|must be equal to|\banyOf\b|\bformat "/;

interface FieldErrorBody {
  code: string;
  params: Record<string, unknown>;
  message: string;
}

function expectForPeople(field: string, errors: Record<string, FieldErrorBody>) {
  for (const [name, { code, params, message }] of Object.entries(errors)) {
    expect(message, `${field} → ${name}: ${message}`).not.toMatch(MACHINE_TALK);
    expect(message.length, `${field} → ${name}`).toBeGreaterThan(5);
    // The code and its parameters are for machines, from the closed list; no expression either.
    expect(FIELD_ERROR_CODES, `${field} → ${name}`).toContain(code);
    for (const value of Object.values(params).flat()) {
      expect(String(value), `${field} → ${name}`).not.toMatch(MACHINE_TALK);
    }
  }
}

describe('validation messages', () => {
  it('never show a regular expression, for any field of any body', async () => {
    const bodies = {
      requestOtp: () => shopper({ otp_method: 'whatsapp', mobile: '+44 7400 123456' }),
      verifyOtp: () => ({
        email: 'ann@example.com',
        otp: '123456',
        verification_id: 'vf_aaaaaaaaaaaaaaaaaaaaaaaa',
      }),
      resendOtp: () => ({
        email: 'ann@example.com',
        otp_method: 'email',
        verification_id: 'vf_aaaaaaaaaaaaaaaaaaaaaaaa',
      }),
    };
    let checked = 0;
    for (const { operation, paths } of operations(document)) {
      const schema = operation.requestBody?.content['application/json']?.schema as
        | { properties?: Record<string, unknown> }
        | undefined;
      if (!schema?.properties) continue;
      const valid = bodies[operation.operationId as keyof typeof bodies];
      expect(valid, operation.operationId).toBeDefined();
      for (const field of Object.keys(schema.properties)) {
        for (const value of BAD_VALUES) {
          const answer = await stack.app.inject({
            method: 'POST',
            url: paths[0] ?? '',
            payload: { ...valid(), [field]: value },
          });
          if (answer.statusCode !== 400) continue;
          const { errors = {} } = answer.json() as { errors?: Record<string, FieldErrorBody> };
          expectForPeople(field, errors);
          checked += 1;
        }
      }
    }
    // Most bad values are refused: the loop above did check messages.
    expect(checked).toBeGreaterThan(60);
  });

  it('say what a field needs, in words', async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ username: 'has spaces' }, 'username', /may only contain letters, digits, '_', '\.' and '-'/],
      [{ email: 'not-an-email' }, 'email', /must be an email address/],
      [{ otp_method: 'whatsapp', mobile: '12' }, 'mobile', /must be a mobile number in international format/],
      [{ otp_method: 'carrier-pigeon' }, 'otp_method', /must be 'email', 'whatsapp' or 'sms'/],
      [{ password: 'short' }, 'password', /must be 8 to 128 characters/],
      [{ first_name: '<b>' }, 'first_name', /letters/],
    ];
    for (const [override, field, message] of cases) {
      const answer = await post(stack.app, 'request-otp/', shopper(override));
      expect(answer.statusCode).toBe(400);
      expect(answer.json().errors[field].message, field).toMatch(message);
    }
    const badCode = await post(stack.app, 'verify-otp/', { email: 'ann@example.com', otp: '12ab' });
    expect(badCode.json().errors.otp.message).toMatch(/4 to 10 digits/);
    const badId = await stack.app.inject({ method: 'GET', url: '/api/accounts/verifications/not*an*id' });
    expect(badId.statusCode).toBe(400);
    expect(badId.json().errors.verification_id.message).toMatch(/verification_id that request-otp returned/);
    const notAnObject = await stack.app.inject({
      method: 'POST',
      url: '/api/accounts/verify-otp/',
      headers: { 'content-type': 'application/json' },
      payload: '[]',
    });
    expect(notAnObject.json().errors).toEqual({
      body: { code: 'invalid_type', params: { expected: 'object' }, message: 'must be a JSON object' },
    });
  });
});
