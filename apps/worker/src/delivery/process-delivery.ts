import {
  cleanErrorText,
  type DeadLetterQueue,
  type DeliveryQueue,
  type Logger,
  type RetryPolicy,
} from '@otp-relay/core';
import type { Database, Delivery } from '@otp-relay/db';
import { createDeliveryRepository } from '@otp-relay/db';
import { DelayedError, UnrecoverableError } from 'bullmq';
import type { WebhookOutbox } from '../webhooks/webhook-outbox.js';
import {
  type Acceptance,
  type RememberedAcceptance,
  readDeliveryJob,
  rememberAcceptance,
} from './acceptance.js';
import type { ChannelChain } from './channel-chain.js';
import { type DeliveryEvents, NO_EVENTS } from './delivery-events.js';
import { createFallbacks } from './fallback.js';
import { DeliveryError } from './message-sender.js';
import { prepareMessage } from './prepare-message.js';
import { type DryProviders, dryPeriodOf, NEVER_DRY } from './provider-exhaustion.js';
import { createRecorder } from './record-outcome.js';
import { retryComesTooLate } from './retry-policy.js';
import { sendOnce } from './send-attempt.js';
import { backupOf, type Senders } from './senders.js';

export type { DeliveryEvents } from './delivery-events.js';

export interface ProcessDeliveryDeps {
  db: Database;
  payloadKey: Buffer;
  senders: Senders;
  deliveryQueue: DeliveryQueue;
  deadLetterQueue: DeadLetterQueue;
  retryPolicy: RetryPolicy;
  /** Where a code goes when its channel fails for good (FALLBACK_CHAIN). */
  channelChain: ChannelChain;
  logger: Logger;
  events?: DeliveryEvents;
  now?: () => Date;
  /** Providers run dry (quota, rate limit), shared by the workers; none by default. */
  dryProviders?: DryProviders;
  /** Records the webhook events of deliveries that fail for good; none when webhooks are off. */
  webhooks?: WebhookOutbox | undefined;
}

export type DeliveryOutcome = 'sent' | 'skipped' | 'already-done';

export interface DeliveryAttempt {
  data: unknown;
  /** Attempts already made before this one, and how many the job may have in all. */
  attemptsMade: number;
  maxAttempts: number;
  /**
   * Keeps an acceptance Postgres could not record with the job (in Redis): the job's later runs
   * record it and send nothing.
   */
  keepAcceptance(accepted: RememberedAcceptance): Promise<void>;
  /** Has the job run again after a backoff, as a delay: it spends none of the job's attempts. */
  runAgainLater(deferrals: number): Promise<void>;
  /** How long the job waits for its next attempt after `failure` (backoff, Retry-After included). */
  retryDelayMs(failure: DeliveryError): number;
}

/**
 * One attempt at one delivery: claim it, prepare its message, send it once, record the outcome.
 * Idempotent and safe under at-least-once: a delivery already sent, skipped or dead is left alone;
 * a code that can no longer be used is not sent. The provider's acceptance is the send: from then
 * on only its record is retried, never the send. A delivery that fails for good is marked dead,
 * copied to the dead-letter queue, and handed to its fallback.
 */
export function createDeliveryProcessor(deps: ProcessDeliveryDeps) {
  const { logger } = deps;
  const events = deps.events ?? NO_EVENTS;
  const now = deps.now ?? (() => new Date());
  const dryProviders = deps.dryProviders ?? NEVER_DRY;
  const repository = createDeliveryRepository(deps.db);
  const fallbacks = createFallbacks({ ...deps, repository, now });
  const recorder = createRecorder({ ...deps, repository, fallbacks, events, now });

  /** Records the acceptance this attempt got; if Postgres will not have it, keeps it for later. */
  async function recordAccepted(
    delivery: Delivery,
    acceptance: Acceptance,
    attempt: DeliveryAttempt,
  ): Promise<'sent'> {
    if (await recorder.recordSent(delivery.id, acceptance, { attempts: delivery.attempts })) return 'sent';
    const remembered = rememberAcceptance(acceptance, undefined);
    try {
      await attempt.keepAcceptance(remembered);
    } catch (error) {
      recorder.reportLostAcceptance(delivery, acceptance, error);
      throw new Error('the provider accepted the delivery, and neither Postgres nor Redis could keep that');
    }
    return recordLater(attempt, remembered);
  }

  /** A run that only records what an earlier run's provider accepted. */
  async function recordRemembered(
    deliveryId: string,
    accepted: RememberedAcceptance,
    attempt: DeliveryAttempt,
  ): Promise<'sent'> {
    if (await recorder.recordSent(deliveryId, accepted, { recordDeferrals: accepted.recordDeferrals })) {
      return 'sent';
    }
    // Should Redis fail here, the job still holds the acceptance it had: its next run records that.
    const remembered = rememberAcceptance(accepted, accepted);
    await attempt.keepAcceptance(remembered);
    return recordLater(attempt, remembered);
  }

  async function recordLater(attempt: DeliveryAttempt, remembered: RememberedAcceptance): Promise<never> {
    await attempt.runAgainLater(remembered.recordDeferrals);
    // Tells BullMQ the job is delayed (above), neither done nor failed.
    throw new DelayedError('the acceptance is kept with the job, to be recorded later');
  }

  return async function processDelivery(attempt: DeliveryAttempt): Promise<DeliveryOutcome> {
    const { job, accepted } = readDeliveryJob(attempt.data);
    if (accepted) return recordRemembered(job.deliveryId, accepted, attempt);

    const log = logger.child({ deliveryId: job.deliveryId });
    const claimed = await repository.claim(job.deliveryId, now());
    if (!claimed) {
      log.info('delivery already finished or unknown; nothing to do');
      return 'already-done';
    }
    const { delivery, flow } = claimed;
    if (delivery.interruptedAttempts > 0 && delivery.attempts > 1) {
      log.warn(
        { interruptedAttempts: delivery.interruptedAttempts },
        'resuming a delivery whose previous attempt was interrupted; the provider may have accepted it already',
      );
    }

    const prepared = prepareMessage(delivery, flow, deps.payloadKey, now());
    if ('unusable' in prepared) {
      await recorder.recordSkipped(delivery, prepared.unusable);
      return 'skipped';
    }

    const sent = await sendOnce(deps.senders, delivery, prepared.message, now, dryProviders);
    if ('accepted' in sent) {
      recorder.noteAcceptance(delivery, sent.accepted);
      return recordAccepted(delivery, sent.accepted, attempt);
    }
    const { failed, provider } = sent;
    const tooLate = (retryAt: number) => retryComesTooLate(delivery, flow, retryAt);
    const dryFor = dryPeriodOf(failed, tooLate, now());
    if (dryFor !== undefined) await dryProviders.markDry(provider, dryFor, cleanErrorText(failed.message));
    // Final too when waiting cannot help: the provider has run dry and its backup can take over
    // now, or the retry would come after the code expires (its fallback goes now, while it works).
    const final =
      !failed.retryable ||
      attempt.attemptsMade + 1 >= attempt.maxAttempts ||
      (dryFor !== undefined && backupOf(deps.senders, delivery.channel, provider) !== undefined) ||
      tooLate(now().getTime() + attempt.retryDelayMs(failed));
    await recorder.recordFailure(claimed, provider, failed, final);
    throw jobErrorFor(failed, final);
  };
}

/**
 * What is thrown stays with the job in Redis (failedReason, stack): the provider's text goes
 * cleaned there too. Final (not retryable, or dead early): end the job now instead of spending
 * attempts on a delivery that is over.
 */
function jobErrorFor(failure: DeliveryError, final: boolean): Error {
  const stored = cleanErrorText(failure.message);
  return failure.retryable && !final
    ? new DeliveryError(stored, {
        retryable: true,
        ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
      })
    : new UnrecoverableError(stored);
}
