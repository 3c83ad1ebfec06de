import { type BaseLogger, type Bindings, type LoggerOptions, pino } from 'pino';

/** Paths pino blanks in every log line: codes, passwords, tokens and provider secrets never reach a log. */
export const REDACTED_PATHS = [
  'password',
  'otp',
  'code',
  'debug_otp',
  'token',
  'accessToken',
  'refreshToken',
  '*.password',
  '*.otp',
  '*.code',
  '*.debug_otp',
  '*.token',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'config.JWT_SECRET',
  'config.OTP_PEPPER',
  'config.OTP_ENCRYPTION_KEY',
  'config.EMAIL_CLIENT_SECRET',
  'config.EMAIL_REFRESH_TOKEN',
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

const EMAIL_IN_TEXT = /[^\s@'"<>(),;:]+@[^\s@'"<>(),;:]+\.[A-Za-z]{2,}/g;
const PHONE_IN_TEXT = /\+\d[\d\s().-]{6,}\d/g;

/** Free text (an error message from a provider, say) with any address or number in it masked. */
export function maskContactsIn(text: string): string {
  return text
    .replace(EMAIL_IN_TEXT, maskContact)
    .replace(PHONE_IN_TEXT, (phone) => maskContact(phone.replace(/[^\d+]/g, '')));
}

/** pino's error serializer, with contacts in messages and stacks masked. */
function serializeError(error: unknown) {
  const serialized = pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
  for (const key of ['message', 'stack'] as const) {
    if (typeof serialized[key] === 'string') serialized[key] = maskContactsIn(serialized[key]);
  }
  return serialized;
}

export function loggerOptions(level: string, name: string): LoggerOptions {
  return {
    name,
    level,
    serializers: { err: serializeError },
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
