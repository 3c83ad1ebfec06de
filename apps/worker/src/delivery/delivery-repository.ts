import {
  type Channel,
  type Database,
  type Delivery,
  type DeliveryAttemptError,
  deliveries,
  type RegistrationFlow,
  registrationFlows,
  type Transaction,
} from '@otp-relay/db';
import { and, asc, eq, inArray, isNotNull, lt, sql } from 'drizzle-orm';
import type { Acceptance } from './acceptance.js';

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
 * Every statement the worker runs on `deliveries` (and the flow change a fallback makes): the
 * delivery path, the outbox relay and the dead-letter replay. The registration service writes
 * the first row of each delivery (apps/api: flow-repository.ts); every later write is here.
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
    async markSent(deliveryId: string, acceptance: Acceptance): Promise<void> {
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

    async insertDelivery(tx: Transaction, row: NewDelivery): Promise<void> {
      await tx.insert(deliveries).values(row);
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
