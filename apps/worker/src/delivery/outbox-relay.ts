import {
  type DeliveryQueue,
  enqueueDelivery,
  enqueueReportedFailure,
  type Logger,
  type RetryPolicy,
  reportedFailureJobId,
  type WebhookQueue,
} from '@otp-relay/core';
import type { Database } from '@otp-relay/db';
import { createDeliveryRepository } from '@otp-relay/db';
import { relayWebhookEvents } from '../webhooks/webhook-relay.js';

export interface OutboxRelayDeps {
  db: Database;
  queue: DeliveryQueue;
  policy: RetryPolicy;
  logger: Logger;
  /** How often to look for lost enqueues. */
  intervalMs: number;
  /** Rows younger than this are left to the API, which is enqueuing them right now. */
  graceMs: number;
  /** With webhooks on: pending events with no job are relayed on the same beat. */
  webhookQueue?: WebhookQueue;
  now?: () => Date;
}

const BATCH_SIZE = 500;

/**
 * The outbox relay: the API commits a delivery row before it enqueues its job, so a job can be
 * missing (Redis was down, the API died in between) but a row cannot. This finds rows still
 * `queued` after the grace period and enqueues them; jobId = deliveryId makes that a no-op for
 * rows whose job exists. Any number of workers may run it at once. In the same way it hands on
 * failures a provider reported after acceptance that no worker has handled yet (the API's
 * hand-over was lost).
 */
export function createOutboxRelay(deps: OutboxRelayDeps) {
  const now = deps.now ?? (() => new Date());
  const repository = createDeliveryRepository(deps.db);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  async function relayOnce(): Promise<number> {
    const cutoff = new Date(now().getTime() - deps.graceMs);
    const stale = await repository.staleQueued(cutoff, BATCH_SIZE);
    let relayed = 0;
    for (const id of stale) {
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
    for (const id of await repository.unhandledReportedFailures(cutoff, BATCH_SIZE)) {
      const job = await deps.queue.getJob(reportedFailureJobId(id));
      if (!job) {
        await enqueueReportedFailure(deps.queue, id, deps.policy);
        relayed += 1;
      } else if (await job.isFailed()) {
        await job.retry();
        relayed += 1;
      }
    }
    if (relayed > 0) deps.logger.warn({ relayed }, 'outbox relay enqueued deliveries that had no job');
    if (deps.webhookQueue) {
      relayed += await relayWebhookEvents({
        db: deps.db,
        queue: deps.webhookQueue,
        logger: deps.logger,
        cutoff,
      });
    }
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
