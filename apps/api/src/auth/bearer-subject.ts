import createError from '@fastify/error';
import type { AccessTokens } from './access-tokens.js';

/**
 * The HTTP side of access tokens: the account id in a request's `Authorization: Bearer` header,
 * or a 401 (UNAUTHORIZED in the error contract) saying what is wrong, never which key or check.
 */

const NoTokenError = createError(
  'OTP_RELAY_TOKEN_MISSING',
  'No bearer token: send the token from verify-otp as "Authorization: Bearer <token>".',
  401,
);
const TokenExpiredError = createError('OTP_RELAY_TOKEN_EXPIRED', 'Authorization token expired.', 401);
const TokenInvalidError = createError('OTP_RELAY_TOKEN_INVALID', 'Authorization token is invalid.', 401);

// One scheme (case-insensitive, RFC 7235), one space-free token (a JWT is three base64url parts).
const BEARER = /^Bearer +(\S+) *$/i;

export async function bearerSubject(
  tokens: AccessTokens,
  authorization: string | undefined,
): Promise<string> {
  const token = BEARER.exec(authorization ?? '')?.[1];
  if (!token) throw new NoTokenError();
  const check = await tokens.verify(token);
  if ('subject' in check) return check.subject;
  throw check.refused === 'expired' ? new TokenExpiredError() : new TokenInvalidError();
}
