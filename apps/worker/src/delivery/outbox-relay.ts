import { type DeliveryQueue, enqueueDelivery, type Logger, type RetryPolicy } from '@otp-relay/core';
import { type Database, deliveries } from '@otp-relay/db';
import { and, asc, eq, lt } from 'drizzle-orm';

export interface OutboxRelayDeps {
  db: Database;
  queue: DeliveryQueue;
  policy: RetryPolicy;
  logger: Logger;
  /** How often to look for lost enqueues. */
  intervalMs: number;
  /** Rows younger than this are left to the API, which is enqueuing them right now. */
  graceMs: number;
  now?: () => Date;
}

const BATCH_SIZE = 500;

/**
 * The outbox relay: the API commits a delivery row before it enqueues its job, so a job can be
 * missing (Redis was down, the API died in between) but a row cannot. This finds rows still
 * `queued` after the grace period and enqueues them; jobId = deliveryId makes that a no-op for
 * rows whose job exists. Any number of workers may run it at once.
 */
export function createOutboxRelay(deps: OutboxRelayDeps) {
  const now = deps.now ?? (() => new Date());
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  async function relayOnce(): Promise<number> {
    const cutoff = new Date(now().getTime() - deps.graceMs);
    const stale = await deps.db
      .select({ id: deliveries.id })
      .from(deliveries)
      .where(and(eq(deliveries.status, 'queued'), lt(deliveries.createdAt, cutoff)))
      .orderBy(asc(deliveries.createdAt))
      .limit(BATCH_SIZE);
    let relayed = 0;
    for (const { id } of stale) {
      const job = await deps.queue.getJob(id);
      if (!job) {
        await enqueueDelivery(deps.queue, id, deps.policy);
        relayed += 1;
      } else if (await job.isFailed()) {
        // Its attempts ran out before the row was ever claimed (e.g. Postgres was down): try again.
        await job.retry();
        relayed += 1;
      }
    }
    if (relayed > 0) deps.logger.warn({ relayed }, 'outbox relay enqueued deliveries that had no job');
    return relayed;
  }

  function tick() {
    running ??= relayOnce()
      .catch((error: unknown) => {
        deps.logger.warn({ err: error }, 'outbox relay pass failed; will try again');
        return 0;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  return {
    relayOnce: tick,
    start() {
      timer ??= setInterval(() => void tick(), deps.intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
