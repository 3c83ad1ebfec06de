import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadApiConfig, loadMigrateConfig, loadWorkerConfig } from '../src/config.js';
import { FILE_SECRET_SETTINGS, readSecretFiles } from '../src/secret-files.js';
import { problemsOf } from './support/config-problems.js';

const files = (contents: Record<string, string>) => (path: string) => {
  const content = contents[path];
  if (content === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  return content;
};

describe('readSecretFiles', () => {
  it('reads X_FILE into X, dropping one trailing newline only', () => {
    const { env, problems } = readSecretFiles(
      { JWT_SECRET_FILE: '/s/jwt', REDIS_URL_FILE: '/s/redis', OTP_PEPPER_FILE: '/s/pepper' },
      files({ '/s/jwt': 'j'.repeat(32), '/s/redis': 'redis://r:6379\r\n', '/s/pepper': 'pepper\n\n' }),
    );
    expect(problems).toEqual([]);
    expect(env).toMatchObject({
      JWT_SECRET: 'j'.repeat(32),
      REDIS_URL: 'redis://r:6379',
      OTP_PEPPER: 'pepper\n',
    });
  });

  it('refuses a setting given both inline and as a file, naming both', () => {
    const { problems } = readSecretFiles(
      { DATABASE_URL: 'postgres://a@b/c', DATABASE_URL_FILE: '/s/db' },
      files({ '/s/db': 'postgres://x@y/z' }),
    );
    expect(problems).toEqual([
      'DATABASE_URL, DATABASE_URL_FILE: set only one (the value, or the file holding it)',
    ]);
  });

  it('names the variable and the path of a file it cannot read, never its content', () => {
    const { problems } = readSecretFiles({ WEBHOOK_SECRET_FILE: '/missing/webhook' }, files({}));
    expect(problems).toEqual(['WEBHOOK_SECRET_FILE: cannot read /missing/webhook (ENOENT)']);
  });

  it('treats an empty X or X_FILE as unset, and leaves settings that are not secrets alone', () => {
    const { env, problems } = readSecretFiles(
      { JWT_SECRET: '', JWT_SECRET_FILE: '/s/jwt', PORT_FILE: '/s/port', TWILIO_AUTH_TOKEN_FILE: '' },
      files({ '/s/jwt': 'jwt', '/s/port': '80' }),
    );
    expect(problems).toEqual([]);
    expect(env.JWT_SECRET).toBe('jwt');
    expect(env.PORT).toBeUndefined();
    expect(env.TWILIO_AUTH_TOKEN).toBeUndefined();
  });

  it('leaves JWT_SIGNING_KEYS_FILE to the signing-key reader (a setting of its own)', () => {
    expect(FILE_SECRET_SETTINGS).not.toContain('JWT_SIGNING_KEYS');
  });
});

describe('the config loaders read secret files', () => {
  const folder = mkdtempSync(join(tmpdir(), 'otp-relay-secrets-'));
  const secret = (name: string, content: string) => {
    const path = join(folder, name);
    writeFileSync(path, content);
    return path;
  };
  const files = {
    DATABASE_URL_FILE: secret('database-url', 'postgres://u:p@db:5432/otp\n'),
    REDIS_URL_FILE: secret('redis-url', 'redis://redis:6379\n'),
    OTP_ENCRYPTION_KEY_FILE: secret('encryption-key', `${'e'.repeat(32)}\n`),
  };

  it('loadApiConfig takes every secret from files', () => {
    const config = loadApiConfig({
      ...files,
      JWT_SECRET_FILE: secret('jwt-secret', `${'j'.repeat(32)}\n`),
      OTP_PEPPER_FILE: secret('pepper', 'p'.repeat(32)),
      NODE_ENV: 'development',
    });
    expect(config).toMatchObject({
      DATABASE_URL: 'postgres://u:p@db:5432/otp',
      REDIS_URL: 'redis://redis:6379',
      JWT_SECRET: 'j'.repeat(32),
      OTP_PEPPER: 'p'.repeat(32),
    });
  });

  it('loadWorkerConfig sees Gmail credentials from files when checking they are there', () => {
    const config = loadWorkerConfig({
      ...files,
      EMAIL_CLIENT_ID: 'id',
      EMAIL_FROM: 'Shop <no-reply@shop.test>',
      EMAIL_CLIENT_SECRET_FILE: secret('client-secret', 'client-secret\n'),
      EMAIL_REFRESH_TOKEN_FILE: secret('refresh-token', 'refresh\n'),
      NODE_ENV: 'development',
    });
    expect(config.EMAIL_CLIENT_SECRET).toBe('client-secret');
    expect(config.EMAIL_REFRESH_TOKEN).toBe('refresh');
  });

  it('a Redis Cluster node list, whose entries may carry the password, comes from a file too', () => {
    const { REDIS_URL_FILE: _single, ...others } = files;
    const config = loadApiConfig({
      ...others,
      REDIS_CLUSTER_NODES_FILE: secret(
        'cluster-nodes',
        'redis://:s3cret@10.0.0.1:6379,redis://:s3cret@10.0.0.2:6379\n',
      ),
      JWT_SECRET: 'j'.repeat(32),
      OTP_PEPPER: 'p'.repeat(32),
      NODE_ENV: 'development',
    });
    expect(config.REDIS_CLUSTER_NODES).toBe('redis://:s3cret@10.0.0.1:6379,redis://:s3cret@10.0.0.2:6379');
    expect(config.REDIS_URL).toBeUndefined();
  });

  it('loadMigrateConfig reports an unreadable file by its variable', () => {
    expect(problemsOf(() => loadMigrateConfig({ DATABASE_URL_FILE: join(folder, 'nope') }))).toEqual([
      `DATABASE_URL_FILE: cannot read ${join(folder, 'nope')} (ENOENT)`,
    ]);
  });
});
