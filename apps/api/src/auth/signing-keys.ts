import { ConfigError, type JwtKeySettings, readJwtSigningKeys, type SigningJwk } from '@otp-relay/core';
import type { PublicJwk } from './jwks-schemas.js';

/**
 * The signing keys the API holds, from the configuration (core's readJwtSigningKeys, which
 * loadApiConfig has already checked; a key file changed since then is refused here the same way).
 */
export function signingKeysFromConfig(config: JwtKeySettings): {
  keys: [SigningJwk, ...SigningJwk[]];
  derived: boolean;
} {
  const result = readJwtSigningKeys(config);
  if ('problems' in result) throw new ConfigError(result.problems);
  const [first, ...rest] = result.keys;
  // parseJwtSigningKeySet refuses an empty set; this keeps the type honest.
  if (!first) throw new ConfigError(['JWT_SIGNING_KEYS: the set has no keys']);
  return { keys: [first, ...rest], derived: result.source === 'JWT_SECRET' };
}

/** What a key publishes: the public point, its kid and what it is for. Never `d`. */
export function publicJwk(key: SigningJwk): PublicJwk {
  return { kty: key.kty, crv: key.crv, x: key.x, y: key.y, kid: key.kid, alg: 'ES256', use: 'sig' };
}
