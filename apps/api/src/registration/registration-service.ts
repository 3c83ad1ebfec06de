import { randomUUID } from 'node:crypto';
import {
  type AccountMetadata,
  type ApiConfig,
  allowedSmsCountries,
  allowedWhatsappCountries,
  type DeliveryQueue,
  enqueueDelivery,
  enqueueWebhookEvents,
  flowCodeMatches,
  generateCode,
  generateVerificationId,
  hashFlowCode,
  type Logger,
  type SupportedLocale,
  sealDeliveryPayload,
  type WebhookQueue,
} from '@otp-relay/core';
import type { Channel, Database, RegistrationFlow, Transaction } from '@otp-relay/db';
import { acceptMetadata, requireUsername } from './account-profile.js';
import { mailboxKey } from './contact-keys.js';
import { problem } from './field-errors.js';
import {
  type Account,
  createFlowRepository,
  type FlowCode,
  type NewDelivery,
  USERNAME_INDEX,
  uniqueViolation,
} from './flow-repository.js';
import { type HumanCheck, NO_HUMAN_CHECK } from './human-check.js';
import { ANY_COUNTRY, countryAllowed, countryRefused, parseMobile } from './mobile-number.js';
import { HashQueueFullError, type PasswordHasher } from './password-hashing.js';
import { RegistrationError } from './registration-errors.js';
import { accountCreatedEvents } from './registration-events.js';
import {
  CHANNEL_NAMES,
  type Destination,
  destinationFor,
  flowKindFor,
  judgeCode,
  mobileRequired,
  type PickedFlow,
  pickFlow,
  proofOf,
  publicRejection,
  type Rejection,
  rejection,
  resendDecision,
  usernameTaken,
  type Verdict,
  verificationIdRequired,
} from './registration-rules.js';
import type { SendLimits } from './send-limits.js';
import { chooseLocale } from './shopper-locale.js';
import { type VerificationStatus, verificationNotFound, verificationStatus } from './verification-status.js';

/**
 * Registration by one-time code, as flows: request-otp opens one, resend-otp gives it a new code,
 * verify-otp completes it into an account. This module orders the steps; the rules are in
 * registration-rules.ts, the SQL in flow-repository.ts, the limits in send-limits.ts. No HTTP here.
 */

export interface RegistrationKeys {
  otpHmac: Buffer;
  payloadEncryption: Buffer;
}

/** What registration reports as it goes (metrics listen); no-ops by default. */
export interface RegistrationEvents {
  codeIssued(channel: Channel): void;
  codeVerified(): void;
  codeRejected(code: Rejection | 'VERIFICATION_ID_REQUIRED'): void;
  /** Seconds from asking for the password hash to having it: waiting for a hashing thread, then argon2id. */
  passwordHashed(seconds: number): void;
}

const NO_EVENTS: RegistrationEvents = {
  codeIssued() {},
  codeVerified() {},
  codeRejected() {},
  passwordHashed() {},
};

export interface RegistrationDeps {
  db: Database;
  deliveryQueue: DeliveryQueue;
  config: ApiConfig;
  keys: RegistrationKeys;
  sendLimits: SendLimits;
  passwordHasher: PasswordHasher;
  /** The CAPTCHA on the sending endpoints; none by default. */
  humanCheck?: HumanCheck;
  events?: RegistrationEvents;
  /** Where events for the shop's webhook are queued; unset when WEBHOOK_URL is (no events recorded). */
  webhookQueue?: WebhookQueue;
  /** For what happens after the answer is decided (a webhook enqueue that failed). */
  logger?: Logger;
  now?: () => Date;
}

export interface RequestOtpInput {
  email: string;
  channel: Channel;
  /** Any common notation; required for WhatsApp and SMS. */
  mobile?: string;
  /** Optional with USERNAME_REQUIRED=false. */
  username?: string | undefined;
  /** The shop's small object for the account (limits in account-profile.ts). */
  metadata?: AccountMetadata | undefined;
  firstName: string;
  lastName: string;
  password: string;
  /** The caller's answer to the human check, when one is configured. */
  captchaToken?: string | undefined;
  /** The caller's address, for the human check. */
  ip: string;
  /** The body's `locale` (BCP 47), as sent. */
  locale?: string | undefined;
  /** The request's `Accept-Language`, used when `locale` is absent. */
  acceptLanguage?: string | undefined;
}

export interface IssuedCode {
  expiresInSeconds: number;
  resendAfterSeconds: number;
  /** The plaintext code, for OTP_DEBUG_RESPONSE in development only; absent when no code was sent. */
  code?: string;
}

/** A new flow: its id and language, the same shape whether a code or a notice went out. */
export type OpenedFlow = IssuedCode & { verificationId: string; locale: SupportedLocale };

/** Which flow a verify or resend is about: its id, or (clients of the first version) the address alone. */
export interface FlowCall {
  email: string;
  verificationId?: string | undefined;
}

/** How many times verify judges a flow that other requests keep changing under it (see judgeAndRecord). */
const MAX_JUDGEMENTS = 5;

/** What verify returns: the account, and which contact this code proved. */
export type VerifiedUser = Account;

export function createRegistrationService(deps: RegistrationDeps) {
  const { config, keys, sendLimits } = deps;
  const events = deps.events ?? NO_EVENTS;
  const humanCheck = deps.humanCheck ?? NO_HUMAN_CHECK;
  const repository = createFlowRepository(deps.db);
  /**
   * The countries a code by each channel may go to (the SMS-pumping guard). A number on an email
   * flow is sent nothing: a resend that moves the flow to a phone channel checks that channel's.
   */
  const allowedCountries: Readonly<Record<Channel, ReadonlySet<string>>> = {
    email: ANY_COUNTRY,
    whatsapp: allowedWhatsappCountries(config),
    sms: allowedSmsCountries(config),
  };
  const channelOn: Readonly<Record<Channel, boolean>> = {
    email: true,
    whatsapp: config.WHATSAPP_PROVIDER !== 'disabled',
    sms: config.SMS_PROVIDER !== 'disabled',
  };
  const now = deps.now ?? (() => new Date());
  const expiryFrom = (at: Date) => new Date(at.getTime() + config.OTP_TTL_SECONDS * 1000);

  function assertChannelAvailable(channel: Channel) {
    if (!channelOn[channel]) {
      throw new RegistrationError(
        'CHANNEL_UNAVAILABLE',
        `${CHANNEL_NAMES[channel]} delivery is not enabled on this service.`,
        { field: 'otp_method', problem: problem('unavailable') },
      );
    }
  }

  /** Where a resend's code goes: the flow's contact for the channel, or why it cannot go there. */
  function resendDestination(flow: RegistrationFlow, channel: Channel): Destination | RegistrationError {
    // Stored as E.164 by request-otp; its country is checked against this channel's list.
    const mobile = channel !== 'email' && flow.mobile ? parseMobile(flow.mobile, ANY_COUNTRY) : undefined;
    if (mobile && !countryAllowed(mobile.country, allowedCountries[channel])) return countryRefused();
    return (
      destinationFor(channel, { typed: flow.email, mailbox: flow.emailKey }, mobile) ??
      mobileRequired(channel)
    );
  }

  /**
   * A new code for a flow and the delivery that carries it (a notice, carrying none, to a contact
   * that already has an account). The code is sealed only into the delivery row.
   */
  function newCode(
    flowId: string,
    kind: RegistrationFlow['kind'],
    to: Destination,
    sequence: number,
    at: Date,
  ) {
    const code = generateCode(config.OTP_LENGTH);
    const deliveryId = randomUUID();
    const flowCode: FlowCode = {
      kind,
      channel: to.channel,
      destination: to.destination,
      codeHash: hashFlowCode(keys.otpHmac, flowId, code),
      codeSequence: sequence,
      expiresAt: expiryFrom(at),
    };
    return { code, flowCode, deliveryId };
  }

  /** The outbox row that carries a new code (sealed), or the notice sent instead of it. */
  function deliveryFor(flowId: string, made: ReturnType<typeof newCode>, at: Date): NewDelivery {
    const isCode = made.flowCode.kind === 'code';
    return {
      id: made.deliveryId,
      kind: isCode ? 'otp' : 'registration-notice',
      flowId,
      codeSequence: isCode ? made.flowCode.codeSequence : null,
      channel: made.flowCode.channel,
      destination: made.flowCode.destination,
      payloadCiphertext: isCode
        ? sealDeliveryPayload(keys.payloadEncryption, made.deliveryId, { code: made.code })
        : null,
      createdAt: at,
      updatedAt: at,
    };
  }

  /**
   * After commit. If Redis is unreachable the delivery row is already committed and the worker's
   * relay enqueues it later, so the shopper still gets the code: the request succeeds.
   */
  async function enqueue(deliveryId: string, log: Logger) {
    try {
      await enqueueDelivery(deps.deliveryQueue, deliveryId, { maxAttempts: config.DELIVERY_MAX_ATTEMPTS });
    } catch (error) {
      log.warn(
        { deliveryId, error: error instanceof Error ? error.message : String(error) },
        'enqueue failed; the outbox relay will enqueue this delivery',
      );
    }
  }

  function issued(code?: string): IssuedCode {
    return {
      ...(code === undefined ? {} : { code }),
      expiresInSeconds: config.OTP_TTL_SECONDS,
      resendAfterSeconds: config.OTP_RESEND_COOLDOWN_SECONDS,
    };
  }

  /** Starts the destination's cooldown; or, while one runs, answers the seconds it has left. */
  async function startCooldown(
    tx: Database | Transaction,
    destinationKey: string,
    at: Date,
  ): Promise<number | undefined> {
    if (config.OTP_RESEND_COOLDOWN_SECONDS === 0) return undefined;
    return repository.startCooldown(tx, destinationKey, at, config.OTP_RESEND_COOLDOWN_SECONDS);
  }

  /** RESEND_TOO_SOON while a cooldown runs: the same for codes and notices, so a 429 tells neither apart. */
  function assertCooldownStarted(retryAfterSeconds: number | undefined) {
    if (retryAfterSeconds !== undefined) {
      throw new RegistrationError(
        'RESEND_TOO_SOON',
        'A code was sent moments ago; wait before asking again.',
        {
          retryAfterSeconds,
        },
      );
    }
  }

  /** Spends the send limits and budgets, runs `work`, and gives them back if `work` fails. */
  async function withSendBudget<T>(to: Destination, work: () => Promise<T>): Promise<T> {
    const refund = await sendLimits.consumeSend(to);
    try {
      return await work();
    } catch (error) {
      await refund();
      throw error;
    }
  }

  /** argon2id on the hashing pool; a full queue is SERVICE_BUSY at once, not a longer wait. */
  async function hashPassword(password: string): Promise<string> {
    const startedAt = performance.now();
    const hash = await deps.passwordHasher.hash(password).catch((error: unknown) => {
      if (!(error instanceof HashQueueFullError)) throw error;
      throw new RegistrationError('SERVICE_BUSY', 'The service is busy; try again in a moment.', {
        retryAfterSeconds: 1,
      });
    });
    events.passwordHashed((performance.now() - startedAt) / 1000);
    return hash;
  }

  /**
   * Opens a flow. To a contact that already has an account it is a notice flow: the answer, the
   * limits and the id are the same, and its owner gets a notice instead of a code. Which contact
   * decides that is the one the code goes to: for WhatsApp and SMS the phone, never the email.
   */
  async function requestOtp(input: RequestOtpInput, log: Logger): Promise<OpenedFlow> {
    assertChannelAvailable(input.channel);
    const username = requireUsername(input.username, config.USERNAME_REQUIRED);
    const metadata = acceptMetadata(input.metadata);
    await humanCheck.assertHuman(input.captchaToken, input.ip);
    const email = { typed: input.email.trim(), mailbox: mailboxKey(input.email) };
    const mobile =
      input.mobile === undefined ? undefined : parseMobile(input.mobile, allowedCountries[input.channel]);
    const to = destinationFor(input.channel, email, mobile);
    if (!to) throw mobileRequired(input.channel);
    const locale = chooseLocale({
      requested: input.locale,
      acceptLanguage: input.acceptLanguage,
      // Only where the code goes to that number: an email flow's number says nothing of its reader.
      phoneCountry: input.channel === 'email' ? undefined : mobile?.country,
    });
    const sent = await withSendBudget(to, async () => {
      // After the cheap refusals (limits, budgets) and before anything is looked up, so the
      // answer takes as long whoever has an account.
      const passwordHash = await hashPassword(input.password);
      const at = now();
      const flowId = randomUUID();
      const verificationId = generateVerificationId();
      const code = await repository.transaction(async (tx) => {
        // Sent together (postgres.js pipelines them on the transaction's connection); a refusal
        // below rolls the cooldown back with the rest.
        const [blocking, cooldownLeft] = await Promise.all([
          repository.accountsBlocking(tx, username, to),
          startCooldown(tx, to.limitKey, at),
        ]);
        if (blocking.usernameTaken) throw usernameTaken();
        assertCooldownStarted(cooldownLeft);
        const code = newCode(flowId, flowKindFor(blocking.destinationHasAccount), to, 1, at);
        await repository.insertFlow(
          tx,
          {
            id: flowId,
            verificationId,
            email: email.typed,
            emailKey: email.mailbox,
            mobile: mobile?.e164 ?? null,
            username,
            metadata,
            locale,
            firstName: input.firstName,
            lastName: input.lastName,
            passwordHash,
            createdAt: at,
            ...code.flowCode,
          },
          deliveryFor(flowId, code, at),
        );
        return code;
      });
      return { ...code, verificationId };
    });
    await enqueue(sent.deliveryId, log);
    const opened = { verificationId: sent.verificationId, locale };
    if (sent.flowCode.kind === 'notice') return { ...issued(), ...opened };
    events.codeIssued(to.channel);
    return { ...issued(sent.code), ...opened };
  }

  /** The flow a call names; with `tx`, locked for the rest of that transaction. */
  async function calledFlow(call: FlowCall, at: Date, tx?: Transaction): Promise<PickedFlow> {
    const reference = { mailbox: mailboxKey(call.email), verificationId: call.verificationId };
    const found = tx
      ? await repository.lockFlowsCalled(tx, reference, at)
      : await repository.flowsCalled(reference, at);
    return pickFlow(found, reference);
  }

  /**
   * A new code for the flow, replacing its current one; the wrong-code count stays with the flow.
   * Without the flow's id a caller learns nothing the request's own cooldown would not tell: with
   * no usable flow the cooldown is started all the same and nothing is sent.
   */
  async function resendOtp(
    input: FlowCall & { channel: Channel; captchaToken?: string | undefined; ip: string },
    log: Logger,
  ): Promise<IssuedCode> {
    assertChannelAvailable(input.channel);
    await humanCheck.assertHuman(input.captchaToken, input.ip);
    const holdsId = input.verificationId !== undefined;
    const at = now();
    const result = await repository.transaction(async (tx) => {
      const picked = await calledFlow(input, at, tx);
      if ('ambiguous' in picked) throw verificationIdRequired();
      if ('none' in picked) return undefined;
      const { flow } = picked;
      const decision = resendDecision(
        flow,
        resendDestination(flow, input.channel),
        holdsId,
        config.OTP_MAX_ATTEMPTS,
      );
      if ('asIfNoFlow' in decision) return undefined;
      const to = decision.send;
      return withSendBudget(to, async () => {
        const [cooldownLeft, hasAccount] = await Promise.all([
          startCooldown(tx, to.limitKey, at),
          repository.destinationHasAccount(tx, to),
        ]);
        assertCooldownStarted(cooldownLeft);
        const kind = flowKindFor(hasAccount);
        const code = newCode(flow.id, kind, to, flow.codeSequence + 1, at);
        await repository.replaceCode(tx, flow.id, code.flowCode, deliveryFor(flow.id, code, at));
        return code;
      });
    });
    if (!result) {
      assertCooldownStarted(await startCooldown(deps.db, mailboxKey(input.email), at));
      return issued();
    }
    await enqueue(result.deliveryId, log);
    if (result.flowCode.kind === 'notice') return issued();
    events.codeIssued(input.channel);
    return issued(result.code);
  }

  /** After commit, like a delivery's enqueue: a lost one is the worker's webhook relay's to repair. */
  async function enqueueEvents(eventIds: string[]) {
    if (!deps.webhookQueue || eventIds.length === 0) return;
    await enqueueWebhookEvents(deps.webhookQueue, eventIds).catch((error: unknown) =>
      deps.logger?.warn(
        { eventIds, error: error instanceof Error ? error.message : String(error) },
        'webhook enqueue failed; the worker relay will enqueue these events',
      ),
    );
  }

  type Judged =
    | { verdict: 'VERIFIED'; account: Account; eventIds: string[] }
    | { verdict: Exclude<Verdict, 'VERIFIED'> | 'NO_FLOW' };

  /**
   * Reads the flow, judges the code in TypeScript (the one rule, registration-rules.ts), then writes
   * the outcome with a statement that applies only if the flow is still as it was read: two round
   * trips and no transaction to hold open. Concurrent verifies of one flow queue on its row for the
   * write; the ones that find it changed judge it again, so a code is used once and every wrong
   * guess is counted. Each retry means another request moved the flow on (verified, ended, locked
   * or given a new code, which the cooldown paces), so a few suffice.
   */
  async function judgeAndRecord(
    input: FlowCall & { code: string },
    holdsId: boolean,
    at: Date,
    firstRead: Promise<PickedFlow>,
  ): Promise<Judged> {
    const judgedAs = { holdsId, maxAttempts: config.OTP_MAX_ATTEMPTS };
    for (let judgement = 1; judgement <= MAX_JUDGEMENTS; judgement += 1) {
      const picked = await (judgement === 1 ? firstRead : calledFlow(input, at));
      if ('ambiguous' in picked) throw verificationIdRequired();
      if ('none' in picked) return { verdict: 'NO_FLOW' };
      const { flow } = picked;
      const codeMatches = flowCodeMatches(keys.otpHmac, flow, input.code);
      const verdict = judgeCode(flow, codeMatches, at, config.OTP_MAX_ATTEMPTS, holdsId);
      if (verdict === 'VERIFIED') {
        const proof = proofOf(flow.channel);
        const announce = deps.webhookQueue
          ? (account: Account) => accountCreatedEvents(flow, proof, account, at)
          : undefined;
        const completed = await repository.completeFlow(flow, proof, judgedAs, at, announce);
        if (completed) return { verdict, ...completed };
      } else if (verdict === 'OTP_INVALID') {
        if (await repository.countWrongCode(flow, judgedAs)) return { verdict };
      } else {
        return { verdict };
      }
    }
    throw new Error(`flow changed under ${MAX_JUDGEMENTS} judgements in a row`);
  }

  /**
   * Judges the code against the flow it names (judgeAndRecord). The guess is charged to the IP and
   * the mailbox before, and given back when it did not count.
   */
  async function verifyOtp(input: FlowCall & { code: string; ip: string }): Promise<VerifiedUser> {
    const holdsId = input.verificationId !== undefined;
    const at = now();
    // The flow is read while the guess is charged: neither waits for the other. A read that
    // fails is reported below, once the charge is known.
    const firstRead = calledFlow(input, at);
    firstRead.catch(() => undefined);
    const ticket = await sendLimits.takeGuess(input.ip, mailboxKey(input.email));
    let judged: Judged;
    try {
      judged = await judgeAndRecord(input, holdsId, at, firstRead);
    } catch (error) {
      await ticket.refundAll();
      if (error instanceof RegistrationError) {
        if (error.code === 'VERIFICATION_ID_REQUIRED') events.codeRejected(error.code);
        throw error;
      }
      const index = uniqueViolation(error);
      if (index === undefined) throw error;
      // Taken since the code was sent: the username (which its holder may change), or the
      // contact, proven by another flow first (this one has ended).
      if (index === USERNAME_INDEX) throw usernameTaken();
      events.codeRejected('OTP_INVALID');
      throw rejection('OTP_INVALID');
    }

    if (judged.verdict === 'VERIFIED') {
      // Not waited for: the shopper's answer does not depend on it (a refund that fails only
      // leaves the limits a little stricter).
      void ticket.refundAll();
      events.codeVerified();
      await enqueueEvents(judged.eventIds);
      return judged.account;
    }
    // The mailbox counts wrong codes against its live flows only; everything else, the IP alone.
    if (judged.verdict !== 'OTP_INVALID') await ticket.refundMailbox();
    const answer = publicRejection(judged.verdict === 'NO_FLOW' ? 'OTP_INVALID' : judged.verdict, holdsId);
    events.codeRejected(answer);
    throw rejection(answer);
  }

  // --- The status of a flow for the holder of its id, and cancel (verification-status.ts) ---

  /** The flow's status at `at`, as verification-status.ts makes it; VERIFICATION_NOT_FOUND for an unknown id. */
  async function statusAt(verificationId: string, at: Date): Promise<VerificationStatus> {
    const record = await repository.verificationRecord(verificationId);
    if (!record) throw verificationNotFound();
    return verificationStatus({ ...record, at, rules: config });
  }

  /** What the holder of a flow's id may know of it: nothing about accounts (verification-status.ts). */
  async function getVerification(verificationId: string): Promise<VerificationStatus> {
    return statusAt(verificationId, now());
  }

  /**
   * Ends a flow that has not ended, and answers its status: `canceled`, or what it already was
   * (an approved flow stays approved). Its code stops working and a resend sends nothing.
   */
  async function cancelVerification(verificationId: string): Promise<VerificationStatus> {
    const at = now();
    await repository.cancelFlow(verificationId, at);
    return statusAt(verificationId, at);
  }

  return {
    requestOtp,
    resendOtp,
    verifyOtp,
    findUser: repository.findAccount,
    getVerification,
    cancelVerification,
  };
}

export type RegistrationService = ReturnType<typeof createRegistrationService>;
