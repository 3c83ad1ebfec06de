import { DEAD_LETTER_QUEUE, type DeadLetterJob, type Logger } from '@otp-relay/core';
import { UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { type ReplayDeps, type ReplayReport, replayDeadDeliveries } from './dead-letters.js';

/**
 * Makes the dead-letter queue operable from Bull Board. A new copy is failed at once, so it shows
 * as a failed job with its reason; when an operator presses Retry, the job runs again (now with an
 * attempt behind it) and replays its delivery through the same path as `pnpm dlq:replay`.
 */
export function createDeadLetterWorker(
  deps: ReplayDeps & { connection: Redis; prefix: string; logger: Logger },
) {
  const worker = new Worker<DeadLetterJob, ReplayReport>(
    DEAD_LETTER_QUEUE,
    async (job) => {
      if (job.attemptsMade === 0) throw new UnrecoverableError(job.data.reason);
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
