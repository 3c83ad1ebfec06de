import { type Logger, openDeliveryPayload, parseDeliveryJob } from '@otp-relay/core';
import { type Database, type Delivery, type DeliveryStatus, deliveries, otpChallenges } from '@otp-relay/db';
import { UnrecoverableError } from 'bullmq';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { DeliveryError, type EmailSender } from '../email/email-sender.js';
import { renderOtpEmail } from '../email/otp-email.js';

export interface ProcessDeliveryDeps {
  db: Database;
  payloadKey: Buffer;
  emailSender: EmailSender;
  logger: Logger;
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
 * skipped or dead is left alone; a code that can no longer be used is not sent.
 */
export function createDeliveryProcessor(deps: ProcessDeliveryDeps) {
  const { db, logger } = deps;
  const now = deps.now ?? (() => new Date());

  async function claim(deliveryId: string): Promise<Delivery | undefined> {
    // 'sending' is claimable too: a worker that died mid-send left it so, and BullMQ hands the stalled job on.
    const [claimed] = await db
      .update(deliveries)
      .set({ status: 'sending', attempts: sql`${deliveries.attempts} + 1`, updatedAt: now() })
      .where(and(eq(deliveries.id, deliveryId), inArray(deliveries.status, ['queued', 'failed', 'sending'])))
      .returning();
    return claimed;
  }

  async function finish(deliveryId: string, status: DeliveryStatus, fields: Partial<Delivery> = {}) {
    await db
      .update(deliveries)
      .set({ status, updatedAt: now(), ...fields })
      .where(eq(deliveries.id, deliveryId));
  }

  return async function processDelivery(attempt: DeliveryAttempt): Promise<DeliveryOutcome> {
    const { deliveryId } = parseDeliveryJob(attempt.data);
    const log = logger.child({ deliveryId });
    const delivery = await claim(deliveryId);
    if (!delivery) {
      log.info('delivery already finished or unknown; nothing to do');
      return 'already-done';
    }

    const [challenge] = await db
      .select()
      .from(otpChallenges)
      .where(eq(otpChallenges.id, delivery.challengeId))
      .limit(1);
    const at = now();
    const unusable = !challenge
      ? 'challenge gone'
      : challenge.consumedAt
        ? 'code already used'
        : challenge.supersededAt
          ? 'code superseded by a newer one'
          : challenge.expiresAt <= at
            ? 'code expired'
            : undefined;
    if (unusable || !challenge) {
      await finish(deliveryId, 'skipped', { lastError: unusable ?? null });
      log.info({ reason: unusable }, 'delivery skipped');
      return 'skipped';
    }

    const payload = openDeliveryPayload(deps.payloadKey, delivery.id, delivery.payloadCiphertext);
    const validForMinutes = Math.round(
      (challenge.expiresAt.getTime() - challenge.createdAt.getTime()) / 60_000,
    );
    const email = renderOtpEmail({ code: payload.code, firstName: payload.firstName, validForMinutes });

    try {
      const result = await deps.emailSender.send({ to: delivery.destination, ...email });
      await finish(deliveryId, 'sent', {
        provider: result.provider,
        providerMessageId: result.providerMessageId,
        sentAt: now(),
        lastError: null,
      });
      log.info({ provider: result.provider, attempts: delivery.attempts }, 'delivery sent');
      return 'sent';
    } catch (error) {
      const failure =
        error instanceof DeliveryError ? error : new DeliveryError(String(error), true, { cause: error });
      const final = !failure.retryable || attempt.attemptsMade + 1 >= attempt.maxAttempts;
      await finish(deliveryId, final ? 'dead' : 'failed', {
        provider: deps.emailSender.provider,
        lastError: failure.message,
      });
      log.warn({ err: failure, retryable: failure.retryable, final }, 'delivery attempt failed');
      // Not retryable: end the job now instead of spending attempts on a certain failure.
      throw failure.retryable ? failure : new UnrecoverableError(failure.message);
    }
  };
}
