// Drives the fake with the real @googleapis/gmail + google-auth-library clients, wired exactly like the
// worker does, so these tests also pin down how those clients behave (errors, retries, token caching).
import { gmail } from '@googleapis/gmail';
import type { OAuth2ClientOptions } from 'google-auth-library';
import { gaxios, OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeGoogle, SentEmail } from '../src/fake-google.js';
import { startFakeGoogle } from '../src/fake-google.js';

const clientId = 'client-123.apps.googleusercontent.test';
const clientSecret = 'GOCSPX-secret';
const refreshToken = '1//refresh-token';

let fake: FakeGoogle;

beforeAll(async () => {
  fake = await startFakeGoogle({ clientId, clientSecret, refreshToken });
});

afterAll(async () => {
  await fake?.close();
});

beforeEach(() => {
  fake.reset();
});

/** The worker's clients, pointed at the shared fake unless told another. */
function makeClient(overrides: Partial<OAuth2ClientOptions> = {}, target: FakeGoogle = fake) {
  const auth = new OAuth2Client({
    clientId,
    clientSecret,
    endpoints: { oauth2TokenUrl: target.tokenUrl },
    ...overrides,
  });
  auth.setCredentials({ refresh_token: refreshToken });
  const client = gmail({ version: 'v1', auth, rootUrl: target.rootUrl });
  return { auth, client };
}

interface MessageParts {
  to?: string;
  subject?: string;
  text?: string;
  html?: string;
}

/** A small multipart/alternative message, base64url encoded as Gmail's `raw` expects. */
function buildRaw({
  to = 'Ana <ana@customer.test>',
  subject = 'Your code is 123456',
  text = 'Your verification code is 123456.',
  html = '<p>Your verification code is <b>123456</b>.</p>',
}: MessageParts = {}): string {
  const boundary = 'otp-boundary-42';
  const lines = [
    'From: "Shop" <noreply@shop.test>',
    ...(to ? [`To: ${to}`] : []),
    `Subject: ${subject}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=UTF-8',
    '',
    text,
    `--${boundary}`,
    'Content-Type: text/html; charset=UTF-8',
    '',
    html,
    `--${boundary}--`,
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'utf8').toString('base64url');
}

/** Awaits a rejection and checks it is gaxios' error type, which is what the worker will catch. */
async function gaxiosError(promise: Promise<unknown>): Promise<gaxios.GaxiosError> {
  const err: unknown = await promise.then(
    () => {
      throw new Error('expected the call to reject');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(gaxios.GaxiosError);
  return err as gaxios.GaxiosError;
}

/**
 * gaxios 7 runs on node-fetch in Node, so error headers are node-fetch's `Headers` (has `.get()`, but is not
 * an instance of the global `Headers`); gaxios 6 and googleapis' success responses use a plain object.
 */
function headerValue(headers: unknown, name: string): string | null | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  if ('get' in headers && typeof headers.get === 'function') {
    const value: unknown = headers.get(name);
    return typeof value === 'string' ? value : null;
  }
  const value: unknown = (headers as Record<string, unknown>)[name.toLowerCase()];
  return typeof value === 'string' ? value : undefined;
}

function googleErrorOf(err: gaxios.GaxiosError): {
  code: number;
  status: string;
  reason: string | undefined;
} {
  const data: unknown = err.response?.data;
  const error =
    typeof data === 'object' && data !== null && 'error' in data && typeof data.error === 'object'
      ? (data.error as { code: number; status: string; errors?: { reason?: string }[] })
      : undefined;
  if (!error) throw new Error(`not a Google API error body: ${JSON.stringify(data)}`);
  return { code: error.code, status: error.status, reason: error.errors?.[0]?.reason };
}

describe('fake Google: happy path', () => {
  it('records a sent message with parsed from/to/subject/text/html', async () => {
    const { auth, client } = makeClient();
    const waiting = fake.waitForEmails(1, { to: 'ANA@customer.test' });

    const res = await client.users.messages.send({ userId: 'me', requestBody: { raw: buildRaw() } });

    const [email] = await waiting;
    expect(email).toMatchObject({
      from: 'noreply@shop.test',
      fromHeader: '"Shop" <noreply@shop.test>',
      to: ['ana@customer.test'],
      subject: 'Your code is 123456',
      text: 'Your verification code is 123456.',
      html: '<p>Your verification code is <b>123456</b>.</p>',
      accessToken: auth.credentials.access_token,
    });
    expect(email?.raw).toContain('Content-Type: multipart/alternative');
    expect(email?.receivedAt).toBeInstanceOf(Date);
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ id: email?.id, threadId: email?.id, labelIds: ['SENT'] });
    expect(res.data.id).toMatch(/^[0-9a-f]{16}$/);
  });

  it('refreshes the access token once and reuses it for later sends', async () => {
    const { auth, client } = makeClient();

    await client.users.messages.send({ userId: 'me', requestBody: { raw: buildRaw({ subject: 'one' }) } });
    await client.users.messages.send({ userId: 'me', requestBody: { raw: buildRaw({ subject: 'two' }) } });

    expect(fake.tokenRequests).toBe(1);
    expect(fake.sendRequests).toBe(2);
    expect(fake.sent.map((e) => e.subject)).toEqual(['one', 'two']);
    const token = auth.credentials.access_token;
    expect(token).toMatch(/^ya29\./);
    expect(fake.sent.every((e) => e.accessToken === token)).toBe(true);
    // google-auth-library turns expires_in into an absolute expiry_date.
    expect(auth.credentials.expiry_date).toBeGreaterThan(Date.now() + 3_000_000);
  });

  it('delays responses by the configured latency', async () => {
    const { client } = makeClient();
    fake.setLatency(120);
    const started = performance.now();

    await client.users.messages.send({ userId: 'me', requestBody: { raw: buildRaw() } });

    // One token round trip plus one send round trip, each delayed.
    expect(performance.now() - started).toBeGreaterThanOrEqual(2 * 120 - 5);
  });
});

describe('fake Google: token endpoint errors', () => {
  it('rejects a wrong client secret with 401 invalid_client', async () => {
    const { client } = makeClient({ clientSecret: 'wrong' });

    const err = await gaxiosError(
      client.users.messages.send({ userId: 'me', requestBody: { raw: buildRaw() } }),
    );

    expect(err.status).toBe(401);
    expect(err.response?.data).toEqual({ error: 'invalid_client', error_description: 'Unauthorized' });
    expect(err.message).toBe('invalid_client');
    expect(fake.sendRequests).toBe(0);
  });

  it('rejects an unknown client id with "The OAuth client was not found."', async () => {
    const { client } = makeClient({ clientId: 'someone-else' });

    const err = await gaxiosError(
      client.users.messages.send({ userId: 'me', requestBody: { raw: buildRaw() } }),
    );

    expect(err.status).toBe(401);
    expect(err.response?.data).toMatchObject({ error_description: 'The OAuth client was not found.' });
  });

  it('answers invalid_grant once the refresh token is revoked', async () => {
    const { client } = makeClient();
    fake.revokeRefreshToken();

    const err = await gaxiosError(
      client.users.messages.send({ userId: 'me', requestBody: { raw: buildRaw() } }),
    );

    expect(err.status).toBe(400);
    expect(err.response?.data).toEqual({
      error: 'invalid_grant',
      error_description: 'Token has been expired or revoked.',
    });
    expect(fake.sent).toHaveLength(0);
  });

  it('accepts client credentials in a Basic auth header and rejects other grant types', async () => {
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString(
      'base64',
    );
    const post = (body: string) =>
      fetch(fake.tokenUrl, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });

    const ok = await post(`grant_type=refresh_token&refresh_token=${encodeURIComponent(refreshToken)}`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({
      expires_in: 3599,
      scope: 'https://www.googleapis.com/auth/gmail.send',
      token_type: 'Bearer',
    });

    const bad = await post('grant_type=authorization_code&code=abc');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'unsupported_grant_type' });
  });

  it('google-auth-library retries a 5xx from the token endpoint by itself (POST included)', async () => {
    const { client } = makeClient();
    fake.failTokens(1, { kind: 'status', status: 503 });

    await client.users.messages.send({ userId: 'me', requestBody: { raw: buildRaw() } });

    expect(fake.tokenRequests).toBe(2);
    expect(fake.sent).toHaveLength(1);
  });

  it('transporterOptions.retryConfig.retry = 0 turns that token retry off', async () => {
    const { client } = makeClient({ transporterOptions: { retryConfig: { retry: 0 } } });
    fake.failTokens(1, { kind: 'status', status: 503 });

    const err = await gaxiosError(
      client.users.messages.send({ userId: 'me', requestBody: { raw: buildRaw() } }),
    );

    expect(err.status).toBe(503);
    expect(fake.tokenRequests).toBe(1);
    expect(fake.sendRequests).toBe(0);
  });
});

describe('fake Google: send errors', () => {
  it('fails the next send with 503 and lets the one after succeed (no automatic retry of the POST)', async () => {
    const { client } = makeClient();
    fake.failSends(1, { kind: 'status', status: 503 });

    const err = await gaxiosError(
      client.users.messages.send({ userId: 'me', requestBody: { raw: buildRaw() } }),
    );
    expect(err.status).toBe(503);
    expect(googleErrorOf(err)).toEqual({ code: 503, status: 'UNAVAILABLE', reason: 'backendError' });
    expect(fake.sendRequests).toBe(1);
    expect(fake.sent).toHaveLength(0);

    await client.users.messages.send({ userId: 'me', requestBody: { raw: buildRaw() } });
    expect(fake.sendRequests).toBe(2);
    expect(fake.sent).toHaveLength(1);
  });

  it('exposes Retry-After on a 429', async () => {
    const { client } = makeClient();
    fake.failSends(1, { kind: 'status', status: 429, retryAfterSeconds: 7 });

    const err = await gaxiosError(
      client.users.messages.send({ userId: 'me', requestBody: { raw: buildRaw() } }),
    );

    expect(err.status).toBe(429);
    expect(err.response?.headers).not.toBeInstanceOf(Headers);
    expect(headerValue(err.response?.headers, 'Retry-After')).toBe('7');
    expect(googleErrorOf(err)).toEqual({
      code: 429,
      status: 'RESOURCE_EXHAUSTED',
      reason: 'rateLimitExceeded',
    });
    expect(err.message).toMatch(/^User-rate limit exceeded\. Retry after \d{4}-/);
    expect(fake.sendRequests).toBe(1);
  });

  it('rejects a bearer token it never issued with 401 authError', async () => {
    const { auth, client } = makeClient();
    // An expiry_date stops google-auth-library from refreshing and retrying on 401 (see next test).
    auth.setCredentials({ access_token: 'ya29.not-issued', expiry_date: Date.now() + 3_600_000 });

    const err = await gaxiosError(
      client.users.messages.send({ userId: 'me', requestBody: { raw: buildRaw() } }),
    );

    expect(err.status).toBe(401);
    expect(googleErrorOf(err)).toEqual({ code: 401, status: 'UNAUTHENTICATED', reason: 'authError' });
    // gaxios collects errors[].message but then Object.assign()s error.message over it.
    expect(err.message).toMatch(/^Request had invalid authentication credentials\./);
    expect(headerValue(err.response?.headers, 'www-authenticate')).toContain('invalid_token');
    expect(fake.tokenRequests).toBe(0);
  });

  it('google-auth-library silently refreshes and resends after a 401 when the token has no expiry_date', async () => {
    const { auth, client } = makeClient();
    auth.setCredentials({ access_token: 'ya29.not-issued', refresh_token: refreshToken });

    await client.users.messages.send({ userId: 'me', requestBody: { raw: buildRaw() } });

    expect(fake.sendRequests).toBe(2);
    expect(fake.tokenRequests).toBe(1);
    expect(fake.sent).toHaveLength(1);
  });

  it('drops the connection for a reset failure, without a client-side retry', async () => {
    const { client } = makeClient();
    fake.failSends(1, { kind: 'reset' });

    const err = await gaxiosError(
      client.users.messages.send({ userId: 'me', requestBody: { raw: buildRaw() } }),
    );

    expect(err.response).toBeUndefined();
    expect(fake.sendRequests).toBe(1);
    await client.users.messages.send({ userId: 'me', requestBody: { raw: buildRaw() } });
    expect(fake.sent).toHaveLength(1);
  });

  it('answers 400 INVALID_ARGUMENT for a missing raw, bad base64 and a message without recipients', async () => {
    const { client } = makeClient();

    const missing = await gaxiosError(client.users.messages.send({ userId: 'me', requestBody: {} }));
    expect(missing.status).toBe(400);
    expect(googleErrorOf(missing)).toMatchObject({ status: 'INVALID_ARGUMENT' });

    const garbage = await gaxiosError(
      client.users.messages.send({ userId: 'me', requestBody: { raw: 'not base64!' } }),
    );
    expect(garbage.message).toMatch(/^Invalid value for ByteString/);

    const noRecipient = await gaxiosError(
      client.users.messages.send({ userId: 'me', requestBody: { raw: buildRaw({ to: '' }) } }),
    );
    expect(noRecipient.status).toBe(400);
    expect(noRecipient.message).toBe('Recipient address required');
    expect(googleErrorOf(noRecipient)).toEqual({
      code: 400,
      status: 'INVALID_ARGUMENT',
      reason: 'invalidArgument',
    });

    expect(fake.sendRequests).toBe(3);
    expect(fake.sent).toHaveLength(0);
  });

  it('queues failures: Infinity keeps failing until reset', async () => {
    const { client } = makeClient();
    fake.failSends(Number.POSITIVE_INFINITY, { kind: 'status', status: 500 });

    for (let i = 0; i < 3; i++) {
      const err = await gaxiosError(
        client.users.messages.send({ userId: 'me', requestBody: { raw: buildRaw() } }),
      );
      expect(googleErrorOf(err)).toEqual({ code: 500, status: 'INTERNAL', reason: 'backendError' });
    }
    fake.reset();
    await client.users.messages.send({ userId: 'me', requestBody: { raw: buildRaw() } });
    expect(fake.sent).toHaveLength(1);
  });
});

describe('fake Google: waitForEmails', () => {
  it('resolves when enough matching emails are recorded', async () => {
    const { client } = makeClient();
    const waiting = fake.waitForEmails(2, { to: 'bob@customer.test' });

    await client.users.messages.send({
      userId: 'me',
      requestBody: { raw: buildRaw({ to: 'bob@customer.test' }) },
    });
    await client.users.messages.send({
      userId: 'me',
      requestBody: { raw: buildRaw({ to: 'eve@customer.test' }) },
    });
    await client.users.messages.send({
      userId: 'me',
      requestBody: { raw: buildRaw({ to: 'bob@customer.test' }) },
    });

    const emails = await waiting;
    expect(emails).toHaveLength(2);
    expect(emails.every((e) => e.to.includes('bob@customer.test'))).toBe(true);
  });

  it('rejects on timeout and lists what did arrive', async () => {
    const { client } = makeClient();
    await client.users.messages.send({
      userId: 'me',
      requestBody: { raw: buildRaw({ subject: 'for ana' }) },
    });

    await expect(fake.waitForEmails(1, { to: 'nobody@customer.test', timeoutMs: 50 })).rejects.toThrow(
      /timed out after 50 ms .* to nobody@customer\.test; 0 matched, 1 sent in total: .*ana@customer\.test.*for ana/,
    );
  });
});

describe('fake Google: onEmail', () => {
  it('hands each accepted email to the listener and keeps none', async () => {
    const streamed: SentEmail[] = [];
    const streaming = await startFakeGoogle({
      clientId,
      clientSecret,
      refreshToken,
      onEmail: (email) => streamed.push(email),
    });
    try {
      const { client } = makeClient({}, streaming);

      await client.users.messages.send({
        userId: 'me',
        requestBody: { raw: buildRaw({ subject: 'streamed' }) },
      });

      expect(streamed.map((email) => email.subject)).toEqual(['streamed']);
      expect(streaming.sent).toEqual([]);
    } finally {
      await streaming.close();
    }
  });
});
