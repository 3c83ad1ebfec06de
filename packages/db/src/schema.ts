import type { AccountMetadata, WebhookPayload } from '@otp-relay/core';
import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

export const CHANNELS = ['email', 'whatsapp', 'sms'] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * What a delivery says: a code, or (to a contact that already has an account) a notice that
 * someone tried to register with it, which carries no code.
 */
export const MESSAGE_KINDS = ['otp', 'registration-notice'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

/** A flow that sends codes, or one for a contact that already has an account (it sends notices). */
export const FLOW_KINDS = ['code', 'notice'] as const;
export type FlowKind = (typeof FLOW_KINDS)[number];

export const DELIVERY_STATUSES = ['queued', 'sending', 'sent', 'failed', 'dead', 'skipped'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * What the provider last reported of a message it accepted (Twilio's status callbacks): `sent` to
 * the carrier or WhatsApp, `delivered` to the handset, `read`, or `failed` / `undelivered` after
 * acceptance (with the provider's error code).
 */
export const PROVIDER_STATUSES = ['sent', 'delivered', 'read', 'failed', 'undelivered'] as const;
export type ProviderStatus = (typeof PROVIDER_STATUSES)[number];

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
};

/**
 * An account. Each contact it carries is proven or not: `email_verified_at` is set only by a code
 * that reached the email, `phone_verified_at` only by one that reached the phone. A proven contact
 * belongs to one account; an unproven one blocks nobody and is released (set to null) when another
 * registration proves it.
 */
export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** As the shopper typed it; null once another account proved it. */
    email: text('email'),
    /** E.164. */
    phone: text('phone'),
    /** Null when the shop does not ask for one (USERNAME_REQUIRED=false). */
    username: text('username'),
    firstName: text('first_name').notNull(),
    lastName: text('last_name').notNull(),
    passwordHash: text('password_hash').notNull(),
    /** The shop's own small object from request-otp (limits in the API's registration rules). */
    metadata: jsonb('metadata').$type<AccountMetadata>().notNull().default({}),
    /** The seed's flag: some contact was proven. Always true for accounts made by a code. */
    isVerified: boolean('is_verified').notNull().default(true),
    emailVerifiedAt: timestamp('email_verified_at', { withTimezone: true }),
    phoneVerifiedAt: timestamp('phone_verified_at', { withTimezone: true }),
    ...timestamps,
  },
  (table) => [
    // A proven address belongs to one account, whatever its case; unproven copies may repeat.
    uniqueIndex('users_verified_email_key')
      .on(sql`lower(${table.email})`)
      .where(sql`${table.emailVerifiedAt} IS NOT NULL`),
    uniqueIndex('users_verified_phone_key').on(table.phone).where(sql`${table.phoneVerifiedAt} IS NOT NULL`),
    // Unproven claims, found by contact when a registration proves it (only those rows: an index
    // over every account would cost each registration a write for nothing).
    index('users_unproven_email_idx')
      .on(sql`lower(${table.email})`)
      .where(sql`${table.emailVerifiedAt} IS NULL AND ${table.email} IS NOT NULL`),
    index('users_unproven_phone_idx')
      .on(table.phone)
      .where(sql`${table.phoneVerifiedAt} IS NULL AND ${table.phone} IS NOT NULL`),
    // Usernames are unique regardless of case: "Ann" and "ann" are one shopper to a human. Accounts
    // without one (null) never collide.
    uniqueIndex('users_username_lower_key').on(sql`lower(${table.username})`),
    check(
      'users_proof_has_contact_check',
      sql`(${table.emailVerifiedAt} IS NULL OR ${table.email} IS NOT NULL) AND (${table.phoneVerifiedAt} IS NULL OR ${table.phone} IS NOT NULL)`,
    ),
  ],
);

/**
 * A registration flow: one shopper's attempt to register, known to them by its `verification_id`.
 * It owns its profile, its current code (a resend replaces the code in place and bumps
 * `code_sequence`) and its wrong-code count, which a resend does not reset. No other request
 * touches it: a second request-otp for the same email opens a second flow. `kind = 'notice'` is
 * a flow for a contact that already has an account: its code is never sent (a notice goes
 * instead) and it can never verify, but it answers every call exactly as a real flow does.
 */
export const registrationFlows = pgTable(
  'registration_flows',
  {
    id: uuid('id').primaryKey(),
    /** Opaque, 144 bits from a CSPRNG: what the shopper's frontend holds. */
    verificationId: text('verification_id').notNull(),
    kind: text('kind', { enum: FLOW_KINDS }).notNull().default('code'),
    /** As typed. */
    email: text('email').notNull(),
    /** The mailbox it reaches (lower case, no +tag, Gmail's dots dropped): limits and lookups key on it. */
    emailKey: text('email_key').notNull(),
    /** Where the current code went, and so which contact verifying it proves. */
    channel: text('channel', { enum: CHANNELS }).notNull(),
    destination: text('destination').notNull(),
    /** E.164, when the shopper gave one: a resend may switch to WhatsApp. */
    mobile: text('mobile'),
    username: text('username'),
    firstName: text('first_name').notNull(),
    lastName: text('last_name').notNull(),
    /** Kept for the account the flow creates. */
    metadata: jsonb('metadata').$type<AccountMetadata>().notNull().default({}),
    /** BCP 47 tag, one of the supported locales: the language of every message the flow sends. */
    locale: text('locale').notNull().default('en'),
    /**
     * The account's password hash until the flow creates the account; null once the flow has ended
     * (verified, closed, or dead: expired and locked), as nothing can use it any more.
     */
    passwordHash: text('password_hash'),
    /** HMAC of the current code, bound to this flow (see otp-crypto.ts). */
    codeHash: text('code_hash').notNull(),
    /** Which code is current: deliveries carry the sequence of the code they send. */
    codeSequence: integer('code_sequence').notNull().default(1),
    /** Wrong codes from callers holding the flow's id (or its own frontend). */
    failedAttempts: integer('failed_attempts').notNull().default(0),
    /**
     * Wrong codes from callers that name only the address (clients of the first version, or a
     * stranger): counted apart, so a stranger can lock only that way in, never the id's holder.
     */
    failedAttemptsWithoutId: integer('failed_attempts_without_id').notNull().default(0),
    /** When the current code stops working. */
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    verifiedAt: timestamp('verified_at', { withTimezone: true }),
    /** Ended without verifying: another flow took its contact. */
    closedAt: timestamp('closed_at', { withTimezone: true }),
    /** The holder of its id canceled it (`closed_at` is set with it: a canceled flow is closed). */
    canceledAt: timestamp('canceled_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('registration_flows_verification_id_key').on(table.verificationId),
    // Open flows of a mailbox: for clients that send no verification_id, and to end the others.
    index('registration_flows_open_email_key_idx')
      .on(table.emailKey)
      .where(sql`${table.verifiedAt} IS NULL AND ${table.closedAt} IS NULL`),
    // Open flows whose code went to a number: ended when another flow proves that number.
    index('registration_flows_open_phone_idx')
      .on(table.destination)
      .where(
        sql`${table.verifiedAt} IS NULL AND ${table.closedAt} IS NULL AND ${table.channel} IN ('whatsapp', 'sms')`,
      ),
    index('registration_flows_expires_at_idx').on(table.expiresAt),
    check('registration_flows_channel_check', sql`${table.channel} IN ('email', 'whatsapp', 'sms')`),
    check('registration_flows_kind_check', sql`${table.kind} IN ('code', 'notice')`),
    check('registration_flows_failed_attempts_check', sql`${table.failedAttempts} >= 0`),
  ],
);

/**
 * When a code or notice last went to each destination (mailbox key or E.164 number), for the
 * resend cooldown. Kept in Postgres so it is taken in the same transaction as the send it guards,
 * and holds while Redis is away.
 */
export const sendCooldowns = pgTable('send_cooldowns', {
  destinationKey: text('destination_key').primaryKey(),
  lastSentAt: timestamp('last_sent_at', { withTimezone: true }).notNull(),
});

/** The outbox: one row per message we owe a provider. Jobs on the queue carry only its id. */
export const deliveries = pgTable(
  'deliveries',
  {
    id: uuid('id').primaryKey(),
    kind: text('kind', { enum: MESSAGE_KINDS }).notNull().default('otp'),
    /** The flow whose code (or notice) this sends; null only for notices older than flows. */
    flowId: uuid('flow_id').references(() => registrationFlows.id, { onDelete: 'cascade' }),
    /** The flow's `code_sequence` when this code was made: a later resend makes it unusable. */
    codeSequence: integer('code_sequence'),
    channel: text('channel', { enum: CHANNELS }).notNull(),
    /**
     * Which provider sends it (gmail, smtp, twilio, console). Unset on a first delivery: the worker
     * records the channel's configured provider. Preset on a fallback that must use a given one.
     */
    provider: text('provider'),
    /** The delivery this one replaces after it died (WhatsApp → email, Gmail → SMTP). */
    fallbackOf: uuid('fallback_of').references((): AnyPgColumn => deliveries.id),
    destination: text('destination').notNull(),
    /**
     * AES-256-GCM sealed JSON of what the worker needs to send (the code); bound to this row's id.
     * Null on notices, and once the code can no longer be used (its flow ended, or it expired or
     * was replaced): the worker skips such a delivery.
     */
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
    /** What the provider last reported after accepting it (receipts); null until a report arrives. */
    providerStatus: text('provider_status', { enum: PROVIDER_STATUSES }),
    /** The provider's error code with a `failed` or `undelivered` report, e.g. Twilio's 63016. */
    providerErrorCode: text('provider_error_code'),
    providerStatusAt: timestamp('provider_status_at', { withTimezone: true }),
    ...timestamps,
  },
  (table) => [
    index('deliveries_flow_id_idx').on(table.flowId),
    // Receipts name the message by the provider's id.
    index('deliveries_provider_message_id_idx')
      .on(table.providerMessageId)
      .where(sql`${table.providerMessageId} IS NOT NULL`),
    // The relay re-enqueues deliveries still queued a while after their creation (lost enqueues).
    index('deliveries_queued_idx').on(table.createdAt).where(sql`${table.status} = 'queued'`),
    // The relay also hands on failures a provider reported after acceptance whose handling was
    // lost; every few seconds, so without this it read the whole table each time.
    index('deliveries_reported_failure_idx')
      .on(table.providerStatusAt)
      .where(sql`${table.status} = 'sent' AND ${table.providerStatus} IN ('failed', 'undelivered')`),
    // A code always belongs to its flow and knows which of the flow's codes it is. (Its sealed
    // payload goes once the code can no longer be used.)
    check(
      'deliveries_otp_shape_check',
      sql`${table.kind} <> 'otp' OR (${table.flowId} IS NOT NULL AND ${table.codeSequence} IS NOT NULL)`,
    ),
    // Notices older than flows have none; retention purges them by age.
    index('deliveries_notice_created_at_idx')
      .on(table.createdAt)
      .where(sql`${table.kind} = 'registration-notice'`),
    check(
      'deliveries_status_check',
      sql`${table.status} IN ('queued', 'sending', 'sent', 'failed', 'dead', 'skipped')`,
    ),
    check(
      'deliveries_provider_status_check',
      sql`${table.providerStatus} IN ('sent', 'delivered', 'read', 'failed', 'undelivered')`,
    ),
  ],
);

/**
 * Every provider receipt applied, once: a provider may report the same status of a message twice
 * (a retried callback), and only the first may act (a failure starts a fallback).
 */
export const deliveryReceipts = pgTable(
  'delivery_receipts',
  {
    provider: text('provider').notNull(),
    providerMessageId: text('provider_message_id').notNull(),
    status: text('status').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.provider, table.providerMessageId, table.status] })],
);

export const WEBHOOK_EVENT_STATUSES = ['pending', 'delivered', 'dead'] as const;
export type WebhookEventStatus = (typeof WEBHOOK_EVENT_STATUSES)[number];

/**
 * The webhook outbox: one row per event owed to the shop's WEBHOOK_URL, written in the
 * transaction of the fact it reports. Its id is the `webhook-id` header, the same on every
 * attempt, so receivers can drop a repeat; `dedupe_key` makes one fact one event.
 */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    id: uuid('id').primaryKey(),
    type: text('type').notNull(),
    /** e.g. `user.registered:<user id>` (core's webhookDedupeKey). */
    dedupeKey: text('dedupe_key').notNull(),
    /** What is POSTed, `{type, timestamp, data}`: no code, password or token. */
    payload: jsonb('payload').$type<WebhookPayload>().notNull(),
    status: text('status', { enum: WEBHOOK_EVENT_STATUSES }).notNull().default('pending'),
    /** Attempts made, over every replay. */
    attempts: integer('attempts').notNull().default(0),
    /** The last attempt's failure: an HTTP status (`http_503`), `timeout` or a network error's code. */
    lastError: text('last_error'),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('webhook_events_dedupe_key_key').on(table.dedupeKey),
    // The relay re-enqueues events still pending a while after their creation (lost enqueues).
    index('webhook_events_pending_idx').on(table.createdAt).where(sql`${table.status} = 'pending'`),
    index('webhook_events_created_at_idx').on(table.createdAt),
    check('webhook_events_status_check', sql`${table.status} IN ('pending', 'delivered', 'dead')`),
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
export type RegistrationFlow = typeof registrationFlows.$inferSelect;
export type Delivery = typeof deliveries.$inferSelect;
export type WebhookEvent = typeof webhookEvents.$inferSelect;
