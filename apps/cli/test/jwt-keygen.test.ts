// `pnpm jwt:keygen`: a new signing key, and the JWT_SIGNING_KEYS value that rotates to it with the
// keys in use kept after it, whichever way they are configured.
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { deriveJwtSigningKey, loadApiConfig, parseJwtSigningKeySet, type SigningJwk } from '@otp-relay/core';
import { calculateJwkThumbprint } from 'jose';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/paths.js';
import { runJwtKeygen } from '../src/run-jwt-keygen.js';
import { captureIo, tempDir } from './support/cli-io.js';

const SECRET = 'a'.repeat(64);
const apiEnv = {
  DATABASE_URL: 'postgres://u:p@localhost:5432/db',
  REDIS_URL: 'redis://localhost:6379',
  OTP_ENCRYPTION_KEY: 'e'.repeat(32),
  OTP_PEPPER: 'p'.repeat(32),
  JWT_SECRET: SECRET,
};

function privateJwk(kid?: string): Record<string, string> {
  const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return { ...(jwk as Record<string, string>), ...(kid ? { kid } : {}) };
}

/** Runs the tool against an env file of `fileValues` (none: a missing file) and the environment `env`. */
async function keygen(argv: string[], env: Record<string, string> = {}, fileValues?: Record<string, string>) {
  const envPath = path.join(await tempDir(), '.env');
  if (fileValues) {
    const text = Object.entries(fileValues).map(([name, value]) => `${name}='${value}'`);
    await writeFile(envPath, `${text.join('\n')}\n`);
  }
  const io = captureIo();
  const code = await runJwtKeygen([...argv, '--env-path', envPath], { ...io, env });
  return { code, io };
}

/** The new key and the rotated set from the output. */
function printed(out: string[]): { key: SigningJwk; set: string } {
  const [keyLine, set] = out.filter((line) => line.startsWith('{'));
  if (!keyLine || !set) throw new Error(`unexpected output:\n${out.join('\n')}`);
  return { key: JSON.parse(keyLine) as SigningJwk, set };
}

function keysOf(set: string): SigningJwk[] {
  const parsed = parseJwtSigningKeySet(set, 'JWT_SIGNING_KEYS');
  if ('problems' in parsed) throw new Error(parsed.problems.join('\n'));
  return parsed.keys;
}

describe('jwt:keygen', () => {
  it('makes a new P-256 private key, kid its RFC 7638 thumbprint, and a set the API takes', async () => {
    const { code, io } = await keygen([]);
    expect(code).toBe(0);
    const { key, set } = printed(io.out);
    expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', d: expect.any(String) });
    expect(key.kid).toBe(await calculateJwkThumbprint(key));
    expect(keysOf(set)).toEqual([key]);
    expect(loadApiConfig({ ...apiEnv, JWT_SIGNING_KEYS: set }).JWT_SIGNING_KEYS).toBe(set);
    // Another run, another key.
    const again = printed((await keygen([])).io.out);
    expect(again.key.d).not.toBe(key.d);
  });

  it('with only JWT_SECRET, keeps its derived key second so tokens signed before still verify', async () => {
    const { code, io } = await keygen([], { JWT_SECRET: SECRET });
    expect(code).toBe(0);
    const { key, set } = printed(io.out);
    expect(keysOf(set)).toEqual([key, deriveJwtSigningKey(SECRET)]);
    expect(io.out.join('\n')).toContain(deriveJwtSigningKey(SECRET).kid);
  });

  it('puts the new key before the configured set, from .env, the environment or the file', async () => {
    const old = [privateJwk('2025-01'), privateJwk()];
    const oldSet = JSON.stringify({ keys: old });
    const fromEnvFile = await keygen([], {}, { JWT_SECRET: SECRET, JWT_SIGNING_KEYS: oldSet });
    const rotated = keysOf(printed(fromEnvFile.io.out).set);
    expect(rotated.slice(1)).toEqual(keysOf(oldSet));
    expect(rotated[0]?.kid).toBe(printed(fromEnvFile.io.out).key.kid);

    const keyFile = path.join(await tempDir(), 'keys.json');
    await writeFile(keyFile, oldSet);
    const fromFile = await keygen(['--kid', '2025-06'], { JWT_SIGNING_KEYS_FILE: keyFile });
    expect(fromFile.code).toBe(0);
    expect(keysOf(printed(fromFile.io.out).set).map((key) => key.kid)).toEqual([
      '2025-06',
      '2025-01',
      keysOf(oldSet)[1]?.kid,
    ]);

    // The environment wins over .env.
    const other = JSON.stringify({ keys: [privateJwk('from-env')] });
    const both = await keygen([], { JWT_SIGNING_KEYS: other }, { JWT_SIGNING_KEYS: oldSet });
    expect(
      keysOf(printed(both.io.out).set)
        .map((key) => key.kid)
        .slice(1),
    ).toEqual(['from-env']);
  });

  it('refuses a set in use that is broken, without printing its private parts', async () => {
    const broken = privateJwk();
    const { code, io } = await keygen([], {
      JWT_SIGNING_KEYS: JSON.stringify({ keys: [{ ...broken, crv: 'P-384' }] }),
    });
    expect(code).toBe(1);
    expect(io.out).toEqual([]);
    expect(io.err.join('\n')).toMatch(/keys in use cannot be read[\s\S]*keys\[0\]: must be an EC P-256 key/);
    expect(io.err.join('\n')).not.toContain(broken.d);
  });

  it('refuses a --kid already in use, an empty one and unknown flags', async () => {
    const taken = await keygen(['--kid', 'k1'], {
      JWT_SIGNING_KEYS: JSON.stringify({ keys: [privateJwk('k1')] }),
    });
    expect(taken.code).toBe(1);
    expect(taken.io.err.join('\n')).toMatch(/kid "k1" is already in use/);
    expect((await keygen(['--kid', ' '])).code).toBe(2);
    const unknown = await keygen(['--rsa']);
    expect(unknown.code).toBe(2);
    expect(unknown.io.err.join('\n')).toMatch(/--rsa/);
    const help = await keygen(['--help']);
    expect(help.code).toBe(0);
    expect(help.io.out.join('\n')).toMatch(/Usage: pnpm jwt:keygen/);
  });

  it('runs as the script does', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@otp-relay/source',
        'apps/cli/src/jwt-keygen.ts',
        '--env-path',
        path.join(await tempDir(), 'missing.env'),
      ],
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH, JWT_SECRET: SECRET }, stdio: 'pipe' },
    );
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += String(chunk);
    });
    const [exitCode] = await once(child, 'exit');
    expect(exitCode).toBe(0);
    const { set } = printed(stdout.split('\n'));
    expect(keysOf(set)[1]).toEqual(deriveJwtSigningKey(SECRET));
  });
});
