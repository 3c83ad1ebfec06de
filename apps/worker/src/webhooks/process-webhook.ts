import { type DeadLetterQueue, type Logger, parseWebhookJob } from '@otp-relay/core';
import { createWebhookEventRepository, type Database } from '@otp-relay/db';
import { UnrecoverableError } from 'bullmq';
import { copyWebhookToDeadLetters } from './webhook-dead-letters.js';
import { postWebhook, type WebhookTarget } from './webhook-sender.js';

/** What sending events reports as it goes (metrics listen); no-ops by default. */
export interface WebhookMetricEvents {
  attempted(type: string, result: 'delivered' | 'failed'): void;
  finished(type: string, outcome: 'delivered' | 'dead'): void;
}

export const NO_WEBHOOK_METRICS: WebhookMetricEvents = { attempted() {}, finished() {} };

export interface ProcessWebhookDeps {
  db: Database;
  target: WebhookTarget;
  deadLetterQueue: DeadLetterQueue;
  /** Attempts an event gets in one round: the first and one per WEBHOOK_RETRY_SCHEDULE entry. */
  maxAttempts: number;
  logger: Logger;
  metrics?: WebhookMetricEvents;
  now?: () => Date;
}

export type WebhookOutcome = 'delivered' | 'already-done';

/**
 * One attempt at one event: claim its row (a delivered or dead event is left alone, so a job run
 * twice sends nothing more), POST it, record how that went. A failure throws, so BullMQ retries it
 * on the schedule; the last one marks the row dead and copies it to the dead letters.
 */
export function createWebhookProcessor(deps: ProcessWebhookDeps) {
  const repository = createWebhookEventRepository(deps.db);
  const now = deps.now ?? (() => new Date());
  const metrics = deps.metrics ?? NO_WEBHOOK_METRICS;

  return async function processWebhook(job: {
    data: unknown;
    attemptsMade: number;
  }): Promise<WebhookOutcome> {
    const { eventId } = parseWebhookJob(job.data);
    const log = deps.logger.child({ eventId });
    const event = await repository.claim(eventId, now());
    if (!event) {
      log.info('webhook event already delivered, dead or unknown; nothing to do');
      return 'already-done';
    }
    const attempt = await postWebhook(deps.target, event);
    if (attempt.delivered) {
      await repository.markDelivered(eventId, now());
      metrics.attempted(event.type, 'delivered');
      metrics.finished(event.type, 'delivered');
      log.info({ type: event.type, status: attempt.status, attempts: event.attempts }, 'webhook delivered');
      return 'delivered';
    }
    metrics.attempted(event.type, 'failed');
    const final = job.attemptsMade + 1 >= deps.maxAttempts;
    const changed = await repository.markFailed(eventId, attempt.error, final, now());
    log.warn(
      { type: event.type, error: attempt.error, attempts: event.attempts, final },
      'webhook attempt failed',
    );
    if (final && changed) {
      metrics.finished(event.type, 'dead');
      await copyWebhookToDeadLetters(
        deps.deadLetterQueue,
        { ...event, status: 'dead', lastError: attempt.error, updatedAt: now() },
        deps.logger,
      );
    }
    throw final ? new UnrecoverableError(attempt.error) : new Error(attempt.error);
  };
}
