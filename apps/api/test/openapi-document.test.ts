import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, STATUS_BY_CODE } from '../src/http/error-contract.js';
import { formatOpenApiDocument } from '../src/http/openapi.js';
import {
  COMMITTED_DOCUMENT_PATH,
  committedDocument,
  type OpenApiDocument,
  operationOf,
  operations,
  undocumented,
} from './support/openapi.js';
import { post, type Stack, shopper, startStack } from './support/stack.js';

/**
 * The committed OpenAPI document (docs/openapi.json) is the one the service serves, and it says
 * what the service answers: every status a route sends, with its codes and headers.
 */

let stack: Stack;
let document: OpenApiDocument;
beforeAll(async () => {
  [stack, document] = await Promise.all([
    startStack({ env: { OTP_DEBUG_RESPONSE: 'true' } }),
    committedDocument(),
  ]);
});
afterAll(() => stack.close());

async function served(): Promise<unknown> {
  const response = await stack.admin.inject({ method: 'GET', url: '/docs/json' });
  expect(response.statusCode).toBe(200);
  return response.json();
}

describe('the committed document', () => {
  it('is the one the operators app serves at /docs/json', async () => {
    // Compared as formatted text: the same content in the same order.
    expect(
      formatOpenApiDocument(await served()) === formatOpenApiDocument(document),
      `${COMMITTED_DOCUMENT_PATH} is not the document the service serves: run pnpm openapi:write`,
    ).toBe(true);
  });

  it('is OpenAPI 3.1 with info, a server, described tags and an id and tags on every operation', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.description).toMatch(/email, WhatsApp or SMS/);
    // The same license as the repository's LICENSE file and package.json.
    expect(document.info.license).toEqual({ name: 'MIT', identifier: 'MIT' });
    expect(document.servers.length).toBeGreaterThan(0);
    const tags = new Set(document.tags.map((tag) => tag.name));
    for (const tag of document.tags) expect(tag.description, tag.name).not.toBe('');
    const ids = new Set<string>();
    for (const { operation, paths } of operations(document)) {
      expect(operation.operationId, paths[0]).toMatch(/^[a-z][A-Za-z0-9]*$/);
      expect(ids.has(operation.operationId), operation.operationId).toBe(false);
      ids.add(operation.operationId);
      expect(operation.tags?.length, operation.operationId).toBeGreaterThan(0);
      for (const tag of operation.tags ?? []) expect(tags, tag).toContain(tag);
    }
    expect([...ids]).toEqual(
      expect.arrayContaining([
        'requestOtp',
        'verifyOtp',
        'resendOtp',
        'getMe',
        'getVerification',
        'cancelVerification',
      ]),
    );
  });

  it('has every path with and without its trailing slash, both reaching one operation', () => {
    for (const { operation, paths } of operations(document)) {
      expect(paths, operation.operationId).toHaveLength(2);
      const [a = '', b = ''] = [...paths].sort();
      expect(`${a}/`, operation.operationId).toBe(b);
    }
  });

  it('lists error codes of the closed list only, each under its status, with Retry-After on 429 and 503', () => {
    for (const { operation } of operations(document)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        const codes = response.content?.['application/json']?.schema.properties?.code?.enum ?? [];
        if (status === '503' && operation.operationId === 'getReadiness') continue;
        expect(codes.length, `${operation.operationId} ${status}`).toBeGreaterThan(0);
        for (const code of codes) {
          expect(ERROR_CODES, String(code)).toContain(code);
          expect(STATUS_BY_CODE[code as keyof typeof STATUS_BY_CODE], String(code)).toBe(Number(status));
        }
        if (status === '429' || status === '503') {
          expect(response.headers, `${operation.operationId} ${status}`).toHaveProperty('retry-after');
        }
      }
    }
  });

  it('lists no 429 for /me, which has no rate limit', () => {
    expect(Object.keys(operationOf(document, '/api/accounts/me', 'get')?.responses ?? {}).sort()).toEqual([
      '200',
      '401',
      '500',
      '503',
    ]);
  });
});

describe('what the service answers is in the document', () => {
  const json = { 'content-type': 'application/json' };
  const bodyRoutes = [
    { path: '/api/accounts/request-otp', body: () => shopper() },
    { path: '/api/accounts/verify-otp', body: () => ({ email: 'ann@example.com', otp: '123456' }) },
    { path: '/api/accounts/resend-otp', body: () => ({ email: 'ann@example.com', otp_method: 'email' }) },
  ];

  async function expectDocumented(
    path: string,
    method: 'get' | 'post',
    answer: Awaited<ReturnType<typeof post>>,
  ) {
    expect(undocumented(operationOf(document, path, method), answer), `${method} ${path}`).toEqual([]);
  }

  it.each(bodyRoutes)('$path: 400, 413 and 415 at both slash forms', async ({ path, body }) => {
    for (const url of [path, `${path}/`]) {
      const invalid = await stack.app.inject({ method: 'POST', url, payload: { ...body(), extra: 1 } });
      expect(invalid.statusCode).toBe(400);
      await expectDocumented(url, 'post', invalid);

      const tooLarge = await stack.app.inject({
        method: 'POST',
        url,
        headers: json,
        payload: JSON.stringify({ ...body(), password: 'x'.repeat(17 * 1024) }),
      });
      expect(tooLarge.statusCode).toBe(413);
      expect(tooLarge.json().code).toBe('PAYLOAD_TOO_LARGE');
      await expectDocumented(url, 'post', tooLarge);

      const notJson = await stack.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'text/plain' },
        payload: 'hello',
      });
      expect(notJson.statusCode).toBe(415);
      await expectDocumented(url, 'post', notJson);
    }
  });

  it('request-otp and resend-otp: 429 RESEND_TOO_SOON with Retry-After; request-otp: 409 USERNAME_TAKEN', async () => {
    const body = shopper();
    const first = await post(stack.app, 'request-otp/', body);
    await expectDocumented('/api/accounts/request-otp/', 'post', first);
    const again = await post(stack.app, 'request-otp/', { ...body, username: shopper().username });
    expect(again.statusCode).toBe(429);
    await expectDocumented('/api/accounts/request-otp/', 'post', again);
    const resend = await post(stack.app, 'resend-otp/', {
      email: body.email,
      otp_method: 'email',
      verification_id: first.json().verification_id,
    });
    expect(resend.statusCode).toBe(429);
    await expectDocumented('/api/accounts/resend-otp/', 'post', resend);

    const verified = await post(stack.app, 'verify-otp/', {
      email: body.email,
      otp: first.json().debug_otp,
      verification_id: first.json().verification_id,
    });
    expect(verified.statusCode).toBe(200);
    await expectDocumented('/api/accounts/verify-otp/', 'post', verified);
    const taken = await post(stack.app, 'request-otp/', shopper({ username: body.username }));
    expect(taken.statusCode).toBe(409);
    await expectDocumented('/api/accounts/request-otp/', 'post', taken);

    const me = await stack.app.inject({
      method: 'GET',
      url: '/api/accounts/me/',
      headers: { authorization: `Bearer ${verified.json().token}` },
    });
    expect(me.statusCode).toBe(200);
    await expectDocumented('/api/accounts/me/', 'get', me);
  });

  it('verify-otp: 400 OTP_INVALID; /me: 401; verifications: 200, 400, 404 and cancel 415', async () => {
    const wrong = await post(stack.app, 'verify-otp/', { email: shopper().email, otp: '000000' });
    expect(wrong.json().code).toBe('OTP_INVALID');
    await expectDocumented('/api/accounts/verify-otp/', 'post', wrong);

    const me = await stack.app.inject({ method: 'GET', url: '/api/accounts/me' });
    expect(me.statusCode).toBe(401);
    await expectDocumented('/api/accounts/me', 'get', me);

    const opened = await post(stack.app, 'request-otp/', shopper());
    const url = `/api/accounts/verifications/${opened.json().verification_id}`;
    const status = await stack.app.inject({ method: 'GET', url });
    expect(status.statusCode).toBe(200);
    await expectDocumented('/api/accounts/verifications/{verification_id}', 'get', status);
    const notJson = await stack.app.inject({
      method: 'POST',
      url: `${url}/cancel`,
      headers: { 'content-type': 'text/plain' },
      payload: 'cancel',
    });
    expect(notJson.statusCode).toBe(415);
    await expectDocumented('/api/accounts/verifications/{verification_id}/cancel', 'post', notJson);

    const unknown = await stack.app.inject({
      method: 'GET',
      url: '/api/accounts/verifications/vf_aaaaaaaaaaaaaaaaaaaaaaaa',
    });
    expect(unknown.statusCode).toBe(404);
    await expectDocumented('/api/accounts/verifications/{verification_id}', 'get', unknown);
    const malformed = await stack.app.inject({
      method: 'POST',
      url: '/api/accounts/verifications/short/cancel/',
    });
    expect(malformed.statusCode).toBe(400);
    await expectDocumented('/api/accounts/verifications/{verification_id}/cancel/', 'post', malformed);
  });

  it('verifications: 429 RATE_LIMITED with Retry-After; 503 with Retry-After when Postgres is gone', async () => {
    const limited = await stack.anotherApi({ config: { RATE_LIMIT_IP_MAX: 1 } });
    const down = await stack.anotherApi({ databaseUrl: 'postgres://postgres@127.0.0.1:1/gone' });
    try {
      const url = '/api/accounts/verifications/vf_aaaaaaaaaaaaaaaaaaaaaaaa';
      await limited.app.inject({ method: 'GET', url });
      const refused = await limited.app.inject({ method: 'GET', url });
      expect(refused.statusCode).toBe(429);
      await expectDocumented('/api/accounts/verifications/{verification_id}', 'get', refused);

      const unavailable = await down.app.inject({ method: 'GET', url });
      expect(unavailable.statusCode).toBe(503);
      await expectDocumented('/api/accounts/verifications/{verification_id}', 'get', unavailable);
    } finally {
      await Promise.all([limited.close(), down.close()]);
    }
  });

  it('health, readiness and the JWKS at both slash forms', async () => {
    // Readiness counts the delivery queue's workers: with none it answers 503 (documented too).
    const noWorker = await stack.app.inject({ method: 'GET', url: '/readyz' });
    expect(noWorker.statusCode).toBe(503);
    await expectDocumented('/readyz', 'get', noWorker);
    await stack.startWorker().worker.waitUntilReady();
    for (const path of ['/healthz', '/readyz', '/.well-known/jwks.json']) {
      for (const url of [path, `${path}/`]) {
        const answer = await stack.app.inject({ method: 'GET', url });
        expect(answer.statusCode, url).toBe(200);
        await expectDocumented(url, 'get', answer);
      }
    }
  });
});
