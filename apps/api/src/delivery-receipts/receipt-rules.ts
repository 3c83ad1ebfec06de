import { codeUnusableReason } from '@otp-relay/core';
import type { Delivery, ProviderStatus, RegistrationFlow } from '@otp-relay/db';

/**
 * What a provider's receipt means for a delivery, as plain rules: which reports we keep, which
 * report replaces which, and when a failure starts the delivery's fallback.
 */

/**
 * Twilio's `MessageStatus` as we record it. `queued`, `sending`, `accepted`, `scheduled` say
 * nothing the acceptance did not; `canceled` cannot happen to a message we never schedule.
 */
export function providerStatusOf(twilioStatus: string): ProviderStatus | undefined {
  switch (twilioStatus) {
    case 'sent':
    case 'delivered':
    case 'read':
    case 'failed':
    case 'undelivered':
      return twilioStatus;
    default:
      return undefined;
  }
}

const PROGRESS: Record<ProviderStatus, number> = {
  sent: 1,
  delivered: 2,
  read: 3,
  failed: 2,
  undelivered: 2,
};

/**
 * Whether `next` replaces what the delivery says now. Reports may arrive out of order: a late
 * `sent` must not undo `delivered`, and a failure counts only before the message was delivered
 * (WhatsApp does not report a failure after delivery; if a provider did, the shopper has the code).
 */
export function receiptSupersedes(next: ProviderStatus, current: ProviderStatus | null): boolean {
  if (current === null) return true;
  if (current === 'failed' || current === 'undelivered' || current === 'read') return false;
  return PROGRESS[next] > PROGRESS[current];
}

export const isFailureReport = (status: ProviderStatus) => status === 'failed' || status === 'undelivered';

/**
 * Whether a failure report should start the delivery's fallback now: a code (a notice has no
 * fallback: see the worker), still the flow's current one, and still usable. Past its lifetime a
 * fallback would send a dead code.
 */
export function reportStartsFallback(
  delivery: Pick<Delivery, 'kind' | 'codeSequence' | 'status'>,
  flow: RegistrationFlow | undefined,
  at: Date,
): boolean {
  if (delivery.kind !== 'otp' || delivery.status !== 'sent') return false;
  return codeUnusableReason(flow, delivery.codeSequence ?? 0, at) === undefined;
}
