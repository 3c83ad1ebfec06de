import {
  createDeliveryQueue,
  DELIVERY_QUEUE,
  type DeliveryJob,
  type Logger,
  type WorkerConfig,
} from '@otp-relay/core';
import type { Database } from '@otp-relay/db';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { createOutboxRelay } from './delivery/outbox-relay.js';
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
  /** The clock that decides whether a code has expired; tests move it. */
  now?: () => Date;
  /** Outbox relay timing; see outbox-relay.ts. */
  relay?: { intervalMs: number; graceMs: number };
}

export interface DeliveryWorker {
  worker: Worker<DeliveryJob, DeliveryOutcome>;
  /** Enqueues committed deliveries whose job is missing; runs on an interval too. */
  relayOnce(): Promise<number>;
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

  const queue = createDeliveryQueue(deps.connection, deps.queuePrefix);
  const relay = createOutboxRelay({
    db: deps.db,
    queue,
    policy: {
      maxAttempts: deps.config.DELIVERY_MAX_ATTEMPTS,
      backoffBaseMs: deps.config.DELIVERY_BACKOFF_BASE_MS,
    },
    logger: deps.logger,
    intervalMs: deps.relay?.intervalMs ?? 5000,
    graceMs: deps.relay?.graceMs ?? 10_000,
    ...(deps.now ? { now: deps.now } : {}),
  });
  relay.start();

  return {
    worker,
    relayOnce: relay.relayOnce,
    async close() {
      await relay.stop();
      await worker.close();
      await queue.close();
    },
  };
}
