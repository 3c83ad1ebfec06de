import {
  type DeadLetterQueue,
  enqueueWebhookEvents,
  type Logger,
  WEBHOOK_DEAD_LETTER_JOB,
  type WebhookQueue,
} from '@otp-relay/core';
import { createWebhookEventRepository, type Database, type WebhookEvent } from '@otp-relay/db';

/** The dead-letter job of an event, named after the attempt it died on (as deliveries' are). */
export const webhookDeadLetterJobId = (eventId: string, attempts: number) => `${eventId}-${attempts}`;

/**
 * Copies an event its receiver never took to the dead-letter queue (beside dead deliveries), for
 * operators: Bull Board shows it, and its Retry replays it. Best effort: the row is the record.
 */
export async function copyWebhookToDeadLetters(queue: DeadLetterQueue, event: WebhookEvent, logger: Logger) {
  await queue
    .add(
      WEBHOOK_DEAD_LETTER_JOB,
      {
        eventId: event.id,
        type: event.type,
        reason: event.lastError ?? 'failed',
        attempts: event.attempts,
        diedAt: event.updatedAt.toISOString(),
      },
      { jobId: webhookDeadLetterJobId(event.id, event.attempts) },
    )
    .catch((error: unknown) =>
      logger
        .child({ eventId: event.id })
        .warn({ err: error }, 'could not copy the event to the dead-letter queue'),
    );
}

export interface WebhookReplayDeps {
  db: Database;
  webhookQueue: WebhookQueue;
  deadLetterQueue: DeadLetterQueue;
  now?: () => Date;
}

export interface WebhookReplayReport {
  replayed: string[];
  /** Ids asked for that are not dead events. */
  notDead: string[];
}

/**
 * Sends dead events again (`pnpm dlq:replay`, or Retry in Bull Board): all of them, or the given
 * ids. Each goes back to pending with a fresh job and a fresh retry schedule; its id stays, so a
 * receiver that did get an earlier attempt drops the repeat.
 */
export async function replayDeadWebhookEvents(
  deps: WebhookReplayDeps,
  eventIds?: string[],
): Promise<WebhookReplayReport> {
  const now = deps.now ?? (() => new Date());
  const repository = createWebhookEventRepository(deps.db);
  const dead = await repository.dead(eventIds);
  const report: WebhookReplayReport = {
    replayed: [],
    notDead: (eventIds ?? []).filter((id) => !dead.some((event) => event.id === id)),
  };
  for (const event of dead) {
    if (!(await repository.requeueDead(event.id, now()))) continue;
    const copy = await deps.deadLetterQueue.getJob(webhookDeadLetterJobId(event.id, event.attempts));
    await copy?.remove().catch(() => undefined);
    // The failed job keeps its id for a while; it must go before the id can be enqueued again.
    await (await deps.webhookQueue.getJob(event.id))?.remove();
    await enqueueWebhookEvents(deps.webhookQueue, [event.id]);
    report.replayed.push(event.id);
  }
  return report;
}
