import type { Logger, WorkerConfig } from '@otp-relay/core';
import { localeContentSids, twilioReceiptUrl } from '@otp-relay/core';
import type { Channel } from '@otp-relay/db';
import { createGmailSender } from '../email/gmail-sender.js';
import { createSmtpSender } from '../email/smtp-sender.js';
import { brandOf } from '../messages/brand.js';
import { loadMessages } from '../messages/load-messages.js';
import type { MessageRenderer } from '../messages/message-renderer.js';
import { createTwilioSmsSender, type TwilioSmsSenderFrom } from '../sms/twilio-sms-sender.js';
import type { TwilioAccountOptions } from '../twilio/twilio-messaging.js';
import { createTwilioWhatsAppSender } from '../whatsapp/twilio-sender.js';
import { createConsoleSender } from './console-sender.js';
import type { MessageSender } from './message-sender.js';

/**
 * The senders a worker has: the primary one of each channel, every one by provider name (for
 * fallbacks), and the backup of each provider that has one (email's SMTP server, by the name of
 * the primary it backs up). One name may serve several channels (`twilio` sends WhatsApp and SMS,
 * `console` any): `byProvider` holds one of them, so find a delivery's sender with `senderOf`.
 */
export interface Senders {
  primary: Partial<Record<Channel, MessageSender>>;
  byProvider: Partial<Record<string, MessageSender>>;
  /**
   * The sender that takes over from a channel's primary, by the primary's name: when it fails a
   * delivery for good (a fallback), or has run dry (each send, until it resets).
   */
  backups: Partial<Record<string, MessageSender>>;
}

/** Each of `backups` backs up the primary of its channel. */
export function sendersOf(primary: Senders['primary'], backups: MessageSender[] = []): Senders {
  const all = [...Object.values(primary), ...backups].filter((sender) => sender !== undefined);
  const backed = backups.flatMap((backup) => {
    const of = primary[backup.channel]?.provider;
    return of && of !== backup.provider ? [[of, backup] as const] : [];
  });
  return {
    primary,
    byProvider: Object.fromEntries(all.map((sender) => [sender.provider, sender])),
    backups: Object.fromEntries(backed),
  };
}

/** The backup of `provider` on `channel`, if it has one (a backup has none of its own). */
export function backupOf(senders: Senders, channel: Channel, provider: string): MessageSender | undefined {
  const backup = senders.backups[provider];
  return backup?.channel === channel ? backup : undefined;
}

/**
 * The sender for a delivery on `channel` whose row names `provider` (a fallback's preset one, or
 * the one a failed attempt recorded), or none (the channel's primary). The channel's own sender
 * when it is that provider, so a retried SMS never goes out by WhatsApp; another provider only
 * when it sends on this channel.
 */
export function senderOf(
  senders: Senders,
  channel: Channel,
  provider: string | null | undefined,
): MessageSender | undefined {
  const primary = senders.primary[channel];
  if (!provider || primary?.provider === provider) return primary;
  const other = senders.byProvider[provider];
  return other?.channel === channel ? other : undefined;
}

/** The sender for SMS on Twilio: from a number, or through a Messaging Service. */
function smsSenderFrom(config: WorkerConfig): TwilioSmsSenderFrom {
  // loadWorkerConfig has checked that exactly one of them is set when SMS_PROVIDER=twilio.
  return config.TWILIO_MESSAGING_SERVICE_SID
    ? { messagingServiceSid: config.TWILIO_MESSAGING_SERVICE_SID }
    : { from: config.TWILIO_SMS_FROM ?? '' };
}

/**
 * Email's primary and backup: Gmail backed by SMTP_URL, or SMTP_URL backed by SMTP_BACKUP_URL
 * (`smtp-backup`, so a fallback row names it apart from the primary); the console has none.
 */
function emailSenders(
  config: WorkerConfig,
  logger: Logger,
  messages: Promise<MessageRenderer>,
): { primary: MessageSender; backup?: MessageSender } {
  const timeoutMs = config.PROVIDER_TIMEOUT_MS;
  const smtp = (url: string | undefined, provider: string) =>
    url ? createSmtpSender({ url, from: config.EMAIL_FROM, timeoutMs, provider, messages }) : undefined;
  switch (config.EMAIL_PROVIDER) {
    case 'console':
      return { primary: createConsoleSender('email', logger, messages) };
    case 'smtp': {
      // loadWorkerConfig has checked SMTP_URL is set when EMAIL_PROVIDER=smtp.
      const primary = createSmtpSender({
        url: config.SMTP_URL ?? '',
        from: config.EMAIL_FROM,
        timeoutMs,
        messages,
      });
      const backup = smtp(config.SMTP_BACKUP_URL, 'smtp-backup');
      return { primary, ...(backup ? { backup } : {}) };
    }
    case 'gmail': {
      const primary = createGmailSender({
        // loadWorkerConfig has checked these are set when EMAIL_PROVIDER=gmail.
        clientId: config.EMAIL_CLIENT_ID ?? '',
        clientSecret: config.EMAIL_CLIENT_SECRET ?? '',
        refreshToken: config.EMAIL_REFRESH_TOKEN ?? '',
        from: config.EMAIL_FROM,
        apiRootUrl: config.GMAIL_API_ROOT_URL,
        tokenUrl: config.GOOGLE_OAUTH_TOKEN_URL,
        timeoutMs,
        messages,
      });
      const backup = smtp(config.SMTP_URL, 'smtp');
      return { primary, ...(backup ? { backup } : {}) };
    }
  }
}

/** What the worker says, from its configuration (brand, TEMPLATES_DIR); see loadMessages. */
export function messagesOf(config: WorkerConfig): Promise<MessageRenderer> {
  return loadMessages({ brand: brandOf(config), templatesDir: config.TEMPLATES_DIR });
}

/**
 * The senders the configuration asks for, saying what `messages` renders (main.ts loads them
 * first, so a broken template stops the start; by default they load here, and a broken one
 * fails each send).
 */
export function createSenders(
  config: WorkerConfig,
  logger: Logger,
  messages: Promise<MessageRenderer> = messagesOf(config),
): Senders {
  // Handled here too, so a load that fails before any send is not an unhandled rejection.
  messages.catch(() => undefined);
  const timeoutMs = config.PROVIDER_TIMEOUT_MS;
  const email = emailSenders(config, logger, messages);
  // One account for both phone channels; loadWorkerConfig has checked it is set when either is on Twilio.
  const twilioAccount: TwilioAccountOptions = {
    accountSid: config.TWILIO_ACCOUNT_SID ?? '',
    authToken: config.TWILIO_AUTH_TOKEN ?? '',
    apiBaseUrl: config.TWILIO_API_BASE_URL,
    timeoutMs,
    statusCallback: config.PUBLIC_BASE_URL ? twilioReceiptUrl(config.PUBLIC_BASE_URL) : undefined,
  };
  const whatsapp =
    config.WHATSAPP_PROVIDER === 'console'
      ? createConsoleSender('whatsapp', logger, messages)
      : config.WHATSAPP_PROVIDER === 'twilio'
        ? createTwilioWhatsAppSender({
            ...twilioAccount,
            from: config.TWILIO_WHATSAPP_FROM ?? '',
            contentSid: config.TWILIO_WHATSAPP_CONTENT_SID,
            noticeContentSid: config.TWILIO_WHATSAPP_NOTICE_CONTENT_SID,
            contentSids: localeContentSids(config.TWILIO_WHATSAPP_CONTENT_SIDS),
            noticeContentSids: localeContentSids(config.TWILIO_WHATSAPP_NOTICE_CONTENT_SIDS),
            messages,
          })
        : undefined;
  const sms =
    config.SMS_PROVIDER === 'console'
      ? createConsoleSender('sms', logger, messages)
      : config.SMS_PROVIDER === 'twilio'
        ? createTwilioSmsSender({ ...twilioAccount, ...smsSenderFrom(config), messages })
        : undefined;
  // WhatsApp after SMS: `byProvider.twilio` stays WhatsApp's sender, as before SMS (senderOf
  // finds each channel its own).
  return sendersOf(
    { email: email.primary, ...(sms ? { sms } : {}), ...(whatsapp ? { whatsapp } : {}) },
    email.backup ? [email.backup] : [],
  );
}
