import type { ApiConfig, Logger } from '@otp-relay/core';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { RegistrationError } from './registration-errors.js';

/**
 * Limits per destination rather than per client: however many IPs a bot uses, one email address
 * or phone number gets at most so many codes, and so many wrong guesses. Counted in Redis so every
 * API instance sees one count. While Redis is unreachable each instance counts on its own in
 * memory (rate-limiter-flexible's insurance limiter): limits hold per instance instead of failing
 * open or refusing every shopper.
 */

export interface SendLimits {
  /** Counts one message to `destination` (and, for WhatsApp, to its country); throws RATE_LIMITED past a limit. */
  consumeSend(destination: string, whatsappCallingCode?: string): Promise<void>;
  /** Throws RATE_LIMITED when the address has used up its wrong guesses. */
  assertMayVerify(email: string): Promise<void>;
  recordWrongCode(email: string): Promise<void>;
}

export interface SendLimitsDeps {
  redis: Redis;
  config: ApiConfig;
  logger: Logger;
}

function limiter(deps: SendLimitsDeps, name: string, points: number, durationSeconds: number) {
  return new RateLimiterRedis({
    storeClient: deps.redis,
    keyPrefix: `${deps.config.QUEUE_PREFIX}:limit:${name}`,
    points,
    duration: durationSeconds,
    insuranceLimiter: new RateLimiterMemory({ points, duration: durationSeconds }),
  });
}

function rateLimited(rejection: unknown, message: string): RegistrationError {
  const retryAfterMs = rejection instanceof RateLimiterRes ? rejection.msBeforeNext : 60_000;
  return new RegistrationError('RATE_LIMITED', message, {
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
  });
}

export function createSendLimits(deps: SendLimitsDeps): SendLimits {
  const { config } = deps;
  const perDestination = limiter(
    deps,
    'send',
    config.SEND_LIMIT_PER_DESTINATION,
    config.SEND_LIMIT_WINDOW_SECONDS,
  );
  const perCountry = limiter(deps, 'whatsapp-country', config.WHATSAPP_COUNTRY_HOURLY_CAP, 3600);
  const wrongCodes = limiter(
    deps,
    'verify',
    config.VERIFY_LIMIT_PER_DESTINATION,
    config.VERIFY_LIMIT_WINDOW_SECONDS,
  );

  return {
    async consumeSend(destination, whatsappCallingCode) {
      await perDestination.consume(destination).catch((rejection: unknown) => {
        throw rateLimited(rejection, 'Too many codes were sent to this destination; try again later.');
      });
      if (whatsappCallingCode === undefined) return;
      await perCountry.consume(whatsappCallingCode).catch((rejection: unknown) => {
        // A burst of sends to one country is what SMS pumping looks like: stop it before it costs money.
        deps.logger.warn(
          { countryCallingCode: whatsappCallingCode, cap: config.WHATSAPP_COUNTRY_HOURLY_CAP },
          'WhatsApp sends to this country calling code hit the hourly cap: possible SMS pumping',
        );
        throw rateLimited(
          rejection,
          'WhatsApp codes to this country are paused for now; try email or later.',
        );
      });
    },
    async assertMayVerify(email) {
      const used = await wrongCodes.get(email);
      if (used && used.consumedPoints >= config.VERIFY_LIMIT_PER_DESTINATION) {
        throw rateLimited(used, 'Too many wrong codes for this address; try again later.');
      }
    },
    async recordWrongCode(email) {
      // Past the limit the rejection is the expected outcome, not an error.
      await wrongCodes.consume(email).catch(() => undefined);
    },
  };
}
