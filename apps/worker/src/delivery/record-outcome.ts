import { setTimeout as sleep } from 'node:timers/promises';
import { cleanErrorText, type DeadLetterQueue, type Logger } from '@otp-relay/core';
import type {
  ClaimedDelivery,
  Delivery,
  DeliveryAttemptError,
  DeliveryRepository,
  FailedAttempt,
} from '@otp-relay/db';
import type { Acceptance } from './acceptance.js';
import { copyToDeadLetters } from './dead-letters.js';
import type { DeliveryEvents } from './delivery-events.js';
import type { FailedDelivery, Fallbacks } from './fallback.js';
import type { DeliveryError } from './message-sender.js';

export interface RecorderDeps {
  repository: DeliveryRepository;
  fallbacks: Fallbacks;
  deadLetterQueue: DeadLetterQueue;
  logger: Logger;
  events: DeliveryEvents;
  now: () => Date;
}

/**
 * Waits between the tries of one run at recording an acceptance: enough to ride out a dropped
 * connection or a failover's first moments, short enough to hold the job's lock briefly.
 */
const RECORD_RETRY_DELAYS_MS = [50, 250];

/** What an attempt at a delivery leaves behind: its row, its logs, its events. */
export function createRecorder(deps: RecorderDeps) {
  const { repository, events, now } = deps;

  /** The provider took it: that is the send, counted now, whenever its record lands. */
  function noteAcceptance(delivery: Delivery, acceptance: Acceptance) {
    const { channel } = delivery;
    events.attempted(channel, acceptance.provider, 'sent');
    events.finished(channel, acceptance.provider, 'sent');
    const seconds = (Date.parse(acceptance.at) - delivery.createdAt.getTime()) / 1000;
    events.accepted(channel, acceptance.provider, seconds);
  }

  /**
   * Records the provider's acceptance: `sent`, with its message id. Postgres failing right then (a
   * restart, a failover) is tried again a few times, briefly. False if it still fails: the caller
   * keeps the acceptance elsewhere, never sends again.
   */
  async function recordSent(
    deliveryId: string,
    acceptance: Acceptance,
    context: Record<string, number>,
  ): Promise<boolean> {
    const log = deps.logger.child({ deliveryId });
    for (let retry = 0; ; retry += 1) {
      try {
        await repository.markSent(deliveryId, acceptance);
        log.info({ provider: acceptance.provider, ...context }, 'delivery sent');
        return true;
      } catch (error) {
        const delayMs = RECORD_RETRY_DELAYS_MS[retry];
        if (delayMs === undefined) {
          log.warn(
            { err: error, provider: acceptance.provider, providerMessageId: acceptance.providerMessageId },
            'the provider accepted the delivery but recording it failed; it will be recorded, not sent, later',
          );
          return false;
        }
        await sleep(delayMs);
      }
    }
  }

  /**
   * The acceptance could be neither recorded nor kept with the job: the next attempt will send
   * again. Said loudly, with what an operator needs to find the duplicate.
   */
  function reportLostAcceptance(delivery: Delivery, acceptance: Acceptance, error: unknown) {
    deps.logger
      .child({ deliveryId: delivery.id })
      .error(
        { err: error, provider: acceptance.provider, providerMessageId: acceptance.providerMessageId },
        'possible duplicate: the provider accepted this delivery, and neither Postgres nor Redis could keep that; the next attempt sends it again',
      );
    events.acceptanceLost?.(delivery.channel, acceptance.provider);
  }

  async function recordSkipped(delivery: Delivery, reason: string) {
    await repository.markSkipped(delivery.id, cleanErrorText(reason), now());
    deps.logger.child({ deliveryId: delivery.id }).info({ reason }, 'delivery skipped');
    events.finished(delivery.channel, delivery.provider ?? 'none', 'skipped');
  }

  /**
   * Records a failed attempt: `failed` (the job retries), or `dead` when final, which also copies
   * it to the dead-letter queue and starts its fallback.
   */
  async function recordFailure(
    { delivery, flow }: ClaimedDelivery,
    provider: string,
    failure: DeliveryError,
    final: boolean,
  ) {
    // Providers' texts may quote the number or address: stored (row, dead-letter queue) masked.
    const errorText = cleanErrorText(failure.message);
    const entry: DeliveryAttemptError = {
      attempt: delivery.attempts,
      at: now().toISOString(),
      provider,
      error: errorText,
      retryable: failure.retryable,
    };
    const attempt = { deliveryId: delivery.id, provider, errorText, entry, final, at: now() };
    // Not final: one statement, one round trip, what every retried attempt costs (a failing provider's load).
    const recorded = final
      ? await recordDeath(
          { delivery, flow, provider, numberRefused: failure.numberRefused, reason: errorText },
          attempt,
          [...delivery.errorHistory, entry],
        )
      : await repository.markFailed(attempt);
    events.attempted(delivery.channel, provider, 'failed');
    const log = deps.logger.child({ deliveryId: delivery.id });
    if (!recorded) {
      log.warn({ provider }, 'attempt failed, but another attempt has finished the delivery meanwhile');
      return;
    }
    if (final) events.finished(delivery.channel, provider, 'dead');
    log.warn({ err: failure, provider, retryable: failure.retryable, final }, 'delivery attempt failed');
  }

  /** `dead`, its copy in the dead-letter queue, and its fallback. Says whether the row changed. */
  async function recordDeath(failed: FailedDelivery, attempt: FailedAttempt, errors: DeliveryAttemptError[]) {
    const { recorded } = await deps.fallbacks.fallBack(failed, (tx) => repository.markFailed(attempt, tx), {
      afterRecord: () =>
        copyToDeadLetters(
          deps.deadLetterQueue,
          {
            delivery: failed.delivery,
            provider: failed.provider,
            reason: attempt.errorText,
            errors,
            diedAt: now(),
          },
          deps.logger,
        ),
    });
    return recorded;
  }

  return { noteAcceptance, recordSent, reportLostAcceptance, recordSkipped, recordFailure };
}

export type Recorder = ReturnType<typeof createRecorder>;
