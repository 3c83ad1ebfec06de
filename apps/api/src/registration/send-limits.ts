import type { ApiConfig, Logger } from '@otp-relay/core';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { RegistrationError } from './registration-errors.js';

/**
 * Limits counted in Redis so every API instance sees one count. While Redis is unreachable each
 * instance counts on its own in memory (rate-limiter-flexible's insurance limiter): limits hold per
 * instance instead of failing open or refusing every shopper.
 *
 * Every limit is consumed before the work it guards and given back when that work turns out not
 * to count (a send whose transaction failed, a guess that was right), so concurrent requests can
 * never slip past a limit between a check and a write.
 *
 * Destinations are keys (contact-keys.ts for email, E.164 for phones): one budget per mailbox.
 */

export interface SendLimits {
  /**
   * Counts one message to the destination (and, for WhatsApp, to its country); throws
   * RATE_LIMITED past a budget. The returned function gives it all back. (The resend cooldown is
   * kept with the send, in Postgres: flow-repository.ts.)
   */
  consumeSend(destinationKey: string, whatsappCallingCode?: string): Promise<() => Promise<void>>;
  /**
   * Takes a wrong-code point from the caller's IP and one from the mailbox, before the code is
   * judged; throws RATE_LIMITED when either is spent. Give them back with the returned handle.
   */
  takeGuess(ip: string, mailbox: string): Promise<GuessTicket>;
}

export interface GuessTicket {
  /** The code was right (or never judged): nothing counts. */
  refundAll(): Promise<void>;
  /** No open flow was named: the guess counts against the IP only. */
  refundMailbox(): Promise<void>;
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

const retryAfterSeconds = (rejection: unknown) =>
  Math.max(1, Math.ceil((rejection instanceof RateLimiterRes ? rejection.msBeforeNext : 60_000) / 1000));

function rateLimited(rejection: unknown, message: string): RegistrationError {
  return new RegistrationError('RATE_LIMITED', message, { retryAfterSeconds: retryAfterSeconds(rejection) });
}

/** Gives a point back; a refund that fails only leaves the limit a little stricter. */
const refund = (limit: RateLimiterRedis, key: string) => () =>
  limit.reward(key, 1).then(
    () => undefined,
    () => undefined,
  );

export function createSendLimits(deps: SendLimitsDeps): SendLimits {
  const { config } = deps;
  const perDestination = limiter(
    deps,
    'send',
    config.SEND_LIMIT_PER_DESTINATION,
    config.SEND_LIMIT_WINDOW_SECONDS,
  );
  const perCountry = limiter(deps, 'whatsapp-country', config.WHATSAPP_COUNTRY_HOURLY_CAP, 3600);
  const guessesPerIp = limiter(
    deps,
    'verify-ip',
    config.VERIFY_LIMIT_PER_IP,
    config.VERIFY_LIMIT_WINDOW_SECONDS,
  );
  const guessesPerMailbox = limiter(
    deps,
    'verify',
    config.VERIFY_LIMIT_PER_DESTINATION,
    config.VERIFY_LIMIT_WINDOW_SECONDS,
  );

  return {
    async consumeSend(destinationKey, whatsappCallingCode) {
      const refunds: (() => Promise<void>)[] = [];
      const refundAll = async () => {
        await Promise.all(refunds.map((give) => give()));
      };
      try {
        await perDestination.consume(destinationKey).catch((rejection: unknown) => {
          throw rateLimited(rejection, 'Too many codes were sent to this destination; try again later.');
        });
        refunds.push(refund(perDestination, destinationKey));
        if (whatsappCallingCode !== undefined) {
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
          refunds.push(refund(perCountry, whatsappCallingCode));
        }
      } catch (error) {
        await refundAll();
        throw error;
      }
      return refundAll;
    },

    async takeGuess(ip, mailbox) {
      // Both at once (one round trip's wait); a point taken where the other limit refused goes back.
      const refundIp = refund(guessesPerIp, ip);
      const refundMailbox = refund(guessesPerMailbox, mailbox);
      const [fromIp, fromMailbox] = await Promise.allSettled([
        guessesPerIp.consume(ip),
        guessesPerMailbox.consume(mailbox),
      ]);
      if (fromIp.status === 'rejected') {
        if (fromMailbox.status === 'fulfilled') await refundMailbox();
        throw rateLimited(fromIp.reason, 'Too many wrong codes from your network; try again later.');
      }
      if (fromMailbox.status === 'rejected') {
        await refundIp();
        throw rateLimited(fromMailbox.reason, 'Too many wrong codes for this address; try again later.');
      }
      return {
        refundMailbox,
        async refundAll() {
          await Promise.all([refundIp(), refundMailbox()]);
        },
      };
    },
  };
}
