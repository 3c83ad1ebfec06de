import { DeliveryError } from './message-sender.js';

export interface BackoffSettings {
  baseMs: number;
  maxMs: number;
}

/**
 * How long to wait before the next attempt of a delivery: exponential from `baseMs`, capped at
 * `maxMs`, with jitter so a provider outage does not end in a thundering herd; never less than
 * the provider's own Retry-After, which wins over the cap.
 */
export function deliveryBackoffDelay(
  attemptsMade: number,
  error: unknown,
  settings: BackoffSettings,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(settings.maxMs, settings.baseMs * 2 ** Math.max(0, attemptsMade - 1));
  const jittered = Math.round(exponential * (0.5 + random() * 0.5));
  const retryAfter = error instanceof DeliveryError ? (error.retryAfterMs ?? 0) : 0;
  return Math.max(jittered, retryAfter);
}
