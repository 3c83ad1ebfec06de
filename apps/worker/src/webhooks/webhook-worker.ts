import {
  type DeadLetterQueue,
  type Logger,
  queuePrefix,
  type RedisClient,
  WEBHOOK_BACKOFF_TYPE,
  WEBHOOK_QUEUE,
  type WebhookJob,
  type WorkerConfig,
  webhookRetryDelaysMs,
  webhookSecrets,
} from '@otp-relay/core';
import type { Database } from '@otp-relay/db';
import { Worker } from 'bullmq';
import { jobLockSettings } from '../delivery/job-lock.js';
import { createWebhookProcessor, type WebhookMetricEvents, type WebhookOutcome } from './process-webhook.js';
import { webhookTarget } from './webhook-sender.js';

/**
 * The BullMQ worker of the webhook queue: WEBHOOK_CONCURRENCY slots of its own, apart from the
 * deliveries' WORKER_CONCURRENCY, so receivers that hang fill these and never a code's. Retries
 * follow WEBHOOK_RETRY_SCHEDULE; a worker killed mid-POST leaves its job to another once the lock
 * lapses (the event may then arrive twice, under one webhook-id).
 */
export function createWebhookWorker(deps: {
  config: WorkerConfig;
  db: Database;
  connection: RedisClient;
  deadLetterQueue: DeadLetterQueue;
  logger: Logger;
  metrics?: WebhookMetricEvents;
  now?: () => Date;
}) {
  const { config } = deps;
  if (!config.WEBHOOK_URL) throw new Error('createWebhookWorker needs WEBHOOK_URL');
  const delays = webhookRetryDelaysMs(config);
  const processWebhook = createWebhookProcessor({
    db: deps.db,
    target: webhookTarget(config.WEBHOOK_URL, webhookSecrets(config), config.WEBHOOK_TIMEOUT_SECONDS * 1000),
    deadLetterQueue: deps.deadLetterQueue,
    maxAttempts: delays.length + 1,
    logger: deps.logger,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    ...(deps.now ? { now: deps.now } : {}),
  });
  const worker = new Worker<WebhookJob, WebhookOutcome>(WEBHOOK_QUEUE, processWebhook, {
    connection: deps.connection,
    prefix: queuePrefix(config),
    concurrency: config.WEBHOOK_CONCURRENCY,
    ...jobLockSettings(config.DELIVERY_LOCK_MS),
    settings: {
      // The wait before retry n is the schedule's n-th entry (its last, should BullMQ ask for more).
      backoffStrategy: (attemptsMade, type) =>
        type === WEBHOOK_BACKOFF_TYPE ? (delays[attemptsMade - 1] ?? delays.at(-1) ?? 0) : 0,
    },
  });
  worker.on('error', (error) => deps.logger.error({ error: error.message }, 'webhook worker error'));
  return worker;
}
