import { randomUUID } from 'node:crypto';
import {
  codeUnusableReason,
  type DeliveryQueue,
  enqueueDelivery,
  type Logger,
  openDeliveryPayload,
  type RetryPolicy,
  sealDeliveryPayload,
} from '@otp-relay/core';
import type { Channel, Delivery, DeliveryRepository, RegistrationFlow, Transaction } from '@otp-relay/db';
import { deliveryFailureEvents } from '../webhooks/delivery-failure-events.js';
import type { WebhookOutbox } from '../webhooks/webhook-outbox.js';
import { type ChannelChain, nextChannel } from './channel-chain.js';
import type { Senders } from './senders.js';

export interface FallbackDeps {
  repository: DeliveryRepository;
  payloadKey: Buffer;
  senders: Senders;
  deliveryQueue: DeliveryQueue;
  retryPolicy: RetryPolicy;
  /** Where a code goes when its channel fails for good (FALLBACK_CHAIN). */
  channelChain: ChannelChain;
  logger: Logger;
  now: () => Date;
  /** Records delivery.failed / delivery.dead with the failure; none when webhooks are off. */
  webhooks?: WebhookOutbox | undefined;
}

/**
 * A delivery that failed for good: it died in the worker, or its provider accepted it and later
 * reported it undelivered.
 */
export interface FailedDelivery {
  delivery: Delivery;
  /** Its registration flow; none for the oldest notices. */
  flow: RegistrationFlow | undefined;
  /** The provider that failed it. */
  provider: string;
  /** The provider refused the number itself: other phone channels are no use. */
  numberRefused: boolean;
  /** Why, cleaned of contacts (its events say it). */
  reason: string;
}

/** Where the message goes instead. A null provider means the channel's primary. */
export interface FallbackPlan {
  channel: Channel;
  destination: string;
  provider: string | null;
}

export interface FallbackResult {
  /** Whether `record` changed the failed delivery; nothing else happened when it did not. */
  recorded: boolean;
  /** The delivery that took over, if one did. */
  fallback?: { deliveryId: string; channel: Channel };
}

export interface FallbackOptions {
  /** Runs after the commit, before the fallback's job is enqueued (the dead-letter copy). */
  afterRecord?: () => Promise<void>;
}

/**
 * Which delivery takes over from a failed one, and starting it. A fallback is a new delivery row
 * (`fallback_of` names the failed one) carrying the same message, retried, dead-lettered and
 * replayed like any other.
 */
export function createFallbacks(deps: FallbackDeps) {
  const { repository, logger } = deps;

  /**
   * A code → the next channel of the chain (channel-chain.ts; WhatsApp → SMS → email by default),
   * Gmail → the SMTP backup. A notice to a phone does not move to the email: that address has no
   * account to speak of. A code that can no longer be used has none: it would be skipped anyway.
   */
  function planFor({ delivery, flow, provider, numberRefused }: FailedDelivery): FallbackPlan | undefined {
    if (delivery.kind === 'otp' && codeUnusableReason(flow, delivery.codeSequence ?? 0, deps.now())) {
      return undefined;
    }
    const contacts = flow && (numberRefused ? { email: flow.email, mobile: null } : flow);
    const moved =
      delivery.kind === 'otp' && contacts
        ? nextChannel(deps.channelChain, delivery.channel, contacts)
        : undefined;
    if (moved) return { ...moved, provider: null };
    // Email's primary → its backup (Gmail → SMTP_URL, SMTP → SMTP_BACKUP_URL; see senders.ts).
    const backup = delivery.channel === 'email' ? deps.senders.backups[provider] : undefined;
    if (backup?.channel === 'email') {
      return { channel: 'email', destination: delivery.destination, provider: backup.provider };
    }
    return undefined;
  }

  /** The fallback's row, and (for a code that changes channel) the flow's move to that contact. */
  async function create(tx: Transaction, { delivery, flow }: FailedDelivery, plan: FallbackPlan) {
    const id = randomUUID();
    // The same message under a new id: a sealed code is sealed again, bound to the new row.
    const payloadCiphertext = delivery.payloadCiphertext
      ? sealDeliveryPayload(
          deps.payloadKey,
          id,
          openDeliveryPayload(deps.payloadKey, delivery.id, delivery.payloadCiphertext),
        )
      : null;
    await repository.insertDelivery(tx, {
      id,
      kind: delivery.kind,
      flowId: delivery.flowId,
      codeSequence: delivery.codeSequence,
      fallbackOf: delivery.id,
      ...plan,
      payloadCiphertext,
    });
    if (delivery.kind === 'otp' && flow && plan.channel !== delivery.channel) {
      // The code now reaches the email, not the phone: verifying it proves the email.
      await repository.moveFlowCode(tx, {
        flowId: flow.id,
        codeSequence: delivery.codeSequence ?? 0,
        channel: plan.channel,
        destination: plan.destination,
      });
    }
    return id;
  }

  /**
   * Records a delivery's failure and starts its fallback, if it has one: `record` writes the
   * failed delivery's fate and says whether it changed the row; the fallback's row is written in
   * the same transaction (`tx`), and only if it did (a failure reported twice falls back once).
   * With no fallback, `record` runs alone, without `tx`: one statement, one round trip. Used when
   * a delivery dies, and for a delivery its provider accepted and later reported undelivered.
   * With webhooks on, its events (delivery.failed, and delivery.dead when nothing takes over) are
   * written in the same transaction: announced if and only if recorded.
   */
  async function fallBack(
    failed: FailedDelivery,
    record: (tx?: Transaction) => Promise<boolean>,
    options: FallbackOptions = {},
  ): Promise<FallbackResult> {
    const plan = planFor(failed);
    const { webhooks } = deps;
    const outcome: { recorded: boolean; fallbackId?: string; eventIds?: string[] } =
      plan || webhooks
        ? await repository.inTransaction(async (tx) => {
            if (!(await record(tx))) return { recorded: false };
            const fallbackId = plan ? await create(tx, failed, plan) : undefined;
            const took = plan && fallbackId ? { deliveryId: fallbackId, channel: plan.channel } : undefined;
            const eventIds = webhooks
              ? await webhooks.record(tx, deliveryFailureEvents(failed, took, deps.now()))
              : [];
            return { recorded: true, ...(fallbackId ? { fallbackId } : {}), eventIds };
          })
        : { recorded: await record() };
    if (!outcome.recorded) return { recorded: false };
    await options.afterRecord?.();
    if (webhooks && outcome.eventIds) await webhooks.enqueue(outcome.eventIds);
    if (!plan || !outcome.fallbackId) return { recorded: true };

    const log = logger.child({ deliveryId: failed.delivery.id });
    log.warn(
      { fallbackDeliveryId: outcome.fallbackId, channel: plan.channel },
      'delivery failed for good; falling back',
    );
    // The row is committed: a lost enqueue is the outbox relay's to repair.
    await enqueueDelivery(deps.deliveryQueue, outcome.fallbackId, deps.retryPolicy).catch((error: unknown) =>
      log.warn({ err: error }, 'fallback enqueue failed; the outbox relay will enqueue it'),
    );
    return { recorded: true, fallback: { deliveryId: outcome.fallbackId, channel: plan.channel } };
  }

  return { planFor, fallBack };
}

export type Fallbacks = ReturnType<typeof createFallbacks>;
