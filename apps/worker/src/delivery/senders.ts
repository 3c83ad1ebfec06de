import type { Logger, WorkerConfig } from '@otp-relay/core';
import type { Channel } from '@otp-relay/db';
import { createGmailSender } from '../email/gmail-sender.js';
import { createSmtpSender } from '../email/smtp-sender.js';
import { createTwilioWhatsAppSender } from '../whatsapp/twilio-sender.js';
import { createConsoleSender } from './console-sender.js';
import type { MessageSender } from './message-sender.js';

/** The senders a worker has: the primary one of each channel, and every one by provider name (for fallbacks). */
export interface Senders {
  primary: Partial<Record<Channel, MessageSender>>;
  byProvider: Partial<Record<string, MessageSender>>;
}

export function sendersOf(primary: Senders['primary'], backups: MessageSender[] = []): Senders {
  const all = [...Object.values(primary), ...backups].filter((sender) => sender !== undefined);
  return { primary, byProvider: Object.fromEntries(all.map((sender) => [sender.provider, sender])) };
}

/** The senders the configuration asks for. */
export function createSenders(config: WorkerConfig, logger: Logger): Senders {
  const timeoutMs = config.PROVIDER_TIMEOUT_MS;
  const email =
    config.EMAIL_PROVIDER === 'console'
      ? createConsoleSender('email', logger)
      : createGmailSender({
          // loadWorkerConfig has checked these are set when EMAIL_PROVIDER=gmail.
          clientId: config.EMAIL_CLIENT_ID ?? '',
          clientSecret: config.EMAIL_CLIENT_SECRET ?? '',
          refreshToken: config.EMAIL_REFRESH_TOKEN ?? '',
          from: config.EMAIL_FROM,
          apiRootUrl: config.GMAIL_API_ROOT_URL,
          tokenUrl: config.GOOGLE_OAUTH_TOKEN_URL,
          timeoutMs,
        });
  const whatsapp =
    config.WHATSAPP_PROVIDER === 'console'
      ? createConsoleSender('whatsapp', logger)
      : config.WHATSAPP_PROVIDER === 'twilio'
        ? createTwilioWhatsAppSender({
            // loadWorkerConfig has checked these are set when WHATSAPP_PROVIDER=twilio.
            accountSid: config.TWILIO_ACCOUNT_SID ?? '',
            authToken: config.TWILIO_AUTH_TOKEN ?? '',
            from: config.TWILIO_WHATSAPP_FROM ?? '',
            apiBaseUrl: config.TWILIO_API_BASE_URL,
            contentSid: config.TWILIO_WHATSAPP_CONTENT_SID,
            noticeContentSid: config.TWILIO_WHATSAPP_NOTICE_CONTENT_SID,
            timeoutMs,
          })
        : undefined;
  const backups = config.SMTP_URL
    ? [createSmtpSender({ url: config.SMTP_URL, from: config.EMAIL_FROM, timeoutMs })]
    : [];
  return sendersOf({ email, ...(whatsapp ? { whatsapp } : {}) }, backups);
}
