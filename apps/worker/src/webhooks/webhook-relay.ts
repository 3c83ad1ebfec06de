import { enqueueWebhookEvents, type Logger, type WebhookQueue } from '@otp-relay/core';
import { createWebhookEventRepository, type Database } from '@otp-relay/db';

const BATCH_SIZE = 500;

/**
 * The webhook outbox's relay, as outbox-relay.ts is the deliveries': an event row is committed
 * before its job is enqueued, so a job can be missing (Redis was down, the process died in
 * between) but a row cannot. Events still pending after the grace period whose job is gone are
 * enqueued again, and ones whose job ran out of attempts without a verdict (Postgres was down)
 * are retried. jobId = eventId makes this a no-op for the others.
 */
export async function relayWebhookEvents(deps: {
  db: Database;
  queue: WebhookQueue;
  logger: Logger;
  cutoff: Date;
}): Promise<number> {
  const repository = createWebhookEventRepository(deps.db);
  let relayed = 0;
  for (const id of await repository.stalePending(deps.cutoff, BATCH_SIZE)) {
    const job = await deps.queue.getJob(id);
    if (!job) {
      await enqueueWebhookEvents(deps.queue, [id]);
      relayed += 1;
    } else if (await job.isFailed()) {
      await job.retry();
      relayed += 1;
    }
  }
  if (relayed > 0) deps.logger.warn({ relayed }, 'webhook relay enqueued events that had no job');
  return relayed;
}
