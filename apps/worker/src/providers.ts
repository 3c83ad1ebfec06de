import type { Logger, WorkerConfig } from '@otp-relay/core';
import { createConsoleSender } from './email/console-sender.js';
import type { EmailSender } from './email/email-sender.js';
import { createGmailSender } from './email/gmail-sender.js';

/** The email sender the configuration asks for. */
export function createEmailSender(config: WorkerConfig, logger: Logger): EmailSender {
  if (config.EMAIL_PROVIDER === 'console') return createConsoleSender(logger);
  return createGmailSender({
    // loadWorkerConfig has checked these are set when EMAIL_PROVIDER=gmail.
    clientId: config.EMAIL_CLIENT_ID ?? '',
    clientSecret: config.EMAIL_CLIENT_SECRET ?? '',
    refreshToken: config.EMAIL_REFRESH_TOKEN ?? '',
    from: config.EMAIL_FROM,
    apiRootUrl: config.GMAIL_API_ROOT_URL,
    tokenUrl: config.GOOGLE_OAUTH_TOKEN_URL,
    timeoutMs: config.PROVIDER_TIMEOUT_MS,
  });
}
