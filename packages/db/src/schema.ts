import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

export const CHANNELS = ['email', 'whatsapp'] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * What a delivery says: a code, or (to an address that already has an account) a notice that
 * someone tried to register with it, which carries no code and belongs to no challenge.
 */
export const MESSAGE_KINDS = ['otp', 'registration-notice'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

export const DELIVERY_STATUSES = ['queued', 'sending', 'sent', 'failed', 'dead', 'skipped'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
};

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    email: text('email').notNull(),
    username: text('username').notNull(),
    firstName: text('first_name').notNull(),
    lastName: text('last_name').notNull(),
    passwordHash: text('password_hash').notNull(),
    isVerified: boolean('is_verified').notNull().default(true),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('users_email_key').on(table.email),
    // Usernames are unique regardless of case: "Ann" and "ann" are one shopper to a human.
    uniqueIndex('users_username_lower_key').on(sql`lower(${table.username})`),
  ],
);

/**
 * A pending registration and the one code that can complete it. A resend or a new request
 * supersedes the row with a new one, so each code has exactly one row and one delivery history.
 */
export const otpChallenges = pgTable(
  'otp_challenges',
  {
    id: uuid('id').primaryKey(),
    email: text('email').notNull(),
    channel: text('channel', { enum: CHANNELS }).notNull(),
    destination: text('destination').notNull(),
    /** E.164, when the shopper gave one: a resend may switch to WhatsApp. */
    mobile: text('mobile'),
    codeHash: text('code_hash').notNull(),
    username: text('username').notNull(),
    firstName: text('first_name').notNull(),
    lastName: text('last_name').notNull(),
    passwordHash: text('password_hash').notNull(),
    failedAttempts: integer('failed_attempts').notNull().default(0),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    consumedAt: timestamp('consumed_at', { withTimezone: true }),
    supersededAt: timestamp('superseded_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    // At most one live (neither used nor replaced) challenge per email address.
    uniqueIndex('otp_challenges_live_email_key')
      .on(table.email)
      .where(sql`${table.consumedAt} IS NULL AND ${table.supersededAt} IS NULL`),
    index('otp_challenges_expires_at_idx').on(table.expiresAt),
    check('otp_challenges_channel_check', sql`${table.channel} IN ('email', 'whatsapp')`),
    check('otp_challenges_failed_attempts_check', sql`${table.failedAttempts} >= 0`),
  ],
);

/** The outbox: one row per message we owe a provider. Jobs on the queue carry only its id. */
export const deliveries = pgTable(
  'deliveries',
  {
    id: uuid('id').primaryKey(),
    kind: text('kind', { enum: MESSAGE_KINDS }).notNull().default('otp'),
    /** The challenge whose code this sends; none for a registration notice. */
    challengeId: uuid('challenge_id').references(() => otpChallenges.id, { onDelete: 'cascade' }),
    channel: text('channel', { enum: CHANNELS }).notNull(),
    /**
     * Which provider sends it (gmail, smtp, twilio, console). Unset on a first delivery: the worker
     * records the channel's configured provider. Preset on a fallback that must use a given one.
     */
    provider: text('provider'),
    /** The delivery this one replaces after it died (WhatsApp → email, Gmail → SMTP). */
    fallbackOf: uuid('fallback_of').references((): AnyPgColumn => deliveries.id),
    destination: text('destination').notNull(),
    /** AES-256-GCM sealed JSON of what the worker needs to send (the code); bound to this row's id. */
    payloadCiphertext: text('payload_ciphertext'),
    status: text('status', { enum: DELIVERY_STATUSES }).notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    /**
     * Attempts that began while an earlier one was still marked in flight: its worker died mid-send,
     * so the provider may have accepted that one too. Counts possible duplicates.
     */
    interruptedAttempts: integer('interrupted_attempts').notNull().default(0),
    providerMessageId: text('provider_message_id'),
    lastError: text('last_error'),
    /** Every failed attempt: `[{attempt, at, error, retryable}]`, for operators and the dead-letter queue. */
    errorHistory: jsonb('error_history').$type<DeliveryAttemptError[]>().notNull().default([]),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    ...timestamps,
  },
  (table) => [
    index('deliveries_challenge_id_idx').on(table.challengeId),
    // The relay re-enqueues deliveries still queued a while after their creation (lost enqueues).
    index('deliveries_queued_idx').on(table.createdAt).where(sql`${table.status} = 'queued'`),
    // A code always belongs to its challenge and travels sealed.
    check(
      'deliveries_otp_shape_check',
      sql`${table.kind} <> 'otp' OR (${table.challengeId} IS NOT NULL AND ${table.payloadCiphertext} IS NOT NULL)`,
    ),
    // Registration notices are looked up by address for their cooldown, and purged by age.
    index('deliveries_notice_destination_idx')
      .on(table.destination, table.createdAt)
      .where(sql`${table.kind} = 'registration-notice'`),
    index('deliveries_notice_created_at_idx')
      .on(table.createdAt)
      .where(sql`${table.kind} = 'registration-notice'`),
    check(
      'deliveries_status_check',
      sql`${table.status} IN ('queued', 'sending', 'sent', 'failed', 'dead', 'skipped')`,
    ),
  ],
);

export interface DeliveryAttemptError {
  attempt: number;
  at: string;
  provider: string;
  error: string;
  retryable: boolean;
}

export type User = typeof users.$inferSelect;
export type OtpChallenge = typeof otpChallenges.$inferSelect;
export type Delivery = typeof deliveries.$inferSelect;
