import { randomUUID } from 'node:crypto';
import {
  cleanErrorText,
  codeUnusableReason,
  type DeadLetterQueue,
  type DeliveryQueue,
  enqueueDelivery,
  type Logger,
  openDeliveryPayload,
  parseDeliveryJob,
  type RetryPolicy,
  sealDeliveryPayload,
} from '@otp-relay/core';
import {
  type Database,
  type Delivery,
  type DeliveryAttemptError,
  deliveries,
  type RegistrationFlow,
  registrationFlows,
  type Transaction,
} from '@otp-relay/db';
import { UnrecoverableError } from 'bullmq';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { deadLetterJobId } from './dead-letters.js';
import { DeliveryError, type OutgoingMessage } from './message-sender.js';
import type { Senders } from './senders.js';

/** What delivery reports as it goes (metrics listen); no-ops by default. */
export interface DeliveryEvents {
  attempted(channel: string, provider: string, result: 'sent' | 'failed'): void;
  finished(channel: string, provider: string, outcome: 'sent' | 'dead' | 'skipped'): void;
  /** Seconds from the shopper's request to the provider's acceptance. */
  accepted(channel: string, provider: string, seconds: number): void;
}

const NO_EVENTS: DeliveryEvents = { attempted() {}, finished() {}, accepted() {} };

export interface ProcessDeliveryDeps {
  db: Database;
  payloadKey: Buffer;
  senders: Senders;
  deliveryQueue: DeliveryQueue;
  deadLetterQueue: DeadLetterQueue;
  retryPolicy: RetryPolicy;
  /** When a WhatsApp delivery dies, send the same code by email. */
  whatsappFallbackToEmail: boolean;
  logger: Logger;
  events?: DeliveryEvents;
  now?: () => Date;
}

export type DeliveryOutcome = 'sent' | 'skipped' | 'already-done';

export interface DeliveryAttempt {
  data: unknown;
  /** Attempts already made before this one, and how many the job may have in all. */
  attemptsMade: number;
  maxAttempts: number;
}

/**
 * One attempt at one delivery. Idempotent and safe under at-least-once: a delivery already sent,
 * skipped or dead is left alone; a code that can no longer be used is not sent. A delivery that
 * fails for good is marked dead, copied to the dead-letter queue, and handed to its fallback.
 */
export function createDeliveryProcessor(deps: ProcessDeliveryDeps) {
  const { db, logger, senders } = deps;
  const events = deps.events ?? NO_EVENTS;
  const now = deps.now ?? (() => new Date());

  // The two statements of every send, built once: drizzle's query building was a visible share of
  // a send's CPU when they were built per job (docs/performance.md). Times go in as ISO strings.
  const atParameter = sql`${sql.placeholder('at')}::timestamptz`;
  const claimed = db.$with('claimed').as(
    db
      .update(deliveries)
      .set({
        status: 'sending',
        attempts: sql`${deliveries.attempts} + 1`,
        // Right-hand sides see the old row: 'sending' here means the last attempt never finished.
        interruptedAttempts: sql`${deliveries.interruptedAttempts} + (${deliveries.status} = 'sending')::int`,
        updatedAt: atParameter,
      })
      .where(
        and(
          eq(deliveries.id, sql.placeholder('id')),
          inArray(deliveries.status, ['queued', 'failed', 'sending']),
        ),
      )
      .returning(),
  );
  const claimStatement = db
    .with(claimed)
    .select()
    .from(claimed)
    .leftJoin(registrationFlows, eq(registrationFlows.id, claimed.flowId))
    .prepare('claim_delivery');
  const markSentStatement = db
    .update(deliveries)
    .set({
      status: 'sent',
      provider: sql`${sql.placeholder('provider')}`,
      providerMessageId: sql`${sql.placeholder('providerMessageId')}`,
      sentAt: atParameter,
      lastError: null,
      updatedAt: atParameter,
    })
    .where(eq(deliveries.id, sql.placeholder('id')))
    .prepare('mark_delivery_sent');

  /**
   * Claims the delivery and reads its flow in one statement (a hot path: one round trip).
   * 'sending' is claimable too: a worker that died mid-send left it so, and BullMQ hands the
   * stalled job on.
   */
  async function claim(
    deliveryId: string,
  ): Promise<{ delivery: Delivery; flow?: RegistrationFlow } | undefined> {
    const [row] = await claimStatement.execute({ id: deliveryId, at: now().toISOString() });
    return (
      row && { delivery: row.claimed, ...(row.registration_flows ? { flow: row.registration_flows } : {}) }
    );
  }

  /** The message a delivery carries, or why it must not go out any more. */
  function prepare(
    delivery: Delivery,
    flow: RegistrationFlow | undefined,
  ): { message: OutgoingMessage; flow?: RegistrationFlow } | { unusable: string } {
    if (delivery.kind === 'registration-notice') {
      return { message: { kind: 'registration-notice', to: delivery.destination } };
    }
    const unusable = codeUnusableReason(flow, delivery.codeSequence ?? 0, now());
    if (unusable || !flow || !delivery.payloadCiphertext) return { unusable: unusable ?? 'no sealed code' };
    const { code } = openDeliveryPayload(deps.payloadKey, delivery.id, delivery.payloadCiphertext);
    // The lifetime the code was given when it was made (with this delivery).
    const validForMinutes = Math.round((flow.expiresAt.getTime() - delivery.createdAt.getTime()) / 60_000);
    return {
      message: {
        kind: 'otp',
        to: delivery.destination,
        code,
        validForMinutes,
      },
      flow,
    };
  }

  /**
   * The delivery that takes over from a dead one, if any: a WhatsApp code → email, Gmail → the SMTP
   * backup. A notice to a phone does not move to the email: that address has no account to speak of.
   */
  function fallbackFor(delivery: Delivery, provider: string, flow: RegistrationFlow | undefined) {
    if (delivery.channel === 'whatsapp' && delivery.kind === 'otp' && flow && deps.whatsappFallbackToEmail) {
      return { channel: 'email' as const, destination: flow.email, provider: null };
    }
    if (delivery.channel === 'email' && provider === 'gmail' && senders.byProvider.smtp) {
      return { channel: 'email' as const, destination: delivery.destination, provider: 'smtp' };
    }
    return undefined;
  }

  async function recordFailure(
    delivery: Delivery,
    flow: RegistrationFlow | undefined,
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
    const history = [...delivery.errorHistory, entry];
    // No fallback for a code that can no longer be used: it would be skipped anyway.
    const usable = !(flow && codeUnusableReason(flow, delivery.codeSequence ?? 0, now()));
    const fallback = final && usable ? fallbackFor(delivery, provider, flow) : undefined;
    const fallbackId = fallback ? randomUUID() : undefined;

    const markFailed = (executor: Database | Transaction) =>
      executor
        .update(deliveries)
        .set({
          status: final ? 'dead' : 'failed',
          provider,
          lastError: errorText,
          errorHistory: sql`${deliveries.errorHistory} || ${JSON.stringify([entry])}::jsonb`,
          updatedAt: now(),
        })
        .where(eq(deliveries.id, delivery.id));
    if (fallback && fallbackId) {
      // The record and its fallback together, or neither.
      await db.transaction(async (tx) => {
        await markFailed(tx);
        // The same message under a new id: a sealed code is sealed again, bound to the new row.
        const payloadCiphertext = delivery.payloadCiphertext
          ? sealDeliveryPayload(
              deps.payloadKey,
              fallbackId,
              openDeliveryPayload(deps.payloadKey, delivery.id, delivery.payloadCiphertext),
            )
          : null;
        await tx.insert(deliveries).values({
          id: fallbackId,
          kind: delivery.kind,
          flowId: delivery.flowId,
          codeSequence: delivery.codeSequence,
          fallbackOf: delivery.id,
          ...fallback,
          payloadCiphertext,
        });
        if (flow && fallback.channel !== delivery.channel) {
          // The code now reaches the email, not the phone: verifying it proves the email. Only if
          // the code is still the flow's current one (a resend since has its own channel).
          await tx
            .update(registrationFlows)
            .set({ channel: fallback.channel, destination: fallback.destination })
            .where(
              and(
                eq(registrationFlows.id, flow.id),
                eq(registrationFlows.codeSequence, delivery.codeSequence ?? 0),
              ),
            );
        }
      });
    } else {
      // One statement, one round trip: what every retried attempt costs (a failing provider's load).
      await markFailed(db);
    }
    if (!final) return;

    const log = logger.child({ deliveryId: delivery.id });
    // The row is the record; the queue copies are for operators and the relay recovers a lost enqueue.
    await deps.deadLetterQueue
      .add(
        'dead',
        {
          deliveryId: delivery.id,
          channel: delivery.channel,
          provider,
          reason: errorText,
          errors: history,
          diedAt: now().toISOString(),
        },
        { jobId: deadLetterJobId(delivery.id, delivery.attempts) },
      )
      .catch((error: unknown) =>
        log.warn({ err: error }, 'could not copy the delivery to the dead-letter queue'),
      );
    if (fallback && fallbackId) {
      log.warn({ fallbackDeliveryId: fallbackId, channel: fallback.channel }, 'delivery dead; falling back');
      await enqueueDelivery(deps.deliveryQueue, fallbackId, deps.retryPolicy).catch((error: unknown) =>
        log.warn({ err: error }, 'fallback enqueue failed; the outbox relay will enqueue it'),
      );
    }
  }

  return async function processDelivery(attempt: DeliveryAttempt): Promise<DeliveryOutcome> {
    const { deliveryId } = parseDeliveryJob(attempt.data);
    const log = logger.child({ deliveryId });
    const claimed = await claim(deliveryId);
    if (!claimed) {
      log.info('delivery already finished or unknown; nothing to do');
      return 'already-done';
    }
    const { delivery } = claimed;
    if (delivery.interruptedAttempts > 0 && delivery.attempts > 1) {
      log.warn(
        { interruptedAttempts: delivery.interruptedAttempts },
        'resuming a delivery whose previous attempt was interrupted; the provider may have accepted it already',
      );
    }

    const prepared = prepare(delivery, claimed.flow);
    if ('unusable' in prepared) {
      await db
        .update(deliveries)
        .set({ status: 'skipped', lastError: cleanErrorText(prepared.unusable), updatedAt: now() })
        .where(eq(deliveries.id, deliveryId));
      log.info({ reason: prepared.unusable }, 'delivery skipped');
      events.finished(delivery.channel, delivery.provider ?? 'none', 'skipped');
      return 'skipped';
    }

    const sender = delivery.provider
      ? senders.byProvider[delivery.provider]
      : senders.primary[delivery.channel];
    const provider = sender?.provider ?? delivery.provider ?? `${delivery.channel} (not configured)`;
    try {
      if (!sender) {
        throw new DeliveryError(`no ${provider} provider is configured for ${delivery.channel}`, {
          retryable: false,
        });
      }
      const result = await sender.send(prepared.message);
      await markSentStatement.execute({
        id: deliveryId,
        provider: result.provider,
        providerMessageId: result.providerMessageId,
        at: now().toISOString(),
      });
      log.info({ provider: result.provider, attempts: delivery.attempts }, 'delivery sent');
      events.attempted(delivery.channel, result.provider, 'sent');
      events.finished(delivery.channel, result.provider, 'sent');
      events.accepted(
        delivery.channel,
        result.provider,
        (now().getTime() - delivery.createdAt.getTime()) / 1000,
      );
      return 'sent';
    } catch (error) {
      const failure =
        error instanceof DeliveryError
          ? error
          : new DeliveryError(error instanceof Error ? error.message : String(error), { retryable: true });
      const final = !failure.retryable || attempt.attemptsMade + 1 >= attempt.maxAttempts;
      await recordFailure(delivery, prepared.flow, provider, failure, final);
      events.attempted(delivery.channel, provider, 'failed');
      if (final) events.finished(delivery.channel, provider, 'dead');
      log.warn({ err: failure, provider, retryable: failure.retryable, final }, 'delivery attempt failed');
      // What is thrown stays with the job in Redis (failedReason, stack): the provider's text goes
      // cleaned there too. Not retryable: end the job now instead of spending attempts on a
      // certain failure.
      const stored = cleanErrorText(failure.message);
      throw failure.retryable
        ? new DeliveryError(stored, {
            retryable: true,
            ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
          })
        : new UnrecoverableError(stored);
    }
  };
}
