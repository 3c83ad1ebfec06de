import { type DeliveryJob, parseDeliveryJob } from '@otp-relay/core';
import type { DeliveryAcceptance } from '@otp-relay/db';

/** A provider's acceptance of a delivery: the send itself. Once it exists, nothing sends again. */
export type Acceptance = DeliveryAcceptance;

/**
 * An acceptance Postgres could not record, kept with the job in Redis: the job's later runs
 * record it and send nothing. Counts those runs, for their backoff.
 */
export interface RememberedAcceptance extends Acceptance {
  recordDeferrals: number;
}

/** A delivery job's data as it is kept in Redis: the API's job, plus an acceptance to record. */
export interface DeliveryJobData extends DeliveryJob {
  accepted?: RememberedAcceptance;
}

function isRememberedAcceptance(value: unknown): value is RememberedAcceptance {
  if (typeof value !== 'object' || value === null) return false;
  const { provider, providerMessageId, at, recordDeferrals } = value as Record<string, unknown>;
  return (
    typeof provider === 'string' &&
    typeof providerMessageId === 'string' &&
    typeof at === 'string' &&
    !Number.isNaN(Date.parse(at)) &&
    Number.isInteger(recordDeferrals)
  );
}

/** The job the API enqueued (checked), and the acceptance a previous run left to record, if any. */
export function readDeliveryJob(data: unknown): { job: DeliveryJob; accepted?: RememberedAcceptance } {
  if (typeof data !== 'object' || data === null || !('accepted' in data)) {
    return { job: parseDeliveryJob(data) };
  }
  const { accepted, ...job } = data;
  if (!isRememberedAcceptance(accepted)) {
    throw new Error(`Malformed acceptance in delivery job: ${JSON.stringify(accepted)}`);
  }
  return { job: parseDeliveryJob(job), accepted };
}

/** The acceptance to keep with the job for one more deferral of its record. */
export function rememberAcceptance(
  acceptance: Acceptance,
  previous: RememberedAcceptance | undefined,
): RememberedAcceptance {
  const { provider, providerMessageId, at } = acceptance;
  return { provider, providerMessageId, at, recordDeferrals: (previous?.recordDeferrals ?? 0) + 1 };
}
