/**
 * `pnpm otp:check`: checks the worker's configuration against the real providers before going live.
 * The logic behind otp-check.ts, with its I/O handed in. Returns the exit code: 0 only when every
 * check passed.
 */

import { parseArgs } from 'node:util';
import { ConfigError, createLogger, type Logger, loadWorkerConfig, type WorkerConfig } from '@otp-relay/core';
import { formatCheck } from './checks/check-result.js';
import { runChecks } from './checks/run-checks.js';
import { asUsage, envPathFrom, scriptArgs, UsageError } from './cli-args.js';
import { CONNECTION_PLACEHOLDERS, redisUnset } from './config-check.js';
import { readEnvFile } from './env-file.js';
import { DEFAULT_ENV_PATH, displayPath } from './paths.js';

export const OTP_CHECK_USAGE = `Usage: pnpm otp:check [options]

Checks the worker's configuration (.env at the repo root, then the environment, which wins) the way
it will be used: the Gmail refresh token, the Gmail API and its send scope (without sending), the
Twilio credentials, account, WhatsApp sender and template, SMS sender, and the SMTP backup's
greeting. Exit code 0 only when every check passes.

  --send-to <email|+E.164>   also send a real test message (code 123456) through the configured
                             sender of that channel: a number goes by WhatsApp when it is on, else
                             by SMS; sms:+E.164 or whatsapp:+E.164 chooses
  --env-path <path>          the env file to read (default: .env at the repo root; --env-file is an alias)
  -h, --help`;

const FLAGS = {
  help: { type: 'boolean', short: 'h' },
  'send-to': { type: 'string' },
  'env-path': { type: 'string' },
  'env-file': { type: 'string' },
} as const;

function parseCheckFlags(argv: readonly string[]) {
  return asUsage(
    () => parseArgs({ args: scriptArgs(argv), options: FLAGS, strict: true, allowPositionals: false }).values,
  );
}

export interface OtpCheckIo {
  print(line: string): void;
  error(line: string): void;
  /** The process environment; it wins over the env file, as in `pnpm dev`. */
  env: Record<string, string | undefined>;
  /** Default: a pino logger at the configuration's LOG_LEVEL. */
  logger?: Logger;
}

export async function runOtpCheck(argv: readonly string[], io: OtpCheckIo): Promise<number> {
  let flags: ReturnType<typeof parseCheckFlags>;
  let envPath: string;
  try {
    flags = parseCheckFlags(argv);
    envPath = envPathFrom(flags, DEFAULT_ENV_PATH);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.error(`otp:check: ${error.message}`);
    io.error('Run `pnpm otp:check --help` for the flags.');
    return 2;
  }
  if (flags.help) {
    io.print(OTP_CHECK_USAGE);
    return 0;
  }

  const file = await readEnvFile(envPath);
  io.print(
    `Checking the worker's configuration from ${file ? `${displayPath(envPath)} and ` : ''}the environment:`,
  );
  const env = { ...file?.values, ...io.env };
  // Not needed to talk to the providers, and `pnpm dev` starts its own when they are unset.
  const unset = (['DATABASE_URL', 'REDIS_URL'] as const).filter((name) =>
    name === 'REDIS_URL' ? redisUnset(env) : !env[name],
  );
  let config: WorkerConfig;
  try {
    config = loadWorkerConfig({
      ...env,
      ...Object.fromEntries(unset.map((name) => [name, CONNECTION_PLACEHOLDERS[name]])),
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems)
      io.print(formatCheck({ name: 'Configuration', ok: false, detail: problem }));
    io.print('The worker would refuse this configuration; fix it first (`pnpm run setup` writes one).');
    return 1;
  }
  io.print(
    formatCheck({
      name: 'Configuration',
      ok: true,
      detail: `the worker accepts it${unset.length > 0 ? ` (${unset.join(' and ')} unset: pnpm dev starts its own; a deployed worker needs them)` : ''}`,
    }),
  );

  const results = await runChecks(config, {
    sendTo: flags['send-to'],
    logger: io.logger ?? createLogger(config.LOG_LEVEL, 'otp-check'),
    onResult: (result) => io.print(formatCheck(result)),
  });
  const failed = results.filter((result) => !result.ok).length;
  const total = results.length + 1;
  io.print(failed === 0 ? `All ${total} checks passed.` : `${failed} of ${total} checks failed.`);
  return failed === 0 ? 0 : 1;
}
