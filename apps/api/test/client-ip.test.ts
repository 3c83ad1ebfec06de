import { randomInt, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { type Stack, startStack } from './support/stack.js';

/**
 * Behind a proxy the per-IP limit counts the address the proxy saw, not what the client wrote:
 * each hop appends its peer to X-Forwarded-For, so everything left of our proxy's entry is the
 * client's to invent.
 */

const PROXY = '10.0.0.5';
const CLIENT = '203.0.113.50';
const OTHER_CLIENT = '203.0.113.51';
const LIMIT = 3;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

const spoofed = () => `${randomInt(1, 224)}.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

/** verify-otp from `peer`, carrying `forwardedFor`; it names no open flow, so 400 until limited. */
function verifyVia(app: App, peer: string, forwardedFor: string) {
  return app.inject({
    method: 'POST',
    url: '/api/accounts/verify-otp/',
    payload: { email: 'nobody@example.com', otp: '123456' },
    remoteAddress: peer,
    headers: { 'x-forwarded-for': forwardedFor },
  });
}

async function limitedApi(trustProxy: string) {
  return stack.anotherApi({
    config: {
      TRUST_PROXY: trustProxy,
      RATE_LIMIT_IP_MAX: LIMIT,
      QUEUE_PREFIX: `${stack.config.QUEUE_PREFIX}-client-ip-${randomUUID()}`,
    },
  });
}

describe.each([
  ['a hop count', '1'],
  ["the proxy's network", '10.0.0.0/8'],
])('TRUST_PROXY as %s', (_form, trustProxy) => {
  it('counts a client by the address our proxy appended, whatever it put before it', async () => {
    const api = await limitedApi(trustProxy);
    try {
      for (let request = 0; request < LIMIT; request++) {
        const answer = await verifyVia(api.app, PROXY, `${spoofed()}, ${CLIENT}`);
        expect(answer.statusCode).toBe(400);
      }
      const limited = await verifyVia(api.app, PROXY, `${spoofed()}, ${spoofed()}, ${CLIENT}`);
      expect(limited.statusCode).toBe(429);
      expect(limited.json()).toMatchObject({ success: false, code: 'RATE_LIMITED' });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);

      // Another shopper behind the same proxy has a count of its own.
      expect((await verifyVia(api.app, PROXY, `${spoofed()}, ${OTHER_CLIENT}`)).statusCode).toBe(400);
    } finally {
      await api.close();
    }
  });
});

describe('TRUST_PROXY as a list of proxies', () => {
  it('ignores X-Forwarded-For from a peer that is not one of them', async () => {
    const api = await limitedApi('10.0.0.0/8');
    const direct = '198.51.100.9';
    try {
      for (let request = 0; request < LIMIT; request++) {
        expect((await verifyVia(api.app, direct, spoofed())).statusCode).toBe(400);
      }
      const limited = await verifyVia(api.app, direct, spoofed());
      expect(limited.statusCode).toBe(429);
      expect(limited.json()).toMatchObject({ code: 'RATE_LIMITED' });
    } finally {
      await api.close();
    }
  });
});
