import {
  cleanErrorText,
  codeUnusableReason,
  type DeadLetterQueue,
  type DeliveryQueue,
  enqueueDelivery,
  type Logger,
  type RetryPolicy,
} from '@otp-relay/core';
import type { Database, Delivery, DeliveryAttemptError, RegistrationFlow } from '@otp-relay/db';
import { createDeliveryRepository } from '@otp-relay/db';

export interface ReplayDeps {
  db: Database;
  deliveryQueue: DeliveryQueue;
  deadLetterQueue: DeadLetterQueue;
  retryPolicy: RetryPolicy;
  now?: () => Date;
}

export interface ReplayReport {
  replayed: string[];
  /** Dead deliveries whose code can no longer be used, or that a fallback replaced: marked `skipped`, not sent. */
  skipped: { deliveryId: string; reason: string }[];
  /** Ids asked for that are not dead deliveries. */
  notDead: string[];
}

/**
 * Why a dead code must not be sent again: it can no longer be used, or its flow's code has moved
 * to another channel since (a WhatsApp code that fell back to email now proves the email, so it
 * must not reach the phone after all).
 */
function replayRefusal(delivery: Delivery, flow: RegistrationFlow | undefined, at: Date): string | undefined {
  const unusable = codeUnusableReason(flow, delivery.codeSequence ?? 0, at);
  if (unusable) return unusable;
  if (flow && flow.channel !== delivery.channel) return `the code now goes by ${flow.channel}`;
  return undefined;
}

/** The dead-letter job of a delivery is named after the attempt it died on. */
export const deadLetterJobId = (deliveryId: string, attempts: number) => `${deliveryId}-${attempts}`;

export interface DeathRecord {
  delivery: Delivery;
  provider: string;
  /** The last error, cleaned of contacts. */
  reason: string;
  /** Every attempt's error, the last included. */
  errors: DeliveryAttemptError[];
  diedAt: Date;
}

/**
 * Copies a dead delivery to the dead-letter queue, for operators (Bull Board). Best effort: the
 * row is the record, and the replay works from rows.
 */
export async function copyToDeadLetters(queue: DeadLetterQueue, death: DeathRecord, logger: Logger) {
  const { delivery } = death;
  await queue
    .add(
      'dead',
      {
        deliveryId: delivery.id,
        channel: delivery.channel,
        provider: death.provider,
        reason: death.reason,
        errors: death.errors,
        diedAt: death.diedAt.toISOString(),
      },
      { jobId: deadLetterJobId(delivery.id, delivery.attempts) },
    )
    .catch((error: unknown) =>
      logger
        .child({ deliveryId: delivery.id })
        .warn({ err: error }, 'could not copy the delivery to the dead-letter queue'),
    );
}

/** Best effort: a copy being retried from Bull Board is locked by its own job, which completes by itself. */
async function removeDeadLetterCopy(queue: DeadLetterQueue, jobId: string) {
  const job = await queue.getJob(jobId);
  await job?.remove().catch(() => undefined);
}

/**
 * Sends dead deliveries again once their cause is fixed (`pnpm dlq:replay`): all of them, or the
 * given ids. A code that has expired, been used or been replaced since is not sent. The row is
 * the truth: the dead-letter queue's copy is removed, and a fresh job is enqueued.
 */
export async function replayDeadDeliveries(deps: ReplayDeps, deliveryIds?: string[]): Promise<ReplayReport> {
  const now = deps.now ?? (() => new Date());
  const repository = createDeliveryRepository(deps.db);
  // Notices are replayed too: they carry no code (and the oldest belong to no flow).
  const dead = await repository.dead(deliveryIds);

  const report: ReplayReport = {
    replayed: [],
    skipped: [],
    notDead: (deliveryIds ?? []).filter((id) => !dead.some((row) => row.delivery.id === id)),
  };
  for (const { delivery, flow } of dead) {
    const reason = delivery.kind === 'otp' ? replayRefusal(delivery, flow, now()) : undefined;
    const changed = reason
      ? await repository.skipDead(delivery.id, cleanErrorText(reason), now())
      : await repository.requeueDead(delivery.id, now());
    if (!changed) continue;

    await removeDeadLetterCopy(deps.deadLetterQueue, deadLetterJobId(delivery.id, delivery.attempts));
    if (reason) {
      report.skipped.push({ deliveryId: delivery.id, reason });
      continue;
    }
    // The failed job keeps its id for a while; it must go before the id can be enqueued again.
    await (await deps.deliveryQueue.getJob(delivery.id))?.remove();
    await enqueueDelivery(deps.deliveryQueue, delivery.id, deps.retryPolicy);
    report.replayed.push(delivery.id);
  }
  return report;
}
