import { createHash } from 'node:crypto';
import { codeUnusableReason } from '@otp-relay/core';
import type { Delivery, RegistrationFlow } from '@otp-relay/db';
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

/**
 * `deliveryBackoffDelay` for job `jobId` before its attempt after `attemptsMade`, with a jitter
 * fixed by the two (still spread across jobs): the worker's look-ahead at a retry and BullMQ's
 * backoff then agree on when it comes.
 */
export function jobBackoffDelay(
  jobId: string | undefined,
  attemptsMade: number,
  error: unknown,
  settings: BackoffSettings,
): number {
  if (jobId === undefined) return deliveryBackoffDelay(attemptsMade, error, settings);
  const hash = createHash('sha256').update(`${jobId}:${attemptsMade}`).digest();
  return deliveryBackoffDelay(attemptsMade, error, settings, () => hash.readUInt32BE(0) / 2 ** 32);
}

/**
 * Whether a retry at `retryAt` (epoch ms) could only be skipped: the delivery's code can no
 * longer be used by then (`codeUnusableReason`, as the worker checks before each send). A notice
 * carries no code and never comes too late.
 */
export function retryComesTooLate(
  delivery: Pick<Delivery, 'kind' | 'codeSequence'>,
  flow: RegistrationFlow | undefined,
  retryAt: number,
): boolean {
  return (
    delivery.kind === 'otp' &&
    codeUnusableReason(flow, delivery.codeSequence ?? 0, new Date(retryAt)) !== undefined
  );
}
