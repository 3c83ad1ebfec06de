import { randomUUID } from 'node:crypto';
import {
  type ApiConfig,
  type DeliveryQueue,
  enqueueDelivery,
  generateCode,
  hashCode,
  type Logger,
  sealDeliveryPayload,
} from '@otp-relay/core';
import {
  type Channel,
  type Database,
  deliveries,
  type OtpChallenge,
  otpChallenges,
  type Transaction,
  type User,
  users,
} from '@otp-relay/db';
import { and, desc, eq, isNull, or, sql } from 'drizzle-orm';
import { type MobileNumber, parseMobile } from './mobile-number.js';
import { addSeconds, isExpired, secondsUntil } from './otp-timing.js';
import type { PasswordHasher } from './password-hashing.js';
import { RegistrationError } from './registration-errors.js';
import type { SendLimits } from './send-limits.js';

/**
 * Registration by one-time code: issue a code for a pending registration, check it, resend it.
 * Plain functions over Postgres and the queue; no HTTP here.
 */

export interface RegistrationKeys {
  otpHmac: Buffer;
  payloadEncryption: Buffer;
}

/** What registration reports as it goes (metrics listen); no-ops by default. */
export interface RegistrationEvents {
  codeIssued(channel: Channel): void;
  codeVerified(): void;
  codeRejected(code: Rejection): void;
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
  events?: RegistrationEvents;
  now?: () => Date;
}

export interface RequestOtpInput {
  email: string;
  channel: Channel;
  /** Any common notation; required for WhatsApp. */
  mobile?: string;
  username: string;
  firstName: string;
  lastName: string;
  password: string;
}

export interface IssuedCode {
  expiresInSeconds: number;
  resendAfterSeconds: number;
  /** The plaintext code, for OTP_DEBUG_RESPONSE in development only; absent when nothing was sent. */
  code?: string;
}

type PendingProfile = Pick<
  OtpChallenge,
  'email' | 'channel' | 'destination' | 'mobile' | 'username' | 'firstName' | 'lastName' | 'passwordHash'
>;

/** The challenge of this address that is neither used nor replaced (at most one, by a unique index). */
const liveChallengeOf = (email: string) =>
  and(eq(otpChallenges.email, email), isNull(otpChallenges.consumedAt), isNull(otpChallenges.supersededAt));

/** What verify returns: the account as the API shows it. */
export type VerifiedUser = Pick<User, 'id' | 'email' | 'username' | 'firstName' | 'lastName' | 'isVerified'>;

type Rejection = 'OTP_INVALID' | 'OTP_EXPIRED' | 'OTP_ATTEMPTS_EXCEEDED';

/** One row when the address has a live challenge; the account's columns only when it was verified. */
interface VerdictRow extends Record<string, unknown> {
  outcome: Rejection | 'VERIFIED';
  id: string | null;
  email: string;
  username: string;
  first_name: string;
  last_name: string;
  is_verified: boolean;
}

const REJECTION_MESSAGES: Record<Rejection, string> = {
  OTP_INVALID: 'The code is invalid.',
  OTP_EXPIRED: 'The code has expired.',
  OTP_ATTEMPTS_EXCEEDED: 'Too many wrong codes; request a new code later.',
};

function rejection(code: Rejection): RegistrationError {
  return new RegistrationError(code, REJECTION_MESSAGES[code]);
}

function usernameTaken(): RegistrationError {
  return new RegistrationError('USERNAME_TAKEN', 'This username is already taken.', { field: 'username' });
}

/** Postgres' unique_violation, as postgres.js reports it (drizzle wraps it as the cause). */
function isUniqueViolation(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    if ((current as { code?: unknown }).code === '23505') return true;
  }
  return false;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function createRegistrationService(deps: RegistrationDeps) {
  const { db, config, keys, sendLimits } = deps;
  const events = deps.events ?? NO_EVENTS;
  const allowedCountries = new Set(
    config.WHATSAPP_ALLOWED_COUNTRIES.split(',')
      .map((code) => code.trim().toUpperCase())
      .filter(Boolean),
  );
  const now = deps.now ?? (() => new Date());

  /** Whether an account already has this address, or this username (in any case): one query. */
  async function existingAccounts(tx: Transaction, email: string, username: string) {
    const rows = await tx
      .select({ email: users.email, username: users.username })
      .from(users)
      .where(or(eq(users.email, email), sql`lower(${users.username}) = lower(${username})`))
      .limit(2);
    return {
      emailTaken: rows.some((row) => row.email === email),
      usernameTaken: rows.some((row) => row.username.toLowerCase() === username.toLowerCase()),
    };
  }

  /** Serialises concurrent requests for one address, so "one live challenge" holds without retries. */
  async function lockAddress(tx: Transaction, email: string) {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${email}, 0))`);
  }

  /**
   * Locks the email's registration for this transaction and returns its live challenge, if any.
   * The two statements go out together (postgres.js pipelines them on the transaction's
   * connection) and run in order, so the read happens under the lock.
   */
  async function lockLiveChallenge(tx: Transaction, email: string): Promise<OtpChallenge | undefined> {
    const [, [live]] = await Promise.all([
      lockAddress(tx, email),
      tx.select().from(otpChallenges).where(liveChallengeOf(email)).limit(1),
    ]);
    return live;
  }

  /** When the last registration notice went to this address, if any. */
  async function lastNoticeAt(tx: Transaction, email: string): Promise<Date | undefined> {
    const [last] = await tx
      .select({ createdAt: deliveries.createdAt })
      .from(deliveries)
      .where(and(eq(deliveries.kind, 'registration-notice'), eq(deliveries.destination, email)))
      .orderBy(desc(deliveries.createdAt))
      .limit(1);
    return last?.createdAt;
  }

  /** The same cooldown for a code and for a notice: a 429 must not tell the two apart. */
  function assertCooldownOver(lastSentAt: Date | undefined, at: Date) {
    if (!lastSentAt) return;
    const retryAfterSeconds = secondsUntil(addSeconds(lastSentAt, config.OTP_RESEND_COOLDOWN_SECONDS), at);
    if (retryAfterSeconds > 0) {
      throw new RegistrationError(
        'RESEND_TOO_SOON',
        'A code was sent moments ago; wait before asking again.',
        {
          retryAfterSeconds,
        },
      );
    }
  }

  /**
   * Replaces the live challenge (if any) with a new code and queues its delivery, in one transaction.
   * Failed attempts carry over from a challenge that has not expired: a new code must not buy new guesses.
   */
  async function issueCode(
    tx: Transaction,
    profile: PendingProfile,
    live: OtpChallenge | undefined,
    at: Date,
  ) {
    const challengeId = randomUUID();
    const deliveryId = randomUUID();
    const code = generateCode(config.OTP_LENGTH);
    const expiresAt = addSeconds(at, config.OTP_TTL_SECONDS);
    const inheritedFailures = live && !isExpired(live.expiresAt, at) ? live.failedAttempts : 0;

    // Sent together without waiting for each answer (postgres.js pipelines them on the transaction's
    // connection): they still run in this order, so the old code is dead before the new one exists.
    await Promise.all([
      live && tx.update(otpChallenges).set({ supersededAt: at }).where(eq(otpChallenges.id, live.id)),
      tx.insert(otpChallenges).values({
        id: challengeId,
        ...profile,
        codeHash: hashCode(keys.otpHmac, profile.email, code),
        failedAttempts: inheritedFailures,
        expiresAt,
        createdAt: at,
      }),
      tx.insert(deliveries).values({
        id: deliveryId,
        challengeId,
        channel: profile.channel,
        destination: profile.destination,
        payloadCiphertext: sealDeliveryPayload(keys.payloadEncryption, deliveryId, {
          code,
          firstName: profile.firstName,
        }),
        createdAt: at,
        updatedAt: at,
      }),
    ]);
    return { deliveryId, code };
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

  /**
   * To an address that already has an account: a notice instead of a code, under the same
   * cooldown and limits, so the answer is the same as for a new address.
   */
  async function issueRegistrationNotice(tx: Transaction, email: string, at: Date) {
    assertCooldownOver(await lastNoticeAt(tx, email), at);
    await sendLimits.consumeSend(email);
    const deliveryId = randomUUID();
    await tx.insert(deliveries).values({
      id: deliveryId,
      kind: 'registration-notice',
      channel: 'email',
      destination: email,
      createdAt: at,
      updatedAt: at,
    });
    return { deliveryId };
  }

  function issued(code?: string): IssuedCode {
    return {
      ...(code === undefined ? {} : { code }),
      expiresInSeconds: config.OTP_TTL_SECONDS,
      resendAfterSeconds: config.OTP_RESEND_COOLDOWN_SECONDS,
    };
  }

  function assertChannelAvailable(channel: Channel) {
    if (channel === 'whatsapp' && config.WHATSAPP_PROVIDER === 'disabled') {
      throw new RegistrationError(
        'CHANNEL_UNAVAILABLE',
        'WhatsApp delivery is not enabled on this service.',
        {
          field: 'otp_method',
        },
      );
    }
  }

  /** Where a code on `channel` goes: the address, or the WhatsApp number (and its country, for the cap). */
  function destinationFor(
    channel: Channel,
    email: string,
    mobile: MobileNumber | undefined,
  ): { destination: string; whatsappCallingCode?: string } {
    if (channel === 'email') return { destination: email };
    if (!mobile) {
      throw new RegistrationError('VALIDATION_ERROR', 'is required to send the code by WhatsApp', {
        field: 'mobile',
      });
    }
    return { destination: mobile.e164, whatsappCallingCode: mobile.callingCode };
  }

  /**
   * One transaction: lock the address, look up its accounts and live challenge, then issue a code,
   * or a notice when the address already has an account.
   */
  async function requestOtp(input: RequestOtpInput, log: Logger): Promise<IssuedCode> {
    assertChannelAvailable(input.channel);
    const email = normalizeEmail(input.email);
    const mobile = input.mobile === undefined ? undefined : parseMobile(input.mobile, allowedCountries);
    const { destination, whatsappCallingCode } = destinationFor(input.channel, email, mobile);
    // Before anything is looked up, so the answer takes as long whoever has an account.
    const hashStartedAt = performance.now();
    const passwordHash = await deps.passwordHasher.hash(input.password);
    events.passwordHashed((performance.now() - hashStartedAt) / 1000);
    const profile: PendingProfile = {
      email,
      channel: input.channel,
      destination,
      mobile: mobile?.e164 ?? null,
      username: input.username,
      firstName: input.firstName,
      lastName: input.lastName,
      passwordHash,
    };
    const at = now();
    const sent = await db.transaction(async (tx): Promise<{ deliveryId: string; code?: string }> => {
      // Pipelined like lockLiveChallenge: both reads run under the lock.
      const [live, taken] = await Promise.all([
        lockLiveChallenge(tx, email),
        existingAccounts(tx, email, input.username),
      ]);
      if (taken.usernameTaken) throw usernameTaken();
      // Answer exactly as for a new address: registration must not reveal who has an account.
      if (taken.emailTaken) return issueRegistrationNotice(tx, email, at);
      assertCooldownOver(live?.createdAt, at);
      await sendLimits.consumeSend(destination, whatsappCallingCode);
      return issueCode(tx, profile, live, at);
    });
    await enqueue(sent.deliveryId, log);
    if (sent.code === undefined) return issued();
    events.codeIssued(profile.channel);
    return issued(sent.code);
  }

  /** With no pending registration nothing is sent, and the answer is the same as when something is. */
  async function resendOtp(input: { email: string; channel: Channel }, log: Logger): Promise<IssuedCode> {
    assertChannelAvailable(input.channel);
    const email = normalizeEmail(input.email);
    const at = now();
    const result = await db.transaction(async (tx) => {
      const live = await lockLiveChallenge(tx, email);
      if (!live) {
        // Counted like a real resend, so the limit answers the same whether a registration is pending.
        await sendLimits.consumeSend(email);
        return undefined;
      }
      assertCooldownOver(live.createdAt, at);
      const mobile = live.mobile ? parseMobile(live.mobile, allowedCountries) : undefined;
      const { destination, whatsappCallingCode } = destinationFor(input.channel, email, mobile);
      await sendLimits.consumeSend(destination, whatsappCallingCode);
      const profile: PendingProfile = {
        email,
        channel: input.channel,
        destination,
        mobile: live.mobile,
        username: live.username,
        firstName: live.firstName,
        lastName: live.lastName,
        passwordHash: live.passwordHash,
      };
      return issueCode(tx, profile, live, at);
    });
    if (!result) return issued();
    await enqueue(result.deliveryId, log);
    events.codeIssued(input.channel);
    return issued(result.code);
  }

  /**
   * Verify in one statement, so one round trip and one transaction: lock the live challenge, judge
   * the code, then count a wrong guess, or consume the challenge and create the account. Concurrent
   * verifies of one address queue on the row lock and each re-reads the row the last one left, so
   * a code is used once and every wrong guess is counted. A username or address taken since the
   * code was issued fails the insert, and the whole statement rolls back with it.
   */
  async function judgeCode(email: string, codeHash: string, at: Date) {
    const rows = await db.execute<VerdictRow>(sql`
      WITH verdict AS (
        SELECT id, CASE
            WHEN failed_attempts >= ${config.OTP_MAX_ATTEMPTS} THEN 'OTP_ATTEMPTS_EXCEEDED'
            WHEN expires_at <= ${at.toISOString()}::timestamptz THEN 'OTP_EXPIRED'
            WHEN code_hash = ${codeHash} THEN 'VERIFIED'
            ELSE 'OTP_INVALID'
          END AS outcome
        FROM otp_challenges
        WHERE ${liveChallengeOf(email)}
        FOR UPDATE
      ),
      wrong_guess AS (
        UPDATE otp_challenges SET failed_attempts = otp_challenges.failed_attempts + 1
        FROM verdict WHERE otp_challenges.id = verdict.id AND verdict.outcome = 'OTP_INVALID'
      ),
      consumed AS (
        UPDATE otp_challenges SET consumed_at = ${at.toISOString()}::timestamptz
        FROM verdict WHERE otp_challenges.id = verdict.id AND verdict.outcome = 'VERIFIED'
        RETURNING otp_challenges.email, username, first_name, last_name, password_hash
      ),
      created AS (
        INSERT INTO users (email, username, first_name, last_name, password_hash, is_verified)
        SELECT email, username, first_name, last_name, password_hash, true FROM consumed
        RETURNING id, email, username, first_name, last_name, is_verified
      )
      SELECT verdict.outcome, created.* FROM verdict LEFT JOIN created ON true`);
    return rows[0];
  }

  async function verifyOtp(input: { email: string; code: string }): Promise<VerifiedUser> {
    const email = normalizeEmail(input.email);
    await sendLimits.assertMayVerify(email);
    const verdict = await judgeCode(email, hashCode(keys.otpHmac, email, input.code), now()).catch(
      (error: unknown) => {
        // The address or username was registered since this code was issued.
        throw isUniqueViolation(error) ? usernameTaken() : error;
      },
    );
    if (verdict?.outcome === 'VERIFIED' && verdict.id) {
      events.codeVerified();
      return {
        id: verdict.id,
        email: verdict.email,
        username: verdict.username,
        firstName: verdict.first_name,
        lastName: verdict.last_name,
        isVerified: verdict.is_verified,
      };
    }
    // No live challenge at all answers like a wrong code.
    const code: Rejection = !verdict || verdict.outcome === 'VERIFIED' ? 'OTP_INVALID' : verdict.outcome;
    if (code === 'OTP_INVALID') await sendLimits.recordWrongCode(email);
    events.codeRejected(code);
    throw rejection(code);
  }

  async function findUser(id: string): Promise<User | undefined> {
    const [user] = await db.select().from(users).where(eq(users.id, id)).limit(1);
    return user;
  }

  return { requestOtp, resendOtp, verifyOtp, findUser };
}

export type RegistrationService = ReturnType<typeof createRegistrationService>;
