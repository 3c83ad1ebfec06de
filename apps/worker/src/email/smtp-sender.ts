import { createTransport } from 'nodemailer';
import {
  DeliveryError,
  type MessageSender,
  type OutgoingMessage,
  type SendResult,
} from '../delivery/message-sender.js';
import { ProviderLimitError } from '../delivery/provider-exhaustion.js';
import { shippedMessages } from '../messages/load-messages.js';
import type { MessageRenderer } from '../messages/message-renderer.js';

export interface SmtpSenderOptions {
  url: string;
  from: string;
  timeoutMs: number;
  /** `smtp` (the default), or `smtp-backup` for SMTP_BACKUP_URL behind an SMTP primary. */
  provider?: string;
  /** What it says (loadMessages); the shipped messages, unbranded, by default. */
  messages?: Promise<MessageRenderer>;
}

/**
 * Mail through an SMTP server (nodemailer): the primary with EMAIL_PROVIDER=smtp (SMTP_URL, any
 * transactional service or a local Mailpit), or a backup (SMTP_URL behind Gmail, SMTP_BACKUP_URL
 * behind SMTP) that takes a delivery its primary failed for good or could not take.
 */
export function createSmtpSender(options: SmtpSenderOptions): MessageSender {
  const provider = options.provider ?? 'smtp';
  const transport = createTransport({
    url: options.url,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  });
  const messages = options.messages ?? shippedMessages();
  return {
    channel: 'email',
    provider,
    async send(message: OutgoingMessage): Promise<SendResult> {
      const email = (await messages).email(message);
      try {
        const info = await transport.sendMail({ from: options.from, to: message.to, ...email });
        return { provider, providerMessageId: info.messageId };
      } catch (error) {
        throw classifySmtpError(error);
      }
    },
  };
}

// Gmail's SMTP (550 5.4.5) and others word a spent daily quota so.
const DAILY_LIMIT = /daily (user )?sending (limit|quota) exceeded/i;

/**
 * SMTP's own rule (RFC 5321): 4xx replies are transient, 5xx permanent (535 bad credentials,
 * 550 mailbox unavailable). No reply at all (connection refused, timeout) is transient. A spent
 * daily sending quota (Gmail's "550 5.4.5 Daily user sending limit exceeded") is the server run
 * dry for a day, not this message refused.
 */
export function classifySmtpError(error: unknown): DeliveryError {
  const { responseCode, message } = (error ?? {}) as { responseCode?: number; message?: string };
  const detail = `smtp: ${responseCode ? `${responseCode} ` : ''}${message ?? 'unknown error'}`;
  if (responseCode !== undefined && DAILY_LIMIT.test(message ?? '')) {
    return new ProviderLimitError(detail, 'daily', undefined);
  }
  return new DeliveryError(detail, { retryable: responseCode === undefined || responseCode < 500 });
}
