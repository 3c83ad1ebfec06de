/**
 * The SQL of `pnpm otp:lookup`: a contact's recent registration flows, their deliveries and the
 * accounts carrying the contact. Every query names its columns: password hashes, code hashes,
 * sealed payloads and whole verification ids never leave the database.
 */
import {
  type Channel,
  type Database,
  type DeliveryAttemptError,
  type DeliveryStatus,
  deliveries,
  type FlowKind,
  type MessageKind,
  type ProviderStatus,
  registrationFlows,
  users,
} from '@otp-relay/db';
import { and, asc, desc, eq, gte, inArray, or, type SQL, sql } from 'drizzle-orm';
import type { LookupContact } from './lookup-contact.js';

/** Characters of a verification id shown: `vf_` and 36 of its 144 bits, enough to match a log or a ticket. */
export const VERIFICATION_ID_PREFIX_LENGTH = 9;

export interface LookupQuery {
  contact: LookupContact;
  /** The most recent flows, at most this many. */
  limit: number;
  /** Only flows created at or after this. */
  since?: Date | undefined;
}

export interface FlowRecord {
  id: string;
  verificationIdPrefix: string;
  kind: FlowKind;
  email: string;
  channel: Channel;
  destination: string;
  mobile: string | null;
  codeSequence: number;
  failedAttempts: number;
  failedAttemptsWithoutId: number;
  expiresAt: Date;
  verifiedAt: Date | null;
  closedAt: Date | null;
  canceledAt: Date | null;
  createdAt: Date;
}

export interface DeliveryRecord {
  id: string;
  flowId: string | null;
  kind: MessageKind;
  codeSequence: number | null;
  channel: Channel;
  provider: string | null;
  fallbackOf: string | null;
  destination: string;
  status: DeliveryStatus;
  attempts: number;
  interruptedAttempts: number;
  providerMessageId: string | null;
  lastError: string | null;
  errorHistory: DeliveryAttemptError[];
  sentAt: Date | null;
  providerStatus: ProviderStatus | null;
  providerErrorCode: string | null;
  providerStatusAt: Date | null;
  createdAt: Date;
}

export interface AccountRecord {
  email: string | null;
  phone: string | null;
  emailVerifiedAt: Date | null;
  phoneVerifiedAt: Date | null;
  createdAt: Date;
}

export interface LookupRecords {
  /** Newest first. */
  flows: FlowRecord[];
  /** Of all the flows, by creation. */
  deliveries: DeliveryRecord[];
  accounts: AccountRecord[];
}

const flowColumns = {
  id: registrationFlows.id,
  verificationIdPrefix: sql<string>`left(${registrationFlows.verificationId}, ${sql.raw(String(VERIFICATION_ID_PREFIX_LENGTH))})`,
  kind: registrationFlows.kind,
  email: registrationFlows.email,
  channel: registrationFlows.channel,
  destination: registrationFlows.destination,
  mobile: registrationFlows.mobile,
  codeSequence: registrationFlows.codeSequence,
  failedAttempts: registrationFlows.failedAttempts,
  failedAttemptsWithoutId: registrationFlows.failedAttemptsWithoutId,
  expiresAt: registrationFlows.expiresAt,
  verifiedAt: registrationFlows.verifiedAt,
  closedAt: registrationFlows.closedAt,
  canceledAt: registrationFlows.canceledAt,
  createdAt: registrationFlows.createdAt,
};

const deliveryColumns = {
  id: deliveries.id,
  flowId: deliveries.flowId,
  kind: deliveries.kind,
  codeSequence: deliveries.codeSequence,
  channel: deliveries.channel,
  provider: deliveries.provider,
  fallbackOf: deliveries.fallbackOf,
  destination: deliveries.destination,
  status: deliveries.status,
  attempts: deliveries.attempts,
  interruptedAttempts: deliveries.interruptedAttempts,
  providerMessageId: deliveries.providerMessageId,
  lastError: deliveries.lastError,
  errorHistory: deliveries.errorHistory,
  sentAt: deliveries.sentAt,
  providerStatus: deliveries.providerStatus,
  providerErrorCode: deliveries.providerErrorCode,
  providerStatusAt: deliveries.providerStatusAt,
  createdAt: deliveries.createdAt,
};

const accountColumns = {
  email: users.email,
  phone: users.phone,
  emailVerifiedAt: users.emailVerifiedAt,
  phoneVerifiedAt: users.phoneVerifiedAt,
  createdAt: users.createdAt,
};

function flowsOf(contact: LookupContact): SQL | undefined {
  if (contact.kind === 'email') return eq(registrationFlows.emailKey, contact.mailboxKey);
  // `mobile` is the number the shopper gave; `destination` also covers a code sent to it by SMS or WhatsApp.
  return or(eq(registrationFlows.mobile, contact.e164), eq(registrationFlows.destination, contact.e164));
}

/**
 * Accounts match as the API matches them (`lower(email)`, the E.164 phone), by the address typed
 * and the addresses the flows found were made with: accounts keep no mailbox key.
 */
function accountsOf(contact: LookupContact, flows: readonly FlowRecord[]): SQL | undefined {
  if (contact.kind === 'phone') return eq(users.phone, contact.e164);
  const addresses = [...new Set([contact.email, ...flows.map((flow) => flow.email)].map(lower))];
  return inArray(sql`lower(${users.email})`, addresses);
}

const lower = (text: string) => text.trim().toLowerCase();

export async function findRegistrations(db: Database, query: LookupQuery): Promise<LookupRecords> {
  const flows = await db
    .select(flowColumns)
    .from(registrationFlows)
    .where(
      and(flowsOf(query.contact), query.since ? gte(registrationFlows.createdAt, query.since) : undefined),
    )
    .orderBy(desc(registrationFlows.createdAt), desc(registrationFlows.id))
    .limit(query.limit);
  const [found, accounts] = await Promise.all([
    flows.length === 0
      ? Promise.resolve([])
      : db
          .select(deliveryColumns)
          .from(deliveries)
          .where(
            inArray(
              deliveries.flowId,
              flows.map((flow) => flow.id),
            ),
          )
          .orderBy(asc(deliveries.createdAt), asc(deliveries.id)),
    db
      .select(accountColumns)
      .from(users)
      .where(accountsOf(query.contact, flows))
      .orderBy(asc(users.createdAt)),
  ]);
  return { flows, deliveries: found, accounts };
}
