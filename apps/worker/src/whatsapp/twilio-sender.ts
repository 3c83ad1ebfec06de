import { DEFAULT_LOCALE, type LocaleContentSids } from '@otp-relay/core';
import type { MessageSender, OutgoingMessage, SendResult } from '../delivery/message-sender.js';
import { shippedMessages } from '../messages/load-messages.js';
import type { MessageRenderer } from '../messages/message-renderer.js';
import { createTwilioMessaging, type TwilioAccountOptions } from '../twilio/twilio-messaging.js';

export interface TwilioWhatsAppSenderOptions extends TwilioAccountOptions {
  /** The WhatsApp sender, `+14155238886` or `whatsapp:+14155238886`. */
  from: string;
  /** An approved authentication template; without it the message is free-form text (sandbox only). */
  contentSid?: string | undefined;
  /** An approved template without variables for registration notices; without it they are free-form text. */
  noticeContentSid?: string | undefined;
  /** Approved templates by language (TWILIO_WHATSAPP_CONTENT_SIDS): before `contentSid`. */
  contentSids?: LocaleContentSids | undefined;
  /** The notices' templates by language (TWILIO_WHATSAPP_NOTICE_CONTENT_SIDS): before `noticeContentSid`. */
  noticeContentSids?: LocaleContentSids | undefined;
  /** The free-form texts (loadMessages); the shipped messages, unbranded, by default. */
  messages?: Promise<MessageRenderer>;
}

const withPrefix = (number: string) => (number.startsWith('whatsapp:') ? number : `whatsapp:${number}`);

/** WhatsApp through Twilio's Messages API (`messages.create`, `whatsapp:` addresses). */
export function createTwilioWhatsAppSender(options: TwilioWhatsAppSenderOptions): MessageSender {
  const messaging = createTwilioMessaging(options);
  const from = withPrefix(options.from);
  const messages = options.messages ?? shippedMessages();

  return {
    channel: 'whatsapp',
    provider: 'twilio',
    async send(message: OutgoingMessage): Promise<SendResult> {
      const content = templateOf(message, options) ?? { body: (await messages).whatsapp(message) };
      return messaging.send({ from, to: withPrefix(message.to), ...content });
    },
  };
}

/**
 * The approved template for the message's kind and language (its own, else the one for every
 * language), or none: then free-form text in the message's language.
 */
export function templateOf(
  message: OutgoingMessage,
  options: Pick<
    TwilioWhatsAppSenderOptions,
    'contentSid' | 'noticeContentSid' | 'contentSids' | 'noticeContentSids'
  >,
): { contentSid: string; contentVariables?: string } | undefined {
  const locale = message.locale ?? DEFAULT_LOCALE;
  if (message.kind === 'otp') {
    const contentSid = options.contentSids?.get(locale) ?? options.contentSid;
    // Authentication templates take the code as their one variable.
    return contentSid ? { contentSid, contentVariables: JSON.stringify({ 1: message.code }) } : undefined;
  }
  // The notice says the same to everyone, so its template has no variables.
  const contentSid = options.noticeContentSids?.get(locale) ?? options.noticeContentSid;
  return contentSid ? { contentSid } : undefined;
}
