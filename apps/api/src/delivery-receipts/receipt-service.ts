import { type DeliveryQueue, enqueueReportedFailure, type Logger, type RetryPolicy } from '@otp-relay/core';
import { createDeliveryRepository, type Database } from '@otp-relay/db';
import {
  isFailureReport,
  providerStatusOf,
  receiptSupersedes,
  reportStartsFallback,
} from './receipt-rules.js';

/**
 * Applies providers' receipts (Twilio's status callbacks) to deliveries: what the provider said
 * after it accepted a message. Each report is applied once; a failure of a code that can still be
 * used hands the delivery to the worker, which ends it and starts its fallback at once. No HTTP
 * here: the route checks the signature and parses the form.
 */

export interface Receipt {
  provider: 'twilio';
  providerMessageId: string;
  /** The provider's own word, e.g. Twilio's `MessageStatus`. */
  status: string;
  errorCode: string | undefined;
}

export type ReceiptOutcome = 'applied' | 'duplicate' | 'ignored' | 'unknown-message' | 'fallback-started';

export interface ReceiptServiceDeps {
  db: Database;
  deliveryQueue: DeliveryQueue;
  retryPolicy: RetryPolicy;
  now?: () => Date;
}

/**
 * A report can overtake the worker's record of the acceptance it is about (Twilio may call back
 * within milliseconds, and does not call again): it is given this long to appear.
 */
const UNKNOWN_MESSAGE_RETRIES = [50, 100, 200, 400, 800];

export function createReceiptService(deps: ReceiptServiceDeps) {
  const repository = createDeliveryRepository(deps.db);
  const now = deps.now ?? (() => new Date());

  async function awaitRecord(receipt: Receipt): Promise<void> {
    for (const waitMs of UNKNOWN_MESSAGE_RETRIES) {
      if (await repository.knowsProviderMessage(receipt.provider, receipt.providerMessageId)) return;
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }

  async function apply(receipt: Receipt, log: Logger): Promise<ReceiptOutcome> {
    const status = providerStatusOf(receipt.status);
    if (!status) return 'ignored';
    await awaitRecord(receipt);
    const at = now();
    const outcome = await repository.inTransaction(async (tx) => {
      const found = await repository.lockByProviderMessage(tx, receipt.provider, receipt.providerMessageId);
      // Recorded only for a message we know: a report that comes before the worker recorded the
      // acceptance is not marked as applied.
      if (!found) return { result: 'unknown-message' as const };
      const first = await repository.recordReceiptOnce(
        tx,
        receipt.provider,
        receipt.providerMessageId,
        status,
      );
      if (!first) return { result: 'duplicate' as const };
      const { delivery, flow } = found;
      if (!receiptSupersedes(status, delivery.providerStatus)) return { result: 'applied' as const };
      const failed = isFailureReport(status);
      await repository.setProviderStatus(tx, delivery.id, {
        status,
        errorCode: receipt.errorCode,
        lastError: failed
          ? `${receipt.provider}: ${receipt.errorCode ?? status} (reported after acceptance)`
          : undefined,
        at,
      });
      const fallback = failed && reportStartsFallback(delivery, flow, at);
      return {
        result: fallback ? ('fallback-started' as const) : ('applied' as const),
        deliveryId: delivery.id,
      };
    });
    const logged = { provider: receipt.provider, status, errorCode: receipt.errorCode };
    if (outcome.result === 'unknown-message') {
      log.warn(logged, 'receipt for a message no delivery has (yet); not applied');
    }
    if (outcome.result === 'fallback-started' && outcome.deliveryId) {
      log.warn(
        { ...logged, deliveryId: outcome.deliveryId },
        'delivery failed after acceptance; falling back',
      );
      // After commit; if Redis is away the worker's relay finds the reported failure (see outbox-relay).
      await enqueueReportedFailure(deps.deliveryQueue, outcome.deliveryId, deps.retryPolicy).catch(
        (error: unknown) =>
          log.warn(
            { deliveryId: outcome.deliveryId, error: error instanceof Error ? error.message : String(error) },
            'could not hand the reported failure to the worker',
          ),
      );
    }
    return outcome.result;
  }

  return { apply };
}

export type ReceiptService = ReturnType<typeof createReceiptService>;
