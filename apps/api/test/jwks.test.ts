// Access tokens as a shop's backend sees them: verified with jose against /.well-known/jwks.json,
// across a key rotation, and refused (on /me and by the JWKS) whenever they were not ours.
import { generateKeyPairSync, hkdfSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { deriveJwtSigningKey, type SigningJwk } from '@otp-relay/core';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  createRemoteJWKSet,
  errors,
  exportSPKI,
  importJWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { post, type Stack, shopper, startStack } from './support/stack.js';

/** A fresh P-256 private JWK with a kid, as JWT_SIGNING_KEYS holds them. */
function newKey(kid: string): SigningJwk {
  const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return { ...(jwk as Omit<SigningJwk, 'kid'>), kid };
}
const keySet = (...keys: SigningJwk[]) => JSON.stringify({ keys });

const oldKey = newKey('2025-01');
const newerKey = newKey('2025-06');

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { OTP_DEBUG_RESPONSE: 'true', JWT_SIGNING_KEYS: keySet(oldKey) } });
});
afterAll(() => stack.close());

/** Registers a shopper on `app` and returns the token verify-otp gave, and the account id. */
async function register(app: App): Promise<{ token: string; userId: string; email: string }> {
  const body = shopper();
  const issued = await post(app, 'request-otp/', body);
  expect(issued.statusCode).toBe(200);
  const verified = await post(app, 'verify-otp/', {
    email: body.email,
    otp: issued.json().debug_otp,
    verification_id: issued.json().verification_id,
  });
  expect(verified.statusCode).toBe(200);
  return { token: verified.json().token, userId: verified.json().user.id, email: body.email };
}

function me(app: App, token: string) {
  return app.inject({
    method: 'GET',
    url: '/api/accounts/me',
    headers: { authorization: `Bearer ${token}` },
  });
}

/** Listens on an ephemeral port; the base URL a shop's backend would be configured with. */
async function listen(app: App): Promise<URL> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return new URL(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);
}

/** What a shop's backend does: verify with the published keys, its issuer and audience. */
function shopVerify(base: URL, token: string) {
  const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', base));
  return jwtVerify(token, jwks, { issuer: stack.config.JWT_ISSUER, audience: stack.config.JWT_AUDIENCE });
}

describe("a shop's backend", () => {
  it('verifies the token from verify-otp with jose against /.well-known/jwks.json', async () => {
    const base = await listen(stack.app);
    const { token, userId, email } = await register(stack.app);

    const { payload, protectedHeader } = await shopVerify(base, token);
    expect(protectedHeader).toEqual({ alg: 'ES256', kid: '2025-01', typ: 'JWT' });
    expect(payload).toMatchObject({
      sub: userId,
      iss: stack.config.JWT_ISSUER,
      aud: stack.config.JWT_AUDIENCE,
      email,
      email_verified: true,
      phone_number_verified: false,
    });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(stack.config.JWT_EXPIRES_IN_SECONDS);

    // Another shop's issuer or audience is not accepted by a backend that checks them.
    const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', base));
    await expect(jwtVerify(token, jwks, { audience: 'another-shop' })).rejects.toThrow(
      errors.JWTClaimValidationFailed,
    );
  });

  it('keeps verifying across a rotation, until the old key is removed', async () => {
    const { token: oldToken, userId } = await register(stack.app);

    // The new key first (it signs), the old one second (it still verifies).
    const rotated = await stack.anotherApi({ config: { JWT_SIGNING_KEYS: keySet(newerKey, oldKey) } });
    try {
      const base = await listen(rotated.app);
      const published = await rotated.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      expect(published.json().keys.map((key: { kid: string }) => key.kid)).toEqual(['2025-06', '2025-01']);

      expect((await me(rotated.app, oldToken)).json().user.id).toBe(userId);
      expect((await shopVerify(base, oldToken)).payload.sub).toBe(userId);

      const { token: newToken, userId: newUser } = await register(rotated.app);
      const verified = await shopVerify(base, newToken);
      expect(verified.protectedHeader.kid).toBe('2025-06');
      expect(verified.payload.sub).toBe(newUser);
      expect((await me(rotated.app, newToken)).statusCode).toBe(200);
    } finally {
      await rotated.close();
    }

    // Once the old tokens have run out, the old key goes: what it signed is refused everywhere.
    const removed = await stack.anotherApi({ config: { JWT_SIGNING_KEYS: keySet(newerKey) } });
    try {
      const base = await listen(removed.app);
      const refused = await me(removed.app, oldToken);
      expect(refused.statusCode).toBe(401);
      expect(refused.json()).toMatchObject({ success: false, code: 'UNAUTHORIZED' });
      await expect(shopVerify(base, oldToken)).rejects.toThrow(errors.JWKSNoMatchingKey);

      const { token } = await register(removed.app);
      expect((await shopVerify(base, token)).protectedHeader.kid).toBe('2025-06');
    } finally {
      await removed.close();
    }
  });
});

describe('tokens that are not ours', () => {
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = () => Math.floor(Date.now() / 1000);

  /** A token with the right claims, signed as the test says (by default exactly as the API would). */
  async function forge(
    options: { key?: SigningJwk; alg?: string; claims?: JWTPayload; header?: object } = {},
  ): Promise<{ token: string; userId: string }> {
    const { userId } = await register(stack.app);
    const key = options.key ?? oldKey;
    const alg = options.alg ?? 'ES256';
    // Claims set to undefined are left out of the token.
    const claims = {
      sub: userId,
      iss: stack.config.JWT_ISSUER,
      aud: stack.config.JWT_AUDIENCE,
      iat: now(),
      exp: now() + 600,
      ...options.claims,
    };
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg, kid: key.kid, ...options.header })
      .sign(await importJWK(key, alg));
    return { token, userId };
  }

  async function expectRefused(token: string, message = /invalid/i) {
    const response = await me(stack.app, token);
    expect(response.statusCode, token).toBe(401);
    expect(response.json()).toEqual({
      success: false,
      code: 'UNAUTHORIZED',
      message: expect.stringMatching(message),
    });
  }

  it('a token signed as the API signs is accepted (the control for the cases below)', async () => {
    const { token, userId } = await forge();
    expect((await me(stack.app, token)).json().user.id).toBe(userId);
  });

  it('refuses a key it does not hold: an unknown kid, ours, or the key sent along in the header', async () => {
    const stranger = newKey('stranger');
    await expectRefused((await forge({ key: stranger })).token);
    await expectRefused((await forge({ key: { ...stranger, kid: oldKey.kid } })).token);
    // RFC 7515's `jwk` and `jku` headers: a verifier that trusted them would trust anyone.
    const { d: _d, ...strangerPublic } = stranger;
    const embedded = { jwk: strangerPublic, jku: 'https://attacker.example/jwks.json' };
    await expectRefused((await forge({ key: stranger, header: embedded })).token);
    await expectRefused((await forge({ key: { ...stranger, kid: oldKey.kid }, header: embedded })).token);
    for (const kid of [undefined, 7, ['2025-01'], '']) {
      const { token } = await forge();
      const [, payload, signature] = token.split('.');
      await expectRefused([b64({ alg: 'ES256', kid }), payload, signature].join('.'));
    }
  });

  it('refuses alg none, and HS256 keyed with our public key (algorithm confusion)', async () => {
    const { token, userId } = await forge();
    const [, payload] = token.split('.');
    for (const alg of ['none', 'None', 'NONE']) {
      await expectRefused(`${b64({ alg, kid: oldKey.kid })}.${payload}.`);
    }
    // Every form an attacker could take the published key in as an HMAC secret.
    const { d: _d, ...publicJwk } = oldKey;
    const spki = await exportSPKI((await importJWK(publicJwk, 'ES256', { extractable: true })) as CryptoKey);
    const secrets = [
      spki,
      JSON.stringify(publicJwk),
      Buffer.concat([
        Buffer.from([4]),
        Buffer.from(oldKey.x, 'base64url'),
        Buffer.from(oldKey.y, 'base64url'),
      ]),
    ];
    for (const secret of secrets) {
      for (const alg of ['HS256', 'HS384', 'HS512']) {
        const forged = await new SignJWT({ sub: userId })
          .setProtectedHeader({ alg, kid: oldKey.kid })
          .setIssuedAt()
          .setIssuer(stack.config.JWT_ISSUER)
          .setAudience(stack.config.JWT_AUDIENCE)
          .setExpirationTime('10m')
          .sign(typeof secret === 'string' ? new TextEncoder().encode(secret) : secret);
        await expectRefused(forged);
      }
    }
  });

  it('refuses the HS256 tokens issued before the upgrade', async () => {
    const { userId } = await register(stack.app);
    // The old signing key: HKDF of JWT_SECRET with the old purpose label.
    const legacyKey = new Uint8Array(
      hkdfSync('sha256', stack.config.JWT_SECRET, 'otp-relay', 'jwt-signing', 32),
    );
    const legacy = await new SignJWT({ sub: userId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt()
      .setIssuer(stack.config.JWT_ISSUER)
      .setAudience(stack.config.JWT_AUDIENCE)
      .setExpirationTime('10m')
      .sign(legacyKey);
    await expectRefused(legacy);
  });

  it('refuses another curve or algorithm under our kid', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'jwk' });
    // A P-384 key where a P-256 one belongs: what a forger would send, so the type is told a lie.
    const key = { ...p384, kid: oldKey.kid } as unknown as SigningJwk;
    await expectRefused((await forge({ key, alg: 'ES384' })).token);
  });

  it('refuses a tampered token: claims changed after signing, or a signature cut short', async () => {
    const { token } = await forge();
    const other = await register(stack.app);
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as JWTPayload;
    await expectRefused([header, b64({ ...claims, sub: other.userId }), signature].join('.'));
    await expectRefused([header, b64({ ...claims, exp: now() + 86_400 * 365 }), signature].join('.'));
    await expectRefused([header, payload, signature?.slice(0, -4)].join('.'));
    await expectRefused([header, payload].join('.'));
  });

  it('refuses our own signature on the wrong claims: issuer, audience, no expiry, no subject', async () => {
    await expectRefused((await forge({ claims: { iss: 'someone-else' } })).token);
    await expectRefused((await forge({ claims: { aud: 'another-service' } })).token);
    await expectRefused((await forge({ claims: { exp: undefined } })).token);
    await expectRefused((await forge({ claims: { sub: undefined } })).token);
  });

  it('refuses an expired token, saying so', async () => {
    const { token } = await register(stack.app);
    expect((await me(stack.app, token)).statusCode).toBe(200);
    stack.advanceClock(stack.config.JWT_EXPIRES_IN_SECONDS + 1);
    try {
      await expectRefused(token, /expired/i);
    } finally {
      stack.advanceClock(-(stack.config.JWT_EXPIRES_IN_SECONDS + 1));
    }
    const past = now() - 3600;
    await expectRefused((await forge({ claims: { iat: past - 60, exp: past } })).token, /expired/i);
  });

  it('answers a missing or non-bearer Authorization with the same 401', async () => {
    for (const headers of [{}, { authorization: 'Basic dXNlcjpwYXNz' }, { authorization: 'Bearer' }]) {
      const response = await stack.app.inject({ method: 'GET', url: '/api/accounts/me', headers });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ success: false, code: 'UNAUTHORIZED', message: /Bearer/ });
    }
  });
});

describe('/.well-known/jwks.json', () => {
  it('publishes only public members, with cache headers, for every configured key', async () => {
    const rotated = await stack.anotherApi({ config: { JWT_SIGNING_KEYS: keySet(newerKey, oldKey) } });
    try {
      const response = await rotated.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.headers['cache-control']).toBe('public, max-age=300');
      expect(response.json()).toEqual({
        keys: [newerKey, oldKey].map(({ kty, crv, x, y, kid }) => ({
          kty,
          crv,
          x,
          y,
          kid,
          alg: 'ES256',
          use: 'sig',
        })),
      });
      for (const key of [newerKey, oldKey]) expect(response.body).not.toContain(key.d);
      expect(response.body).not.toMatch(/"d"|"p"|"q"|"dp"|"dq"|"qi"|"k"/);
    } finally {
      await rotated.close();
    }
  });

  it('without JWT_SIGNING_KEYS publishes the key derived from JWT_SECRET, the same on every instance', async () => {
    const derivedEnv = { JWT_SIGNING_KEYS: undefined, JWT_SIGNING_KEYS_FILE: undefined };
    const [first, second] = await Promise.all([
      stack.anotherApi({ config: derivedEnv }),
      stack.anotherApi({ config: derivedEnv }),
    ]);
    try {
      const derived = deriveJwtSigningKey(stack.config.JWT_SECRET);
      expect(derived.kid).toBe(await calculateJwkThumbprint(derived));
      const response = await first.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      expect(response.json()).toEqual({
        keys: [
          { kty: 'EC', crv: 'P-256', x: derived.x, y: derived.y, kid: derived.kid, alg: 'ES256', use: 'sig' },
        ],
      });
      expect(response.body).not.toContain(derived.d);
      // A token from one instance is good on the other: several pods need no shared key setting.
      const { token, userId } = await register(first.app);
      expect((await me(second.app, token)).json().user.id).toBe(userId);
      // And not on the stack's, which holds another key.
      expect((await me(stack.app, token)).statusCode).toBe(401);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});
