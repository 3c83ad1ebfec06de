import type { RedisClient } from '@otp-relay/core';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * The one way limits are counted: rate-limiter-flexible in Redis, so every API instance sees one
 * count; while Redis is unreachable each instance counts on its own in memory (the insurance
 * limiter), so a limit holds per instance instead of failing open or refusing every shopper.
 * Fixed windows: a window starts with its first point and lasts `durationSeconds`.
 */
export function redisLimiter(options: {
  redis: RedisClient;
  /** Already namespaced, e.g. `${QUEUE_PREFIX}:limit:send`. */
  keyPrefix: string;
  points: number;
  durationSeconds: number;
}): RateLimiterRedis {
  const { points, durationSeconds } = options;
  return new RateLimiterRedis({
    storeClient: options.redis,
    keyPrefix: options.keyPrefix,
    points,
    duration: durationSeconds,
    insuranceLimiter: new RateLimiterMemory({ points, duration: durationSeconds }),
  });
}

/** Whole seconds until a refused limit lets the next point through (at least 1). */
export function retryAfterSeconds(rejection: unknown): number {
  return Math.max(
    1,
    Math.ceil((rejection instanceof RateLimiterRes ? rejection.msBeforeNext : 60_000) / 1000),
  );
}

/** Gives a point back; a refund that fails only leaves the limit a little stricter. */
export const refundPoint = (limit: RateLimiterRedis, key: string) => () =>
  limit.reward(key, 1).then(
    () => undefined,
    () => undefined,
  );
