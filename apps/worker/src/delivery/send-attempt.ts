import { inSpan, SpanKind } from '@otp-relay/core';
import type { Delivery } from '@otp-relay/db';
import type { Acceptance } from './acceptance.js';
import { DeliveryError, type OutgoingMessage } from './message-sender.js';
import { type DryProviders, NEVER_DRY } from './provider-exhaustion.js';
import { backupOf, type Senders, senderOf } from './senders.js';

export type SendOutcome = { accepted: Acceptance } | { failed: DeliveryError; provider: string };

/**
 * The provider a delivery goes through: the one its row names (a fallback's preset one, or the one
 * a failed attempt recorded) on its channel, or the channel's primary. Named even when none is
 * configured, for the record of the failure.
 */
export function senderFor(senders: Senders, delivery: Delivery) {
  const sender = senderOf(senders, delivery.channel, delivery.provider);
  const provider = sender?.provider ?? delivery.provider ?? `${delivery.channel} (not configured)`;
  return { sender, provider };
}

/**
 * `senderFor`, unless that provider has run dry and has a backup: then the backup, at once, with
 * no attempt at a provider that can only refuse.
 */
async function senderAround(senders: Senders, delivery: Delivery, dry: DryProviders) {
  const chosen = senderFor(senders, delivery);
  const backup = chosen.sender && backupOf(senders, delivery.channel, chosen.sender.provider);
  if (!backup || !(await dry.isDry(chosen.provider))) return chosen;
  return { sender: backup, provider: backup.provider };
}

/**
 * One attempt at the provider, and nothing else: the provider's acceptance is the send, so this
 * is the only step whose failure may lead to another send. The acceptance and the failure name
 * the provider that was tried.
 */
export async function sendOnce(
  senders: Senders,
  delivery: Delivery,
  message: OutgoingMessage,
  now: () => Date,
  dry: DryProviders = NEVER_DRY,
): Promise<SendOutcome> {
  const { sender, provider } = await senderAround(senders, delivery, dry);
  if (!sender) {
    const failed = new DeliveryError(`no ${provider} provider is configured for ${delivery.channel}`, {
      retryable: false,
    });
    return { failed, provider };
  }
  try {
    // A client span around the provider's call alone: the trace shows its time and its failure.
    const { provider: accepting, providerMessageId } = await inSpan(
      `${sender.provider} send`,
      {
        kind: SpanKind.CLIENT,
        attributes: { 'otp_relay.provider': sender.provider, 'otp_relay.channel': delivery.channel },
      },
      () => sender.send(message),
    );
    return { accepted: { provider: accepting, providerMessageId, at: now().toISOString() } };
  } catch (error) {
    // A sender's own failures are DeliveryErrors; anything else (a bug, a surprise) is retried.
    const failed =
      error instanceof DeliveryError
        ? error
        : new DeliveryError(error instanceof Error ? error.message : String(error), { retryable: true });
    return { failed, provider };
  }
}
