/**
 * `pnpm jwt:keygen`: a new ES256 signing key for access tokens, and the JWT_SIGNING_KEYS value that
 * rotates to it. The logic behind jwt-keygen.ts, with its I/O handed in. Returns the exit code: 0
 * with a key printed, 1 when the keys in use cannot be read, 2 for a wrong command line.
 */
import { parseArgs } from 'node:util';
import { jwkThumbprint, readJwtSigningKeys, type SigningJwk } from '@otp-relay/core';
import { exportJWK, generateKeyPair } from 'jose';
import { asUsage, envPathFrom, scriptArgs, UsageError } from './cli-args.js';
import { readEnvFile } from './env-file.js';
import { DEFAULT_ENV_PATH } from './paths.js';

export const JWT_KEYGEN_USAGE = `Usage: pnpm jwt:keygen [options]
  in the image: node apps/cli/dist/jwt-keygen.js [options]

Makes a new P-256 key for signing access tokens (ES256) and prints it as a private JWK, its kid the
key's RFC 7638 thumbprint; then the JWT_SIGNING_KEYS value that rotates to it: the new key first
(it signs), then the keys in use now (they keep verifying the tokens they signed). The keys in use
are read from JWT_SIGNING_KEYS or JWT_SIGNING_KEYS_FILE, or with neither set, the key derived from
JWT_SECRET: in .env at the repo root, then the environment, which wins.

Rotating: deploy the printed set; once JWT_EXPIRES_IN_SECONDS has passed, drop the old keys from
it. The output holds private keys: put it in your secret store, not in a ticket or a log.

  --kid <id>              the new key's kid (default: its thumbprint)
  --env-path <path>       the env file to read (default: .env at the repo root; --env-file is an alias)
  -h, --help`;

const FLAGS = {
  help: { type: 'boolean', short: 'h' },
  kid: { type: 'string' },
  'env-path': { type: 'string' },
  'env-file': { type: 'string' },
} as const;

export interface JwtKeygenIo {
  print(line: string): void;
  error(line: string): void;
  /** The process environment; it wins over the env file. */
  env: Record<string, string | undefined>;
}

/** A new P-256 private JWK, named by `kid` or its thumbprint. */
export async function newSigningKey(kid?: string): Promise<SigningJwk> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const { x, y, d } = await exportJWK(privateKey);
  if (!x || !y || !d) throw new Error('jose exported an EC key without x, y or d');
  const jwk = { kty: 'EC', crv: 'P-256', x, y } as const;
  return { ...jwk, d, kid: kid ?? jwkThumbprint(jwk) };
}

/** The keys in use, or why they cannot be read; none when nothing names one. */
function keysInUse(env: Record<string, string | undefined>): { keys: SigningJwk[] } | { problems: string[] } {
  const set = (name: string) => (env[name] ? env[name] : undefined);
  const secret = set('JWT_SECRET');
  const settings = {
    JWT_SECRET: secret ?? '',
    JWT_SIGNING_KEYS: set('JWT_SIGNING_KEYS'),
    JWT_SIGNING_KEYS_FILE: set('JWT_SIGNING_KEYS_FILE'),
  };
  // The API refuses a shorter JWT_SECRET, so no token was signed under a key derived from it.
  if (!settings.JWT_SIGNING_KEYS && !settings.JWT_SIGNING_KEYS_FILE && (secret?.length ?? 0) < 32) {
    return { keys: [] };
  }
  return readJwtSigningKeys(settings);
}

function parseKeygenArgs(argv: readonly string[]) {
  const { values } = asUsage(() => parseArgs({ args: scriptArgs(argv), options: FLAGS, strict: true }));
  if (values.kid !== undefined && values.kid.trim() === '') throw new UsageError('--kid must not be empty');
  return { help: values.help ?? false, kid: values.kid, envPath: envPathFrom(values, DEFAULT_ENV_PATH) };
}

export async function runJwtKeygen(argv: readonly string[], io: JwtKeygenIo): Promise<number> {
  let args: ReturnType<typeof parseKeygenArgs>;
  try {
    args = parseKeygenArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.error(`jwt:keygen: ${error.message}`);
    io.error('Run `pnpm jwt:keygen --help` for the options.');
    return 2;
  }
  if (args.help) {
    io.print(JWT_KEYGEN_USAGE);
    return 0;
  }

  const file = await readEnvFile(args.envPath);
  const current = keysInUse({ ...file?.values, ...io.env });
  if ('problems' in current) {
    io.error('jwt:keygen: the keys in use cannot be read:');
    for (const problem of current.problems) io.error(`  - ${problem}`);
    return 1;
  }
  const inUse = current.keys;
  const key = await newSigningKey(args.kid);
  if (inUse.some((old) => old.kid === key.kid)) {
    io.error(`jwt:keygen: kid "${key.kid}" is already in use; choose another --kid`);
    return 1;
  }

  io.print(`New signing key (private; kid ${key.kid}):`);
  io.print(JSON.stringify(key));
  io.print('');
  io.print(
    inUse.length === 0
      ? 'JWT_SIGNING_KEYS with it (no key in use was found):'
      : `JWT_SIGNING_KEYS with it first, then the ${inUse.length} key(s) in use (${inUse.map((old) => old.kid).join(', ')}):`,
  );
  io.print(JSON.stringify({ keys: [key, ...inUse] }));
  return 0;
}
