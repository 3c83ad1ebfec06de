import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminApp } from '../src/http/admin-app.js';
import { inlineStyleHashes } from '../src/http/admin-csp.js';
import { ADMIN_LOGIN_FAILURES_ALLOWED, ADMIN_LOGIN_WINDOW_SECONDS } from '../src/http/admin-login.js';
import { type OpenApiDocument, operationOf } from './support/openapi.js';
import { codeIn, post, requestCode, type Stack, shopper, startStack } from './support/stack.js';

/**
 * What operators rely on, on their own listener (`stack.admin`): the queue board, the OpenAPI
 * document, and the metrics.
 */

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const ADMIN = { user: 'ops', password: 'correct horse battery' };
const asAdmin = { authorization: basic(ADMIN.user, ADMIN.password) };
const BOARD_API = '/admin/queues/api/queues';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password } });
  stack.startWorker();
});
afterAll(() => stack.close());

describe('the operators listener', () => {
  it('is the only one serving the board, the metrics and the docs: the public app answers 404', async () => {
    for (const url of [
      '/admin/queues',
      `${BOARD_API}`,
      '/metrics',
      '/docs',
      '/docs/json',
      '/docs/static/index.html',
    ]) {
      const onPublic = await stack.app.inject({ method: 'GET', url, headers: asAdmin });
      expect(onPublic.statusCode, url).toBe(404);
      expect(onPublic.json(), url).toMatchObject({ success: false, code: 'NOT_FOUND' });
    }
    expect(
      (await stack.admin.inject({ method: 'GET', url: '/admin/queues', headers: asAdmin })).statusCode,
    ).toBe(200);
    expect((await stack.admin.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    expect((await stack.admin.inject({ method: 'GET', url: '/docs/json' })).statusCode).toBe(200);
    expect((await stack.admin.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    // Nor the shop's API on the operators' listener.
    const api = await stack.admin.inject({
      method: 'POST',
      url: '/api/accounts/request-otp/',
      payload: shopper(),
    });
    expect(api.statusCode).toBe(404);
    expect(api.json()).toMatchObject({ success: false, code: 'NOT_FOUND' });
  });

  it("sends helmet's headers with a CSP that allows exactly the board page's inline styles", async () => {
    const board = await stack.admin.inject({ method: 'GET', url: '/admin/queues', headers: asAdmin });
    expect(board.headers['x-content-type-options']).toBe('nosniff');
    expect(board.headers['x-frame-options']).toBe('DENY');
    const csp = String(board.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    const hashes = inlineStyleHashes(board.body);
    expect(hashes.elements.length + hashes.attributes.length).toBeGreaterThan(0);
    for (const hash of [...hashes.elements, ...hashes.attributes]) expect(csp).toContain(hash);

    for (const url of ['/admin/queues', BOARD_API, '/docs/', '/docs/json', '/metrics']) {
      const response = await stack.admin.inject({ method: 'GET', url, headers: asAdmin });
      expect(response.headers['content-security-policy'], url).toBe(csp);
      expect(response.headers['x-content-type-options'], url).toBe('nosniff');
    }
    // Refusals too: the 401 of the board.
    const anonymous = await stack.admin.inject({ method: 'GET', url: '/admin/queues' });
    expect(anonymous.headers['content-security-policy']).toBe(csp);
  });
});

describe('Bull Board', () => {
  it('serves the board to the admin only', async () => {
    const anonymous = await stack.admin.inject({ method: 'GET', url: '/admin/queues' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic/);
    expect(anonymous.json()).toMatchObject({ success: false, code: 'UNAUTHORIZED' });
    const wrong = await stack.admin.inject({
      method: 'GET',
      url: '/admin/queues',
      headers: { authorization: basic('ops', 'guess') },
      remoteAddress: '198.51.100.1',
    });
    expect(wrong.statusCode).toBe(401);

    const board = await stack.admin.inject({ method: 'GET', url: '/admin/queues', headers: asAdmin });
    expect(board.statusCode).toBe(200);
    expect(board.headers['content-type']).toMatch(/text\/html/);
    const queues = await stack.admin.inject({ method: 'GET', url: BOARD_API, headers: asAdmin });
    expect(queues.statusCode).toBe(200);
    const listed = (
      queues.json() as { queues: { name: string; readOnlyMode: boolean; allowRetries: boolean }[] }
    ).queues;
    expect(
      listed.map(({ name, readOnlyMode, allowRetries }) => ({ name, readOnlyMode, allowRetries })),
    ).toEqual(
      expect.arrayContaining([
        { name: 'otp-delivery', readOnlyMode: true, allowRetries: false },
        { name: 'otp-delivery-dead', readOnlyMode: false, allowRetries: true },
      ]),
    );
    expect(listed).toHaveLength(2);
  });

  it('refuses every change but retrying dead letters, whatever the client sends', async () => {
    const change = (method: 'PUT' | 'POST' | 'PATCH', path: string, payload?: object) =>
      stack.admin.inject({
        method,
        url: `${BOARD_API}${path}`,
        headers: asAdmin,
        ...(payload ? { payload } : {}),
      });
    const refused: [method: 'PUT' | 'POST' | 'PATCH', path: string, payload?: object][] = [
      ['PUT', '/pause'],
      ['PUT', '/resume'],
    ];
    for (const queue of ['otp-delivery', 'otp-delivery-dead']) {
      refused.push(
        ['PUT', `/${queue}/pause`],
        ['PUT', `/${queue}/resume`],
        ['PUT', `/${queue}/empty`],
        ['PUT', `/${queue}/obliterate`, { force: true }],
        ['PUT', `/${queue}/clean/failed`],
        ['PUT', `/${queue}/clean/completed`],
        ['PUT', `/${queue}/promote`],
        ['PUT', `/${queue}/concurrency`, { concurrency: 1 }],
        ['PUT', `/${queue}/rate-limit`, { max: 1, duration: 1000 }],
        ['POST', `/${queue}/add`, { name: 'x', data: {} }],
        ['PUT', `/${queue}/rate-limit/release`],
        ['PUT', `/${queue}/job-schedulers/some-scheduler/remove`],
        ['PUT', `/${queue}/job-schedulers/some-scheduler/run`],
        ['PATCH', `/${queue}/job-schedulers/some-scheduler`, { pattern: '* * * * *' }],
        ['PUT', `/${queue}/some-job/clean`],
        ['PUT', `/${queue}/some-job/promote`],
        ['PUT', `/${queue}/some-job/remove-unprocessed-children`],
        ['PATCH', `/${queue}/some-job/update-data`, { data: {} }],
        ['PATCH', `/${queue}/some-job/delay`, { delay: 1 }],
        ['PATCH', `/${queue}/some-job/priority`, { priority: 1 }],
      );
    }
    refused.push(
      ['PUT', '/otp-delivery/some-job/retry'],
      ['PUT', '/otp-delivery/retry/failed'],
      // Dead-letter copies that were replayed already are not run again in bulk.
      ['PUT', '/otp-delivery-dead/retry/completed'],
    );
    for (const [method, path, payload] of refused) {
      const response = await change(method, path, payload);
      expect(response.statusCode, `${method} ${path}`).toBe(403);
      expect(response.json()).toMatchObject({ success: false, code: 'FORBIDDEN' });
    }
    const queues = await stack.admin.inject({ method: 'GET', url: BOARD_API, headers: asAdmin });
    for (const queue of (queues.json() as { queues: { isPaused: boolean; counts: object }[] }).queues) {
      expect(queue.isPaused).toBe(false);
    }

    // Retrying dead letters reaches the board (no such job here; dead-letters.test.ts retries a real one).
    const one = await change('PUT', '/otp-delivery-dead/no-such-job/retry');
    expect(one.statusCode).toBe(404);
    const all = await change('PUT', '/otp-delivery-dead/retry/failed');
    expect(all.statusCode).toBe(200);
    expect(all.json()).toEqual({ retried: 0, skipped: 0 });
  });

  it('throttles failed logins per client IP, across API instances, right credentials included', async () => {
    const attacker = '203.0.113.66';
    const login = (app: AdminApp, remoteAddress: string, password: string) =>
      app.inject({
        method: 'GET',
        url: '/admin/queues',
        headers: { authorization: basic(ADMIN.user, password) },
        remoteAddress,
      });
    // Asking for the login prompt (no credentials) is not a failure.
    for (let i = 0; i < ADMIN_LOGIN_FAILURES_ALLOWED + 2; i += 1) {
      const prompt = await stack.admin.inject({
        method: 'GET',
        url: '/admin/queues',
        remoteAddress: attacker,
      });
      expect(prompt.statusCode).toBe(401);
    }
    for (let i = 0; i < ADMIN_LOGIN_FAILURES_ALLOWED; i += 1) {
      expect((await login(stack.admin, attacker, `guess ${i}`)).statusCode).toBe(401);
    }
    const locked = await login(stack.admin, attacker, ADMIN.password);
    expect(locked.statusCode).toBe(429);
    expect(locked.json()).toEqual({
      success: false,
      code: 'RATE_LIMITED',
      message: expect.stringMatching(/failed admin logins/),
    });
    const retryAfter = Number(locked.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(ADMIN_LOGIN_WINDOW_SECONDS - 60);
    expect(retryAfter).toBeLessThanOrEqual(ADMIN_LOGIN_WINDOW_SECONDS);
    // The board's API and every other instance refuse that address too; other addresses are let in.
    expect(
      (await stack.admin.inject({ method: 'GET', url: BOARD_API, headers: asAdmin, remoteAddress: attacker }))
        .statusCode,
    ).toBe(429);
    const other = await stack.anotherApi();
    try {
      expect((await login(other.admin, attacker, ADMIN.password)).statusCode).toBe(429);
      expect((await login(other.admin, '203.0.113.67', ADMIN.password)).statusCode).toBe(200);
    } finally {
      await other.close();
    }
    expect((await login(stack.admin, '203.0.113.67', ADMIN.password)).statusCode).toBe(200);
    // Metrics and docs are not behind the login, so not behind its throttle either.
    expect(
      (await stack.admin.inject({ method: 'GET', url: '/metrics', remoteAddress: attacker })).statusCode,
    ).toBe(200);
  });

  it('still throttles failed logins while Redis is away, counting in memory', async () => {
    const cut = await stack.anotherApi({ redisUrl: 'redis://127.0.0.1:1' });
    try {
      const login = (password: string) =>
        cut.admin.inject({
          method: 'GET',
          url: '/admin/queues',
          headers: { authorization: basic(ADMIN.user, password) },
          remoteAddress: '203.0.113.99',
        });
      for (let i = 0; i < ADMIN_LOGIN_FAILURES_ALLOWED; i += 1)
        expect((await login('guess')).statusCode).toBe(401);
      expect((await login(ADMIN.password)).statusCode).toBe(429);
    } finally {
      await cut.close();
    }
  });

  it('is off when no admin credentials are configured; metrics and docs stay', async () => {
    const plain = await startStack();
    try {
      const board = await plain.admin.inject({ method: 'GET', url: '/admin/queues' });
      expect(board.statusCode).toBe(404);
      expect(board.json()).toMatchObject({ success: false, code: 'NOT_FOUND' });
      expect((await plain.admin.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
      expect((await plain.admin.inject({ method: 'GET', url: '/docs/json' })).statusCode).toBe(200);
    } finally {
      await plain.close();
    }
  });
});

describe('OpenAPI', () => {
  it('documents every endpoint with its schemas and examples, and serves a UI at /docs', async () => {
    const document = (
      await stack.admin.inject({ method: 'GET', url: '/docs/json' })
    ).json() as OpenApiDocument;
    for (const path of [
      '/api/accounts/request-otp/',
      '/api/accounts/verify-otp/',
      '/api/accounts/resend-otp/',
    ]) {
      expect(operationOf(document, path, 'post')?.requestBody, path).toBeDefined();
      expect(Object.keys(operationOf(document, path, 'post')?.responses ?? {})).toEqual(
        expect.arrayContaining(['200', '400', '413', '415', '429']),
      );
    }
    expect(operationOf(document, '/api/accounts/me', 'get')?.responses).toHaveProperty('401');
    expect(operationOf(document, '/healthz', 'get')).toBeDefined();
    expect(Object.keys(document.paths).some((path) => path.startsWith('/admin'))).toBe(false);
    expect(JSON.stringify(document)).toContain('ann@example.com');
    // The flow's id: answered by request-otp, accepted by verify-otp and resend-otp.
    const schemaOf = (path: string, part: (operation: unknown) => unknown) =>
      JSON.stringify(part(operationOf(document, `/api/accounts/${path}`, 'post')));
    expect(
      schemaOf('request-otp/', (operation) => (operation as { responses: unknown }).responses),
    ).toContain('"verification_id"');
    for (const path of ['verify-otp/', 'resend-otp/']) {
      expect(schemaOf(path, (operation) => (operation as { requestBody: unknown }).requestBody)).toContain(
        '"verification_id"',
      );
    }

    const ui = await stack.admin.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('swagger-ui-bundle.js');
    // The public app's document, as the public app itself would make it.
    expect(document).toEqual(stack.app.swagger());
  });
});

describe('metrics', () => {
  it('count requests, codes issued, verified and refused, password hashes, and show the queues', async () => {
    const body = shopper();
    const code = await requestCode(stack, body);
    const wrong = code === '000000' ? '000001' : '000000';
    expect((await post(stack.app, 'verify-otp/', { email: body.email, otp: wrong })).statusCode).toBe(400);
    expect((await post(stack.app, 'verify-otp/', { email: body.email, otp: code })).statusCode).toBe(200);
    expect(codeIn(stack.google.sent.at(-1))).toBe(code);

    const text = (await stack.admin.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toMatch(/otp_relay_codes_issued_total\{channel="email"\} 1/);
    expect(text).toMatch(/otp_relay_codes_verified_total 1/);
    expect(text).toMatch(/otp_relay_codes_rejected_total\{reason="invalid"\} 1/);
    expect(text).toMatch(
      /otp_relay_http_requests_total\{route="\/api\/accounts\/verify-otp\/",method="POST",status="200"\} 1/,
    );
    expect(text).toMatch(
      /otp_relay_http_request_duration_seconds_bucket\{le="0.1",route="\/api\/accounts\/request-otp\/"/,
    );
    expect(text).toMatch(/otp_relay_queue_jobs\{queue="otp-delivery-dead",state="failed"\} 0/);
    // One request, one password hash; nothing left waiting for a hashing thread.
    expect(text).toMatch(/otp_relay_password_hash_seconds_count 1\n/);
    expect(text).toMatch(/otp_relay_password_hashes_waiting 0\n/);
    // The shop's traffic only: scrapes and the board are on the operators' listener.
    expect(text).not.toMatch(/route="\/(metrics|admin|docs)/);
  });
});
