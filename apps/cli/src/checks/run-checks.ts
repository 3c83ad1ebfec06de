/**
 * The checks `pnpm otp:check` runs for a worker configuration, in order, each reported as it completes.
 */
import type { Logger, WorkerConfig } from '@otp-relay/core';
import { type CheckResult, pass } from './check-result.js';
import { checkGmail } from './gmail-check.js';
import { sendTestMessage } from './send-test.js';
import { checkSmtp } from './smtp-check.js';
import { checkTwilio } from './twilio-check.js';

export interface CheckOptions {
  /** Send a real test message to this email address or +E.164 number. */
  sendTo?: string | undefined;
  /** For the senders `--send-to` uses (the console provider prints through it). */
  logger: Logger;
  /** Called with each result as soon as it is known. */
  onResult?: (result: CheckResult) => void;
}

export async function runChecks(config: WorkerConfig, options: CheckOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const add = (...found: CheckResult[]) => {
    for (const result of found) {
      results.push(result);
      options.onResult?.(result);
    }
  };

  const timeoutMs = config.PROVIDER_TIMEOUT_MS;
  if (config.EMAIL_PROVIDER === 'gmail') add(...(await checkGmail(config)));
  else if (config.EMAIL_PROVIDER === 'console')
    add(pass('Email', "EMAIL_PROVIDER=console: codes are printed in the worker's log, not sent"));
  // With EMAIL_PROVIDER=smtp, SMTP_URL is the mail server and SMTP_BACKUP_URL its backup.
  if (config.EMAIL_PROVIDER === 'smtp' && config.SMTP_URL)
    add(await checkSmtp(config.SMTP_URL, timeoutMs, { name: 'SMTP' }));
  else if (config.SMTP_URL) add(await checkSmtp(config.SMTP_URL, timeoutMs));
  if (config.SMTP_BACKUP_URL)
    add(await checkSmtp(config.SMTP_BACKUP_URL, timeoutMs, { variable: 'SMTP_BACKUP_URL' }));

  // One account for both phone channels: checked once, with each one's sender.
  if (config.WHATSAPP_PROVIDER === 'twilio' || config.SMS_PROVIDER === 'twilio')
    add(...(await checkTwilio(config)));
  for (const [channel, name, setting] of [
    ['whatsapp', 'WhatsApp', 'WHATSAPP_PROVIDER'],
    ['sms', 'SMS', 'SMS_PROVIDER'],
  ] as const) {
    if (config[setting] === 'console') {
      add(pass(name, `${setting}=console: codes are printed in the worker's log, not sent`));
    } else if (config[setting] === 'disabled') {
      add(pass(name, `${setting}=disabled: the API refuses otp_method "${channel}"`));
    }
  }

  if (options.sendTo) add(await sendTestMessage(config, options.sendTo, options.logger));
  return results;
}
