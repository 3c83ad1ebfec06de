import { describe, expect, it } from 'vitest';
import { loadApiConfig, loadWorkerConfig } from '../src/config.js';
import { problemsOf } from './support/config-problems.js';

const base = {
  DATABASE_URL: 'postgres://u:p@localhost:5432/db',
  REDIS_URL: 'redis://localhost:6379',
  OTP_ENCRYPTION_KEY: 'e'.repeat(32),
};
const loaders: [string, (env: Record<string, string>) => { DATABASE_PREPARED_STATEMENTS: boolean }][] = [
  [
    'api',
    (env) => loadApiConfig({ ...base, JWT_SECRET: 'j'.repeat(32), OTP_PEPPER: 'p'.repeat(32), ...env }),
  ],
  [
    'worker',
    (env) => loadWorkerConfig({ ...base, EMAIL_PROVIDER: 'console', NODE_ENV: 'development', ...env }),
  ],
];

describe.each(loaders)('DATABASE_PREPARED_STATEMENTS (%s)', (_name, load) => {
  it('is on unless set to false (empty means unset)', () => {
    expect(load({}).DATABASE_PREPARED_STATEMENTS).toBe(true);
    expect(load({ DATABASE_PREPARED_STATEMENTS: '' }).DATABASE_PREPARED_STATEMENTS).toBe(true);
    expect(load({ DATABASE_PREPARED_STATEMENTS: 'false' }).DATABASE_PREPARED_STATEMENTS).toBe(false);
    expect(load({ DATABASE_PREPARED_STATEMENTS: 'true' }).DATABASE_PREPARED_STATEMENTS).toBe(true);
  });

  it('refuses anything but true or false, naming the variable', () => {
    const problems = problemsOf(() => load({ DATABASE_PREPARED_STATEMENTS: 'off-please' }));
    expect(problems).toEqual([expect.stringMatching(/^DATABASE_PREPARED_STATEMENTS: /)]);
  });
});
