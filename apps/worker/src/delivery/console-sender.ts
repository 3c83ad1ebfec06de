import { randomUUID } from 'node:crypto';
import type { Logger } from '@otp-relay/core';
import type { Channel } from '@otp-relay/db';
import { renderEmail } from '../email/email-templates.js';
import { renderSmsBody } from '../sms/otp-sms-message.js';
import { renderWhatsAppBody } from '../whatsapp/otp-whatsapp-message.js';
import type { MessageSender, OutgoingMessage, SendResult } from './message-sender.js';

/** What the channel's real sender would send: the email's plain-text part, or the phone text. */
const BODIES: Readonly<Record<Channel, (message: OutgoingMessage) => string>> = {
  email: (message) => renderEmail(message).text,
  whatsapp: renderWhatsAppBody,
  sms: renderSmsBody,
};

/**
 * For local development only (the config refuses it in production): prints the message,
 * code included, to the worker's log instead of sending it.
 */
export function createConsoleSender(channel: Channel, logger: Logger): MessageSender {
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
          body: BODIES[channel](message),
          providerMessageId,
        },
        `${channel} message (console provider)`,
      );
      return { provider: 'console', providerMessageId };
    },
  };
}
