import type { Delivery } from '@otp-relay/db';
import type { Acceptance } from './acceptance.js';
import { DeliveryError, type OutgoingMessage } from './message-sender.js';
import { type Senders, senderOf } from './senders.js';

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
 * One attempt at the provider, and nothing else: the provider's acceptance is the send, so this
 * is the only step whose failure may lead to another send.
 */
export async function sendOnce(
  senders: Senders,
  delivery: Delivery,
  message: OutgoingMessage,
  now: () => Date,
): Promise<SendOutcome> {
  const { sender, provider } = senderFor(senders, delivery);
  if (!sender) {
    const failed = new DeliveryError(`no ${provider} provider is configured for ${delivery.channel}`, {
      retryable: false,
    });
    return { failed, provider };
  }
  try {
    const { provider: accepting, providerMessageId } = await sender.send(message);
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
