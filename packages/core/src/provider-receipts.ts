/**
 * Where providers report what became of a message after accepting it: the API serves the path,
 * the worker names the full URL on every send. One home, so the two cannot drift apart (Twilio
 * signs the exact URL it calls).
 */
export const TWILIO_RECEIPT_PATH = '/api/webhooks/twilio/message-status';

/** The status-callback URL under the service's public address (PUBLIC_BASE_URL). */
export function twilioReceiptUrl(publicBaseUrl: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}${TWILIO_RECEIPT_PATH}`;
}
