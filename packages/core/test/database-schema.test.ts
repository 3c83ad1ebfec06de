import { describe, expect, it } from 'vitest';
import {
  ApiConfigSchema,
  loadApiConfig,
  loadMigrateConfig,
  loadWorkerConfig,
  WorkerConfigSchema,
} from '../src/config.js';
import { DEFAULT_DATABASE_SCHEMA, databaseSchemaProblem } from '../src/database-schema.js';
import { problemsOf } from './support/config-problems.js';

const DATABASE_URL = 'postgres://u:p@localhost:5432/db';
// Enough for each loader to reach its own checks.
const base = { DATABASE_URL, REDIS_URL: 'redis://localhost:6379', OTP_ENCRYPTION_KEY: 'e'.repeat(32) };
const envs = new Map<(env: Record<string, string>) => unknown, Record<string, string>>([
  [loadApiConfig, { ...base, JWT_SECRET: 'j'.repeat(32), OTP_PEPPER: 'p'.repeat(32) }],
  [loadWorkerConfig, { ...base, EMAIL_PROVIDER: 'console', NODE_ENV: 'development' }],
  [loadMigrateConfig, { DATABASE_URL }],
]);

const schemaProblems = (load: () => unknown) =>
  problemsOf(load).filter((problem) => problem.startsWith('DATABASE_SCHEMA'));

describe('DATABASE_SCHEMA', () => {
  it('defaults to otp_relay for every process that touches Postgres', () => {
    expect(DEFAULT_DATABASE_SCHEMA).toBe('otp_relay');
    expect(loadMigrateConfig({ DATABASE_URL })).toEqual({ DATABASE_URL, DATABASE_SCHEMA: 'otp_relay' });
    // Empty means unset, as compose passes an unset variable through.
    expect(loadMigrateConfig({ DATABASE_URL, DATABASE_SCHEMA: '' }).DATABASE_SCHEMA).toBe('otp_relay');
    for (const schema of [ApiConfigSchema, WorkerConfigSchema]) {
      expect(schema.properties.DATABASE_SCHEMA).toMatchObject({ default: 'otp_relay' });
    }
  });

  it('takes a plain lower-case name', () => {
    for (const name of ['shop', 'otp_relay_2', '_private', 'a'.repeat(63)]) {
      expect(databaseSchemaProblem(name), name).toBeUndefined();
      expect(loadMigrateConfig({ DATABASE_URL, DATABASE_SCHEMA: name }).DATABASE_SCHEMA).toBe(name);
    }
  });

  it('refuses anything else at start-up, with a message saying what a name may be', () => {
    const refused = {
      Shop: /is not a plain Postgres name: use lower-case letters, digits and underscores/,
      'otp-relay': /is not a plain Postgres name/,
      '2fa': /starting with a letter or underscore/,
      'otp relay': /is not a plain Postgres name/,
      'x"; DROP SCHEMA public; --': /is not a plain Postgres name/,
      [`a${'b'.repeat(63)}`]: /at most 63 characters/,
      public: /public is where the shop's own tables live/,
      pg_otp: /reserved by Postgres/,
      information_schema: /belongs to Postgres/,
      drizzle: /migration journal of earlier versions/,
    };
    for (const [name, message] of Object.entries(refused)) {
      for (const [load, env] of envs) {
        expect(
          problemsOf(() => load(env)),
          load.name,
        ).toEqual([]);
        const problems = schemaProblems(() => load({ ...env, DATABASE_SCHEMA: name }));
        expect(problems, `${load.name} ${name}`).toHaveLength(1);
        expect(problems[0], name).toMatch(message);
      }
    }
  });
});
