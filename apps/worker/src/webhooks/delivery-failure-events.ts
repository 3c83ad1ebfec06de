import { randomUUID } from 'node:crypto';
import { type NewWebhookEvent, webhookDedupeKey, webhookEvent } from '@otp-relay/core';
import type { Channel, Delivery, RegistrationFlow } from '@otp-relay/db';

/** A delivery that failed for good, as its events tell it. */
export interface DeliveryFailure {
  delivery: Delivery;
  flow: RegistrationFlow | undefined;
  provider: string;
  /** The last error, cleaned of contacts. */
  reason: string;
}

/**
 * `delivery.failed` for every delivery that failed for good on its channel, and `delivery.dead`
 * too when nothing took over: then the shopper gets nothing unless an operator replays it. One
 * death is one fact (the attempt it died on): a replayed delivery that dies again is announced again.
 */
export function deliveryFailureEvents(
  failure: DeliveryFailure,
  fallback: { deliveryId: string; channel: Channel } | undefined,
  at: Date,
): NewWebhookEvent[] {
  const { delivery } = failure;
  const data = {
    delivery_id: delivery.id,
    verification_id: failure.flow?.verificationId ?? null,
    kind: delivery.kind,
    channel: delivery.channel,
    provider: failure.provider,
    error_code: delivery.providerErrorCode,
    error: failure.reason,
  };
  const failed = webhookEvent(
    randomUUID(),
    'delivery.failed',
    webhookDedupeKey.deliveryFailed(delivery.id, delivery.attempts),
    { ...data, fallback: fallback ? { delivery_id: fallback.deliveryId, channel: fallback.channel } : null },
    at,
  );
  if (fallback) return [failed];
  const dead = webhookEvent(
    randomUUID(),
    'delivery.dead',
    webhookDedupeKey.deliveryDead(delivery.id, delivery.attempts),
    data,
    at,
  );
  return [failed, dead];
}
