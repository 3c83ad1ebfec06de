import { type JobsOptions, Queue } from 'bullmq';
import Type, { type Static } from 'typebox';
import Compile from 'typebox/compile';
import { isRedisClient, type RedisClient } from './redis.js';

/**
 * The webhook queue, beside the deliveries' (delivery-queue.ts) and apart from it: its own
 * workers and slots, so a slow or dead receiver never holds up a code. A job carries the event's
 * id only; the payload stays in Postgres.
 */

export const WEBHOOK_QUEUE = 'otp-webhooks';

export const WebhookJobSchema = Type.Object(
  { eventId: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
);
export type WebhookJob = Static<typeof WebhookJobSchema>;

const webhookJobValidator = Compile(WebhookJobSchema);

export function parseWebhookJob(data: unknown): WebhookJob {
  if (!webhookJobValidator.Check(data)) throw new Error(`Malformed webhook job: ${JSON.stringify(data)}`);
  return data;
}

/** The worker registers the backoff strategy of this name (the WEBHOOK_RETRY_SCHEDULE). */
export const WEBHOOK_BACKOFF_TYPE = 'webhook-schedule';

export type WebhookQueue = Queue<WebhookJob>;

export function createWebhookQueue(connection: RedisClient, prefix: string): WebhookQueue {
  return new Queue<WebhookJob>(WEBHOOK_QUEUE, { connection, prefix });
}

/**
 * BullMQ's bound on a job's attempts: above any schedule (at most 50 retries). The worker ends an
 * event itself once its schedule is spent, so the API need not know the schedule.
 */
const JOB_ATTEMPTS_BOUND = 52;

export function webhookJobOptions(eventId: string): JobsOptions {
  return {
    // jobId = eventId: a second enqueue of one event (the relay, a replay) is a no-op while the job is kept.
    jobId: eventId,
    attempts: JOB_ATTEMPTS_BOUND,
    backoff: { type: WEBHOOK_BACKOFF_TYPE },
    removeOnComplete: { age: 24 * 3600, count: 50_000 },
    removeOnFail: { age: 14 * 24 * 3600 },
  };
}

const ENQUEUE_TIMEOUT_MS = 2000;

/**
 * Adds the events' jobs, or fails fast: the rows are committed, and the worker's relay enqueues
 * what this could not.
 */
export async function enqueueWebhookEvents(queue: WebhookQueue, eventIds: string[]) {
  if (eventIds.length === 0) return;
  const { connection } = queue.opts;
  if (isRedisClient(connection) && connection.status !== 'ready') {
    throw new Error(`Redis is not connected (${connection.status})`);
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('enqueue timed out')), ENQUEUE_TIMEOUT_MS);
  });
  try {
    await Promise.race([
      queue.addBulk(
        eventIds.map((eventId) => ({ name: 'send', data: { eventId }, opts: webhookJobOptions(eventId) })),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** What the dead-letter queue keeps of an event its receiver never took: ids and reasons, no payload. */
export interface WebhookDeadLetterJob {
  eventId: string;
  type: string;
  reason: string;
  attempts: number;
  diedAt: string;
}

/** Dead webhook events go to the deliveries' dead-letter queue under this job name (one place to replay). */
export const WEBHOOK_DEAD_LETTER_JOB = 'webhook-dead';
