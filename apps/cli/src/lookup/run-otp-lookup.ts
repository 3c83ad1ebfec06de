/**
 * `pnpm otp:lookup <email or phone>`: what support needs to answer "I never got my code". The logic
 * behind otp-lookup.ts, with its I/O handed in. Returns the exit code: 0 when the lookup ran (found
 * or not), 1 when the configuration or the database failed it, 2 for a wrong command line.
 */
import { parseArgs } from 'node:util';
import {
  cleanErrorText,
  DEFAULT_DATABASE_SCHEMA,
  databaseSchemaProblem,
  WorkerConfigSchema,
} from '@otp-relay/core';
import { createDatabase } from '@otp-relay/db';
import { asUsage, envPathFrom, integerFlag, scriptArgs, UsageError } from '../cli-args.js';
import { readEnvFile } from '../env-file.js';
import { DEFAULT_ENV_PATH } from '../paths.js';
import { formatLookup, lookupReport } from './format-lookup.js';
import { type LookupContact, parseLookupContact } from './lookup-contact.js';
import { findRegistrations } from './lookup-repository.js';

export const OTP_LOOKUP_USAGE = `Usage: pnpm otp:lookup <email or phone> [options]
  in the image: node apps/cli/dist/otp-lookup.js <email or phone> [options]

Lists a shopper's most recent registration flows, newest first: state, channel, code number, wrong
codes, expiry, and each delivery in order (fallbacks under the delivery they replaced) with its
provider, status, attempts, the provider's report and its errors; and whether an account carries
the contact and which of its contacts are proven. Contacts and error texts are masked, verification
ids shortened. Reads DATABASE_URL (and DATABASE_SCHEMA, DATABASE_PREPARED_STATEMENTS,
OTP_MAX_ATTEMPTS) from .env at the repo root, then the environment, which wins.

An address matches whatever its case, +tag or (Gmail) dots. A number needs its country code, in any
notation: +44 7700 900123, 0044 7700 900123, whatsapp:+447700900123.

  --limit <n>             at most n flows (default 10)
  --since <when>          only flows created since then: an ISO date or time (2025-05-01,
                          2025-05-01T10:00Z), or a span back from now (30m, 12h, 7d, 2w)
  --json                  one JSON document instead of text
  --env-path <path>       the env file to read (default: .env at the repo root; --env-file is an alias)
  -h, --help`;

const FLAGS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  limit: { type: 'string' },
  since: { type: 'string' },
  'env-path': { type: 'string' },
  'env-file': { type: 'string' },
} as const;

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 1000;
/** What an unset OTP_MAX_ATTEMPTS means to the API: the schema's default, read so the two never drift. */
const schemaDefault = (WorkerConfigSchema.properties.OTP_MAX_ATTEMPTS as { default?: unknown }).default;
const DEFAULT_MAX_ATTEMPTS = typeof schemaDefault === 'number' ? schemaDefault : 5;

const SPAN = /^(\d+)\s*(m|h|d|w)$/i;
const SPAN_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** `--since`: an ISO date or time, or a span back from `now` (`7d`). */
export function parseSince(value: string, now: Date): Date {
  const span = SPAN.exec(value.trim());
  if (span) {
    const unit = (span[2] ?? 'd').toLowerCase() as keyof typeof SPAN_MS;
    return new Date(now.getTime() - Number(span[1]) * SPAN_MS[unit]);
  }
  // Date.parse also takes "May 1" and the like; a support tool should not guess.
  const parsed = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(parsed)) {
    throw new UsageError(
      `--since must be an ISO date (2025-05-01) or a span such as 7d or 12h (got "${value}")`,
    );
  }
  return new Date(parsed);
}

interface LookupArgs {
  help: boolean;
  json: boolean;
  contact?: LookupContact;
  limit: number;
  since?: Date | undefined;
  envPath: string;
}

function parseLookupArgs(argv: readonly string[], now: Date): LookupArgs {
  const { values, positionals } = asUsage(() =>
    parseArgs({ args: scriptArgs(argv), options: FLAGS, strict: true, allowPositionals: true }),
  );
  const args: LookupArgs = {
    help: values.help ?? false,
    json: values.json ?? false,
    limit: integerFlag('limit', values.limit, DEFAULT_LIMIT, 1, MAX_LIMIT),
    since: values.since === undefined ? undefined : parseSince(values.since, now),
    envPath: envPathFrom(values, DEFAULT_ENV_PATH),
  };
  if (args.help) return args;
  if (positionals.length === 0) throw new UsageError('give the email address or phone number to look up');
  // An unquoted `+44 7700 900123` arrives as three arguments.
  return { ...args, contact: parseLookupContact(positionals.join(' ')) };
}

/**
 * Why a lookup failed, in one line: the innermost cause (drizzle wraps the driver's error in a
 * "Failed query: <sql>" of its own), its code, texts only (a query error's parameters, which hold
 * the contact, live in properties not read here), contacts masked.
 */
function failureText(error: unknown): string {
  let innermost = error;
  for (let depth = 0; depth < 5 && innermost instanceof Error && innermost.cause !== undefined; depth += 1) {
    innermost = innermost.cause;
  }
  if (!(innermost instanceof Error)) return cleanErrorText(String(innermost));
  const code = (innermost as Error & { code?: unknown }).code;
  const message = cleanErrorText(innermost.message);
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}

export interface OtpLookupIo {
  print(line: string): void;
  error(line: string): void;
  /** The process environment; it wins over the env file. */
  env: Record<string, string | undefined>;
  /** The clock the flows' states and `--since 7d` are read against. */
  now?: () => Date;
}

export async function runOtpLookup(argv: readonly string[], io: OtpLookupIo): Promise<number> {
  const now = io.now?.() ?? new Date();
  let args: LookupArgs;
  try {
    args = parseLookupArgs(argv, now);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.error(`otp:lookup: ${error.message}`);
    io.error('Run `pnpm otp:lookup --help` for the options.');
    return 2;
  }
  if (args.help || !args.contact) {
    io.print(OTP_LOOKUP_USAGE);
    return 0;
  }

  const file = await readEnvFile(args.envPath);
  const env = { ...file?.values, ...io.env };
  const url = env.DATABASE_URL;
  if (!url || !/^postgres(ql)?:\/\//.test(url)) {
    io.error(
      `otp:lookup: DATABASE_URL ${url ? 'is not a postgres:// URL' : 'is not set'} (in the environment or .env).`,
    );
    return 1;
  }
  // Empty means unset, as for OTP_MAX_ATTEMPTS below.
  const schema = env.DATABASE_SCHEMA || DEFAULT_DATABASE_SCHEMA;
  const schemaProblem = databaseSchemaProblem(schema);
  if (schemaProblem) {
    io.error(`otp:lookup: ${schemaProblem}`);
    return 1;
  }
  // Empty means unset; behind PgBouncer in transaction mode before 1.21 it is false.
  const prepared = env.DATABASE_PREPARED_STATEMENTS || 'true';
  if (prepared !== 'true' && prepared !== 'false') {
    io.error(
      `otp:lookup: DATABASE_PREPARED_STATEMENTS must be true or false, not ${JSON.stringify(prepared)}.`,
    );
    return 1;
  }
  let maxAttempts: number;
  try {
    // Empty means unset, as docker-compose.yml passes an unset variable through.
    maxAttempts = integerFlag(
      'OTP_MAX_ATTEMPTS',
      env.OTP_MAX_ATTEMPTS || undefined,
      DEFAULT_MAX_ATTEMPTS,
      1,
      20,
    );
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.error(`otp:lookup: ${error.message.replace(/^--/, '')}`);
    return 1;
  }

  const database = createDatabase(url, {
    maxConnections: 2,
    schema,
    preparedStatements: prepared === 'true',
  });
  try {
    const query = { contact: args.contact, limit: args.limit, since: args.since };
    const records = await findRegistrations(database.db, query);
    const report = lookupReport(records, { ...query, at: now, maxAttempts });
    if (args.json) io.print(JSON.stringify(report, null, 2));
    else for (const line of formatLookup(report)) io.print(line);
    return 0;
  } catch (error) {
    io.error(`otp:lookup: the lookup failed: ${failureText(error)}`);
    return 1;
  } finally {
    await database.close();
  }
}
