import { type LoggerOptions, pino } from 'pino';

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

export function loggerOptions(level: string, name: string): LoggerOptions {
  return { name, level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
}

export function createLogger(level: string, name: string) {
  return pino(loggerOptions(level, name));
}

export type Logger = ReturnType<typeof createLogger>;
