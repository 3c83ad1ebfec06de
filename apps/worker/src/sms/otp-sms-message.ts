import type { OtpMessage, OutgoingMessage } from '../delivery/message-sender.js';

/**
 * SMS texts: no templates (unlike WhatsApp), so these are what every handset shows. Each stays in
 * one segment: at most 160 characters, all GSM-7 (one character outside it, a curly quote, and
 * the whole text goes as UCS-2, 70 characters a segment, billed as several).
 */
export function renderSmsBody(message: OutgoingMessage): string {
  return message.kind === 'otp' ? renderSmsText(message) : renderSmsRegistrationNotice();
}

/** A code: the code first, so phones that offer it for autofill find it. */
export function renderSmsText({
  code,
  validForMinutes,
}: Pick<OtpMessage, 'code' | 'validForMinutes'>): string {
  const minutes = `${validForMinutes} minute${validForMinutes === 1 ? '' : 's'}`;
  return `${code} is your verification code. It expires in ${minutes}. Never share it with anyone.`;
}

/** Someone tried to register with a number that already has an account. No code. */
export function renderSmsRegistrationNotice(): string {
  return 'Someone tried to create an account with this number, but you already have one. If it was you, sign in instead; if not, ignore this message.';
}
