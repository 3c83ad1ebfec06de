import { createTransport } from 'nodemailer';
import {
  DeliveryError,
  type MessageSender,
  type OutgoingMessage,
  type SendResult,
} from '../delivery/message-sender.js';
import { renderEmail } from './email-templates.js';

export interface SmtpSenderOptions {
  url: string;
  from: string;
  timeoutMs: number;
}

/** The backup mail transport (`SMTP_URL`): used when Gmail has failed a delivery for good. */
export function createSmtpSender(options: SmtpSenderOptions): MessageSender {
  const transport = createTransport({
    url: options.url,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  });
  return {
    channel: 'email',
    provider: 'smtp',
    async send(message: OutgoingMessage): Promise<SendResult> {
      try {
        const info = await transport.sendMail({
          from: options.from,
          to: message.to,
          ...renderEmail(message),
        });
        return { provider: 'smtp', providerMessageId: info.messageId };
      } catch (error) {
        throw classifySmtpError(error);
      }
    },
  };
}

/**
 * SMTP's own rule (RFC 5321): 4xx replies are transient, 5xx permanent (535 bad credentials,
 * 550 mailbox unavailable). No reply at all (connection refused, timeout) is transient.
 */
export function classifySmtpError(error: unknown): DeliveryError {
  const { responseCode, message } = (error ?? {}) as { responseCode?: number; message?: string };
  const detail = `smtp: ${responseCode ? `${responseCode} ` : ''}${message ?? 'unknown error'}`;
  return new DeliveryError(detail, { retryable: responseCode === undefined || responseCode < 500 });
}
