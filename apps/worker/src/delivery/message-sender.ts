import type { SupportedLocale } from '@otp-relay/core';
import type { Channel } from '@otp-relay/db';

/**
 * A code: to whom, the code, and for how long it works. Nothing the caller typed (a name, a
 * username) goes into it: before the code is used nobody has shown that the recipient asked for
 * it, and a caller's text mailed from the shop's domain to any address is a phishing tool.
 */
export interface OtpMessage {
  kind: 'otp';
  to: string;
  code: string;
  validForMinutes: number;
  /** The flow's language; English when unset. */
  locale?: SupportedLocale;
}

/**
 * To an email address or phone number (WhatsApp, SMS) that already has an account: someone tried
 * to register with it. No code.
 */
export interface RegistrationNoticeMessage {
  kind: 'registration-notice';
  to: string;
  /** The flow's language; English when unset. */
  locale?: SupportedLocale;
}

export type OutgoingMessage = OtpMessage | RegistrationNoticeMessage;

export interface SendResult {
  provider: string;
  providerMessageId: string;
}

/**
 * One provider on one channel (Gmail, SMTP, Twilio WhatsApp, Twilio SMS, console). It renders its own
 * content and turns each of its failures into a `DeliveryError`.
 */
export interface MessageSender {
  readonly channel: Channel;
  readonly provider: string;
  send(message: OutgoingMessage): Promise<SendResult>;
}

/**
 * A failed send. `retryable` says whether trying later can succeed (network, timeout, 5xx, 429)
 * or cannot (bad recipient, bad credentials); `retryAfterMs` is the provider's own Retry-After.
 */
export class DeliveryError extends Error {
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  // No `cause`: provider errors carry request config (tokens, Basic auth) that must never reach a log.
  /**
   * The provider said the number itself cannot receive (invalid, not a mobile): no other phone
   * channel will do better, so a fallback skips them.
   */
  readonly numberRefused: boolean;

  constructor(
    message: string,
    options: { retryable: boolean; retryAfterMs?: number; numberRefused?: boolean },
  ) {
    super(message);
    this.name = 'DeliveryError';
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
    this.numberRefused = options.numberRefused ?? false;
  }
}

/** Seconds (or an HTTP date) from a Retry-After header, as milliseconds. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
