import { randomUUID } from 'node:crypto';
import type { Logger } from '@otp-relay/core';
import type { Channel } from '@otp-relay/db';
import { shippedMessages } from '../messages/load-messages.js';
import type { MessageRenderer } from '../messages/message-renderer.js';
import type { MessageSender, OutgoingMessage, SendResult } from './message-sender.js';

/** What the channel's real sender would send: the email's plain-text part, or the phone text. */
const BODIES: Readonly<Record<Channel, (messages: MessageRenderer, message: OutgoingMessage) => string>> = {
  email: (messages, message) => messages.email(message).text,
  whatsapp: (messages, message) => messages.whatsapp(message),
  sms: (messages, message) => messages.sms(message),
};

/**
 * For local development only (the config refuses it in production): prints the message,
 * code included, to the worker's log instead of sending it.
 */
export function createConsoleSender(
  channel: Channel,
  logger: Logger,
  messages: Promise<MessageRenderer> = shippedMessages(),
): MessageSender {
  return {
    channel,
    provider: 'console',
    async send(message: OutgoingMessage): Promise<SendResult> {
      const providerMessageId = `console-${randomUUID()}`;
      logger.info(
        {
          channel,
          to: message.to,
          kind: message.kind,
          locale: message.locale,
          body: BODIES[channel](await messages, message),
          providerMessageId,
        },
        `${channel} message (console provider)`,
      );
      return { provider: 'console', providerMessageId };
    },
  };
}
