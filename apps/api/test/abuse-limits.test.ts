import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { post, requestCode, type Stack, shopper, startStack } from './support/stack.js';

/** Each limit trips at its configured number, answers 429 with Retry-After, and is shared by API instances. */

const logs = new PassThrough();
const logLines: string[] = [];
logs.on('data', (chunk: Buffer) => logLines.push(...chunk.toString().split('\n').filter(Boolean)));

let stack: Stack;
let secondInstance: { app: App; close(): Promise<void> };

beforeAll(async () => {
  stack = await startStack({
    logStream: logs,
    env: {
      RATE_LIMIT_IP_MAX: '1000',
      SEND_LIMIT_PER_DESTINATION: '3',
      OTP_RESEND_COOLDOWN_SECONDS: '0',
      OTP_MAX_ATTEMPTS: '20',
      VERIFY_LIMIT_PER_DESTINATION: '4',
      WHATSAPP_ALLOWED_COUNTRIES: 'US, de',
      WHATSAPP_COUNTRY_HOURLY_CAP: '3',
    },
  });
  // Another API process on the same Redis and Postgres: limits must be counted once for both.
  secondInstance = await stack.anotherApi();
});
afterAll(async () => {
  await secondInstance.close();
  await stack.close();
});

function expectRateLimited(response: {
  statusCode: number;
  headers: Record<string, unknown>;
  json(): unknown;
}) {
  expect(response.statusCode).toBe(429);
  expect(response.json()).toMatchObject({
    success: false,
    code: expect.stringMatching(/RATE_LIMITED|RESEND_TOO_SOON/),
  });
  expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
}

describe('per-IP request limit', () => {
  const ip = '203.0.113.7';
  const from = (app: App, path: string, payload: unknown, remoteAddress = ip) =>
    app.inject({ method: 'POST', url: `/api/accounts/${path}`, payload: payload as object, remoteAddress });

  it('trips at RATE_LIMIT_IP_MAX across API instances; verify-otp counts on its own', async () => {
    const limited = await buildLimitedPair();
    try {
      const verify = { email: 'nobody@example.com', otp: '123456' };
      expect((await from(limited.first, 'verify-otp/', verify)).statusCode).toBe(400);
      expect((await from(limited.second, 'verify-otp/', verify)).statusCode).toBe(400);
      const third = await from(limited.first, 'verify-otp/', verify);
      expectRateLimited(third);
      expect(third.json()).toMatchObject({ code: 'RATE_LIMITED' });
      // The sending endpoints keep their own count; another client is not affected.
      const resend = { email: 'x@example.com', otp_method: 'email' };
      expect((await from(limited.second, 'resend-otp/', resend)).statusCode).toBe(200);
      expect((await from(limited.first, 'verify-otp/', verify, '203.0.113.8')).statusCode).toBe(400);
    } finally {
      await limited.close();
    }
  });

  it('request-otp and resend-otp draw on one count per IP, so alternating them gains nothing', async () => {
    const limited = await buildLimitedPair();
    try {
      expect((await from(limited.first, 'request-otp/', shopper())).statusCode).toBe(200);
      const resend = { email: 'x@example.com', otp_method: 'email' };
      expect((await from(limited.second, 'resend-otp/', resend)).statusCode).toBe(200);
      expectRateLimited(await from(limited.first, 'request-otp/', shopper()));
      expectRateLimited(await from(limited.second, 'resend-otp/', resend));
    } finally {
      await limited.close();
    }
  });

  it('still holds, per instance, while Redis is down', async () => {
    const down = await stack.anotherApi({
      config: { RATE_LIMIT_IP_MAX: 2, QUEUE_PREFIX: `${stack.config.QUEUE_PREFIX}-ip-down` },
      redisUrl: 'redis://127.0.0.1:1',
    });
    try {
      const verify = { email: 'nobody@example.com', otp: '123456' };
      expect((await from(down.app, 'verify-otp/', verify)).statusCode).not.toBe(429);
      expect((await from(down.app, 'verify-otp/', verify)).statusCode).not.toBe(429);
      expectRateLimited(await from(down.app, 'verify-otp/', verify));
    } finally {
      await down.close();
    }
  });
});

/** Two instances with an IP limit of 2, sharing a fresh namespace. */
async function buildLimitedPair() {
  const config = { RATE_LIMIT_IP_MAX: 2, QUEUE_PREFIX: `${stack.config.QUEUE_PREFIX}-ip-${randomUUID()}` };
  const [first, second] = await Promise.all([stack.anotherApi({ config }), stack.anotherApi({ config })]);
  return { first: first.app, second: second.app, close: () => Promise.all([first.close(), second.close()]) };
}

describe('per-destination send limit', () => {
  it('allows SEND_LIMIT_PER_DESTINATION codes to one address, counted across instances and endpoints', async () => {
    const body = shopper();
    const first = await post(stack.app, 'request-otp/', body);
    expect(first.statusCode).toBe(200);
    const ours = { email: body.email, otp_method: 'email', verification_id: first.json().verification_id };
    expect((await post(secondInstance.app, 'resend-otp/', ours)).statusCode).toBe(200);
    expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
    const fourth = await post(secondInstance.app, 'resend-otp/', ours);
    expectRateLimited(fourth);
    expect(fourth.json()).toMatchObject({ code: 'RATE_LIMITED' });
    // Another address is unaffected.
    expect((await post(stack.app, 'request-otp/', shopper())).statusCode).toBe(200);
  });

  it('gives the budget back when the request fails after it was counted', async () => {
    stack.startWorker();
    const taken = shopper();
    const code = await requestCode(stack, taken);
    expect((await post(stack.app, 'verify-otp/', { email: taken.email, otp: code })).statusCode).toBe(200);
    const body = shopper({ username: taken.username });
    for (let attempt = 0; attempt < stack.config.SEND_LIMIT_PER_DESTINATION + 1; attempt += 1) {
      expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(409);
    }
    expect(
      (await post(stack.app, 'request-otp/', { ...body, username: `${body.username}_2` })).statusCode,
    ).toBe(200);
  });
});

describe('wrong codes per destination', () => {
  it('after VERIFY_LIMIT_PER_DESTINATION wrong codes against its flows even the right one is refused, across instances', async () => {
    const body = shopper();
    const issued = await post(stack.app, 'request-otp/', body);
    expect(issued.statusCode).toBe(200);
    const wrong = { email: body.email, otp: '999999', verification_id: issued.json().verification_id };
    for (const app of [stack.app, secondInstance.app, stack.app, secondInstance.app]) {
      expect((await post(app, 'verify-otp/', wrong)).json().code).toMatch(/OTP_INVALID/);
    }
    const [email] = await (async () => {
      stack.startWorker();
      return stack.google.waitForEmails(1, { to: body.email });
    })();
    const code = /code is: (\d{6})/.exec(email?.text ?? '')?.[1];
    const refused = await post(stack.app, 'verify-otp/', { ...wrong, otp: code });
    expectRateLimited(refused);
  });
});

describe('wrong codes per IP', () => {
  it('after VERIFY_LIMIT_PER_IP wrong codes from one IP, that IP is refused and another is not', async () => {
    const limited = await stack.anotherApi({
      config: { VERIFY_LIMIT_PER_IP: 3, QUEUE_PREFIX: `${stack.config.QUEUE_PREFIX}-guess` },
    });
    try {
      const guess = (remoteAddress: string) =>
        limited.app.inject({
          method: 'POST',
          url: '/api/accounts/verify-otp/',
          payload: { email: `nobody-${remoteAddress}@example.com`, otp: '123456' },
          remoteAddress,
        });
      for (let attempt = 0; attempt < 3; attempt += 1) {
        expect((await guess('198.51.100.1')).json().code).toBe('OTP_INVALID');
      }
      expectRateLimited(await guess('198.51.100.1'));
      expect((await guess('198.51.100.2')).json().code).toBe('OTP_INVALID');
    } finally {
      await limited.close();
    }
  });
});

describe('the SMS-pumping guard', () => {
  it('refuses numbers outside WHATSAPP_ALLOWED_COUNTRIES, naming mobile', async () => {
    const response = await post(
      stack.app,
      'request-otp/',
      shopper({ otp_method: 'whatsapp', mobile: '+44 7911 123456' }),
    );
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      errors: { mobile: { code: 'country_not_allowed', message: expect.stringMatching(/country/) } },
    });
    const allowed = await post(
      stack.app,
      'request-otp/',
      shopper({ otp_method: 'whatsapp', mobile: '+49 1512 3456789' }),
    );
    expect(allowed.statusCode).toBe(200);
  });

  it('trips the per-country hourly cap with a 429 and a warning in the log', async () => {
    const numbers = ['+1 415 555 0111', '+1 415 555 0112', '+1 415 555 0113', '+1 415 555 0114'];
    const statuses: number[] = [];
    for (const mobile of numbers) {
      statuses.push(
        (await post(stack.app, 'request-otp/', shopper({ otp_method: 'whatsapp', mobile }))).statusCode,
      );
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(
      logLines.some(
        (line) => line.includes('possible SMS pumping') && line.includes('"countryCallingCode":"1"'),
      ),
    ).toBe(true);
  });
});
