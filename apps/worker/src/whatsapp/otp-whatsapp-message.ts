import type { OtpMessage } from '../delivery/message-sender.js';

/** The free-form WhatsApp text (Twilio's sandbox, or inside a 24-hour conversation window). */
export function renderWhatsAppText({
  code,
  validForMinutes,
}: Pick<OtpMessage, 'code' | 'validForMinutes'>): string {
  const minutes = `${validForMinutes} minute${validForMinutes === 1 ? '' : 's'}`;
  return `${code} is your verification code. It expires in ${minutes}. Never share this code with anyone, not even us.`;
}
