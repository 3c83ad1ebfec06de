import type { DeadLetterQueue, Logger } from '@otp-relay/core';
import type { DeliveryAttemptError, DeliveryRepository } from '@otp-relay/db';
import { NUMBER_REFUSED_TWILIO_CODES } from '../twilio/twilio-errors.js';
import { copyToDeadLetters } from './dead-letters.js';
import type { Fallbacks } from './fallback.js';

export interface ReportedFailureDeps {
  repository: DeliveryRepository;
  fallbacks: Fallbacks;
  deadLetterQueue: DeadLetterQueue;
  logger: Logger;
  now: () => Date;
}

export type ReportedFailureOutcome = 'fell-back' | 'dead' | 'already-handled';

/**
 * A delivery its provider accepted and later reported failed (a Twilio receipt: 63016 outside
 * the 24-hour window, 63003 not on WhatsApp, an undelivered text). The API records the report
 * and hands it over; here the delivery dies as one that failed in the worker would: `dead`, a
 * dead-letter copy, and its fallback started at once, inside the code's lifetime.
 */
export function createReportedFailureHandler(deps: ReportedFailureDeps) {
  return async function handleReportedFailure(deliveryId: string): Promise<ReportedFailureOutcome> {
    const found = await deps.repository.withFlow(deliveryId);
    const delivery = found?.delivery;
    if (!found || !delivery || delivery.status !== 'sent') return 'already-handled';
    const provider = delivery.provider ?? 'unknown';
    const at = deps.now();
    const reason =
      delivery.lastError ??
      `${provider}: ${delivery.providerErrorCode ?? 'failed'} (reported after acceptance)`;
    const entry: DeliveryAttemptError = {
      attempt: delivery.attempts,
      at: at.toISOString(),
      provider,
      error: reason,
      retryable: false,
    };
    const result = await deps.fallbacks.fallBack(
      {
        delivery,
        flow: found.flow,
        provider,
        numberRefused: NUMBER_REFUSED_TWILIO_CODES.has(delivery.providerErrorCode ?? ''),
        reason,
      },
      (tx) => deps.repository.markReportedDead({ deliveryId, entry, at }, tx),
      {
        afterRecord: () =>
          copyToDeadLetters(
            deps.deadLetterQueue,
            { delivery, provider, reason, errors: [...delivery.errorHistory, entry], diedAt: at },
            deps.logger,
          ),
      },
    );
    if (!result.recorded) return 'already-handled';
    return result.fallback ? 'fell-back' : 'dead';
  };
}
