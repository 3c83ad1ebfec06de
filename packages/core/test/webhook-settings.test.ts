import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadApiConfig, loadWorkerConfig } from '../src/config.js';
import { webhookRetryDelaysMs, webhookSecrets } from '../src/webhook-settings.js';
import { problemsOf } from './support/config-problems.js';

const worker = {
  DATABASE_URL: 'postgres://u:p@localhost:5432/db',
  REDIS_URL: 'redis://localhost:6379',
  OTP_ENCRYPTION_KEY: 'e'.repeat(32),
  EMAIL_PROVIDER: 'smtp',
  SMTP_URL: 'smtps://u:p@mail.example:465',
  NODE_ENV: 'production',
};
const secret = (bytes = 32) => `whsec_${randomBytes(bytes).toString('base64')}`;

describe('webhook settings', () => {
  it('are off by default, with documented defaults for the rest', () => {
    const config = loadWorkerConfig(worker);
    expect(config.WEBHOOK_URL).toBeUndefined();
    expect(config).toMatchObject({ WEBHOOK_TIMEOUT_SECONDS: 10, WEBHOOK_CONCURRENCY: 10 });
    // Standard Webhooks' suggested schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
    expect(webhookRetryDelaysMs(config)).toEqual(
      [5, 300, 1800, 7200, 18_000, 36_000, 36_000].map((s) => s * 1000),
    );
  });

  it('need WEBHOOK_SECRET with WEBHOOK_URL, saying its form', () => {
    expect(
      problemsOf(() => loadWorkerConfig({ ...worker, WEBHOOK_URL: 'https://shop.example/hooks' })),
    ).toEqual([expect.stringMatching(/^WEBHOOK_SECRET: required when WEBHOOK_URL is set \(whsec_/)]);
  });

  it('take several comma-separated secrets during a rotation', () => {
    const [current, previous] = [secret(), secret(24)];
    const config = loadWorkerConfig({
      ...worker,
      WEBHOOK_URL: 'https://shop.example/hooks',
      WEBHOOK_SECRET: ` ${current} ,${previous}`,
    });
    expect(webhookSecrets(config)).toEqual([current, previous]);
  });

  it.each([
    ['no prefix', randomBytes(32).toString('base64')],
    ['not base64', 'whsec_not*base64!'],
    ['too short', secret(8)],
    ['too long', secret(65)],
  ])('refuse a secret with %s, without quoting it', (_what, bad) => {
    const problems = problemsOf(() =>
      loadWorkerConfig({
        ...worker,
        WEBHOOK_URL: 'https://shop.example/hooks',
        WEBHOOK_SECRET: `${secret()},${bad}`,
      }),
    );
    expect(problems).toEqual([expect.stringMatching(/^WEBHOOK_SECRET: secret 2 /)]);
    expect(problems.join()).not.toContain(bad.slice(6));
  });

  it('refuse an http WEBHOOK_URL in production (but for a loopback host), in the worker and the API', () => {
    const plain = { WEBHOOK_URL: 'http://shop.example/hooks', WEBHOOK_SECRET: secret() };
    expect(problemsOf(() => loadWorkerConfig({ ...worker, ...plain }))).toEqual([
      expect.stringMatching(/^WEBHOOK_URL: must be an https:\/\/ URL in production/),
    ]);
    const api = { ...worker, JWT_SECRET: 'j'.repeat(32), OTP_PEPPER: 'p'.repeat(32), ...plain };
    expect(problemsOf(() => loadApiConfig(api)).filter((p) => p.startsWith('WEBHOOK_URL'))).toHaveLength(1);
    expect(
      problemsOf(() => loadWorkerConfig({ ...worker, ...plain, WEBHOOK_URL: 'http://127.0.0.1:8080/hooks' })),
    ).toEqual([]);
    expect(problemsOf(() => loadWorkerConfig({ ...worker, ...plain, NODE_ENV: 'development' }))).toEqual([]);
  });

  it('read WEBHOOK_RETRY_SCHEDULE as seconds, and refuse anything else', () => {
    expect(webhookRetryDelaysMs(loadWorkerConfig({ ...worker, WEBHOOK_RETRY_SCHEDULE: '0, 1,60' }))).toEqual([
      0, 1000, 60_000,
    ]);
    expect(problemsOf(() => loadWorkerConfig({ ...worker, WEBHOOK_RETRY_SCHEDULE: '5m,1h' }))).toEqual([
      expect.stringMatching(/^WEBHOOK_RETRY_SCHEDULE: /),
    ]);
  });
});
