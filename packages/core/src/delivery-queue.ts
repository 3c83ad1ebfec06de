import { SpanKind } from '@opentelemetry/api';
import { type JobsOptions, Queue } from 'bullmq';
import Type, { type Static } from 'typebox';
import Compile from 'typebox/compile';
import { isRedisClient, type RedisClient } from './redis.js';
import { currentTraceparent, inSpan, TRACEPARENT_PATTERN } from './trace-context.js';
import type { WebhookDeadLetterJob } from './webhook-queue.js';

/** The job catalogue: queue names, the payload and its options live here and nowhere else. */

export const DELIVERY_QUEUE = 'otp-delivery';
export const DEAD_LETTER_QUEUE = 'otp-delivery-dead';

/**
 * A job carries the delivery id only; the code stays encrypted in Postgres. With tracing on, also
 * the W3C `traceparent` of the span that enqueued it, so the worker's spans join the request's
 * trace (ids only; jobs from before, or with tracing off, have none).
 */
export const DeliveryJobSchema = Type.Object(
  {
    deliveryId: Type.String({ format: 'uuid' }),
    traceparent: Type.Optional(Type.String({ pattern: TRACEPARENT_PATTERN })),
  },
  { additionalProperties: false },
);
export type DeliveryJob = Static<typeof DeliveryJobSchema>;

// Compiled once: the worker checks every job it takes.
const deliveryJobValidator = Compile(DeliveryJobSchema);

export function parseDeliveryJob(data: unknown): DeliveryJob {
  if (!deliveryJobValidator.Check(data)) {
    throw new Error(`Malformed delivery job: ${JSON.stringify(data)}`);
  }
  return data;
}

/** The worker registers the backoff strategy of this name (apps/worker/src/delivery/retry-policy.ts). */
export const DELIVERY_BACKOFF_TYPE = 'delivery';

export interface RetryPolicy {
  maxAttempts: number;
}

export type DeliveryQueue = Queue<DeliveryJob>;

export function createDeliveryQueue(connection: RedisClient, prefix: string): DeliveryQueue {
  return new Queue<DeliveryJob>(DELIVERY_QUEUE, { connection, prefix });
}

export function deliveryJobOptions(deliveryId: string, policy: RetryPolicy): JobsOptions {
  return {
    // jobId = deliveryId makes a second enqueue of the same delivery a no-op (while the job is kept).
    jobId: deliveryId,
    attempts: policy.maxAttempts,
    backoff: { type: DELIVERY_BACKOFF_TYPE },
    removeOnComplete: { age: 24 * 3600, count: 50_000 },
    removeOnFail: { age: 14 * 24 * 3600 },
  };
}

const ENQUEUE_TIMEOUT_MS = 2000;

/**
 * Adds the delivery's job, or fails fast: while Redis is away BullMQ would wait for it forever,
 * and the caller has a committed outbox row to fall back on.
 */
export async function enqueueDelivery(queue: DeliveryQueue, deliveryId: string, policy: RetryPolicy) {
  const { connection } = queue.opts;
  if (isRedisClient(connection) && connection.status !== 'ready') {
    throw new Error(`Redis is not connected (${connection.status})`);
  }
  await inSpan(`${DELIVERY_QUEUE} publish`, publishSpanOptions(deliveryId), async () => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('enqueue timed out')), ENQUEUE_TIMEOUT_MS);
    });
    try {
      await Promise.race([
        queue.add('deliver', deliveryJobData(deliveryId), deliveryJobOptions(deliveryId, policy)),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  });
}

const publishSpanOptions = (deliveryId: string) => ({
  kind: SpanKind.PRODUCER,
  attributes: {
    'messaging.system': 'bullmq',
    'messaging.operation.type': 'send',
    'messaging.destination.name': DELIVERY_QUEUE,
    'messaging.message.id': deliveryId,
  },
});

/** A job's data: the delivery, and the active span's trace context when tracing is on. */
function deliveryJobData(deliveryId: string): DeliveryJob {
  const traceparent = currentTraceparent();
  return traceparent ? { deliveryId, traceparent } : { deliveryId };
}

/**
 * The job that tells the worker a provider reported a delivery it had accepted as failed (a
 * Twilio receipt: 63016, undelivered): the worker ends it and starts its fallback at once. Same
 * queue and payload as a send; told apart by the job's name.
 */
export const REPORTED_FAILURE_JOB = 'reported-failure';

/** Its own id: the delivery's send job may still be kept under the delivery's id. */
export const reportedFailureJobId = (deliveryId: string) => `${deliveryId}-reported`;

export async function enqueueReportedFailure(queue: DeliveryQueue, deliveryId: string, policy: RetryPolicy) {
  await queue.add(REPORTED_FAILURE_JOB, deliveryJobData(deliveryId), {
    ...deliveryJobOptions(deliveryId, policy),
    jobId: reportedFailureJobId(deliveryId),
  });
}

/** What the dead-letter queue keeps of a delivery that failed for good: ids and reasons, no code. */
export interface DeadLetterJob {
  deliveryId: string;
  channel: string;
  provider: string;
  reason: string;
  errors: { attempt: number; at: string; provider: string; error: string; retryable: boolean }[];
  diedAt: string;
}

/** Dead deliveries, and dead webhook events (job name WEBHOOK_DEAD_LETTER_JOB): one place to replay. */
export type DeadLetterQueue = Queue<DeadLetterJob | WebhookDeadLetterJob>;

export function createDeadLetterQueue(connection: RedisClient, prefix: string): DeadLetterQueue {
  return new Queue<DeadLetterJob | WebhookDeadLetterJob>(DEAD_LETTER_QUEUE, { connection, prefix });
}
