/**
 * Argument parsing shared by the operator tools (`node:util` parseArgs), and the error for a wrong
 * command line, which the entry points answer with a message and exit code 2.
 */
import path from 'node:path';

export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * The arguments a script got, for `parseArgs`: `pnpm run setup -- --force` hands it a leading `--`,
 * which would end the options.
 */
export function scriptArgs(argv: readonly string[]): string[] {
  return argv[0] === '--' ? argv.slice(1) : [...argv];
}

/** Runs `parseArgs`, turning its complaints (unknown flag, missing value) into a UsageError. */
export function asUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/**
 * The env file a command works on: `--env-path`, or its alias `--env-file`, relative to the working
 * directory; else `fallback`. Why two names: Node 20 itself reads a script's `--env-file <path>` argument
 * and exits ("node: <path>: not found") before the script runs when that file does not exist yet
 * (nodejs/node#54232), which is exactly setup's case; `--env-path` is never touched by Node.
 */
export function envPathFrom(
  values: { 'env-path'?: string | undefined; 'env-file'?: string | undefined },
  fallback: string,
): string {
  const { 'env-path': envPath, 'env-file': envFile } = values;
  if (envPath !== undefined && envFile !== undefined && path.resolve(envPath) !== path.resolve(envFile)) {
    throw new UsageError('--env-path and --env-file name different files; give one');
  }
  const chosen = envPath ?? envFile;
  return chosen === undefined ? fallback : path.resolve(chosen);
}

/** A flag restricted to a few values. */
export function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]) {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--${flag} must be one of ${allowed.join(', ')} (got "${value}")`);
}

export function integerFlag(
  flag: string,
  value: string | undefined,
  fallback: number,
  min = 0,
  max = 65_535,
) {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new UsageError(`--${flag} must be a whole number from ${min} to ${max} (got "${value}")`);
  }
  return number;
}
