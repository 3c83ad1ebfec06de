import { type CodeUnusableReason, codeUnusableReason } from '@otp-relay/core';
import type { Channel, FlowKind, RegistrationFlow } from '@otp-relay/db';
import { problem } from './field-errors.js';
import type { MobileNumber } from './mobile-number.js';
import { RegistrationError } from './registration-errors.js';

/**
 * The rules of registration by flow, as plain functions: which flow a call is about, what a
 * submitted code earns, what each caller may learn, and which contact a verified code proves.
 * No SQL and no HTTP here (flow-repository.ts, routes/accounts).
 */

/** Which contact a code proves: the one it was sent to. */
export type Proof = 'email' | 'phone';

/** WhatsApp and SMS both send to the flow's phone number: a code by either proves the phone. */
export function proofOf(channel: Channel): Proof {
  return channel === 'email' ? 'email' : 'phone';
}

/** The channels that send to a phone number. */
export type PhoneChannel = Exclude<Channel, 'email'>;

/** Each channel by its name in messages to the caller. */
export const CHANNEL_NAMES: Readonly<Record<Channel, string>> = {
  email: 'email',
  whatsapp: 'WhatsApp',
  sms: 'SMS',
};

/**
 * A code flow sends codes; a contact that already has an account gets a notice instead, from a
 * notice flow that answers every call exactly as a code flow does.
 */
export function flowKindFor(destinationHasAccount: boolean): FlowKind {
  return destinationHasAccount ? 'notice' : 'code';
}

/** What a call names: a flow by its id, or (clients of the first version) only an address. */
export interface FlowReference {
  mailbox: string;
  verificationId?: string | undefined;
}

export type PickedFlow = { flow: RegistrationFlow } | { none: true } | { ambiguous: true };

/**
 * The flow a call is about, from the rows found for it. With an id: that flow, if it belongs to
 * the address given beside it. Without: the address's one open flow; with two or more open, none
 * may be picked, or a caller could act on a flow someone else started.
 */
export function pickFlow(found: readonly RegistrationFlow[], reference: FlowReference): PickedFlow {
  if (reference.verificationId !== undefined) {
    const flow = found.find(
      (row) => row.verificationId === reference.verificationId && row.emailKey === reference.mailbox,
    );
    return flow ? { flow } : { none: true };
  }
  if (found.length > 1) return { ambiguous: true };
  const [flow] = found;
  return flow ? { flow } : { none: true };
}

export function verificationIdRequired(): RegistrationError {
  return new RegistrationError(
    'VERIFICATION_ID_REQUIRED',
    'More than one registration is open for this address; send the verification_id that request-otp returned.',
    { field: 'verification_id', problem: problem('required') },
  );
}

export type Verdict =
  | 'VERIFIED'
  | 'OTP_INVALID'
  | 'OTP_EXPIRED'
  | 'OTP_ATTEMPTS_EXCEEDED'
  | Exclude<CodeUnusableReason, 'code expired' | 'code superseded by a newer one' | 'registration gone'>;

/**
 * The wrong codes that lock a flow for this caller: the holder of its id and callers naming only
 * the address each have `OTP_MAX_ATTEMPTS` of their own, so a stranger cannot lock the holder out.
 */
export function wrongCodesOf(flow: RegistrationFlow, holdsId: boolean): number {
  return holdsId ? flow.failedAttempts : flow.failedAttemptsWithoutId;
}

/**
 * What a submitted code earns against its flow. Only a wrong code on a live, unlocked flow counts
 * as a guess. A notice flow never verifies: its code was never sent to anyone.
 */
export function judgeCode(
  flow: RegistrationFlow,
  codeMatches: boolean,
  at: Date,
  maxAttempts: number,
  holdsId = true,
): Verdict {
  const unusable = codeUnusableReason(flow, flow.codeSequence, at);
  if (unusable === 'code already used' || unusable === 'registration ended') return unusable;
  if (wrongCodesOf(flow, holdsId) >= maxAttempts) return 'OTP_ATTEMPTS_EXCEEDED';
  if (unusable === 'code expired') return 'OTP_EXPIRED';
  return codeMatches && flow.kind === 'code' ? 'VERIFIED' : 'OTP_INVALID';
}

export type Rejection = 'OTP_INVALID' | 'OTP_EXPIRED' | 'OTP_ATTEMPTS_EXCEEDED';

/**
 * What a caller is told of a failed verify. The holder of the flow's id learns why; anyone else
 * hears "invalid" whatever the state, so that a flow's existence, age and lock are no one else's.
 */
export function publicRejection(verdict: Exclude<Verdict, 'VERIFIED'>, holdsId: boolean): Rejection {
  if (!holdsId) return 'OTP_INVALID';
  return verdict === 'OTP_EXPIRED' || verdict === 'OTP_ATTEMPTS_EXCEEDED' ? verdict : 'OTP_INVALID';
}

const REJECTION_MESSAGES: Record<Rejection, string> = {
  OTP_INVALID: 'The code is invalid.',
  OTP_EXPIRED: 'The code has expired; ask for a new one.',
  OTP_ATTEMPTS_EXCEEDED: 'Too many wrong codes; start the registration again.',
};

export function rejection(code: Rejection): RegistrationError {
  return new RegistrationError(code, REJECTION_MESSAGES[code]);
}

export function usernameTaken(): RegistrationError {
  return new RegistrationError('USERNAME_TAKEN', 'This username is already taken.', {
    field: 'username',
    problem: problem('taken'),
  });
}

/** Where a code on `channel` goes, and the key its limits count under. */
export interface Destination {
  channel: Channel;
  /** The address as typed, or the number in E.164. */
  destination: string;
  /** The mailbox key (contact-keys.ts) or the E.164 number. */
  limitKey: string;
  /**
   * For a phone channel (WhatsApp or SMS): the number's calling code, for that channel's
   * per-country cap. (Named when WhatsApp was the only phone channel.)
   */
  whatsappCallingCode?: string;
}

/** Undefined when the channel needs a number the flow does not have. */
export function destinationFor(
  channel: Channel,
  email: { typed: string; mailbox: string },
  mobile: MobileNumber | undefined,
): Destination | undefined {
  if (channel === 'email') return { channel, destination: email.typed, limitKey: email.mailbox };
  if (!mobile) return undefined;
  return {
    channel,
    destination: mobile.e164,
    // One number, one count: its limits and cooldown hold across WhatsApp and SMS.
    limitKey: mobile.e164,
    whatsappCallingCode: mobile.callingCode,
  };
}

export function mobileRequired(channel?: Channel): RegistrationError {
  const by = channel ? CHANNEL_NAMES[channel] : 'WhatsApp or SMS';
  return new RegistrationError('VALIDATION_ERROR', `is required to send the code by ${by}`, {
    field: 'mobile',
    problem: problem('required'),
  });
}

/**
 * What a resend does with the flow it found: send a new code (or notice), or answer as if there
 * were no flow. The holder of the id is told why nothing can be sent (no number, or one in a
 * country the channel does not send to: `destination` is then that refusal); anyone else is not.
 */
export function resendDecision(
  flow: RegistrationFlow,
  destination: Destination | RegistrationError | undefined,
  holdsId: boolean,
  maxAttempts: number,
): { send: Destination } | { asIfNoFlow: true } {
  if (flow.verifiedAt || flow.closedAt) return { asIfNoFlow: true };
  if (flow.failedAttempts >= maxAttempts) {
    if (holdsId) throw rejection('OTP_ATTEMPTS_EXCEEDED');
    return { asIfNoFlow: true };
  }
  if (destination === undefined || destination instanceof RegistrationError) {
    if (holdsId) throw destination ?? mobileRequired();
    return { asIfNoFlow: true };
  }
  return { send: destination };
}
