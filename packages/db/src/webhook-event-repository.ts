import { type NewWebhookEvent, webhookDedupeKey } from '@otp-relay/core';
import { and, asc, eq, gt, inArray, isNull, lt, lte, notExists, type SQL, sql } from 'drizzle-orm';
import type { Database, Transaction } from './client.js';
import { type RegistrationFlow, registrationFlows, type WebhookEvent, webhookEvents } from './schema.js';

/**
 * The webhook outbox's SQL: every statement on `webhook_events`. Events are inserted by the
 * statement or transaction that makes the fact they report (an account, an approved flow, a dead
 * delivery), so an event is neither lost nor invented; the worker sends them and records how that
 * went. A second insert of one fact (same dedupe key) is a no-op.
 */
export function createWebhookEventRepository(db: Database) {
  const row = (event: NewWebhookEvent) => ({
    id: event.id,
    type: event.type,
    dedupeKey: event.dedupeKey,
    payload: event.payload,
    createdAt: event.createdAt,
    updatedAt: event.createdAt,
  });

  return {
    /** Inserts the events not recorded yet (by dedupe key); the ids of those inserted, to enqueue. */
    async insert(tx: Database | Transaction, events: NewWebhookEvent[]): Promise<string[]> {
      if (events.length === 0) return [];
      const inserted = await tx
        .insert(webhookEvents)
        .values(events.map(row))
        .onConflictDoNothing({ target: webhookEvents.dedupeKey })
        .returning({ id: webhookEvents.id });
      return inserted.map((event) => event.id);
    },

    /**
     * Claims an event for an attempt: counts it, if it is still pending. Undefined when it was
     * delivered or is dead (a job run twice, a replay racing the relay): nothing to send.
     */
    async claim(eventId: string, at: Date): Promise<WebhookEvent | undefined> {
      const [claimed] = await db
        .update(webhookEvents)
        .set({ attempts: sql`${webhookEvents.attempts} + 1`, updatedAt: at })
        .where(and(eq(webhookEvents.id, eventId), eq(webhookEvents.status, 'pending')))
        .returning();
      return claimed;
    },

    async markDelivered(eventId: string, at: Date): Promise<void> {
      await db
        .update(webhookEvents)
        .set({ status: 'delivered', deliveredAt: at, lastError: null, updatedAt: at })
        .where(and(eq(webhookEvents.id, eventId), eq(webhookEvents.status, 'pending')));
    },

    /** A failed attempt: `dead` when it was the last. Says whether the row changed (still pending). */
    async markFailed(eventId: string, error: string, final: boolean, at: Date): Promise<boolean> {
      const changed = await db
        .update(webhookEvents)
        .set({ lastError: error, updatedAt: at, ...(final ? { status: 'dead' as const } : {}) })
        .where(and(eq(webhookEvents.id, eventId), eq(webhookEvents.status, 'pending')))
        .returning({ id: webhookEvents.id });
      return changed.length > 0;
    },

    /** Events still pending since before `cutoff`, oldest first: their enqueue may have been lost. */
    async stalePending(cutoff: Date, limit: number): Promise<string[]> {
      const rows = await db
        .select({ id: webhookEvents.id })
        .from(webhookEvents)
        .where(and(eq(webhookEvents.status, 'pending'), lt(webhookEvents.createdAt, cutoff)))
        .orderBy(asc(webhookEvents.createdAt))
        .limit(limit);
      return rows.map((event) => event.id);
    },

    /** Dead events: all of them, or those of the given ids. */
    async dead(eventIds?: string[]): Promise<WebhookEvent[]> {
      return db
        .select()
        .from(webhookEvents)
        .where(
          and(eq(webhookEvents.status, 'dead'), eventIds ? inArray(webhookEvents.id, eventIds) : undefined),
        );
    },

    /** A dead event goes back to pending, to be sent again. Says whether it was still dead. */
    async requeueDead(eventId: string, at: Date): Promise<boolean> {
      const changed = await db
        .update(webhookEvents)
        .set({ status: 'pending', updatedAt: at })
        .where(and(eq(webhookEvents.id, eventId), eq(webhookEvents.status, 'dead')))
        .returning({ id: webhookEvents.id });
      return changed.length > 0;
    },

    /**
     * Flows whose code expired in (`since`, `at`] unverified and still open, that have no
     * verification.expired event yet: the sweep's candidates.
     */
    async expiredFlowsWithoutEvent(
      since: Date,
      at: Date,
      limit: number,
    ): Promise<Pick<RegistrationFlow, 'id' | 'verificationId' | 'channel' | 'expiresAt'>[]> {
      return db
        .select({
          id: registrationFlows.id,
          verificationId: registrationFlows.verificationId,
          channel: registrationFlows.channel,
          expiresAt: registrationFlows.expiresAt,
        })
        .from(registrationFlows)
        .where(
          and(
            gt(registrationFlows.expiresAt, since),
            lte(registrationFlows.expiresAt, at),
            isNull(registrationFlows.verifiedAt),
            isNull(registrationFlows.closedAt),
            notExists(
              db
                .select({ one: sql`1` })
                .from(webhookEvents)
                .where(
                  eq(
                    webhookEvents.dedupeKey,
                    sql`${webhookDedupeKey.verificationExpired('')} || ${registrationFlows.id}::text`,
                  ),
                ),
            ),
          ),
        )
        .orderBy(asc(registrationFlows.expiresAt))
        .limit(limit);
    },

    /** Delivered and dead events created before `cutoff` (retention); how many went. */
    async purgeFinished(cutoff: Date, limit: number): Promise<number> {
      const old = db
        .select({ id: webhookEvents.id })
        .from(webhookEvents)
        .where(and(inArray(webhookEvents.status, ['delivered', 'dead']), lt(webhookEvents.createdAt, cutoff)))
        .limit(limit);
      const deleted = await db
        .delete(webhookEvents)
        .where(inArray(webhookEvents.id, old))
        .returning({ id: webhookEvents.id });
      return deleted.length;
    },
  };
}

export type WebhookEventRepository = ReturnType<typeof createWebhookEventRepository>;

/**
 * The events as a data-modifying CTE's body, for a statement that makes their fact (completeFlow):
 * inserted only if `when` holds, so they commit, or not, with it.
 */
export function insertWebhookEventsSql(events: NewWebhookEvent[], when: SQL): SQL {
  const values = events.map(
    (event) =>
      sql`(${event.id}::uuid, ${event.type}, ${event.dedupeKey}, ${JSON.stringify(event.payload)}::jsonb, ${event.createdAt.toISOString()}::timestamptz)`,
  );
  return sql`INSERT INTO ${webhookEvents} (id, type, dedupe_key, payload, created_at)
    SELECT v.id, v.type, v.dedupe_key, v.payload, v.created_at
    FROM (VALUES ${sql.join(values, sql`, `)}) AS v (id, type, dedupe_key, payload, created_at)
    WHERE ${when}
    ON CONFLICT (dedupe_key) DO NOTHING`;
}
