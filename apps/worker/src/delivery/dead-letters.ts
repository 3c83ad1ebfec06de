import { type DeadLetterQueue, type DeliveryQueue, enqueueDelivery, type RetryPolicy } from '@otp-relay/core';
import { type Database, deliveries, otpChallenges } from '@otp-relay/db';
import { and, eq, inArray } from 'drizzle-orm';

export interface ReplayDeps {
  db: Database;
  deliveryQueue: DeliveryQueue;
  deadLetterQueue: DeadLetterQueue;
  retryPolicy: RetryPolicy;
  now?: () => Date;
}

export interface ReplayReport {
  replayed: string[];
  /** Dead deliveries whose code can no longer be used: marked `skipped`, not sent. */
  skipped: { deliveryId: string; reason: string }[];
  /** Ids asked for that are not dead deliveries. */
  notDead: string[];
}

/** The dead-letter job of a delivery is named after the attempt it died on (see process-delivery.ts). */
export const deadLetterJobId = (deliveryId: string, attempts: number) => `${deliveryId}-${attempts}`;

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
  const dead = await deps.db
    .select({
      id: deliveries.id,
      attempts: deliveries.attempts,
      expiresAt: otpChallenges.expiresAt,
      consumedAt: otpChallenges.consumedAt,
      supersededAt: otpChallenges.supersededAt,
    })
    .from(deliveries)
    .innerJoin(otpChallenges, eq(deliveries.challengeId, otpChallenges.id))
    .where(and(eq(deliveries.status, 'dead'), deliveryIds ? inArray(deliveries.id, deliveryIds) : undefined));

  const report: ReplayReport = {
    replayed: [],
    skipped: [],
    notDead: (deliveryIds ?? []).filter((id) => !dead.some((row) => row.id === id)),
  };
  for (const row of dead) {
    const reason = row.consumedAt
      ? 'code already used'
      : row.supersededAt
        ? 'code superseded by a newer one'
        : row.expiresAt <= now()
          ? 'code expired'
          : undefined;
    // Only a row still dead is changed: two replays at once cannot both send.
    const [changed] = await deps.db
      .update(deliveries)
      .set({
        status: reason ? 'skipped' : 'queued',
        updatedAt: now(),
        ...(reason ? { lastError: reason } : {}),
      })
      .where(and(eq(deliveries.id, row.id), eq(deliveries.status, 'dead')))
      .returning({ id: deliveries.id });
    if (!changed) continue;

    await removeDeadLetterCopy(deps.deadLetterQueue, deadLetterJobId(row.id, row.attempts));
    if (reason) {
      report.skipped.push({ deliveryId: row.id, reason });
      continue;
    }
    // The failed job keeps its id for a while; it must go before the id can be enqueued again.
    await (await deps.deliveryQueue.getJob(row.id))?.remove();
    await enqueueDelivery(deps.deliveryQueue, row.id, deps.retryPolicy);
    report.replayed.push(row.id);
  }
  return report;
}
