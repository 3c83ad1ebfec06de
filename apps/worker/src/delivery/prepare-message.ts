import { codeUnusableReason, DEFAULT_LOCALE, isSupportedLocale, openDeliveryPayload } from '@otp-relay/core';
import type { Delivery, RegistrationFlow } from '@otp-relay/db';
import type { OutgoingMessage } from './message-sender.js';

/**
 * The message a claimed delivery carries, or why it must not go out any more: a code that its
 * flow can no longer use (see `codeUnusableReason`). A notice carries no code and always goes.
 */
export function prepareMessage(
  delivery: Delivery,
  flow: RegistrationFlow | undefined,
  payloadKey: Buffer,
  at: Date,
): { message: OutgoingMessage } | { unusable: string } {
  // The flow's language for its every message, resends and fallbacks too (the oldest notices have no flow).
  const locale = flow && isSupportedLocale(flow.locale) ? flow.locale : DEFAULT_LOCALE;
  if (delivery.kind === 'registration-notice') {
    return { message: { kind: 'registration-notice', to: delivery.destination, locale } };
  }
  const unusable = codeUnusableReason(flow, delivery.codeSequence ?? 0, at);
  if (unusable || !flow || !delivery.payloadCiphertext) return { unusable: unusable ?? 'no sealed code' };
  const { code } = openDeliveryPayload(payloadKey, delivery.id, delivery.payloadCiphertext);
  // The lifetime the code was given when it was made (with this delivery).
  const validForMinutes = Math.round((flow.expiresAt.getTime() - delivery.createdAt.getTime()) / 60_000);
  return { message: { kind: 'otp', to: delivery.destination, code, validForMinutes, locale } };
}
