import { createHash, timingSafeEqual } from 'node:crypto';
import type { RedisClient } from '@otp-relay/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { redisLimiter, retryAfterSeconds } from '../registration/redis-limiter.js';
import type { ErrorResponse } from './error-contract.js';

/** Wrong admin credentials allowed per client IP in a window; past that, every login is refused. */
export const ADMIN_LOGIN_FAILURES_ALLOWED = 10;
export const ADMIN_LOGIN_WINDOW_SECONDS = 15 * 60;

export interface AdminLoginOptions {
  redis: RedisClient;
  queuePrefix: string;
  user: string;
  password: string;
}

/** Constant-time whatever the lengths: the digests compared always have the same size. */
function same(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The user and password of a `Basic` Authorization header; undefined when none was offered. */
function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const encoded = /^Basic\s+(\S*)\s*$/i.exec(header ?? '')?.[1];
  if (encoded === undefined) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString();
  const colon = decoded.indexOf(':');
  return colon === -1
    ? { user: decoded, password: '' }
    : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * HTTP Basic auth for the operators' board, as an onRequest hook. Wrong credentials are counted
 * per client IP (in Redis, so across API instances; in memory while Redis is away); once
 * ADMIN_LOGIN_FAILURES_ALLOWED are spent, every login from that IP is refused with 429 until the
 * window ends, right credentials included, so guessing gains nothing. Only failures count.
 */
export function adminLogin(options: AdminLoginOptions) {
  const failures = redisLimiter({
    redis: options.redis,
    keyPrefix: `${options.queuePrefix}:limit:admin-login`,
    points: ADMIN_LOGIN_FAILURES_ALLOWED,
    durationSeconds: ADMIN_LOGIN_WINDOW_SECONDS,
  });

  return async function requireAdmin(request: FastifyRequest, reply: FastifyReply) {
    const spent = await failures.get(request.ip);
    if (spent && spent.consumedPoints >= ADMIN_LOGIN_FAILURES_ALLOWED) {
      const body: ErrorResponse = {
        success: false,
        code: 'RATE_LIMITED',
        message: 'Too many failed admin logins from your address; try again later.',
      };
      return reply
        .status(429)
        .header('retry-after', String(retryAfterSeconds(spent)))
        .send(body);
    }

    const given = basicCredentials(request.headers.authorization);
    if (given) {
      // Both compared every time: how long it takes says nothing about which one was wrong.
      const userMatches = same(given.user, options.user);
      const passwordMatches = same(given.password, options.password);
      if (userMatches && passwordMatches) return;
      await failures.penalty(request.ip);
    }
    // No credentials at all is a browser asking for the login prompt, not a guess: not counted.
    const body: ErrorResponse = {
      success: false,
      code: 'UNAUTHORIZED',
      message: 'Admin credentials required.',
    };
    return reply
      .status(401)
      .header('www-authenticate', 'Basic realm="otp-relay admin", charset="UTF-8"')
      .send(body);
  };
}
