import type { RedisClient } from '@otp-relay/core';
import {
  DEAD_LETTER_QUEUE,
  type DeadLetterJob,
  type Logger,
  WEBHOOK_DEAD_LETTER_JOB,
  type WebhookDeadLetterJob,
  type WebhookQueue,
} from '@otp-relay/core';
import { UnrecoverableError, Worker } from 'bullmq';
import { replayDeadWebhookEvents, type WebhookReplayReport } from '../webhooks/webhook-dead-letters.js';
import { type ReplayDeps, type ReplayReport, replayDeadDeliveries } from './dead-letters.js';

/**
 * Makes the dead-letter queue operable from Bull Board. A new copy is failed at once, so it shows
 * as a failed job with its reason; when an operator presses Retry, the job runs again (now with an
 * attempt behind it) and replays its delivery through the same path as `pnpm dlq:replay`. Dead
 * webhook events share the queue (job name WEBHOOK_DEAD_LETTER_JOB) and are replayed the same way.
 */
export function createDeadLetterWorker(
  deps: ReplayDeps & { connection: RedisClient; prefix: string; logger: Logger; webhookQueue?: WebhookQueue },
) {
  async function replayWebhook(data: WebhookDeadLetterJob): Promise<WebhookReplayReport> {
    if (!deps.webhookQueue) throw new UnrecoverableError('webhooks are off on this worker (no WEBHOOK_URL)');
    const report = await replayDeadWebhookEvents({ ...deps, webhookQueue: deps.webhookQueue }, [
      data.eventId,
    ]);
    deps.logger.info(
      { eventId: data.eventId, report },
      'dead webhook event retried from the dead-letter queue',
    );
    return report;
  }

  const worker = new Worker<DeadLetterJob | WebhookDeadLetterJob, ReplayReport | WebhookReplayReport>(
    DEAD_LETTER_QUEUE,
    async (job) => {
      if (job.attemptsMade === 0) throw new UnrecoverableError(job.data.reason);
      if (job.name === WEBHOOK_DEAD_LETTER_JOB && 'eventId' in job.data) return replayWebhook(job.data);
      if (!('deliveryId' in job.data)) throw new UnrecoverableError('not a dead delivery');
      const report = await replayDeadDeliveries(deps, [job.data.deliveryId]);
      deps.logger.info(
        { deliveryId: job.data.deliveryId, report },
        'dead delivery retried from the dead-letter queue',
      );
      return report;
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: 1 },
  );
  worker.on('error', (error) => deps.logger.error({ error: error.message }, 'dead-letter worker error'));
  return worker;
}
