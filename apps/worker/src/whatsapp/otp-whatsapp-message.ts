import type { OtpMessage, OutgoingMessage } from '../delivery/message-sender.js';

/** The free-form WhatsApp text for any message: a code, or a registration notice. */
export function renderWhatsAppBody(message: OutgoingMessage): string {
  return message.kind === 'otp' ? renderWhatsAppText(message) : renderWhatsAppRegistrationNotice();
}

/** A code as free-form WhatsApp text (Twilio's sandbox, or inside a 24-hour conversation window). */
export function renderWhatsAppText({
  code,
  validForMinutes,
}: Pick<OtpMessage, 'code' | 'validForMinutes'>): string {
  const minutes = `${validForMinutes} minute${validForMinutes === 1 ? '' : 's'}`;
  return `${code} is your verification code. It expires in ${minutes}. Never share this code with anyone, not even us.`;
}

/** The free-form registration notice: someone tried to register with a number that already has an account. */
export function renderWhatsAppRegistrationNotice(): string {
  return 'Someone tried to create an account with this number, but you already have one. If it was you, sign in instead; if not, ignore this message.';
}
