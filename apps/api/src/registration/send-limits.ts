import type { ApiConfig, Logger, RedisClient } from '@otp-relay/core';
import type { RateLimiterRedis } from 'rate-limiter-flexible';
import { redisLimiter, refundPoint, retryAfterSeconds } from './redis-limiter.js';
import { RegistrationError } from './registration-errors.js';
import { CHANNEL_NAMES, type Destination, type PhoneChannel } from './registration-rules.js';
import { type BudgetCharge, createSendBudgets, type SendBudgetEvents } from './send-budgets.js';

/**
 * The limits registration keeps, counted in Redis (redis-limiter.ts) so every API instance sees
 * one count, and per instance in memory while Redis is away.
 *
 * Every limit is consumed before the work it guards and given back when that work turns out not
 * to count (a send whose transaction failed, a guess that was right), so concurrent requests can
 * never slip past a limit between a check and a write.
 *
 * Destinations are keys (contact-keys.ts for email, E.164 for phones): one budget per mailbox.
 */

/**
 * Which per-IP request count an endpoint draws on: the two that send share one; a verification's
 * status and cancel have their own, so a frontend polling the status spends nothing of the others.
 */
export type IpBucket = 'send' | 'verify' | 'status';

export interface RequestAllowance {
  limit: number;
  remaining: number;
  resetSeconds: number;
}

export interface SendLimits {
  /**
   * Counts one request from `ip` to the endpoints of `bucket`, before anything else is done for
   * it; throws RATE_LIMITED past RATE_LIMIT_IP_MAX.
   */
  takeRequest(bucket: IpBucket, ip: string): Promise<RequestAllowance>;
  /**
   * Counts one message to the destination against every limit a send draws on: the destination's
   * own, its country's on its phone channel (WhatsApp and SMS counted apart), and the deployment's
   * send budgets. Throws RATE_LIMITED past the first two and SEND_BUDGET_EXHAUSTED past a budget;
   * the returned function gives it all back.
   * (The resend cooldown is kept with the send, in Postgres: flow-repository.ts.)
   */
  consumeSend(to: Destination): Promise<() => Promise<void>>;
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
  redis: RedisClient;
  config: ApiConfig;
  logger: Logger;
  budgetEvents?: SendBudgetEvents;
}

function rateLimited(rejection: unknown, message: string): RegistrationError {
  return new RegistrationError('RATE_LIMITED', message, { retryAfterSeconds: retryAfterSeconds(rejection) });
}

/** One point a send takes: what refusing it means, and how it is reported. */
interface SendCharge {
  limiter: RateLimiterRedis;
  key: string;
  refusal: (rejection: unknown) => RegistrationError;
  budget?: BudgetCharge;
}

export function createSendLimits(deps: SendLimitsDeps): SendLimits {
  const { config } = deps;
  const limiter = (name: string, points: number, durationSeconds: number) =>
    redisLimiter({
      redis: deps.redis,
      keyPrefix: `${config.QUEUE_PREFIX}:limit:${name}`,
      points,
      durationSeconds,
    });
  const requestsPerIp: Record<IpBucket, RateLimiterRedis> = {
    send: limiter('ip-send', config.RATE_LIMIT_IP_MAX, config.RATE_LIMIT_IP_WINDOW_SECONDS),
    verify: limiter('ip-verify', config.RATE_LIMIT_IP_MAX, config.RATE_LIMIT_IP_WINDOW_SECONDS),
    status: limiter('ip-status', config.RATE_LIMIT_IP_MAX, config.RATE_LIMIT_IP_WINDOW_SECONDS),
  };
  const perDestination = limiter('send', config.SEND_LIMIT_PER_DESTINATION, config.SEND_LIMIT_WINDOW_SECONDS);
  // Per channel: a pumping burst on SMS must not pause WhatsApp codes to that country, nor the reverse.
  const perCountry: Record<PhoneChannel, { limiter: RateLimiterRedis; cap: number }> = {
    whatsapp: {
      limiter: limiter('whatsapp-country', config.WHATSAPP_COUNTRY_HOURLY_CAP, 3600),
      cap: config.WHATSAPP_COUNTRY_HOURLY_CAP,
    },
    sms: {
      limiter: limiter('sms-country', config.SMS_COUNTRY_HOURLY_CAP, 3600),
      cap: config.SMS_COUNTRY_HOURLY_CAP,
    },
  };
  const guessesPerIp = limiter('verify-ip', config.VERIFY_LIMIT_PER_IP, config.VERIFY_LIMIT_WINDOW_SECONDS);
  const guessesPerMailbox = limiter(
    'verify',
    config.VERIFY_LIMIT_PER_DESTINATION,
    config.VERIFY_LIMIT_WINDOW_SECONDS,
  );
  const budgets = createSendBudgets({
    redis: deps.redis,
    config,
    logger: deps.logger,
    ...(deps.budgetEvents ? { events: deps.budgetEvents } : {}),
  });

  /** Every point a send to `to` takes, in the order their refusals take precedence. */
  function chargesFor(to: Destination): SendCharge[] {
    const charges: SendCharge[] = [
      {
        limiter: perDestination,
        key: to.limitKey,
        refusal: (rejection) =>
          rateLimited(rejection, 'Too many codes were sent to this destination; try again later.'),
      },
    ];
    if (to.channel !== 'email' && to.whatsappCallingCode !== undefined) {
      const callingCode = to.whatsappCallingCode;
      const { limiter: countryLimiter, cap } = perCountry[to.channel];
      const name = CHANNEL_NAMES[to.channel];
      charges.push({
        limiter: countryLimiter,
        key: callingCode,
        refusal: (rejection) => {
          // A burst of sends to one country is what SMS pumping looks like: stop it before it costs money.
          deps.logger.warn(
            { channel: to.channel, countryCallingCode: callingCode, cap },
            `${name} sends to this country calling code hit the hourly cap: possible SMS pumping`,
          );
          return rateLimited(
            rejection,
            `${name} codes to this country are paused for now; try email or later.`,
          );
        },
      });
    }
    for (const budget of budgets.chargesFor(to.channel, to.destination)) {
      charges.push({
        limiter: budget.limiter,
        key: budget.key,
        budget,
        refusal: (rejection) => {
          budgets.refused(budget, rejection);
          return new RegistrationError(
            'SEND_BUDGET_EXHAUSTED',
            budget.budget === 'domain-hourly'
              ? 'Codes to this email domain are paused for now; try again later.'
              : `Codes by ${to.channel} are paused for now; try again later.`,
            { retryAfterSeconds: retryAfterSeconds(rejection) },
          );
        },
      });
    }
    return charges;
  }

  return {
    async takeRequest(bucket, ip) {
      const limit = requestsPerIp[bucket];
      try {
        const result = await limit.consume(ip);
        return {
          limit: limit.points,
          remaining: result.remainingPoints,
          resetSeconds: Math.ceil(result.msBeforeNext / 1000),
        };
      } catch (rejection) {
        throw rateLimited(rejection, 'Too many requests from your network; try again later.');
      }
    },

    async consumeSend(to) {
      // All at once (one round trip's wait); the points taken where another limit refused go back.
      const charges = chargesFor(to);
      const results = await Promise.allSettled(charges.map((charge) => charge.limiter.consume(charge.key)));
      const refunds = charges.flatMap((charge, index) =>
        results[index]?.status === 'fulfilled' ? [refundPoint(charge.limiter, charge.key)] : [],
      );
      const refundAll = async () => {
        await Promise.all(refunds.map((give) => give()));
      };
      const refusedAt = results.findIndex((result) => result.status === 'rejected');
      if (refusedAt >= 0) {
        await refundAll();
        const rejected = results[refusedAt] as PromiseRejectedResult;
        throw (charges[refusedAt] as SendCharge).refusal(rejected.reason);
      }
      charges.forEach((charge, index) => {
        const result = results[index];
        if (charge.budget && result?.status === 'fulfilled') budgets.counted(charge.budget, result.value);
      });
      return refundAll;
    },

    async takeGuess(ip, mailbox) {
      // Both at once (one round trip's wait); a point taken where the other limit refused goes back.
      const refundIp = refundPoint(guessesPerIp, ip);
      const refundMailbox = refundPoint(guessesPerMailbox, mailbox);
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
