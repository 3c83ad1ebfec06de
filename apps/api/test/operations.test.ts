import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeIn, post, requestCode, type Stack, shopper, startStack } from './support/stack.js';

/** What operators rely on: the queue board, the OpenAPI document, and the metrics. */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { ADMIN_USER: 'ops', ADMIN_PASSWORD: 'correct horse battery' } });
  stack.startWorker();
});
afterAll(() => stack.close());

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('Bull Board', () => {
  it('serves the board to the admin only', async () => {
    const anonymous = await stack.app.inject({ method: 'GET', url: '/admin/queues' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic/);
    const wrong = await stack.app.inject({
      method: 'GET',
      url: '/admin/queues',
      headers: { authorization: basic('ops', 'guess') },
    });
    expect(wrong.statusCode).toBe(401);

    const board = await stack.app.inject({
      method: 'GET',
      url: '/admin/queues',
      headers: { authorization: basic('ops', 'correct horse battery') },
    });
    expect(board.statusCode).toBe(200);
    expect(board.headers['content-type']).toMatch(/text\/html/);
    const queues = await stack.app.inject({
      method: 'GET',
      url: '/admin/queues/api/queues',
      headers: { authorization: basic('ops', 'correct horse battery') },
    });
    expect(queues.statusCode).toBe(200);
    const names = (queues.json() as { queues: { name: string }[] }).queues.map((queue) => queue.name).sort();
    expect(names).toEqual(['otp-delivery', 'otp-delivery-dead']);
  });

  it('is off when no admin credentials are configured', async () => {
    const plain = await startStack();
    try {
      expect((await plain.app.inject({ method: 'GET', url: '/admin/queues' })).statusCode).toBe(404);
    } finally {
      await plain.close();
    }
  });
});

describe('OpenAPI', () => {
  it('documents every endpoint with its schemas and examples, and serves a UI at /docs', async () => {
    const document = (await stack.app.inject({ method: 'GET', url: '/docs/json' })).json() as {
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
    };
    for (const path of [
      '/api/accounts/request-otp/',
      '/api/accounts/verify-otp/',
      '/api/accounts/resend-otp/',
    ]) {
      expect(document.paths[path]?.post?.requestBody, path).toBeDefined();
      expect(Object.keys(document.paths[path]?.post?.responses ?? {})).toEqual(
        expect.arrayContaining(['200', '400', '429']),
      );
    }
    expect(document.paths['/api/accounts/me']?.get?.responses).toHaveProperty('401');
    expect(document.paths['/healthz']).toBeDefined();
    expect(Object.keys(document.paths).some((path) => path.startsWith('/admin'))).toBe(false);
    expect(JSON.stringify(document)).toContain('ann@example.com');
    // The flow's id: answered by request-otp, accepted by verify-otp and resend-otp.
    const schemaOf = (path: string, part: (operation: unknown) => unknown) =>
      JSON.stringify(part(document.paths[`/api/accounts/${path}`]?.post));
    expect(
      schemaOf('request-otp/', (operation) => (operation as { responses: unknown }).responses),
    ).toContain('"verification_id"');
    for (const path of ['verify-otp/', 'resend-otp/']) {
      expect(schemaOf(path, (operation) => (operation as { requestBody: unknown }).requestBody)).toContain(
        '"verification_id"',
      );
    }

    const ui = await stack.app.inject({ method: 'GET', url: '/docs' });
    expect([200, 302]).toContain(ui.statusCode);
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

    const text = (await stack.app.inject({ method: 'GET', url: '/metrics' })).body;
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
  });
});
