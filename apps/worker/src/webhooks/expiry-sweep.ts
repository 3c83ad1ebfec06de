import { randomUUID } from 'node:crypto';
import { webhookDedupeKey, webhookEvent } from '@otp-relay/core';
import { createWebhookEventRepository, type Database } from '@otp-relay/db';
import type { WebhookOutbox } from './webhook-outbox.js';

/**
 * How far back the sweep looks for flows that expired unverified. A flow that expired while no
 * worker ran for longer than this is not announced; inside it, each is announced once (the dedupe
 * key), however many workers sweep.
 */
export const EXPIRY_SWEEP_WINDOW_MS = 24 * 3600_000;
const BATCH_SIZE = 500;

/**
 * verification.expired for every flow whose code lifetime passed unverified and which nothing
 * ended (a canceled flow, or one another flow took the contact of, did not just expire). A resend
 * may revive a flow later; its expiry is still announced once. How many events it recorded.
 */
export async function sweepExpiredVerifications(deps: {
  db: Database;
  webhooks: WebhookOutbox;
  at: Date;
}): Promise<number> {
  const repository = createWebhookEventRepository(deps.db);
  const since = new Date(deps.at.getTime() - EXPIRY_SWEEP_WINDOW_MS);
  let recorded = 0;
  for (;;) {
    const flows = await repository.expiredFlowsWithoutEvent(since, deps.at, BATCH_SIZE);
    const events = flows.map((flow) =>
      webhookEvent(
        randomUUID(),
        'verification.expired',
        webhookDedupeKey.verificationExpired(flow.id),
        {
          verification_id: flow.verificationId,
          channel: flow.channel,
          expired_at: flow.expiresAt.toISOString(),
        },
        flow.expiresAt,
      ),
    );
    const ids = await deps.webhooks.record(deps.db, events);
    await deps.webhooks.enqueue(ids);
    recorded += ids.length;
    if (flows.length < BATCH_SIZE) return recorded;
  }
}
