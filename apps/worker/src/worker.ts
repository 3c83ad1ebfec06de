import { DELIVERY_QUEUE, type DeliveryJob, type Logger, type WorkerConfig } from '@otp-relay/core';
import type { Database } from '@otp-relay/db';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { createDeliveryProcessor, type DeliveryOutcome } from './delivery/process-delivery.js';
import type { EmailSender } from './email/email-sender.js';

export interface WorkerDeps {
  config: WorkerConfig;
  db: Database;
  /** A connection made with the 'worker' profile (`maxRetriesPerRequest: null`). */
  connection: Redis;
  payloadKey: Buffer;
  emailSender: EmailSender;
  logger: Logger;
  /** Redis key prefix of the queues; BullMQ's default when unset. */
  queuePrefix?: string;
}

export interface DeliveryWorker {
  worker: Worker<DeliveryJob, DeliveryOutcome>;
  /** Stops taking jobs and waits for the ones in flight. */
  close(): Promise<void>;
}

export function createWorker(deps: WorkerDeps): DeliveryWorker {
  const processDelivery = createDeliveryProcessor(deps);
  const worker = new Worker<DeliveryJob, DeliveryOutcome>(
    DELIVERY_QUEUE,
    (job) =>
      processDelivery({
        data: job.data,
        attemptsMade: job.attemptsMade,
        maxAttempts: job.opts.attempts ?? 1,
      }),
    {
      connection: deps.connection,
      concurrency: deps.config.WORKER_CONCURRENCY,
      ...(deps.queuePrefix ? { prefix: deps.queuePrefix } : {}),
    },
  );
  // Without a listener an 'error' event would crash the process; Redis hiccups are logged and survived.
  worker.on('error', (error) => deps.logger.error({ err: error }, 'worker error'));
  return {
    worker,
    close: () => worker.close(),
  };
}
