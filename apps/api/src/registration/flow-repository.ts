import { randomUUID } from 'node:crypto';
import type { NewWebhookEvent } from '@otp-relay/core';
import {
  type Channel,
  createDeliveryRepository,
  type Database,
  type Delivery,
  deliveries,
  insertWebhookEventsSql,
  type RegistrationFlow,
  registrationFlows,
  sendCooldowns,
  type Transaction,
  type User,
  users,
} from '@otp-relay/db';
import { and, eq, gt, inArray, isNotNull, isNull, or, type Placeholder, type SQL, sql } from 'drizzle-orm';
import type { Proof } from './registration-rules.js';
import type { StatusDelivery } from './verification-status.js';

/**
 * The SQL of registration: flows, the deliveries (outbox rows) they make, and the accounts they
 * create. Each function is one statement, or statements sent together on one transaction's
 * connection (postgres.js pipelines them and they still run in order).
 */

export type NewFlow = typeof registrationFlows.$inferInsert;
export type NewDelivery = Pick<
  Delivery,
  | 'id'
  | 'kind'
  | 'flowId'
  | 'codeSequence'
  | 'channel'
  | 'destination'
  | 'payloadCiphertext'
  | 'createdAt'
  | 'updatedAt'
>;

/** The code a flow holds now, as a resend replaces it. */
export type FlowCode = Pick<
  RegistrationFlow,
  'kind' | 'channel' | 'destination' | 'codeHash' | 'codeSequence' | 'expiresAt'
>;

/** The account as verify and /me show it. */
export type Account = Pick<
  User,
  | 'id'
  | 'email'
  | 'phone'
  | 'username'
  | 'firstName'
  | 'lastName'
  | 'isVerified'
  | 'emailVerifiedAt'
  | 'phoneVerifiedAt'
  | 'metadata'
>;

const accountColumns = {
  id: users.id,
  email: users.email,
  phone: users.phone,
  username: users.username,
  firstName: users.firstName,
  lastName: users.lastName,
  isVerified: users.isVerified,
  emailVerifiedAt: users.emailVerifiedAt,
  phoneVerifiedAt: users.phoneVerifiedAt,
  metadata: users.metadata,
};

/** What the status of a verification reads (verification-status.ts). */
export interface VerificationRecord {
  flow: RegistrationFlow;
  deliveries: StatusDelivery[];
  lastSentAt: Map<string, Date>;
}

const statusDeliveryColumns = {
  id: deliveries.id,
  channel: deliveries.channel,
  destination: deliveries.destination,
  codeSequence: deliveries.codeSequence,
  fallbackOf: deliveries.fallbackOf,
  status: deliveries.status,
  providerStatus: deliveries.providerStatus,
  providerErrorCode: deliveries.providerErrorCode,
  createdAt: deliveries.createdAt,
};

/** Postgres' unique_violation and the index it hit, as postgres.js reports it (drizzle wraps it as the cause). */
export function uniqueViolation(error: unknown): string | undefined {
  for (let current = error; current instanceof Error; current = current.cause) {
    const { code, constraint_name: constraint } = current as { code?: unknown; constraint_name?: unknown };
    if (code === '23505') return typeof constraint === 'string' ? constraint : '';
  }
  return undefined;
}

export const USERNAME_INDEX = 'users_username_lower_key';

/** A contact a code can go to: an address (as typed) or an E.164 number. */
type ContactOf = { channel: Channel; destination: string };

/** Accounts on which this contact was proven: an address in any case, a number exactly. */
const provenContact = ({ channel, destination }: ContactOf) =>
  channel === 'email'
    ? and(sql`lower(${users.email}) = lower(${destination})`, isNotNull(users.emailVerifiedAt))
    : and(eq(users.phone, destination), isNotNull(users.phoneVerifiedAt));

/** What a verify or resend names: the mailbox, and the flow's id when the caller has it. */
type FlowReference = { mailbox: string; verificationId?: string | undefined };

/** A mailbox's open flows whose code still works at `at`. */
function openFlowsWhere(mailbox: string | Placeholder, at: Date | SQL) {
  return and(
    eq(registrationFlows.emailKey, mailbox),
    isNull(registrationFlows.verifiedAt),
    isNull(registrationFlows.closedAt),
    gt(registrationFlows.expiresAt, at),
  );
}

/** How a verify judged a flow: who asked (the wrong-code count that applies), and the limit of that count. */
export interface JudgedAs {
  holdsId: boolean;
  maxAttempts: number;
}

/**
 * The flow is still as it was when judged: the same code, not finished, not locked for this
 * caller. A write guarded by it changes nothing if another request got there first (Postgres
 * re-checks it on the row it waited for), and the caller judges the flow again.
 */
function unchangedSince(flow: RegistrationFlow, { holdsId, maxAttempts }: JudgedAs) {
  const counter = holdsId ? registrationFlows.failedAttempts : registrationFlows.failedAttemptsWithoutId;
  return and(
    eq(registrationFlows.id, flow.id),
    eq(registrationFlows.codeSequence, flow.codeSequence),
    isNull(registrationFlows.verifiedAt),
    isNull(registrationFlows.closedAt),
    sql`${counter} < ${maxAttempts}`,
  );
}

export function createFlowRepository(db: Database) {
  // The outbox rows a flow makes go through the one deliveries repository.
  const outbox = createDeliveryRepository(db);
  // verify's read, built once (drizzle's query building is a visible share of a request's CPU;
  // docs/performance.md): the flow named by its id, or the mailbox's open flows.
  const flowById = db
    .select()
    .from(registrationFlows)
    .where(eq(registrationFlows.verificationId, sql.placeholder('verificationId')))
    .prepare('flow_by_verification_id');
  const openFlowsOf = db
    .select()
    .from(registrationFlows)
    .where(openFlowsWhere(sql.placeholder('mailbox'), sql`${sql.placeholder('at')}::timestamptz`))
    .limit(2)
    .prepare('open_flows_of_mailbox');

  return {
    transaction: <T>(work: (tx: Transaction) => Promise<T>) => db.transaction(work),

    /**
     * Whether the username is taken (in any case), and whether the destination already proves an
     * account. No username (USERNAME_REQUIRED=false) takes none.
     */
    async accountsBlocking(
      tx: Transaction,
      username: string | null,
      destination: ContactOf,
    ): Promise<{ usernameTaken: boolean; destinationHasAccount: boolean }> {
      const sameUsername =
        username === null ? sql`false` : sql`lower(${users.username}) = lower(${username})`;
      const rows = await tx
        .select({
          usernameTaken: sql<boolean>`${sameUsername}`,
          destinationHasAccount: sql<boolean>`${provenContact(destination)}`,
        })
        .from(users)
        // No LIMIT: both are unique lookups (at most one row each), and a LIMIT makes the planner
        // expect to stop early and pick a sequential scan over every account (seen in pnpm bench).
        .where(or(sameUsername, provenContact(destination)));
      return {
        usernameTaken: rows.some((row) => row.usernameTaken),
        destinationHasAccount: rows.some((row) => row.destinationHasAccount),
      };
    },

    /** Whether the destination already proves an account (a resend decides code or notice anew). */
    async destinationHasAccount(tx: Transaction, destination: ContactOf): Promise<boolean> {
      // A unique lookup: no LIMIT, for the reason given in accountsBlocking.
      const [row] = await tx.select({ id: users.id }).from(users).where(provenContact(destination));
      return row !== undefined;
    },

    /**
     * Starts the destination's cooldown unless one is running: one statement, under the row's lock,
     * so concurrent sends to one destination cannot both pass. Returns the seconds left of a running
     * one (rounded up, so a client told to retry then is never early), or undefined once started.
     * Rolled back with the transaction it is part of.
     */
    async startCooldown(
      tx: Database | Transaction,
      destinationKey: string,
      at: Date,
      cooldownSeconds: number,
    ): Promise<number | undefined> {
      const started = sql`${at.toISOString()}::timestamptz`;
      const [row] = await tx.execute<{ started: boolean; retry_after: number | null }>(sql`
        WITH upsert AS (
          INSERT INTO ${sendCooldowns} (destination_key, last_sent_at) VALUES (${destinationKey}, ${started})
          ON CONFLICT (destination_key) DO UPDATE SET last_sent_at = EXCLUDED.last_sent_at
          WHERE ${sendCooldowns.lastSentAt} <= ${started} - make_interval(secs => ${cooldownSeconds})
          RETURNING 1
        )
        SELECT EXISTS (SELECT 1 FROM upsert) AS started,
          (SELECT ceil(extract(epoch FROM last_sent_at + make_interval(secs => ${cooldownSeconds}) - ${started}))::int
             FROM ${sendCooldowns} WHERE destination_key = ${destinationKey}) AS retry_after`);
      return row?.started ? undefined : Math.max(1, row?.retry_after ?? 1);
    },

    async insertFlow(tx: Transaction, flow: NewFlow, delivery: NewDelivery) {
      await Promise.all([tx.insert(registrationFlows).values(flow), outbox.insertDelivery(tx, delivery)]);
    },

    /**
     * The flows a call may be about: the one with this id, or (no id) the mailbox's open flows
     * whose code still works, at most two (two already means "ambiguous").
     */
    async flowsCalled(reference: FlowReference, at: Date): Promise<RegistrationFlow[]> {
      return reference.verificationId !== undefined
        ? flowById.execute({ verificationId: reference.verificationId })
        : openFlowsOf.execute({ mailbox: reference.mailbox, at: at.toISOString() });
    },

    /** As flowsCalled, locked for the rest of `tx` (a resend). */
    async lockFlowsCalled(tx: Transaction, reference: FlowReference, at: Date): Promise<RegistrationFlow[]> {
      const where =
        reference.verificationId !== undefined
          ? eq(registrationFlows.verificationId, reference.verificationId)
          : openFlowsWhere(reference.mailbox, at);
      return tx.select().from(registrationFlows).where(where).limit(2).for('update');
    },

    /**
     * Counts a wrong code against the flow, apart for callers with and without its id
     * (registration-rules.ts), if the flow is still as it was judged. False when it changed since.
     */
    async countWrongCode(flow: RegistrationFlow, judged: JudgedAs): Promise<boolean> {
      const counter = judged.holdsId
        ? registrationFlows.failedAttempts
        : registrationFlows.failedAttemptsWithoutId;
      const counted = await db
        .update(registrationFlows)
        .set(
          judged.holdsId
            ? { failedAttempts: sql`${counter} + 1` }
            : { failedAttemptsWithoutId: sql`${counter} + 1` },
        )
        .where(unchangedSince(flow, judged))
        .returning({ id: registrationFlows.id });
      return counted.length > 0;
    },

    /** The flow's new code replaces the old one in place; its wrong-code count stays. */
    async replaceCode(tx: Transaction, flowId: string, code: FlowCode, delivery: NewDelivery) {
      await Promise.all([
        tx.update(registrationFlows).set(code).where(eq(registrationFlows.id, flowId)),
        outbox.insertDelivery(tx, delivery),
      ]);
    },

    /**
     * One statement: the flow is verified (if it is still as it was judged), the other open flows
     * that would prove the same contact end, other accounts' unproven claims on that contact are
     * released, and the account is created with the proof it earned. The flows that ended (this
     * one and those closed) drop their password hash and their deliveries' sealed codes: nothing
     * can use them any more. Undefined when the flow changed since it was judged. A username or
     * contact proven since fails the insert (unique indexes), and the whole statement with it.
     * `announce` gives the webhook events of the new account (none when webhooks are off): they
     * are inserted by the same statement, so they exist if and only if the account does.
     */
    async completeFlow(
      flow: RegistrationFlow,
      proof: Proof,
      judged: JudgedAs,
      at: Date,
      announce?: (account: Account) => NewWebhookEvent[],
    ): Promise<{ account: Account; eventIds: string[] } | undefined> {
      // A flow without its hash has ended, or died (expired and locked): it changed since it was judged.
      if (flow.passwordHash === null) return undefined;
      const now = sql`${at.toISOString()}::timestamptz`;
      const sameContact =
        proof === 'email'
          ? sql`email_key = ${flow.emailKey} AND channel = 'email'`
          : // Both phone channels: the predicate of registration_flows_open_phone_idx, so it is used.
            sql`destination = ${flow.destination} AND channel IN ('whatsapp', 'sms')`;
      const release =
        proof === 'email'
          ? sql`UPDATE users SET email = NULL, updated_at = ${now}
                WHERE lower(email) = lower(${flow.email}) AND email_verified_at IS NULL
                  AND EXISTS (SELECT 1 FROM verified)`
          : sql`UPDATE users SET phone = NULL, updated_at = ${now}
                WHERE phone = ${flow.destination} AND phone_verified_at IS NULL
                  AND EXISTS (SELECT 1 FROM verified)`;
      const phone = proof === 'phone' ? flow.destination : flow.mobile;
      // Made here, not by Postgres, so the account's events can name it in the same statement.
      const expected: Account = {
        id: randomUUID(),
        email: flow.email,
        phone,
        username: flow.username,
        firstName: flow.firstName,
        lastName: flow.lastName,
        isVerified: true,
        emailVerifiedAt: proof === 'email' ? at : null,
        phoneVerifiedAt: proof === 'phone' ? at : null,
        metadata: flow.metadata,
      };
      const events = announce?.(expected) ?? [];
      const announced =
        events.length > 0
          ? sql`, announced AS (${insertWebhookEventsSql(events, sql`EXISTS (SELECT 1 FROM verified)`)})`
          : sql``;
      const rows = await db.execute<{
        id: string;
        email: string | null;
        phone: string | null;
        username: string | null;
        first_name: string;
        last_name: string;
        is_verified: boolean;
        email_verified_at: string | null;
        phone_verified_at: string | null;
      }>(sql`
        WITH verified AS (
          UPDATE registration_flows SET verified_at = ${now}, password_hash = NULL
          WHERE ${unchangedSince(flow, judged)} AND password_hash IS NOT NULL
          RETURNING id
        ),
        ended AS (
          UPDATE registration_flows SET closed_at = ${now}, password_hash = NULL
          WHERE ${sameContact} AND id <> ${flow.id} AND verified_at IS NULL AND closed_at IS NULL
            AND EXISTS (SELECT 1 FROM verified)
          RETURNING id
        ),
        unsealed AS (
          UPDATE deliveries SET payload_ciphertext = NULL
          WHERE payload_ciphertext IS NOT NULL
            AND flow_id IN (SELECT id FROM verified UNION ALL SELECT id FROM ended)
        ),
        released AS (${release})${announced}
        INSERT INTO users (id, email, phone, username, first_name, last_name, password_hash, is_verified,
                           email_verified_at, phone_verified_at, metadata)
        SELECT ${expected.id}::uuid, ${flow.email}, ${phone}, ${flow.username}, ${flow.firstName}, ${flow.lastName},
               ${flow.passwordHash}, true,
               ${proof === 'email' ? now : null}::timestamptz, ${proof === 'phone' ? now : null}::timestamptz,
               ${JSON.stringify(flow.metadata)}::jsonb
        FROM verified
        RETURNING id, email, phone, username, first_name, last_name, is_verified,
                  email_verified_at, phone_verified_at`);
      const [row] = rows;
      if (!row) return undefined;
      const account: Account = {
        id: row.id,
        email: row.email,
        phone: row.phone,
        username: row.username,
        firstName: row.first_name,
        lastName: row.last_name,
        isVerified: row.is_verified,
        emailVerifiedAt: row.email_verified_at === null ? null : new Date(row.email_verified_at),
        phoneVerifiedAt: row.phone_verified_at === null ? null : new Date(row.phone_verified_at),
        metadata: flow.metadata,
      };
      return { account, eventIds: events.map((event) => event.id) };
    },

    // --- The verification's status and cancel (verification-status.ts) ---

    /**
     * The flow with this id, every delivery it made, and when its contacts last got a code or
     * notice (their resend cooldowns): the flow first, then the rest together.
     */
    async verificationRecord(verificationId: string): Promise<VerificationRecord | undefined> {
      const [flow] = await flowById.execute({ verificationId });
      if (!flow) return undefined;
      // Every key a send of this flow may have started a cooldown under (send-limits' keys).
      const keys = [...new Set([flow.emailKey, flow.destination, flow.mobile])].filter(
        (key): key is string => key !== null,
      );
      const [made, cooldowns] = await Promise.all([
        db.select(statusDeliveryColumns).from(deliveries).where(eq(deliveries.flowId, flow.id)),
        db.select().from(sendCooldowns).where(inArray(sendCooldowns.destinationKey, keys)),
      ]);
      return {
        flow,
        deliveries: made,
        lastSentAt: new Map(cooldowns.map((row) => [row.destinationKey, row.lastSentAt])),
      };
    },

    /**
     * Cancels the flow with this id unless it has ended (verified or closed): canceled and closed,
     * its password hash and its deliveries' sealed codes dropped, as completeFlow does for the flows
     * it ends. The flow is locked first, so a resend that got there before is waited for and its
     * delivery is unsealed too. False when there was nothing to cancel.
     */
    async cancelFlow(verificationId: string, at: Date): Promise<boolean> {
      const now = sql`${at.toISOString()}::timestamptz`;
      return db.transaction(async (tx) => {
        const [flow] = await tx
          .select({ id: registrationFlows.id })
          .from(registrationFlows)
          .where(
            and(
              eq(registrationFlows.verificationId, verificationId),
              isNull(registrationFlows.verifiedAt),
              isNull(registrationFlows.closedAt),
            ),
          )
          .for('update');
        if (!flow) return false;
        const canceled = await tx.execute<{ id: string }>(sql`
          WITH canceled AS (
            UPDATE registration_flows SET canceled_at = ${now}, closed_at = ${now}, password_hash = NULL
            WHERE id = ${flow.id} AND verified_at IS NULL AND closed_at IS NULL
            RETURNING id
          ),
          unsealed AS (
            UPDATE deliveries SET payload_ciphertext = NULL
            WHERE payload_ciphertext IS NOT NULL AND flow_id IN (SELECT id FROM canceled)
          )
          SELECT id FROM canceled`);
        return canceled.length > 0;
      });
    },

    async findAccount(id: string): Promise<Account | undefined> {
      const [account] = await db.select(accountColumns).from(users).where(eq(users.id, id)).limit(1);
      return account;
    },
  };
}

export type FlowRepository = ReturnType<typeof createFlowRepository>;
