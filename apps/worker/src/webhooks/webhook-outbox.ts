import { enqueueWebhookEvents, type Logger, type NewWebhookEvent, type WebhookQueue } from '@otp-relay/core';
import { createWebhookEventRepository, type Database, type Transaction } from '@otp-relay/db';

/**
 * Where the worker records the events of what it does (a delivery failed for good, a code
 * expired unverified) and hands them to the webhook queue. Present only when WEBHOOK_URL is set.
 */
export interface WebhookOutbox {
  /** Inserts the events (each fact once), in `tx` when they go with another write; their ids. */
  record(tx: Database | Transaction, events: NewWebhookEvent[]): Promise<string[]>;
  /** After commit, best effort: the webhook relay enqueues what this could not. */
  enqueue(eventIds: string[]): Promise<void>;
}

export function createWebhookOutbox(deps: {
  db: Database;
  queue: WebhookQueue;
  logger: Logger;
}): WebhookOutbox {
  const repository = createWebhookEventRepository(deps.db);
  return {
    record: (tx, events) => repository.insert(tx, events),
    async enqueue(eventIds) {
      await enqueueWebhookEvents(deps.queue, eventIds).catch((error: unknown) =>
        deps.logger.warn(
          { err: error, eventIds },
          'webhook enqueue failed; the webhook relay will enqueue it',
        ),
      );
    },
  };
}
