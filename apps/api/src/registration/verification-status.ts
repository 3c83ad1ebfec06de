import { DEFAULT_LOCALE, isSupportedLocale, type SupportedLocale } from '@otp-relay/core';
import type { Channel, Delivery, RegistrationFlow } from '@otp-relay/db';
import { problem } from './field-errors.js';
import { RegistrationError } from './registration-errors.js';

/**
 * What the holder of a flow's id may learn of it (GET /api/accounts/verifications/{id}), as plain
 * functions of the flow, its deliveries, the cooldowns and the clock. No SQL and no HTTP here.
 *
 * Nothing about accounts: a notice flow (its contact already has an account) reads as a code flow
 * would at the same stage. It is never approved (it cannot verify), its wrong codes count the same,
 * and the delivery is shown only while the flow is pending: once a flow has ended the worker skips
 * an unsent code but still sends a notice, so a delivery state after the end could tell them apart.
 */

/** The flow's state, in Twilio Verify's words. */
export type VerificationState = 'pending' | 'approved' | 'expired' | 'canceled' | 'max_attempts_reached';

/**
 * Where the current code's message is, as one state: ours until the provider accepted it
 * (`queued`, `sending`), then the provider's last report (`sent`, `delivered`, `read`, `failed`,
 * `undelivered`). `failed` also means that we gave up on it.
 */
export type DeliveryState = 'queued' | 'sending' | 'sent' | 'delivered' | 'read' | 'failed' | 'undelivered';

export interface VerificationStatus {
  verificationId: string;
  state: VerificationState;
  /** The channel that carries (or carried) the current code: the last of its delivery's fallbacks. */
  channel: Channel;
  /** Only while pending (see above). */
  delivery: { state: DeliveryState; errorCode: string | null } | null;
  /** The current code went out as the fallback of a delivery that failed (WhatsApp → email, Gmail → SMTP). */
  fellBack: boolean;
  /** Seconds the current code still works: 0 unless pending. */
  expiresInSeconds: number;
  /**
   * Seconds until a resend on the channel the current code was asked for is allowed (the same
   * cooldown as request-otp's `resend_after`, counting down); 0 when allowed; null when a resend
   * can send nothing (approved, canceled, max_attempts_reached).
   */
  resendAfterSeconds: number | null;
  /** Wrong codes the holder of the id may still submit. */
  attemptsLeft: number;
  /** The language of the flow's messages, chosen at request-otp. */
  locale: SupportedLocale;
}

/** What of a flow the status reads. */
export type StatusFlow = Pick<
  RegistrationFlow,
  | 'verificationId'
  | 'emailKey'
  | 'channel'
  | 'destination'
  | 'codeSequence'
  | 'failedAttempts'
  | 'expiresAt'
  | 'verifiedAt'
  | 'closedAt'
  | 'locale'
>;

/** What of a delivery the status reads. */
export type StatusDelivery = Pick<
  Delivery,
  | 'id'
  | 'channel'
  | 'destination'
  | 'codeSequence'
  | 'fallbackOf'
  | 'status'
  | 'providerStatus'
  | 'providerErrorCode'
  | 'createdAt'
>;

export interface StatusRules {
  OTP_MAX_ATTEMPTS: number;
  OTP_RESEND_COOLDOWN_SECONDS: number;
}

export interface StatusInput {
  flow: StatusFlow;
  /** All the flow's deliveries, in any order. */
  deliveries: readonly StatusDelivery[];
  /** `send_cooldowns.last_sent_at` by destination key, for the keys the flow's sends used. */
  lastSentAt: ReadonlyMap<string, Date>;
  at: Date;
  rules: StatusRules;
}

export function verificationNotFound(): RegistrationError {
  return new RegistrationError('VERIFICATION_NOT_FOUND', 'No verification has this id.', {
    field: 'verification_id',
    problem: problem('not_found'),
  });
}

/**
 * The flow's state. In the order judgeCode (registration-rules.ts) applies: a flow closed because
 * another flow proved its contact reads `canceled`, like one its holder canceled.
 */
export function verificationState(flow: StatusFlow, at: Date, maxAttempts: number): VerificationState {
  if (flow.verifiedAt) return 'approved';
  if (flow.closedAt) return 'canceled';
  // The holder's own count (registration-rules.ts, wrongCodesOf): strangers' guesses do not lock it.
  if (flow.failedAttempts >= maxAttempts) return 'max_attempts_reached';
  if (flow.expiresAt.getTime() <= at.getTime()) return 'expired';
  return 'pending';
}

const newestFirst = (a: StatusDelivery, b: StatusDelivery) => b.createdAt.getTime() - a.createdAt.getTime();

/**
 * The delivery that carries the flow's current code, and the one it was first sent as. The first
 * is the delivery the API made with the code: the one of the flow's `code_sequence` (a notice has
 * none, so then the newest the API made). From it, each fallback in turn. Fallbacks are found by
 * `fallback_of`, never by time: the worker stamps them with the database's clock, the API with its own.
 */
export function currentDelivery(
  flow: Pick<StatusFlow, 'codeSequence'>,
  deliveries: readonly StatusDelivery[],
): { first: StatusDelivery; last: StatusDelivery } | undefined {
  const made = deliveries.filter((delivery) => delivery.fallbackOf === null).sort(newestFirst);
  const first = made.find((delivery) => delivery.codeSequence === flow.codeSequence) ?? made[0];
  if (!first) return undefined;
  let last = first;
  // Bounded: a chain cannot be longer than the deliveries there are.
  for (let step = 0; step < deliveries.length; step += 1) {
    const next = deliveries.filter((delivery) => delivery.fallbackOf === last.id).sort(newestFirst)[0];
    if (!next) break;
    last = next;
  }
  return { first, last };
}

/** One delivery row as one state (see DeliveryState). */
export function deliveryState(delivery: Pick<StatusDelivery, 'status' | 'providerStatus'>): DeliveryState {
  switch (delivery.status) {
    case 'queued':
      return 'queued';
    // `failed` is a temporary failure: the queue tries it again.
    case 'sending':
    case 'failed':
      return 'sending';
    case 'sent':
      return delivery.providerStatus ?? 'sent';
    // Given up on (dead), or not sent because its code could no longer be used (skipped).
    case 'dead':
    case 'skipped':
      return 'failed';
  }
}

/** The key a send's cooldown is kept under (send_cooldowns): the mailbox, or the E.164 number. */
export function cooldownKey(
  flow: Pick<StatusFlow, 'emailKey'>,
  sentTo: { channel: Channel; destination: string },
): string {
  return sentTo.channel === 'email' ? flow.emailKey : sentTo.destination;
}

/** Whole seconds from `at` until `until`, rounded up (a client told to wait that long is never early); 0 once past. */
export function secondsUntil(until: Date, at: Date): number {
  return Math.max(0, Math.ceil((until.getTime() - at.getTime()) / 1000));
}

export function verificationStatus(input: StatusInput): VerificationStatus {
  const { flow, at, rules } = input;
  const state = verificationState(flow, at, rules.OTP_MAX_ATTEMPTS);
  const current = currentDelivery(flow, input.deliveries);
  // The flow's own channel follows a fallback too (the worker moves it); used when no delivery is found.
  const carrier = current?.last ?? flow;
  const askedFor = current?.first ?? flow;
  const ended = state === 'approved' || state === 'canceled' || state === 'max_attempts_reached';
  const lastSent = input.lastSentAt.get(cooldownKey(flow, askedFor));
  const cooldownEnds =
    lastSent === undefined
      ? undefined
      : new Date(lastSent.getTime() + rules.OTP_RESEND_COOLDOWN_SECONDS * 1000);
  return {
    verificationId: flow.verificationId,
    state,
    channel: carrier.channel,
    delivery:
      state === 'pending'
        ? {
            state: current ? deliveryState(current.last) : 'queued',
            errorCode: current?.last.providerErrorCode ?? null,
          }
        : null,
    fellBack: current !== undefined && current.last.fallbackOf !== null,
    expiresInSeconds: state === 'pending' ? secondsUntil(flow.expiresAt, at) : 0,
    resendAfterSeconds: ended ? null : cooldownEnds ? secondsUntil(cooldownEnds, at) : 0,
    attemptsLeft: Math.max(0, rules.OTP_MAX_ATTEMPTS - flow.failedAttempts),
    // Always one of them (request-otp negotiates it); a row edited by hand reads as English.
    locale: isSupportedLocale(flow.locale) ? flow.locale : DEFAULT_LOCALE,
  };
}
