import { type BaseLogger, type Bindings, type LoggerOptions, pino } from 'pino';
import { activeTraceFields } from './trace-context.js';

/**
 * Paths pino blanks in every log line: codes, passwords, tokens and provider secrets never reach a
 * log. One-time codes are logged nowhere on purpose; these catch a mistake with the keys a code
 * travels under: `otp` (verify's body), `debug_otp` (a test response), Twilio's
 * `contentVariables`. Not `code`: that is where errors keep theirs (a SQLSTATE such as 23505,
 * ECONNREFUSED, a provider's error number), which an operator needs.
 */
export const REDACTED_PATHS = [
  'password',
  'otp',
  'debug_otp',
  'token',
  'accessToken',
  'refreshToken',
  'contentVariables',
  '*.password',
  '*.otp',
  '*.debug_otp',
  '*.token',
  '*.contentVariables',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'config.JWT_SECRET',
  'config.JWT_SIGNING_KEYS',
  'config.OTP_PEPPER',
  'config.OTP_ENCRYPTION_KEY',
  'config.EMAIL_CLIENT_SECRET',
  'config.EMAIL_REFRESH_TOKEN',
  'config.TWILIO_AUTH_TOKEN',
  'config.ADMIN_PASSWORD',
  'config.CAPTCHA_SECRET_KEY',
  'captcha_token',
  '*.captcha_token',
];

/** Personal data that may be logged only masked: enough to tell two shoppers apart, not to reach one. */
export const MASKED_PATHS = [
  'email',
  'to',
  'destination',
  'mobile',
  '*.email',
  '*.to',
  '*.destination',
  '*.mobile',
];

/** `ann.lee@example.com` → `a***@example.com`; `+14155552671` → `+141*****71`. */
export function maskContact(value: unknown): string {
  if (typeof value !== 'string') return '[masked]';
  const at = value.lastIndexOf('@');
  if (at > 0) return `${value[0]}***${value.slice(at)}`;
  const plain = value.replace(/^whatsapp:/, '');
  return plain.length > 6
    ? `${plain.slice(0, 4)}${'*'.repeat(plain.length - 6)}${plain.slice(-2)}`
    : '[masked]';
}

const masked = new Set(MASKED_PATHS.map((path) => path.replace('*.', '')));

// The domain takes no `/`, `_` or `=`: no host name does, and file paths with an `@` in them
// (pnpm's `node_modules/.pnpm/pkg@1.2.3_…/…/file.js`, in every stack) are not addresses.
const EMAIL_IN_TEXT = /[^\s@'"<>(),;:/]+@[^\s@'"<>(),;:/_=]+\.[A-Za-z]{2,}/g;
const PHONE_IN_TEXT = /\+\d[\d\s().-]{6,}\d/g;
// Providers also write numbers without the plus ("To number: 14155552671"). A run of 8 to 15
// digits standing alone is masked as one; part of an id (a uuid, a sid) it is left alone.
const BARE_NUMBER_IN_TEXT = /(?<![\w+-])\d{8,15}(?![\w-])/g;

/** Free text (an error message from a provider, say) with any address or number in it masked. */
export function maskContactsIn(text: string): string {
  return text
    .replace(EMAIL_IN_TEXT, maskContact)
    .replace(PHONE_IN_TEXT, (phone) => maskContact(phone.replace(/[^\d+]/g, '')))
    .replace(BARE_NUMBER_IN_TEXT, maskContact);
}

// drizzle's DrizzleQueryError says `Failed query: <sql>\nparams: <values>`: the values go, the SQL stays.
const QUERY_PARAMS_IN_TEXT = /\nparams: [\s\S]*?(?=\n\s+at |$)/g;

/**
 * An error text fit to log or store: no query parameters, contacts masked. The one home of this
 * rule for logs (the err serializer) and for rows (`deliveries.last_error`).
 */
export function cleanErrorText(text: string): string {
  return maskContactsIn(text.replace(QUERY_PARAMS_IN_TEXT, ''));
}

/** Properties of an error that hold a query's values: drizzle's `params`, postgres.js' `parameters`/`args`/`types`. */
const QUERY_VALUE_KEYS = new Set(['params', 'parameters', 'args', 'types']);

type ErrorLike = Error & Record<string, unknown>;

const isErrorLike = (value: unknown): value is ErrorLike =>
  typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';

/** A postgres.js PostgresError: a server error, with its SQLSTATE in `code`. */
const isPostgresError = (error: ErrorLike) =>
  typeof error.severity === 'string' && typeof error.code === 'string' && /^[0-9A-Z]{5}$/.test(error.code);

const withoutQuoted = (text: string, quote: '"' | "'") =>
  text.replace(
    new RegExp(`${quote}(?:[^${quote}]|${quote}${quote})*${quote}`, 'g'),
    `${quote}[redacted]${quote}`,
  );

/**
 * The message of an error as it may be logged. Postgres' data exceptions (SQLSTATE class 22) quote
 * the offending value (`invalid input syntax for type integer: "…"`); other classes quote names.
 */
function loggableMessage(error: ErrorLike): string {
  const dataException = isPostgresError(error) && String(error.code).startsWith('22');
  return cleanErrorText(dataException ? withoutQuoted(error.message, '"') : error.message);
}

/**
 * pino's error serializer, made safe for query errors: every error in the `cause` chain is
 * serialized in its own right (so its `code` shows), without the query's values (their
 * properties, the `params:` part of messages and stacks, what Postgres quotes of them), and with
 * contacts masked.
 */
function serializeError(error: ErrorLike, seen: Set<unknown>): Record<string, unknown> {
  seen.add(error);
  const postgres = isPostgresError(error);
  const message = loggableMessage(error);
  const stack =
    typeof error.stack === 'string'
      ? cleanErrorText(error.message ? error.stack.split(error.message).join(message) : error.stack)
      : undefined;
  const serialized: Record<string, unknown> = {
    type: typeof error.constructor === 'function' ? error.constructor.name : error.name,
    message,
    ...(stack === undefined ? {} : { stack }),
  };
  const aggregated = Array.isArray(error.errors) ? error.errors : undefined;
  for (const key in error) {
    if (key in serialized || QUERY_VALUE_KEYS.has(key) || key === 'cause') continue;
    if (key === 'errors' && aggregated) continue;
    // Postgres' `detail` quotes the key or the row (`Key (email)=(…) already exists.`).
    if (postgres && key === 'detail') continue;
    const value = error[key];
    if (isErrorLike(value)) {
      if (!seen.has(value)) serialized[key] = serializeError(value, seen);
    } else if (postgres && key === 'where' && typeof value === 'string') {
      // The error's context; for a bad parameter, `unnamed portal parameter $1 = '<value>'`.
      serialized[key] = withoutQuoted(value, "'");
    } else {
      serialized[key] = value;
    }
  }
  if (aggregated) {
    serialized.aggregateErrors = aggregated
      .filter((inner): inner is ErrorLike => isErrorLike(inner) && !seen.has(inner))
      .map((inner) => serializeError(inner, seen));
  }
  if (isErrorLike(error.cause) && !seen.has(error.cause)) {
    serialized.cause = serializeError(error.cause, seen);
  }
  return serialized;
}

/** For `err`, and for `error` where some callers log an error's message alone. */
function serializeLoggedError(value: unknown): unknown {
  if (typeof value === 'string') return cleanErrorText(value);
  return isErrorLike(value) ? serializeError(value, new Set()) : value;
}

export function loggerOptions(level: string, name: string): LoggerOptions {
  return {
    name,
    level,
    // trace_id/span_id of the active span, so a log line leads to its trace (nothing when tracing is off).
    mixin: activeTraceFields,
    serializers: { err: serializeLoggedError, error: serializeLoggedError },
    redact: {
      paths: [...REDACTED_PATHS, ...MASKED_PATHS],
      censor: (value, path) => (masked.has(path.at(-1) ?? '') ? maskContact(value) : '[redacted]'),
    },
  };
}

export function createLogger(level: string, name: string): Logger {
  return pino(loggerOptions(level, name));
}

/** pino's logger, or the request logger Fastify hands a route (the same thing, carrying the request id). */
export interface Logger
  extends Pick<BaseLogger, 'level' | 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'> {
  child(bindings: Bindings): Logger;
}
