import { deriveJwtSigningKey } from '@otp-relay/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessTokens } from '../src/auth/access-tokens.js';
import { post, type Stack, shopper, startStack } from './support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    env: { CORS_ORIGINS: 'https://shop.example, https://m.shop.example', OTP_DEBUG_RESPONSE: 'true' },
  });
});
afterAll(() => stack.close());

describe('HTTP hardening', () => {
  it("sends helmet's security headers and the request id", async () => {
    const response = await stack.app.inject({ method: 'GET', url: '/healthz' });
    expect(response.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'strict-transport-security': expect.stringContaining('max-age='),
      'x-request-id': expect.any(String),
    });
  });

  it('allows cross-origin calls from CORS_ORIGINS only', async () => {
    const preflight = (origin: string) =>
      stack.app.inject({
        method: 'OPTIONS',
        url: '/api/accounts/request-otp/',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
    const allowed = await preflight('https://m.shop.example');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://m.shop.example');
    const foreign = await preflight('https://evil.example');
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    // A local frontend is let in by development only, never by this (test) configuration.
    const local = await preflight('http://localhost:5173');
    expect(local.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('in development also allows a frontend on localhost, and nothing that only looks like it', async () => {
    const development = await stack.anotherApi({ config: { NODE_ENV: 'development' } });
    try {
      const preflight = (origin: string) =>
        development.app.inject({
          method: 'OPTIONS',
          url: '/api/accounts/request-otp/',
          headers: { origin, 'access-control-request-method': 'POST' },
        });
      const local = await preflight('http://localhost:5173');
      expect(local.headers['access-control-allow-origin']).toBe('http://localhost:5173');
      const listed = await preflight('https://shop.example');
      expect(listed.headers['access-control-allow-origin']).toBe('https://shop.example');
      for (const lookalike of ['http://localhost.evil.example', 'http://evil.example:5173']) {
        const response = await preflight(lookalike);
        expect(response.headers['access-control-allow-origin'], lookalike).toBeUndefined();
      }
    } finally {
      await development.close();
    }
  });

  it('refuses an expired token, and one for another audience, with 401 JSON', async () => {
    const body = shopper();
    const issued = await post(stack.app, 'request-otp/', body);
    const verified = await post(stack.app, 'verify-otp/', {
      email: body.email,
      otp: issued.json().debug_otp,
    });
    const { id } = verified.json().user as { id: string };
    // Signed with the stack's own key (derived from JWT_SECRET), so only the claims are wrong.
    const signer = (options: { audience?: string; now?: () => Date }) =>
      createAccessTokens({
        keys: [deriveJwtSigningKey(stack.config.JWT_SECRET)],
        issuer: stack.config.JWT_ISSUER,
        audience: options.audience ?? stack.config.JWT_AUDIENCE,
        expiresInSeconds: 3600,
        ...(options.now ? { now: options.now } : {}),
      });
    const twoHoursAgo = () => new Date(Date.now() - 7200_000);
    const expired = await (await signer({ now: twoHoursAgo })).sign({ sub: id });
    const otherAudience = await (await signer({ audience: 'another-service' })).sign({ sub: id });
    for (const [token, reason] of [
      [expired, /expired/i],
      [otherAudience, /invalid|aud/i],
    ] as const) {
      const me = await stack.app.inject({
        method: 'GET',
        url: '/api/accounts/me',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(me.statusCode).toBe(401);
      expect(me.json()).toMatchObject({
        success: false,
        code: 'UNAUTHORIZED',
        message: expect.stringMatching(reason),
      });
    }
  });
});

describe('mail sent before verification', () => {
  it('carries nothing the caller typed: a name cannot turn our code email into a lure', async () => {
    stack.startWorker();
    const lure = { first_name: 'Your parcel is held. Visit parcels.example', last_name: 'Pay the fee today' };
    const body = shopper({ ...lure, username: 'claim.your.prize.example' });
    expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
    const [email] = await stack.google.waitForEmails(1, { to: body.email });
    for (const part of [email?.raw ?? '', email?.text ?? '', email?.html ?? '']) {
      expect(part).not.toMatch(/parcel|fee today|prize/i);
    }
    expect(email?.text).toMatch(/^Hi,$/m);
  });
});
