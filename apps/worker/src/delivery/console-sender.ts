import { randomUUID } from 'node:crypto';
import type { Logger } from '@otp-relay/core';
import type { Channel } from '@otp-relay/db';
import type { MessageSender, OtpMessage, SendResult } from './message-sender.js';

/**
 * For local development only (the config refuses it in production): prints the message,
 * code included, to the worker's log instead of sending it.
 */
export function createConsoleSender(channel: Channel, logger: Logger): MessageSender {
  return {
    channel,
    provider: 'console',
    async send(message: OtpMessage): Promise<SendResult> {
      const providerMessageId = `console-${randomUUID()}`;
      logger.info(
        { channel, to: message.to, body: `Your verification code is ${message.code}`, providerMessageId },
        `${channel} message (console provider)`,
      );
      return { provider: 'console', providerMessageId };
    },
  };
}
