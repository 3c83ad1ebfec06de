import type { ApiConfig, Logger, RedisClient } from '@otp-relay/core';
import type { Channel } from '@otp-relay/db';
import { type RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { redisLimiter } from './redis-limiter.js';

/**
 * What the whole deployment may send, whoever asks: per channel per hour and per day, and per
 * receiving email domain per hour. Per-IP and per-destination limits cannot stop fresh random
 * addresses; these can, so neither a flood nor a bug can burn the sender's quota (Gmail stops a
 * sender for up to a day past ~2,000 a day), its reputation, or the WhatsApp bill.
 *
 * Counted in Redis across API instances (redis-limiter.ts). Crossing SEND_BUDGET_WARN_PERCENT logs
 * a warning once per window; the metrics show each budget's use.
 */

export type BudgetName = 'hourly' | 'daily' | 'domain-hourly';

export interface SendBudgetEvents {
  /** A send was counted against a budget: `used` of `cap` in its current window. */
  budgetUsed(channel: Channel, budget: BudgetName, used: number, cap: number): void;
  /** A budget crossed its warning share. */
  budgetWarning(channel: Channel, budget: BudgetName): void;
  /** A send was refused: the budget is spent for this window. */
  budgetRefused(channel: Channel, budget: BudgetName): void;
}

export const NO_BUDGET_EVENTS: SendBudgetEvents = {
  budgetUsed() {},
  budgetWarning() {},
  budgetRefused() {},
};

/** One budget for one send: its limiter and the key the send counts under. */
export interface BudgetCharge {
  channel: Channel;
  budget: BudgetName;
  cap: number;
  limiter: RateLimiterRedis;
  key: string;
}

const HOUR = 3600;
const DAY = 24 * HOUR;

/** The receiving domain of an address, as mail servers compare it (case-insensitive). */
export function emailDomain(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

export function createSendBudgets(deps: {
  redis: RedisClient;
  config: ApiConfig;
  logger: Logger;
  events?: SendBudgetEvents;
}) {
  const { config, logger } = deps;
  const events = deps.events ?? NO_BUDGET_EVENTS;
  type Spec = [budget: BudgetName, name: string, cap: number, durationSeconds: number];
  // A cap of 0 is no budget at all.
  const budgetsOf = (specs: Spec[]) =>
    specs
      .filter(([, , cap]) => cap > 0)
      .map(([budget, name, cap, durationSeconds]) => ({
        budget,
        cap,
        limiter: redisLimiter({
          redis: deps.redis,
          keyPrefix: `${config.QUEUE_PREFIX}:limit:budget:${name}`,
          points: cap,
          durationSeconds,
        }),
      }));
  const budgets: Record<Channel, Omit<BudgetCharge, 'channel' | 'key'>[]> = {
    email: budgetsOf([
      ['hourly', 'email-hourly', config.SEND_BUDGET_EMAIL_HOURLY, HOUR],
      ['daily', 'email-daily', config.SEND_BUDGET_EMAIL_DAILY, DAY],
      ['domain-hourly', 'email-domain', config.SEND_BUDGET_EMAIL_DOMAIN_HOURLY, HOUR],
    ]),
    whatsapp: budgetsOf([
      ['hourly', 'whatsapp-hourly', config.SEND_BUDGET_WHATSAPP_HOURLY, HOUR],
      ['daily', 'whatsapp-daily', config.SEND_BUDGET_WHATSAPP_DAILY, DAY],
    ]),
    sms: budgetsOf([
      ['hourly', 'sms-hourly', config.SEND_BUDGET_SMS_HOURLY, HOUR],
      ['daily', 'sms-daily', config.SEND_BUDGET_SMS_DAILY, DAY],
    ]),
  };

  return {
    /** The budgets one send to `destination` counts against (none when every cap is 0). */
    chargesFor(channel: Channel, destination: string): BudgetCharge[] {
      return budgets[channel].map((charge) => ({
        ...charge,
        channel,
        key: charge.budget === 'domain-hourly' ? emailDomain(destination) : 'all',
      }));
    },

    /** Reports a counted send: the gauge, and the warning for the one send that crosses the share. */
    counted(charge: BudgetCharge, result: RateLimiterRes) {
      const used = Math.min(result.consumedPoints, charge.cap);
      events.budgetUsed(charge.channel, charge.budget, used, charge.cap);
      const warnAt = Math.ceil((charge.cap * config.SEND_BUDGET_WARN_PERCENT) / 100);
      if (result.consumedPoints === warnAt) {
        events.budgetWarning(charge.channel, charge.budget);
        logger.warn(
          { channel: charge.channel, budget: charge.budget, used, cap: charge.cap },
          `send budget ${config.SEND_BUDGET_WARN_PERCENT}% used: sends stop at the cap until the window ends`,
        );
      }
    },

    /** Reports a refused send; the first refusal of a window is logged as the error it is. */
    refused(charge: BudgetCharge, rejection: unknown) {
      events.budgetRefused(charge.channel, charge.budget);
      events.budgetUsed(charge.channel, charge.budget, charge.cap, charge.cap);
      if (rejection instanceof RateLimiterRes && rejection.consumedPoints === charge.cap + 1) {
        logger.error(
          {
            channel: charge.channel,
            budget: charge.budget,
            cap: charge.cap,
            retryAfterSeconds: Math.ceil(rejection.msBeforeNext / 1000),
          },
          'send budget exhausted: request-otp and resend-otp answer 503 SEND_BUDGET_EXHAUSTED until the window ends',
        );
      }
    },
  };
}

export type SendBudgets = ReturnType<typeof createSendBudgets>;
