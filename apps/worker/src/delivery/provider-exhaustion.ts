import type { Logger, RedisClient } from '@otp-relay/core';
import { DeliveryError } from './message-sender.js';

/**
 * A provider that has run dry: its daily quota is spent, or it asks not to be called again until
 * after the code would have expired. Known to every worker through one Redis key per provider
 * (under the queue prefix) that expires when the provider resets; meanwhile deliveries that would
 * use it go to its backup (see `sendOnce`), and the failure that found it so is final at once
 * when the backup can take over (without one it waits for the reset like any retry).
 */

/**
 * Gmail's daily sending limit is a rolling 24-hour window (as most providers' daily quotas are):
 * with no time to retry in the answer, the provider is dry for a day.
 */
export const DAILY_QUOTA_RESET_MS = 24 * 3600 * 1000;

/**
 * The provider refused the send because of its own limit, not the message: `daily`, its sending
 * quota for the day is spent; `rate`, too many calls too fast. Retryable, after `retryAfterMs`
 * (the provider's time to retry; a daily limit's reset when the provider gave none).
 */
export class ProviderLimitError extends DeliveryError {
  readonly limit: 'daily' | 'rate';

  constructor(message: string, limit: 'daily' | 'rate', retryAfterMs: number | undefined) {
    const wait = retryAfterMs ?? (limit === 'daily' ? DAILY_QUOTA_RESET_MS : undefined);
    super(message, { retryable: true, ...(wait === undefined ? {} : { retryAfterMs: wait }) });
    this.name = 'ProviderLimitError';
    this.limit = limit;
  }
}

/**
 * How long a failure says its provider stays dry, or undefined when it says nothing of the kind:
 * a spent daily quota, or a rate limit whose time to retry comes too late for the code being sent
 * (`tooLate`, given the time of that retry in epoch ms).
 */
export function dryPeriodOf(
  failure: DeliveryError,
  tooLate: (retryAt: number) => boolean,
  now: Date,
): number | undefined {
  if (!(failure instanceof ProviderLimitError) || failure.retryAfterMs === undefined) return undefined;
  if (failure.limit === 'daily') return failure.retryAfterMs;
  return tooLate(now.getTime() + failure.retryAfterMs) ? failure.retryAfterMs : undefined;
}

export interface DryProviders {
  /** Whether `provider` has run dry, as any worker found it. */
  isDry(provider: string): Promise<boolean>;
  /**
   * Marks `provider` dry for `periodMs`. The first worker to mark it logs it and counts it; a
   * marking while it is already dry changes nothing (it resets when first said).
   */
  markDry(provider: string, periodMs: number, reason: string): Promise<void>;
}

/** What the marking reports to (metrics). */
export interface DryProviderEvents {
  providerExhausted?(provider: string): void;
}

/** For deliveries with nothing to route around (tests, tools): no provider ever runs dry. */
export const NEVER_DRY: DryProviders = {
  isDry: async () => false,
  markDry: async () => {},
};

export interface DryProviderDeps {
  redis: RedisClient;
  /** QUEUE_PREFIX: deployments sharing a Redis keep apart. */
  prefix: string;
  logger: Logger;
  events?: DryProviderEvents;
}

export function createDryProviders(deps: DryProviderDeps): DryProviders {
  const keyOf = (provider: string) => `${deps.prefix}:provider-exhausted:${provider}`;
  return {
    async isDry(provider) {
      try {
        return (await deps.redis.exists(keyOf(provider))) === 1;
      } catch (error) {
        // Not knowing costs at most one attempt at a dry provider: its answer marks it again.
        deps.logger.warn({ err: error, provider }, 'could not read whether the provider has run dry');
        return false;
      }
    },
    async markDry(provider, periodMs, reason) {
      const until = new Date(Date.now() + periodMs);
      // NX: the first marking stands, so the reset is the one the provider first gave.
      const marked = await deps.redis
        .set(keyOf(provider), until.toISOString(), 'PX', Math.max(1, Math.round(periodMs)), 'NX')
        .catch((error: unknown) => {
          deps.logger.warn({ err: error, provider }, 'could not mark the provider as run dry');
          return null;
        });
      if (marked !== 'OK') return;
      deps.events?.providerExhausted?.(provider);
      deps.logger.warn(
        { provider, until: until.toISOString(), reason },
        'provider has run dry (quota or rate limit): its deliveries go to its backup, if any, until it resets',
      );
    },
  };
}
