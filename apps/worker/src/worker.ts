import {
  allowedSmsCountries,
  contextOfTraceparent,
  createDeadLetterQueue,
  createDeliveryQueue,
  createWebhookQueue,
  DELIVERY_BACKOFF_TYPE,
  DELIVERY_QUEUE,
  inSpan,
  type Logger,
  queuePrefix,
  REPORTED_FAILURE_JOB,
  type RedisClient,
  SpanKind,
  type SpanOptions,
  type WebhookQueue,
  type WorkerConfig,
} from '@otp-relay/core';
import type { Channel, Database } from '@otp-relay/db';
import { createDeliveryRepository } from '@otp-relay/db';
import { type Job, Worker } from 'bullmq';
import type { DeliveryJobData } from './delivery/acceptance.js';
import { type ChannelChain, parseChannelOrder } from './delivery/channel-chain.js';
import { createDeadLetterWorker } from './delivery/dead-letter-worker.js';
import { createFallbacks } from './delivery/fallback.js';
import { jobLockSettings } from './delivery/job-lock.js';
import { createOutboxRelay } from './delivery/outbox-relay.js';
import {
  createDeliveryProcessor,
  type DeliveryEvents,
  type DeliveryOutcome,
} from './delivery/process-delivery.js';
import { createDryProviders, type DryProviderEvents } from './delivery/provider-exhaustion.js';
import { createReportedFailureHandler, type ReportedFailureOutcome } from './delivery/reported-failure.js';
import { deliveryBackoffDelay, jobBackoffDelay } from './delivery/retry-policy.js';
import type { Senders } from './delivery/senders.js';
import type { WebhookMetricEvents } from './webhooks/process-webhook.js';
import { createWebhookOutbox, type WebhookOutbox } from './webhooks/webhook-outbox.js';
import { createWebhookWorker } from './webhooks/webhook-worker.js';

export interface WorkerDeps {
  config: WorkerConfig;
  db: Database;
  /** A connection made with the 'worker' profile (`maxRetriesPerRequest: null`). */
  connection: RedisClient;
  payloadKey: Buffer;
  senders: Senders;
  logger: Logger;
  /** The clock that decides whether a code has expired; tests move it. */
  now?: () => Date;
  /** Delivery events, for metrics. */
  events?: DeliveryEvents & DryProviderEvents;
  /** Webhook events sent and failed, for metrics. */
  webhookMetrics?: WebhookMetricEvents;
}

export interface DeliveryWorker {
  worker: Worker<DeliveryJobData, DeliveryOutcome | ReportedFailureOutcome>;
  /** Enqueues committed deliveries (and webhook events) whose job is missing; runs on an interval too. */
  relayOnce(): Promise<number>;
  /** The webhook events' outbox, when WEBHOOK_URL is set (maintenance's expiry sweep records into it). */
  webhooks: WebhookOutbox | undefined;
  /** Stops taking jobs and waits for the ones in flight. */
  close(): Promise<void>;
}

/** FALLBACK_CHAIN and what bounds it: the channels this worker sends on, and SMS's country list. */
function channelChainOf(config: WorkerConfig, senders: Senders): ChannelChain {
  return {
    order: parseChannelOrder(config.FALLBACK_CHAIN),
    available: new Set(Object.keys(senders.primary) as Channel[]),
    whatsappToEmail: config.WHATSAPP_FALLBACK_TO_EMAIL,
    smsCountries: allowedSmsCountries(config),
  };
}

function consumerSpanOptions(job: Job<DeliveryJobData>): SpanOptions {
  return {
    kind: SpanKind.CONSUMER,
    attributes: {
      'messaging.system': 'bullmq',
      'messaging.operation.type': 'process',
      'messaging.destination.name': DELIVERY_QUEUE,
      'messaging.message.id': job.id ?? '',
      'otp_relay.job': job.name,
      'otp_relay.attempt': job.attemptsMade + 1,
    },
  };
}

export function createWorker(deps: WorkerDeps): DeliveryWorker {
  const { config } = deps;
  const deliveryQueue = createDeliveryQueue(deps.connection, queuePrefix(config));
  const deadLetterQueue = createDeadLetterQueue(deps.connection, queuePrefix(config));
  const retryPolicy = { maxAttempts: config.DELIVERY_MAX_ATTEMPTS };
  const channelChain = channelChainOf(config, deps.senders);
  // Events for the shop: their own queue and worker (webhook-worker.ts), only with a WEBHOOK_URL.
  const webhookQueue: WebhookQueue | undefined = config.WEBHOOK_URL
    ? createWebhookQueue(deps.connection, queuePrefix(config))
    : undefined;
  const webhooks =
    webhookQueue && createWebhookOutbox({ db: deps.db, queue: webhookQueue, logger: deps.logger });

  const processDelivery = createDeliveryProcessor({
    db: deps.db,
    payloadKey: deps.payloadKey,
    senders: deps.senders,
    deliveryQueue,
    deadLetterQueue,
    retryPolicy,
    channelChain,
    logger: deps.logger,
    ...(deps.events ? { events: deps.events } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    webhooks,
    // One key per provider under the queue prefix: every worker of the deployment sees it.
    dryProviders: createDryProviders({
      redis: deps.connection,
      prefix: config.QUEUE_PREFIX,
      logger: deps.logger,
      ...(deps.events ? { events: deps.events } : {}),
    }),
  });
  const now = deps.now ?? (() => new Date());
  const repository = createDeliveryRepository(deps.db);
  const handleReportedFailure = createReportedFailureHandler({
    repository,
    fallbacks: createFallbacks({
      repository,
      payloadKey: deps.payloadKey,
      senders: deps.senders,
      deliveryQueue,
      retryPolicy,
      channelChain,
      logger: deps.logger,
      now,
      webhooks,
    }),
    deadLetterQueue,
    logger: deps.logger,
    now,
  });
  const backoff = { baseMs: config.DELIVERY_BACKOFF_BASE_MS, maxMs: config.DELIVERY_BACKOFF_MAX_MS };

  const worker = new Worker<DeliveryJobData, DeliveryOutcome | ReportedFailureOutcome>(
    DELIVERY_QUEUE,
    (job, token) =>
      // Each run a consumer span in the trace of the request that enqueued the job (its traceparent).
      inSpan(
        `${DELIVERY_QUEUE} process`,
        consumerSpanOptions(job),
        () =>
          // A provider's receipt said a delivery it had accepted failed (see the API's delivery-receipts).
          job.name === REPORTED_FAILURE_JOB
            ? handleReportedFailure(job.data.deliveryId)
            : processDelivery({
                data: job.data,
                attemptsMade: job.attemptsMade,
                maxAttempts: job.opts.attempts ?? 1,
                keepAcceptance: (accepted) => job.updateData({ ...job.data, accepted }),
                // Delayed, not failed: recording spends none of the attempts the send has.
                runAgainLater: (deferrals) =>
                  job.moveToDelayed(Date.now() + deliveryBackoffDelay(deferrals, undefined, backoff), token),
                // The backoff BullMQ will take (below), for the same job and attempt.
                retryDelayMs: (failure) => jobBackoffDelay(job.id, job.attemptsMade + 1, failure, backoff),
              }),
        contextOfTraceparent(job.data.traceparent),
      ),
    {
      connection: deps.connection,
      concurrency: config.WORKER_CONCURRENCY,
      // A worker that dies mid-send stops renewing its lock; after it lapses another worker takes the job.
      ...jobLockSettings(config.DELIVERY_LOCK_MS),
      settings: {
        backoffStrategy: (attemptsMade, type, error, job) =>
          type === DELIVERY_BACKOFF_TYPE ? jobBackoffDelay(job?.id, attemptsMade, error, backoff) : 0,
      },
      prefix: queuePrefix(config),
    },
  );
  // Without a listener an 'error' event would crash the process; Redis hiccups are logged and survived.
  worker.on('error', (error) => deps.logger.error({ error: error.message }, 'worker error'));

  const relay = createOutboxRelay({
    db: deps.db,
    queue: deliveryQueue,
    policy: retryPolicy,
    logger: deps.logger,
    intervalMs: config.OUTBOX_RELAY_INTERVAL_MS,
    graceMs: config.OUTBOX_RELAY_GRACE_MS,
    ...(webhookQueue ? { webhookQueue } : {}),
    ...(deps.now ? { now: deps.now } : {}),
  });
  relay.start();

  const webhookWorker =
    webhookQueue &&
    createWebhookWorker({
      config,
      db: deps.db,
      connection: deps.connection,
      deadLetterQueue,
      logger: deps.logger,
      ...(deps.webhookMetrics ? { metrics: deps.webhookMetrics } : {}),
      ...(deps.now ? { now: deps.now } : {}),
    });

  const deadLetterWorker = createDeadLetterWorker({
    db: deps.db,
    deliveryQueue,
    deadLetterQueue,
    retryPolicy,
    ...(webhookQueue ? { webhookQueue } : {}),
    connection: deps.connection,
    prefix: queuePrefix(config),
    logger: deps.logger,
    ...(deps.now ? { now: deps.now } : {}),
  });

  return {
    worker,
    relayOnce: relay.relayOnce,
    webhooks,
    async close() {
      await relay.stop();
      await Promise.all([worker.close(), deadLetterWorker.close(), webhookWorker?.close()]);
      await Promise.all([deliveryQueue.close(), deadLetterQueue.close(), webhookQueue?.close()]);
    },
  };
}
