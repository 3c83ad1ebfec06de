import type { SigningJwk } from '@otp-relay/core';
import { type CryptoKey, errors, importJWK, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import type { JwksResponse } from './jwks-schemas.js';
import { publicJwk } from './signing-keys.js';

/**
 * Access tokens: ES256 JWTs signed with the first configured key, a `kid` header naming it, and
 * checked against every key held, so a new key can sign while tokens of the old one run out.
 * The published JWK Set is what a shop's backend verifies them with.
 */

export interface AccessTokenOptions {
  /** The first signs; every key verifies. */
  keys: readonly [SigningJwk, ...SigningJwk[]];
  issuer: string;
  audience: string;
  expiresInSeconds: number;
  /** The clock tokens are issued and checked by; tests move it instead of waiting. */
  now?: () => Date;
}

/** Claims a token carries besides iss, aud, iat and exp; `sub` is the account id. */
export type AccessTokenClaims = JWTPayload & { sub: string };

export type TokenCheck = { subject: string } | { refused: 'expired' | 'invalid' };

export interface AccessTokens {
  sign(claims: AccessTokenClaims): Promise<string>;
  /** Never throws for a bad token: says why it was refused. */
  verify(token: string): Promise<TokenCheck>;
  /** The public keys, for /.well-known/jwks.json. */
  readonly jwks: JwksResponse;
}

const ALGORITHM = 'ES256';

export async function createAccessTokens(options: AccessTokenOptions): Promise<AccessTokens> {
  const now = options.now ?? (() => new Date());
  const [signer] = options.keys;
  const signingKey = await importJWK(signer, ALGORITHM);
  // Verification holds only the public halves, imported for ES256 alone: a token's own header
  // cannot make jose use one of them with another algorithm.
  const verifyKeys = new Map<string, CryptoKey>();
  for (const key of options.keys) {
    const { kty, crv, x, y } = key;
    verifyKeys.set(key.kid, (await importJWK({ kty, crv, x, y }, ALGORITHM)) as CryptoKey);
  }
  const jwks: JwksResponse = { keys: options.keys.map(publicJwk) };

  return {
    jwks,
    async sign(claims) {
      const issuedAt = Math.floor(now().getTime() / 1000);
      return new SignJWT(claims)
        .setProtectedHeader({ alg: ALGORITHM, kid: signer.kid, typ: 'JWT' })
        .setIssuer(options.issuer)
        .setAudience(options.audience)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + options.expiresInSeconds)
        .sign(signingKey);
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(
          token,
          (header) => {
            const key = header.kid === undefined ? undefined : verifyKeys.get(header.kid);
            if (!key) throw new errors.JWKSNoMatchingKey();
            return key;
          },
          {
            algorithms: [ALGORITHM],
            issuer: options.issuer,
            audience: options.audience,
            requiredClaims: ['sub', 'exp', 'iat'],
            currentDate: now(),
          },
        );
        return typeof payload.sub === 'string' && payload.sub !== ''
          ? { subject: payload.sub }
          : { refused: 'invalid' };
      } catch (error) {
        if (error instanceof errors.JWTExpired) return { refused: 'expired' };
        // Whatever else jose refuses (signature, kid, alg, claims, encoding) is the client's token.
        if (error instanceof errors.JOSEError) return { refused: 'invalid' };
        throw error;
      }
    },
  };
}
