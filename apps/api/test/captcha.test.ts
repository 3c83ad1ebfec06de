import { PassThrough } from 'node:stream';
import { ConfigError, createLogger } from '@otp-relay/core';
import { deliveries, registrationFlows, sendCooldowns } from '@otp-relay/db';
import { type CaptchaFailure, type FakeCaptcha, startFakeCaptcha } from '@otp-relay/testkit';
import { count } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHumanCheck, type HumanCheckConfig } from '../src/registration/human-check.js';
import { RegistrationError } from '../src/registration/registration-errors.js';
import { post, type Stack, shopper, startStack } from './support/stack.js';

/**
 * The human check on request-otp and resend-otp, against the fake siteverify: refused requests
 * cost no password hash and write nothing, the provider sees the shopper's IP, and the check
 * fails closed when the provider cannot answer.
 */

// Every password hash the app asks for, counted where it is made: "refused before any hash" is
// then a count that stays put, whatever serves the metrics.
const hashes = vi.hoisted(() => ({ count: 0 }));
vi.mock('../src/registration/password-hashing.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/registration/password-hashing.js')>();
  return {
    ...original,
    createPasswordHasher(...args: Parameters<typeof original.createPasswordHasher>) {
      const hasher = original.createPasswordHasher(...args);
      return {
        hash(password: string) {
          hashes.count += 1;
          return hasher.hash(password);
        },
        get waiting() {
          return hasher.waiting;
        },
        close: () => hasher.close(),
      };
    },
  };
});

const SECRET = 'captcha-secret-for-tests';
const SITE_KEY = 'captcha-site-key-for-tests';

const logs = new PassThrough();
let logText = '';
logs.on('data', (chunk: Buffer) => {
  logText += chunk.toString();
});

let fake: FakeCaptcha;
let stack: Stack;

beforeAll(async () => {
  fake = await startFakeCaptcha({ secret: SECRET, siteKey: SITE_KEY });
  stack = await startStack({
    logStream: logs,
    env: {
      CAPTCHA_PROVIDER: 'turnstile',
      CAPTCHA_SECRET_KEY: SECRET,
      CAPTCHA_VERIFY_URL: fake.turnstileVerifyUrl,
      OTP_RESEND_COOLDOWN_SECONDS: '0',
      OTP_DEBUG_RESPONSE: 'true',
    },
  });
});
afterAll(async () => {
  await stack?.close();
  await fake?.close();
});
beforeEach(() => {
  fake.reset();
});

/** What a request could have written or spent: rows in each table, and password hashes. */
async function footprint() {
  const { db } = stack.db;
  const [[flows], [outbox], [cooldowns]] = await Promise.all([
    db.select({ n: count() }).from(registrationFlows),
    db.select({ n: count() }).from(deliveries),
    db.select({ n: count() }).from(sendCooldowns),
  ]);
  return { flows: flows?.n, deliveries: outbox?.n, cooldowns: cooldowns?.n, hashes: hashes.count };
}

/** Runs `request` and checks it wrote nothing and hashed nothing. */
async function leavesNoTrace<T>(request: () => Promise<T>): Promise<T> {
  const before = await footprint();
  const result = await request();
  expect(await footprint()).toEqual(before);
  return result;
}

function expectRefusal(
  response: { statusCode: number; json(): unknown; headers: Record<string, unknown> },
  status: number,
  code: string,
) {
  expect(response.statusCode).toBe(status);
  expect(response.json()).toMatchObject({ success: false, code });
}

describe('request-otp with CAPTCHA_PROVIDER=turnstile', () => {
  it('refuses a request without an answer with CAPTCHA_REQUIRED, before asking the provider or hashing', async () => {
    const response = await leavesNoTrace(() => post(stack.app, 'request-otp/', shopper()));
    expectRefusal(response, 400, 'CAPTCHA_REQUIRED');
    expect(response.json().errors).toEqual({
      captcha_token: { code: 'required', params: {}, message: expect.any(String) },
    });
    expect(fake.calls).toHaveLength(0);
  });

  it('refuses an answer the provider does not know with CAPTCHA_INVALID, before any hash or write', async () => {
    const response = await leavesNoTrace(() =>
      post(stack.app, 'request-otp/', shopper({ captcha_token: 'made-up-answer' })),
    );
    expectRefusal(response, 400, 'CAPTCHA_INVALID');
    expect(response.json().errors).toEqual({
      captcha_token: { code: 'rejected', params: {}, message: expect.any(String) },
    });
    expect(fake.calls).toMatchObject([{ provider: 'turnstile', errorCodes: ['invalid-input-response'] }]);
  });

  it('sends the code for a valid answer; the provider saw the secret, the answer and the shopper IP', async () => {
    const answer = fake.issueAnswer();
    const hashesBefore = hashes.count;
    const response = await stack.app.inject({
      method: 'POST',
      url: '/api/accounts/request-otp/',
      payload: shopper({ captcha_token: answer }),
      remoteAddress: '198.51.100.23',
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ success: true, verification_id: expect.any(String) });
    expect(hashes.count).toBe(hashesBefore + 1);
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]).toMatchObject({
      encoding: 'form',
      secret: SECRET,
      response: answer,
      remoteip: '198.51.100.23',
      success: true,
    });
    // Turnstile is not told a site key: only hCaptcha takes one.
    expect(fake.calls[0]?.fields).not.toHaveProperty('sitekey');
  });

  it('refuses an answer used once already with CAPTCHA_INVALID (answers are single-use)', async () => {
    const answer = fake.issueAnswer();
    expect((await post(stack.app, 'request-otp/', shopper({ captcha_token: answer }))).statusCode).toBe(200);
    const again = await leavesNoTrace(() =>
      post(stack.app, 'request-otp/', shopper({ captcha_token: answer })),
    );
    expectRefusal(again, 400, 'CAPTCHA_INVALID');
    expect(fake.calls.at(-1)?.errorCodes).toEqual(['timeout-or-duplicate']);
  });

  it('a validation error is answered before the provider is asked', async () => {
    const answer = fake.issueAnswer();
    const response = await post(
      stack.app,
      'request-otp/',
      shopper({ captcha_token: answer, password: 'short' }),
    );
    expectRefusal(response, 400, 'VALIDATION_ERROR');
    expect(fake.calls).toHaveLength(0);
  });
});

describe('when the provider cannot answer', () => {
  const failures: [string, CaptchaFailure][] = [
    ['is down (HTTP 503)', { kind: 'status', status: 503 }],
    ['answers HTML instead of JSON', { kind: 'html' }],
    ['drops the connection', { kind: 'reset' }],
    ['reports its own internal error', { kind: 'error-codes', errorCodes: ['internal-error'] }],
  ];
  it.each(failures)(
    'fails closed when it %s: 503 SERVICE_UNAVAILABLE with Retry-After, nothing written',
    async (_, failure) => {
      fake.failVerifies(1, failure);
      const response = await leavesNoTrace(() =>
        post(stack.app, 'request-otp/', shopper({ captcha_token: fake.issueAnswer() })),
      );
      expectRefusal(response, 503, 'SERVICE_UNAVAILABLE');
      expect(response.headers['retry-after']).toBe('5');
      expect(fake.calls).toHaveLength(1);
    },
  );

  it('answers 503 and logs an error naming CAPTCHA_SECRET_KEY when the provider refuses the secret', async () => {
    const wrongSecret = await stack.anotherApi({ config: { CAPTCHA_SECRET_KEY: 'not-the-secret' } });
    try {
      const response = await leavesNoTrace(() =>
        post(wrongSecret.app, 'request-otp/', shopper({ captcha_token: fake.issueAnswer() })),
      );
      expectRefusal(response, 503, 'SERVICE_UNAVAILABLE');
      expect(fake.calls[0]?.errorCodes).toEqual(['invalid-input-secret']);
      const line = logText
        .split('\n')
        .filter(Boolean)
        .map((text) => JSON.parse(text) as { level: number; msg: string; errorCodes?: string[] })
        .find((entry) => entry.errorCodes?.includes('invalid-input-secret'));
      expect(line).toMatchObject({ level: 50, msg: expect.stringContaining('CAPTCHA_SECRET_KEY') });
    } finally {
      await wrongSecret.close();
    }
  });
});

describe('resend-otp and verify-otp', () => {
  it('resend-otp needs an answer too; verify-otp does not', async () => {
    const body = shopper({ captcha_token: fake.issueAnswer() });
    const opened = await post(stack.app, 'request-otp/', body);
    expect(opened.statusCode).toBe(200);
    const flow = { email: body.email, verification_id: opened.json().verification_id };

    const withoutAnswer = await leavesNoTrace(() =>
      post(stack.app, 'resend-otp/', { ...flow, otp_method: 'email' }),
    );
    expectRefusal(withoutAnswer, 400, 'CAPTCHA_REQUIRED');
    const wrongAnswer = await post(stack.app, 'resend-otp/', {
      ...flow,
      otp_method: 'email',
      captcha_token: 'made-up-answer',
    });
    expectRefusal(wrongAnswer, 400, 'CAPTCHA_INVALID');

    const resent = await post(stack.app, 'resend-otp/', {
      ...flow,
      otp_method: 'email',
      captcha_token: fake.issueAnswer(),
    });
    expect(resent.statusCode).toBe(200);
    const code = resent.json().debug_otp as string;

    const callsBefore = fake.calls.length;
    const verified = await post(stack.app, 'verify-otp/', { ...flow, otp: code });
    expect(verified.statusCode).toBe(200);
    expect(verified.json()).toMatchObject({ success: true, token: expect.any(String) });
    expect(fake.calls).toHaveLength(callsBefore);
  });

  it('refuses a captcha_token on verify-otp, which has no such field', async () => {
    const response = await post(stack.app, 'verify-otp/', {
      email: 'nobody@example.com',
      otp: '123456',
      captcha_token: fake.issueAnswer(),
    });
    expectRefusal(response, 400, 'VALIDATION_ERROR');
    expect(fake.calls).toHaveLength(0);
  });
});

describe('other settings', () => {
  it('hCaptcha: the answer passes, and the site key goes with it', async () => {
    const hcaptcha = await stack.anotherApi({
      config: {
        CAPTCHA_PROVIDER: 'hcaptcha',
        CAPTCHA_VERIFY_URL: fake.hcaptchaVerifyUrl,
        CAPTCHA_SITE_KEY: SITE_KEY,
      },
    });
    try {
      const answer = fake.issueAnswer();
      expect((await post(hcaptcha.app, 'request-otp/', shopper({ captcha_token: answer }))).statusCode).toBe(
        200,
      );
      expect(fake.calls).toMatchObject([
        { provider: 'hcaptcha', response: answer, sitekey: SITE_KEY, remoteip: '127.0.0.1', success: true },
      ]);
      const reused = await post(hcaptcha.app, 'request-otp/', shopper({ captcha_token: answer }));
      expectRefusal(reused, 400, 'CAPTCHA_INVALID');
      expect(fake.calls.at(-1)?.errorCodes).toEqual(['invalid-or-already-seen-response']);
    } finally {
      await hcaptcha.close();
    }
  });

  it('without CAPTCHA_PROVIDER a captcha_token is accepted and ignored', async () => {
    const off = await stack.anotherApi({ config: { CAPTCHA_PROVIDER: undefined } });
    try {
      expect((await post(off.app, 'request-otp/', shopper())).statusCode).toBe(200);
      expect((await post(off.app, 'request-otp/', shopper({ captcha_token: 'anything' }))).statusCode).toBe(
        200,
      );
      expect(fake.calls).toHaveLength(0);
    } finally {
      await off.close();
    }
  });
});

describe('logs', () => {
  it('never carry an answer', async () => {
    const answers = [fake.issueAnswer(), fake.issueAnswer()];
    await post(stack.app, 'request-otp/', shopper({ captcha_token: answers[0] }));
    await post(stack.app, 'request-otp/', shopper({ captcha_token: answers[0] }));
    fake.failVerifies(1, { kind: 'reset' });
    await post(stack.app, 'request-otp/', shopper({ captcha_token: answers[1] }));
    expect(logText).toContain('captcha answer refused');
    for (const answer of answers) expect(logText).not.toContain(answer as string);
    expect(logText).not.toContain(SECRET);
  });
});

describe('createHumanCheck', () => {
  const logger = createLogger('silent', 'test');
  const config = (overrides: Partial<HumanCheckConfig> = {}): HumanCheckConfig => ({
    CAPTCHA_PROVIDER: 'turnstile',
    CAPTCHA_SECRET_KEY: SECRET,
    CAPTCHA_VERIFY_URL: fake.turnstileVerifyUrl,
    ...overrides,
  });
  const refusal = (promise: Promise<void>) =>
    promise.then(
      () => {
        throw new Error('expected a refusal');
      },
      (error: unknown) => {
        expect(error).toBeInstanceOf(RegistrationError);
        return error as RegistrationError;
      },
    );

  it('is off without a provider, and refuses to start with a provider but no secret', async () => {
    await expect(createHumanCheck({}, logger).assertHuman(undefined, '127.0.0.1')).resolves.toBeUndefined();
    expect(() => createHumanCheck(config({ CAPTCHA_SECRET_KEY: undefined }), logger)).toThrow(ConfigError);
  });

  it('treats an empty answer as none', async () => {
    const error = await refusal(createHumanCheck(config(), logger).assertHuman('', '127.0.0.1'));
    expect(error).toMatchObject({ code: 'CAPTCHA_REQUIRED', details: { field: 'captcha_token' } });
    expect(fake.calls).toHaveLength(0);
  });

  it('gives up on a slow provider after its timeout: SERVICE_UNAVAILABLE, retry in 5 s', async () => {
    fake.setLatency(2_000);
    const check = createHumanCheck(config(), logger, { timeoutMs: 200 });
    const started = performance.now();
    const error = await refusal(check.assertHuman(fake.issueAnswer(), '127.0.0.1'));
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', details: { retryAfterSeconds: 5 } });
  });

  it('answers SERVICE_UNAVAILABLE when nothing listens at the verify URL', async () => {
    const check = createHumanCheck(config({ CAPTCHA_VERIFY_URL: 'http://127.0.0.1:9/siteverify' }), logger);
    const error = await refusal(check.assertHuman('an-answer', '127.0.0.1'));
    expect(error.code).toBe('SERVICE_UNAVAILABLE');
  });

  it('treats an hCaptcha site key of another site as an operator problem', async () => {
    const check = createHumanCheck(
      config({
        CAPTCHA_PROVIDER: 'hcaptcha',
        CAPTCHA_VERIFY_URL: fake.hcaptchaVerifyUrl,
        CAPTCHA_SITE_KEY: 'other',
      }),
      pino({ level: 'silent' }),
    );
    const error = await refusal(check.assertHuman(fake.issueAnswer(), '127.0.0.1'));
    expect(error.code).toBe('SERVICE_UNAVAILABLE');
    expect(fake.calls[0]?.errorCodes).toEqual(['sitekey-secret-mismatch']);
  });
});
