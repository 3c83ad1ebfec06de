import { and, asc, eq, inArray, isNotNull, lt, sql } from 'drizzle-orm';
import type { Database, Transaction } from './client.js';
import {
  type Channel,
  type Delivery,
  type DeliveryAttemptError,
  deliveries,
  deliveryReceipts,
  type ProviderStatus,
  type RegistrationFlow,
  registrationFlows,
} from './schema.js';

/** A provider's acceptance of a delivery, as the worker records it: the send itself. */
export interface DeliveryAcceptance {
  provider: string;
  providerMessageId: string;
  /** When the provider accepted it (ISO 8601): the delivery's `sent_at`. */
  at: string;
}

export type NewDelivery = typeof deliveries.$inferInsert;

export interface ClaimedDelivery {
  delivery: Delivery;
  /** Its registration flow; none for the oldest notices, which belong to no flow. */
  flow?: RegistrationFlow;
}

export interface FailedAttempt {
  deliveryId: string;
  provider: string;
  /** Cleaned of contacts and query values: it is stored. */
  errorText: string;
  entry: DeliveryAttemptError;
  /** No attempt left, or none worth making: the delivery is dead. */
  final: boolean;
  at: Date;
}

/**
 * The outbox's SQL: every statement on `deliveries` outside registration's own (and the flow
 * change a fallback makes): the worker's delivery path, its fallbacks, the outbox relay, the
 * dead-letter replay, and the API's receipts. Registration writes a delivery's first row with
 * `insertDelivery` too, in the transaction that opens the flow; only the statements that end a
 * flow clear its deliveries' sealed codes themselves (flow-repository.ts in the API), so that a
 * flow and its codes end in one statement.
 */
export function createDeliveryRepository(db: Database) {
  // The two statements of every send, built once: drizzle's query building was a visible share of
  // a send's CPU when they were built per job (docs/performance.md). Times go in as ISO strings.
  const atParameter = sql`${sql.placeholder('at')}::timestamptz`;
  const claimed = db.$with('claimed').as(
    db
      .update(deliveries)
      .set({
        status: 'sending',
        attempts: sql`${deliveries.attempts} + 1`,
        // Right-hand sides see the old row: 'sending' here means the last attempt never finished.
        interruptedAttempts: sql`${deliveries.interruptedAttempts} + (${deliveries.status} = 'sending')::int`,
        updatedAt: atParameter,
      })
      .where(
        and(
          eq(deliveries.id, sql.placeholder('id')),
          inArray(deliveries.status, ['queued', 'failed', 'sending']),
        ),
      )
      .returning(),
  );
  const claimStatement = db
    .with(claimed)
    .select()
    .from(claimed)
    .leftJoin(registrationFlows, eq(registrationFlows.id, claimed.flowId))
    .prepare('claim_delivery');
  const markSentStatement = db
    .update(deliveries)
    .set({
      status: 'sent',
      provider: sql`${sql.placeholder('provider')}`,
      providerMessageId: sql`${sql.placeholder('providerMessageId')}`,
      sentAt: atParameter,
      lastError: null,
      updatedAt: atParameter,
    })
    .where(eq(deliveries.id, sql.placeholder('id')))
    .prepare('mark_delivery_sent');

  /** Only a row still dead changes: two replays at once cannot both send. */
  async function leaveDead(deliveryId: string, change: Partial<NewDelivery>): Promise<boolean> {
    const changed = await db
      .update(deliveries)
      .set(change)
      .where(and(eq(deliveries.id, deliveryId), eq(deliveries.status, 'dead')))
      .returning({ id: deliveries.id });
    return changed.length > 0;
  }

  return {
    /**
     * Claims the delivery and reads its flow in one statement (a hot path: one round trip).
     * 'sending' is claimable too: a worker that died mid-send left it so, and BullMQ hands the
     * stalled job on. Undefined when the delivery is finished (sent, skipped, dead) or gone.
     */
    async claim(deliveryId: string, at: Date): Promise<ClaimedDelivery | undefined> {
      const [row] = await claimStatement.execute({ id: deliveryId, at: at.toISOString() });
      return (
        row && {
          delivery: row.claimed,
          ...(row.registration_flows ? { flow: row.registration_flows } : {}),
        }
      );
    },

    /** The provider accepted it: one statement, the other half of the hot path. */
    async markSent(deliveryId: string, acceptance: DeliveryAcceptance): Promise<void> {
      await markSentStatement.execute({
        id: deliveryId,
        provider: acceptance.provider,
        providerMessageId: acceptance.providerMessageId,
        at: acceptance.at,
      });
    },

    async markSkipped(deliveryId: string, reason: string, at: Date): Promise<void> {
      await db
        .update(deliveries)
        .set({ status: 'skipped', lastError: reason, updatedAt: at })
        .where(eq(deliveries.id, deliveryId));
    },

    /**
     * Records a failed attempt: `failed`, or `dead` when final. Only a delivery still `sending`
     * changes: one that another attempt has sent meanwhile (a stalled job taken over) keeps its
     * `sent`. Says whether it changed. In `tx` when it goes with a fallback.
     */
    async markFailed(attempt: FailedAttempt, tx?: Transaction): Promise<boolean> {
      const changed = await (tx ?? db)
        .update(deliveries)
        .set({
          status: attempt.final ? 'dead' : 'failed',
          provider: attempt.provider,
          lastError: attempt.errorText,
          errorHistory: sql`${deliveries.errorHistory} || ${JSON.stringify([attempt.entry])}::jsonb`,
          updatedAt: attempt.at,
        })
        .where(and(eq(deliveries.id, attempt.deliveryId), eq(deliveries.status, 'sending')))
        .returning({ id: deliveries.id });
      return changed.length > 0;
    },

    /**
     * A new outbox row: a flow's code or notice (registration), or a fallback (the worker). The
     * query itself, not an async wrapper: sent in a `Promise.all` after the flow's insert, it must
     * go on the wire in that order (its flow id references the flow).
     */
    insertDelivery(tx: Transaction, row: NewDelivery) {
      return tx.insert(deliveries).values(row);
    },

    /**
     * Points the flow at the contact its code now goes to (verifying the code proves that one),
     * if the code is still the flow's current one: a resend since has its own channel.
     */
    async moveFlowCode(
      tx: Transaction,
      move: { flowId: string; codeSequence: number; channel: Channel; destination: string },
    ): Promise<void> {
      await tx
        .update(registrationFlows)
        .set({ channel: move.channel, destination: move.destination })
        .where(
          and(eq(registrationFlows.id, move.flowId), eq(registrationFlows.codeSequence, move.codeSequence)),
        );
    },

    inTransaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
      return db.transaction(work);
    },

    /** Deliveries still `queued` since before `cutoff`, oldest first: their enqueue may have been lost. */
    async staleQueued(cutoff: Date, limit: number): Promise<string[]> {
      const rows = await db
        .select({ id: deliveries.id })
        .from(deliveries)
        .where(and(eq(deliveries.status, 'queued'), lt(deliveries.createdAt, cutoff)))
        .orderBy(asc(deliveries.createdAt))
        .limit(limit);
      return rows.map((row) => row.id);
    },

    /** A delivery with its flow, by id. */
    async withFlow(deliveryId: string): Promise<ClaimedDelivery | undefined> {
      const [row] = await db
        .select({ delivery: deliveries, flow: registrationFlows })
        .from(deliveries)
        .leftJoin(registrationFlows, eq(deliveries.flowId, registrationFlows.id))
        .where(eq(deliveries.id, deliveryId));
      return row && { delivery: row.delivery, ...(row.flow ? { flow: row.flow } : {}) };
    },

    /**
     * A delivery its provider accepted and then reported failed becomes `dead`, with that report
     * in its history. Only from `sent` with a failure report: a report handled twice changes the
     * row once. Says whether it changed. In `tx` when it goes with a fallback.
     */
    async markReportedDead(
      report: { deliveryId: string; entry: DeliveryAttemptError; at: Date },
      tx?: Transaction,
    ): Promise<boolean> {
      const changed = await (tx ?? db)
        .update(deliveries)
        .set({
          status: 'dead',
          errorHistory: sql`${deliveries.errorHistory} || ${JSON.stringify([report.entry])}::jsonb`,
          updatedAt: report.at,
        })
        .where(
          and(
            eq(deliveries.id, report.deliveryId),
            eq(deliveries.status, 'sent'),
            inArray(deliveries.providerStatus, ['failed', 'undelivered']),
          ),
        )
        .returning({ id: deliveries.id });
      return changed.length > 0;
    },

    /**
     * Deliveries reported failed after acceptance since before `cutoff` and not yet handled
     * (still `sent`): the API's hand-over to the worker may have been lost.
     */
    async unhandledReportedFailures(cutoff: Date, limit: number): Promise<string[]> {
      const rows = await db
        .select({ id: deliveries.id })
        .from(deliveries)
        .where(
          and(
            eq(deliveries.status, 'sent'),
            inArray(deliveries.providerStatus, ['failed', 'undelivered']),
            isNotNull(deliveries.providerStatusAt),
            lt(deliveries.providerStatusAt, cutoff),
          ),
        )
        .limit(limit);
      return rows.map((row) => row.id);
    },

    /** Whether a delivery carries this provider id yet (the worker records it just after acceptance). */
    async knowsProviderMessage(provider: string, providerMessageId: string): Promise<boolean> {
      const [row] = await db
        .select({ id: deliveries.id })
        .from(deliveries)
        .where(and(eq(deliveries.provider, provider), eq(deliveries.providerMessageId, providerMessageId)))
        .limit(1);
      return row !== undefined;
    },

    /** The delivery a provider accepted under this id, locked, with its flow. */
    async lockByProviderMessage(
      tx: Transaction,
      provider: string,
      providerMessageId: string,
    ): Promise<ClaimedDelivery | undefined> {
      const [row] = await tx
        .select({ delivery: deliveries, flow: registrationFlows })
        .from(deliveries)
        .leftJoin(registrationFlows, eq(registrationFlows.id, deliveries.flowId))
        .where(and(eq(deliveries.provider, provider), eq(deliveries.providerMessageId, providerMessageId)))
        .limit(1)
        .for('update', { of: deliveries });
      return row && { delivery: row.delivery, ...(row.flow ? { flow: row.flow } : {}) };
    },

    /** Records a provider's report once: false when this report of this message was applied before. */
    async recordReceiptOnce(tx: Transaction, provider: string, providerMessageId: string, status: string) {
      const inserted = await tx
        .insert(deliveryReceipts)
        .values({ provider, providerMessageId, status })
        .onConflictDoNothing()
        .returning({ status: deliveryReceipts.status });
      return inserted.length > 0;
    },

    /** What the provider reported of a message it had accepted. */
    async setProviderStatus(
      tx: Transaction,
      deliveryId: string,
      report: {
        status: ProviderStatus;
        errorCode: string | undefined;
        lastError: string | undefined;
        at: Date;
      },
    ) {
      await tx
        .update(deliveries)
        .set({
          providerStatus: report.status,
          providerErrorCode: report.errorCode ?? null,
          providerStatusAt: report.at,
          ...(report.lastError ? { lastError: report.lastError } : {}),
          updatedAt: report.at,
        })
        .where(eq(deliveries.id, deliveryId));
    },

    /** Dead deliveries with their flows: all of them, or those of the given ids. */
    async dead(deliveryIds?: string[]): Promise<ClaimedDelivery[]> {
      const rows = await db
        .select({ delivery: deliveries, flow: registrationFlows })
        .from(deliveries)
        .leftJoin(registrationFlows, eq(deliveries.flowId, registrationFlows.id))
        .where(
          and(eq(deliveries.status, 'dead'), deliveryIds ? inArray(deliveries.id, deliveryIds) : undefined),
        );
      return rows.map(({ delivery, flow }) => ({ delivery, ...(flow ? { flow } : {}) }));
    },

    /** A dead delivery goes back to `queued`, to be replayed. Says whether it was still dead. */
    requeueDead(deliveryId: string, at: Date): Promise<boolean> {
      return leaveDead(deliveryId, { status: 'queued', updatedAt: at });
    },

    /** A dead delivery that must not be replayed is `skipped`, with why. Says whether it was still dead. */
    skipDead(deliveryId: string, reason: string, at: Date): Promise<boolean> {
      return leaveDead(deliveryId, { status: 'skipped', lastError: reason, updatedAt: at });
    },
  };
}

export type DeliveryRepository = ReturnType<typeof createDeliveryRepository>;
