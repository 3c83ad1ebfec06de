/**
 * What `pnpm otp:lookup` shows, as plain functions of the rows and the clock. `lookupReport` is the
 * one place contacts and error texts are masked; the text and `--json` outputs are both read from it.
 */
import { maskContact, maskContactsIn } from '@otp-relay/core';
import type { LookupContact } from './lookup-contact.js';
import type { AccountRecord, DeliveryRecord, FlowRecord, LookupRecords } from './lookup-repository.js';

/**
 * A flow's state, in the order the API judges a code: verified, canceled by its holder, closed
 * (another flow took its contact), locked by wrong codes from the id's holder, expired, else pending.
 */
export type FlowState = 'pending' | 'verified' | 'expired' | 'canceled' | 'closed' | 'locked';

export function flowState(
  flow: Pick<FlowRecord, 'verifiedAt' | 'canceledAt' | 'closedAt' | 'failedAttempts' | 'expiresAt'>,
  at: Date,
  maxAttempts: number,
): FlowState {
  if (flow.verifiedAt) return 'verified';
  if (flow.canceledAt) return 'canceled';
  if (flow.closedAt) return 'closed';
  if (flow.failedAttempts >= maxAttempts) return 'locked';
  if (flow.expiresAt.getTime() <= at.getTime()) return 'expired';
  return 'pending';
}

export interface AccountView {
  email: string | null;
  emailProvenAt: string | null;
  phone: string | null;
  phoneProvenAt: string | null;
  createdAt: string;
}

export interface DeliveryAttemptView {
  attempt: number;
  at: string;
  provider: string;
  error: string;
  retryable: boolean;
}

export interface DeliveryView {
  /** Its place in the flow's list, from 1: what `fallbackOf` points at. */
  number: number;
  id: string;
  fallbackOf: number | null;
  /** Set when the delivery it replaced is not in the list (another flow's, or gone). */
  fallbackOfId: string | null;
  kind: DeliveryRecord['kind'];
  codeSequence: number | null;
  channel: DeliveryRecord['channel'];
  provider: string | null;
  destination: string;
  status: DeliveryRecord['status'];
  attempts: number;
  interruptedAttempts: number;
  providerMessageId: string | null;
  providerStatus: DeliveryRecord['providerStatus'];
  providerErrorCode: string | null;
  providerStatusAt: string | null;
  sentAt: string | null;
  createdAt: string;
  lastError: string | null;
  errors: DeliveryAttemptView[];
}

export interface FlowView {
  /** The verification id's first characters only (lookup-repository.ts). */
  verificationIdPrefix: string;
  createdAt: string;
  kind: FlowRecord['kind'];
  state: FlowState;
  channel: FlowRecord['channel'];
  email: string;
  mobile: string | null;
  destination: string;
  codeSequence: number;
  wrongCodes: number;
  wrongCodesWithoutId: number;
  maxWrongCodes: number;
  expiresAt: string;
  verifiedAt: string | null;
  closedAt: string | null;
  canceledAt: string | null;
  deliveries: DeliveryView[];
}

export interface LookupReport {
  contact: { kind: LookupContact['kind']; value: string; mailboxKey: string | null };
  at: string;
  limit: number;
  since: string | null;
  accounts: AccountView[];
  flows: FlowView[];
}

export interface ReportOptions {
  contact: LookupContact;
  at: Date;
  limit: number;
  since?: Date | undefined;
  /** OTP_MAX_ATTEMPTS: the wrong codes that lock a flow. */
  maxAttempts: number;
}

const iso = (date: Date) => date.toISOString();
const isoOrNull = (date: Date | null) => (date ? iso(date) : null);

/**
 * The flow's deliveries in the order they happened, each fallback right after the delivery it
 * replaced. Linked by `fallback_of`, never by time alone: the worker stamps fallbacks with the
 * database's clock, the API its deliveries with its own.
 */
export function orderDeliveries(rows: readonly DeliveryRecord[]): DeliveryRecord[] {
  const byTime = [...rows].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  const ids = new Set(byTime.map((row) => row.id));
  const ordered: DeliveryRecord[] = [];
  const place = (row: DeliveryRecord) => {
    if (ordered.includes(row)) return;
    ordered.push(row);
    for (const next of byTime) if (next.fallbackOf === row.id) place(next);
  };
  for (const row of byTime) if (row.fallbackOf === null || !ids.has(row.fallbackOf)) place(row);
  // A cycle cannot be made by the worker; should one exist, its rows still show.
  for (const row of byTime) place(row);
  return ordered;
}

function deliveryViews(rows: readonly DeliveryRecord[]): DeliveryView[] {
  const ordered = orderDeliveries(rows);
  const numbers = new Map(ordered.map((row, index) => [row.id, index + 1]));
  return ordered.map((row, index) => {
    const fallbackOf = row.fallbackOf === null ? null : (numbers.get(row.fallbackOf) ?? null);
    return {
      number: index + 1,
      id: row.id,
      fallbackOf,
      fallbackOfId: fallbackOf === null ? row.fallbackOf : null,
      kind: row.kind,
      codeSequence: row.codeSequence,
      channel: row.channel,
      provider: row.provider,
      destination: maskContact(row.destination),
      status: row.status,
      attempts: row.attempts,
      interruptedAttempts: row.interruptedAttempts,
      providerMessageId: row.providerMessageId,
      providerStatus: row.providerStatus,
      providerErrorCode: row.providerErrorCode,
      providerStatusAt: isoOrNull(row.providerStatusAt),
      sentAt: isoOrNull(row.sentAt),
      createdAt: iso(row.createdAt),
      lastError: row.lastError === null ? null : maskContactsIn(row.lastError),
      errors: row.errorHistory.map((entry) => ({
        attempt: entry.attempt,
        at: entry.at,
        provider: entry.provider,
        error: maskContactsIn(entry.error),
        retryable: entry.retryable,
      })),
    };
  });
}

function accountView(account: AccountRecord): AccountView {
  return {
    email: account.email === null ? null : maskContact(account.email),
    emailProvenAt: isoOrNull(account.emailVerifiedAt),
    phone: account.phone === null ? null : maskContact(account.phone),
    phoneProvenAt: isoOrNull(account.phoneVerifiedAt),
    createdAt: iso(account.createdAt),
  };
}

/** The rows as shown: contacts and error texts masked, times as ISO strings. */
export function lookupReport(records: LookupRecords, options: ReportOptions): LookupReport {
  const { contact } = options;
  return {
    contact:
      contact.kind === 'email'
        ? { kind: 'email', value: maskContact(contact.email), mailboxKey: maskContact(contact.mailboxKey) }
        : { kind: 'phone', value: maskContact(contact.e164), mailboxKey: null },
    at: iso(options.at),
    limit: options.limit,
    since: options.since ? iso(options.since) : null,
    accounts: records.accounts.map(accountView),
    flows: records.flows.map((flow) => ({
      verificationIdPrefix: flow.verificationIdPrefix,
      createdAt: iso(flow.createdAt),
      kind: flow.kind,
      state: flowState(flow, options.at, options.maxAttempts),
      channel: flow.channel,
      email: maskContact(flow.email),
      mobile: flow.mobile === null ? null : maskContact(flow.mobile),
      destination: maskContact(flow.destination),
      codeSequence: flow.codeSequence,
      wrongCodes: flow.failedAttempts,
      wrongCodesWithoutId: flow.failedAttemptsWithoutId,
      maxWrongCodes: options.maxAttempts,
      expiresAt: iso(flow.expiresAt),
      verifiedAt: isoOrNull(flow.verifiedAt),
      closedAt: isoOrNull(flow.closedAt),
      canceledAt: isoOrNull(flow.canceledAt),
      deliveries: deliveryViews(records.deliveries.filter((row) => row.flowId === flow.id)),
    })),
  };
}

/** `2025-05-01 10:00:00Z`: to the second, as logs are read. */
export function shortTime(isoTime: string): string {
  return isoTime.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** Error texts can be whole provider responses: one line, cut. */
const MAX_ERROR_CHARS = 300;
const ERRORS_SHOWN = 5;

function errorLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MAX_ERROR_CHARS ? `${line.slice(0, MAX_ERROR_CHARS - 1)}…` : line;
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

function accountLine(account: AccountView): string {
  const proof = (label: string, value: string | null, provenAt: string | null) =>
    value === null
      ? `no ${label}`
      : `${label} ${value} ${provenAt ? `proven ${shortTime(provenAt)}` : 'not proven'}`;
  return [
    `created ${shortTime(account.createdAt)}`,
    proof('email', account.email, account.emailProvenAt),
    proof('phone', account.phone, account.phoneProvenAt),
  ].join(' · ');
}

function stateText(flow: FlowView): string {
  switch (flow.state) {
    case 'verified':
      return `verified ${shortTime(flow.verifiedAt ?? '')}`;
    case 'canceled':
      return `canceled ${shortTime(flow.canceledAt ?? '')}`;
    case 'closed':
      return `closed ${shortTime(flow.closedAt ?? '')} (another registration took its contact)`;
    case 'locked':
      return 'locked (too many wrong codes)';
    case 'expired':
      return `expired ${shortTime(flow.expiresAt)}`;
    case 'pending':
      return 'pending';
  }
}

function deliveryLines(delivery: DeliveryView): string[] {
  const link =
    delivery.fallbackOf !== null
      ? `↳ fallback of ${delivery.fallbackOf} · `
      : delivery.fallbackOfId !== null
        ? `↳ fallback of delivery ${delivery.fallbackOfId} · `
        : '';
  const what = delivery.kind === 'otp' ? `code #${delivery.codeSequence ?? '?'}` : 'notice';
  const attempts = `${plural(delivery.attempts, 'attempt')}${delivery.interruptedAttempts > 0 ? ` (${delivery.interruptedAttempts} interrupted: may have gone twice)` : ''}`;
  const lines = [
    `    ${delivery.number}. ${link}${what} · ${delivery.channel} via ${delivery.provider ?? '(not yet chosen)'} to ${delivery.destination} · ${delivery.status} · ${attempts}`,
  ];
  const details = [`id ${delivery.id}`, `created ${shortTime(delivery.createdAt)}`];
  if (delivery.sentAt) details.push(`sent ${shortTime(delivery.sentAt)}`);
  if (delivery.providerMessageId) details.push(`provider id ${delivery.providerMessageId}`);
  lines.push(`       ${details.join(' · ')}`);
  if (delivery.providerStatus) {
    const code = delivery.providerErrorCode ? ` (error ${delivery.providerErrorCode})` : '';
    const at = delivery.providerStatusAt ? ` at ${shortTime(delivery.providerStatusAt)}` : '';
    lines.push(`       provider reports ${delivery.providerStatus}${code}${at}`);
  }
  const shown = delivery.errors.slice(-ERRORS_SHOWN);
  if (delivery.errors.length > shown.length) {
    lines.push(`       (${plural(delivery.errors.length - shown.length, 'earlier error')} in --json)`);
  }
  for (const entry of shown) {
    lines.push(
      `       attempt ${entry.attempt} ${shortTime(entry.at)} ${entry.provider}${entry.retryable ? '' : ' (final)'}: ${errorLine(entry.error)}`,
    );
  }
  if (delivery.lastError !== null && delivery.lastError !== delivery.errors.at(-1)?.error) {
    lines.push(`       last error: ${errorLine(delivery.lastError)}`);
  }
  return lines;
}

const LABEL = 10;

function flowLines(flow: FlowView): string[] {
  const contacts = [`email ${flow.email}`];
  if (flow.mobile !== null) contacts.push(`mobile ${flow.mobile}`);
  const wrong = `wrong codes ${flow.wrongCodes} of ${flow.maxWrongCodes}${flow.wrongCodesWithoutId > 0 ? ` (+${flow.wrongCodesWithoutId} from callers without the id)` : ''}`;
  return [
    `Flow ${flow.verificationIdPrefix}… · created ${shortTime(flow.createdAt)} · ${flow.kind === 'notice' ? 'notice (the contact already had an account: no code sent)' : 'code'} · ${stateText(flow)}`,
    `  ${'contacts'.padEnd(LABEL)}${contacts.join(' · ')}`,
    // A notice flow's code is never sent, but wrong codes against it count as against any flow.
    `  ${(flow.kind === 'code' ? `code #${flow.codeSequence}` : 'notice').padEnd(LABEL)}by ${flow.channel} to ${flow.destination} · ${wrong}${flow.state === 'pending' ? ` · expires ${shortTime(flow.expiresAt)}` : ''}`,
    flow.deliveries.length === 0 ? '  deliveries: none' : `  deliveries (${flow.deliveries.length}):`,
    ...flow.deliveries.flatMap(deliveryLines),
  ];
}

/** The report as the lines `pnpm otp:lookup` prints. */
export function formatLookup(report: LookupReport): string[] {
  const { contact } = report;
  const who =
    contact.mailboxKey !== null && contact.mailboxKey !== contact.value
      ? `${contact.value} (mailbox ${contact.mailboxKey})`
      : contact.value;
  const window = [`at most ${report.limit}`];
  if (report.since) window.push(`since ${shortTime(report.since)}`);
  const lines = [
    `Registrations of ${who}: ${plural(report.flows.length, 'flow')}, newest first (${window.join(', ')}).`,
    report.accounts.length === 0
      ? `Account: none carries this ${contact.kind}.`
      : `Account: ${report.accounts.length === 1 ? 'one carries' : `${report.accounts.length} carry`} this ${contact.kind}:`,
    ...report.accounts.map((account) => `  ${accountLine(account)}`),
  ];
  for (const flow of report.flows) lines.push('', ...flowLines(flow));
  if (report.flows.length === 0) lines.push('', `No registration flows found for this ${contact.kind}.`);
  return lines;
}
