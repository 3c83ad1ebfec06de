import type { MessageSender, OutgoingMessage, SendResult } from '../delivery/message-sender.js';
import { createTwilioMessaging, type TwilioAccountOptions } from '../twilio/twilio-messaging.js';
import { renderWhatsAppBody } from './otp-whatsapp-message.js';

export interface TwilioWhatsAppSenderOptions extends TwilioAccountOptions {
  /** The WhatsApp sender, `+14155238886` or `whatsapp:+14155238886`. */
  from: string;
  /** An approved authentication template; without it the message is free-form text (sandbox only). */
  contentSid?: string | undefined;
  /** An approved template without variables for registration notices; without it they are free-form text. */
  noticeContentSid?: string | undefined;
}

const withPrefix = (number: string) => (number.startsWith('whatsapp:') ? number : `whatsapp:${number}`);

/** WhatsApp through Twilio's Messages API (`messages.create`, `whatsapp:` addresses). */
export function createTwilioWhatsAppSender(options: TwilioWhatsAppSenderOptions): MessageSender {
  const messaging = createTwilioMessaging(options);
  const from = withPrefix(options.from);

  return {
    channel: 'whatsapp',
    provider: 'twilio',
    send(message: OutgoingMessage): Promise<SendResult> {
      return messaging.send({ from, to: withPrefix(message.to), ...contentOf(message, options) });
    },
  };
}

/** What Twilio sends: the approved template configured for the message's kind, else free-form text. */
function contentOf(
  message: OutgoingMessage,
  { contentSid, noticeContentSid }: Pick<TwilioWhatsAppSenderOptions, 'contentSid' | 'noticeContentSid'>,
): { body: string } | { contentSid: string; contentVariables?: string } {
  if (message.kind === 'otp' && contentSid) {
    // Authentication templates take the code as their one variable.
    return { contentSid, contentVariables: JSON.stringify({ 1: message.code }) };
  }
  // The notice says the same to everyone, so its template has no variables.
  if (message.kind === 'registration-notice' && noticeContentSid) return { contentSid: noticeContentSid };
  return { body: renderWhatsAppBody(message) };
}
