import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { loggerOptions } from '@otp-relay/core';
import { users } from '@otp-relay/db';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeIn, post, type Stack, shopper, startStack } from './support/stack.js';

/** The logs of a whole flow, at trace level, hold no code, password, token or secret. */

const stream = new PassThrough();
let captured = '';
stream.on('data', (chunk: Buffer) => {
  captured += chunk.toString();
});

// A configured signing key, whose private part must never be logged.
const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    logStream: stream,
    env: { OTP_RESEND_COOLDOWN_SECONDS: '0', JWT_SIGNING_KEYS: JSON.stringify({ keys: [signingKey] }) },
  });
  stack.startWorker();
});
afterAll(() => stack.close());

describe('logs', () => {
  it('carry request and delivery ids, mask contacts, and never a code, password, token or secret', async () => {
    const body = shopper({ password: 'log-hygiene-password-31337' });

    // Email: one failure then success; WhatsApp: a rejected number, then the email fallback.
    stack.google.failSends(1, { kind: 'status', status: 503 });
    expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
    const [first] = await stack.google.waitForEmails(1, { to: body.email });

    const whatsapp = shopper({ otp_method: 'whatsapp', mobile: '+1 415 555 0199' });
    stack.twilio.failSends(1, { kind: 'status', status: 400, code: 21211 });
    expect((await post(stack.app, 'request-otp/', whatsapp)).statusCode).toBe(200);
    const [fallback] = await stack.google.waitForEmails(1, { to: whatsapp.email });

    const verified = await post(stack.app, 'verify-otp/', { email: body.email, otp: codeIn(first) });
    expect(verified.statusCode).toBe(200);
    const { token } = verified.json() as { token: string };
    const me = await stack.app.inject({
      method: 'GET',
      url: '/api/accounts/me',
      headers: { authorization: `Bearer ${token}`, 'x-request-id': 'trace-me-42' },
    });
    expect(me.headers['x-request-id']).toBe('trace-me-42');

    const lines = captured.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(10);
    const forbidden = {
      code: codeIn(first),
      fallbackCode: codeIn(fallback),
      password: body.password,
      token,
      signature: token.split('.')[2] ?? token,
      signingKey: signingKey.d ?? 'JWT_SIGNING_KEYS',
      email: body.email,
      whatsappEmail: whatsapp.email,
      mobile: '4155550199',
      ...Object.fromEntries(
        [
          'JWT_SECRET',
          'OTP_PEPPER',
          'OTP_ENCRYPTION_KEY',
          'EMAIL_CLIENT_SECRET',
          'EMAIL_REFRESH_TOKEN',
          'TWILIO_AUTH_TOKEN',
        ].map((name) => [name, stack.env[name] ?? name]),
      ),
    };
    for (const [what, value] of Object.entries(forbidden)) {
      expect(captured.includes(value), `the logs contain the ${what}`).toBe(false);
    }

    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const requestLines = parsed.filter((line) => line.req !== undefined || line.res !== undefined);
    expect(requestLines.length).toBeGreaterThan(0);
    expect(requestLines.every((line) => typeof line.reqId === 'string')).toBe(true);
    expect(parsed.some((line) => line.reqId === 'trace-me-42')).toBe(true);
    const deliveryLines = parsed.filter(
      (line) => typeof line.msg === 'string' && line.msg.startsWith('delivery'),
    );
    expect(deliveryLines.length).toBeGreaterThan(0);
    expect(deliveryLines.every((line) => typeof line.deliveryId === 'string')).toBe(true);
    // Contacts do appear, masked, where they help an operator.
    expect(captured).toMatch(/\+141\*+99/);
  });
});

/** One log line of `err`, through the service's logger options. */
function logged(err: unknown): { line: string; err: Record<string, unknown> } {
  let line = '';
  const logger = pino(loggerOptions('info', 'test'), {
    write: (text: string) => {
      line += text;
    },
  });
  logger.error({ err }, 'failed');
  const parsed = JSON.parse(line) as { err: Record<string, unknown> };
  return { line, err: parsed.err };
}

async function caught(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('expected the query to fail');
}

describe('logged errors', () => {
  it('keep their codes, at every level of the cause chain', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
    const { line, err } = logged(new Error('enqueue failed', { cause: refused }));
    expect(err.cause).toMatchObject({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:6379' });
    expect(logged(refused).err.code).toBe('ECONNREFUSED');
    expect(line).not.toContain('[redacted]');
  });

  it('of a failed query carry its SQL and SQLSTATE, never its parameters', async () => {
    const secretHash = `$argon2id$v=19$m=4096$${randomBytes(12).toString('hex')}`;
    const email = `query-${randomBytes(4).toString('hex')}@example.com`;
    const username = `dup_${randomBytes(4).toString('hex')}`;
    const account = { email, username, firstName: 'Ann', lastName: 'Lee', passwordHash: secretHash };
    await stack.db.db.insert(users).values(account);
    // A unique violation: Postgres' detail quotes the duplicate key, drizzle's message the parameters.
    const duplicate = await caught(() => stack.db.db.insert(users).values(account));
    const { line, err } = logged(duplicate);
    expect(String(err.message)).toMatch(/^Failed query: insert into "users"/);
    expect(err.cause).toMatchObject({ code: '23505', constraint_name: 'users_username_lower_key' });
    for (const secret of [secretHash, email, username]) expect(line).not.toContain(secret);
    expect(line).not.toMatch(/params:/);

    // A data exception: Postgres' message quotes the value itself.
    const secretValue = `not-a-number-${randomBytes(6).toString('hex')}`;
    const invalid = await caught(() => stack.db.db.execute(sql`select ${secretValue}::int`));
    const cast = logged(invalid);
    expect(cast.err.cause).toMatchObject({ code: '22P02' });
    expect(cast.line).toContain('select $1::int');
    expect(cast.line).not.toContain(secretValue);
  });
});
