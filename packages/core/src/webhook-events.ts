/**
 * The events a shop's backend receives (Standard Webhooks): their types and the `data` of each.
 * A payload is `{type, timestamp, data}`; it never carries a code, a password (hash) or a token.
 * The API and the worker build them with these functions only, so a payload has one shape.
 */

export const WEBHOOK_EVENT_TYPES = [
  'user.registered',
  'verification.approved',
  'verification.expired',
  'delivery.failed',
  'delivery.dead',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** An account's metadata: a small flat object (request-otp checks its limits). */
export type AccountMetadata = Record<string, string | number | boolean | null>;

/** The account as the API's user object shows it. */
export interface WebhookUser {
  id: string;
  email: string | null;
  mobile: string | null;
  username: string | null;
  first_name: string;
  last_name: string;
  is_verified: boolean;
  email_verified: boolean;
  phone_verified: boolean;
  metadata: AccountMetadata;
}

export interface UserRegisteredData {
  verification_id: string;
  user: WebhookUser;
}

export interface VerificationApprovedData {
  verification_id: string;
  user_id: string;
  /** The channel the code went by. */
  channel: 'email' | 'whatsapp' | 'sms';
  /** Which contact the code proved, and its value (the address as typed, or the E.164 number). */
  proved: 'email' | 'phone';
  contact: string;
}

export interface VerificationExpiredData {
  verification_id: string;
  channel: 'email' | 'whatsapp' | 'sms';
  expired_at: string;
}

/** A delivery (a code or a notice) that failed for good on its channel. */
export interface DeliveryFailedData {
  delivery_id: string;
  /** The registration flow it belongs to; null only for notices older than flows. */
  verification_id: string | null;
  kind: 'otp' | 'registration-notice';
  channel: 'email' | 'whatsapp' | 'sms';
  provider: string;
  /** The provider's error code when it gave one (Twilio's 63016), else null. */
  error_code: string | null;
  /** The last error, with contacts masked. */
  error: string;
  /** The delivery that took over (another channel or provider), or null when none did. */
  fallback: { delivery_id: string; channel: 'email' | 'whatsapp' | 'sms' } | null;
}

/** A delivery in the dead letters with nothing taking over: it arrives only if an operator replays it. */
export type DeliveryDeadData = Omit<DeliveryFailedData, 'fallback'>;

export interface WebhookEventData {
  'user.registered': UserRegisteredData;
  'verification.approved': VerificationApprovedData;
  'verification.expired': VerificationExpiredData;
  'delivery.failed': DeliveryFailedData;
  'delivery.dead': DeliveryDeadData;
}

/** What is POSTed: the Standard Webhooks payload shape. */
export interface WebhookPayload<T extends WebhookEventType = WebhookEventType> {
  type: T;
  /** When the fact happened (ISO 8601); the `webhook-timestamp` header says when it was sent. */
  timestamp: string;
  data: WebhookEventData[T];
}

/** An outbox row to insert: the id is the `webhook-id`; one fact has one dedupe key, so one event. */
export interface NewWebhookEvent<T extends WebhookEventType = WebhookEventType> {
  id: string;
  type: T;
  dedupeKey: string;
  payload: WebhookPayload<T>;
  createdAt: Date;
}

/** What makes an event of this fact, and no second one: unique in the outbox. */
export const webhookDedupeKey = {
  userRegistered: (userId: string) => `user.registered:${userId}`,
  verificationApproved: (flowId: string) => `verification.approved:${flowId}`,
  verificationExpired: (flowId: string) => `verification.expired:${flowId}`,
  /** A replayed delivery that fails again is a new fact: the attempt it died on tells them apart. */
  deliveryFailed: (deliveryId: string, attempts: number) => `delivery.failed:${deliveryId}:${attempts}`,
  deliveryDead: (deliveryId: string, attempts: number) => `delivery.dead:${deliveryId}:${attempts}`,
} as const;

export function webhookEvent<T extends WebhookEventType>(
  id: string,
  type: T,
  dedupeKey: string,
  data: WebhookEventData[T],
  at: Date,
): NewWebhookEvent<T> {
  return { id, type, dedupeKey, payload: { type, timestamp: at.toISOString(), data }, createdAt: at };
}
