/**
 * `--send-to`: one real message through the configured primary sender of the recipient's channel,
 * exactly as the worker sends codes (`createSenders` from @otp-relay/worker), with a dummy code.
 */
import type { Logger, WorkerConfig } from '@otp-relay/core';
import { createSenders } from '@otp-relay/worker';
import { type CheckResult, fail, pass } from './check-result.js';

const NAME = 'Test message';
const PHONE = /^\+[1-9]\d{6,14}$/;

export async function sendTestMessage(
  config: WorkerConfig,
  to: string,
  logger: Logger,
): Promise<CheckResult> {
  const channel = to.includes('@') ? 'email' : PHONE.test(to) ? 'whatsapp' : undefined;
  if (channel === undefined) {
    return fail(
      NAME,
      `--send-to ${to}: give an email address or a phone number in E.164 form (+14155552671)`,
    );
  }
  const sender = createSenders(config, logger).primary[channel];
  if (!sender) return fail(NAME, 'WHATSAPP_PROVIDER=disabled: there is no WhatsApp sender to try');
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
