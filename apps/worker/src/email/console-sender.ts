import { randomUUID } from 'node:crypto';
import type { Logger } from '@otp-relay/core';
import type { EmailSender, OutgoingEmail, SendResult } from './email-sender.js';

/**
 * For local development only (the config refuses it in production): prints the message,
 * code included, to the worker's log instead of sending it.
 */
export function createConsoleSender(logger: Logger): EmailSender {
  return {
    provider: 'console',
    async send(email: OutgoingEmail): Promise<SendResult> {
      const providerMessageId = `console-${randomUUID()}`;
      logger.info(
        { to: email.to, subject: email.subject, body: email.text, providerMessageId },
        'email (console provider)',
      );
      return { provider: 'console', providerMessageId };
    },
  };
}
