import {
  type Database,
  type Delivery,
  deliveries,
  deliveryReceipts,
  type ProviderStatus,
  type RegistrationFlow,
  registrationFlows,
  type Transaction,
} from '@otp-relay/db';
import { and, eq } from 'drizzle-orm';

/** The SQL of provider receipts: each applied once, to the delivery the provider's id names. */
export function createReceiptRepository(db: Database) {
  return {
    transaction: <T>(work: (tx: Transaction) => Promise<T>) => db.transaction(work),

    /** Records the receipt; false when this report of this message was applied before. */
    async recordOnce(tx: Transaction, provider: string, providerMessageId: string, status: string) {
      const inserted = await tx
        .insert(deliveryReceipts)
        .values({ provider, providerMessageId, status })
        .onConflictDoNothing()
        .returning({ status: deliveryReceipts.status });
      return inserted.length > 0;
    },

    /** Whether a delivery carries this provider id yet (the worker records it just after acceptance). */
    async knows(provider: string, providerMessageId: string): Promise<boolean> {
      const [row] = await db
        .select({ id: deliveries.id })
        .from(deliveries)
        .where(and(eq(deliveries.provider, provider), eq(deliveries.providerMessageId, providerMessageId)))
        .limit(1);
      return row !== undefined;
    },

    /** The delivery the provider accepted under this id, locked, with its flow. */
    async lockDeliveryOf(
      tx: Transaction,
      provider: string,
      providerMessageId: string,
    ): Promise<{ delivery: Delivery; flow: RegistrationFlow | undefined } | undefined> {
      const [row] = await tx
        .select({ delivery: deliveries, flow: registrationFlows })
        .from(deliveries)
        .leftJoin(registrationFlows, eq(registrationFlows.id, deliveries.flowId))
        .where(and(eq(deliveries.provider, provider), eq(deliveries.providerMessageId, providerMessageId)))
        .limit(1)
        .for('update', { of: deliveries });
      return row && { delivery: row.delivery, flow: row.flow ?? undefined };
    },

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
  };
}

export type ReceiptRepository = ReturnType<typeof createReceiptRepository>;
