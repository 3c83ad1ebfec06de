/**
 * `--send-to`: one real message through the configured primary sender of the recipient's channel,
 * exactly as the worker sends codes (`createSenders` from @otp-relay/worker), with a dummy code.
 */
import type { Logger, WorkerConfig } from '@otp-relay/core';
import { createSenders } from '@otp-relay/worker';
import { type CheckResult, fail, pass } from './check-result.js';

const NAME = 'Test message';
// A bare number goes by WhatsApp when it is on, else by SMS; `sms:` or `whatsapp:` chooses.
const PHONE = /^(?:(whatsapp|sms):)?(\+[1-9]\d{6,14})$/;

const PROVIDER_SETTINGS = { whatsapp: 'WHATSAPP_PROVIDER', sms: 'SMS_PROVIDER' } as const;
type PhoneChannel = keyof typeof PROVIDER_SETTINGS;

/** The channel and address to try; no channel for a bare number while both phone channels are off. */
function recipientOf(
  config: WorkerConfig,
  given: string,
): { channel: 'email' | PhoneChannel | undefined; to: string } | undefined {
  if (given.includes('@')) return { channel: 'email', to: given };
  const [, chosen, number] = PHONE.exec(given) ?? [];
  if (!number) return undefined;
  if (chosen === 'whatsapp' || chosen === 'sms') return { channel: chosen, to: number };
  const on = (['whatsapp', 'sms'] as const).find(
    (channel) => config[PROVIDER_SETTINGS[channel]] !== 'disabled',
  );
  return { channel: on, to: number };
}

export async function sendTestMessage(
  config: WorkerConfig,
  given: string,
  logger: Logger,
): Promise<CheckResult> {
  const recipient = recipientOf(config, given);
  if (recipient === undefined) {
    return fail(
      NAME,
      `--send-to ${given}: give an email address or a phone number in E.164 form (+14155552671; ` +
        'sms:+14155552671 or whatsapp:+14155552671 to choose the channel)',
    );
  }
  const { channel, to } = recipient;
  const sender = channel && createSenders(config, logger).primary[channel];
  if (!sender) {
    // Email always has a sender: only a phone channel can be off.
    const off =
      channel === undefined || channel === 'email'
        ? Object.values(PROVIDER_SETTINGS)
        : [PROVIDER_SETTINGS[channel]];
    return fail(
      NAME,
      `${off.map((setting) => `${setting}=disabled`).join(' and ')}: there is no sender to try`,
    );
  }
  try {
    const result = await sender.send({
      kind: 'otp',
      to,
      code: '123456',
      validForMinutes: 10,
    });
    return pass(
      NAME,
      result.provider === 'console'
        ? `the console provider printed it (nothing was sent to ${to})`
        : `${result.provider} accepted it for ${to}: message id ${result.providerMessageId}`,
    );
  } catch (error) {
    const { message, retryable } = (error ?? {}) as { message?: string; retryable?: boolean };
    return fail(
      NAME,
      `${sender.provider} refused it: ${message ?? String(error)}${retryable ? ' (temporary: the worker would retry)' : ''}`,
    );
  }
}
