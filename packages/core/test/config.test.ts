import { describe, expect, it } from 'vitest';
import { ConfigError, loadApiConfig, loadWorkerConfig } from '../src/config.js';

const base = {
  DATABASE_URL: 'postgres://u:p@localhost:5432/db',
  REDIS_URL: 'redis://localhost:6379',
  OTP_ENCRYPTION_KEY: 'e'.repeat(32),
};
const api = { ...base, JWT_SECRET: 'j'.repeat(32), OTP_PEPPER: 'p'.repeat(32) };
const gmail = {
  ...base,
  EMAIL_CLIENT_ID: 'id',
  EMAIL_CLIENT_SECRET: 'secret',
  EMAIL_REFRESH_TOKEN: 'refresh',
  EMAIL_FROM: 'Shop <no-reply@shop.test>',
};

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadApiConfig', () => {
  it('applies the documented defaults and converts numbers and booleans', () => {
    const config = loadApiConfig({ ...api, OTP_TTL_SECONDS: '300', OTP_DEBUG_RESPONSE: 'true' });
    expect(config).toMatchObject({
      NODE_ENV: 'development',
      PORT: 3000,
      OTP_TTL_SECONDS: 300,
      OTP_LENGTH: 6,
      OTP_MAX_ATTEMPTS: 5,
      OTP_RESEND_COOLDOWN_SECONDS: 60,
      OTP_DEBUG_RESPONSE: true,
      ARGON2_MEMORY_COST: 19456,
      ARGON2_TIME_COST: 2,
      ARGON2_PARALLELISM: 1,
      DELIVERY_MAX_ATTEMPTS: 8,
    });
  });

  it('names every missing variable', () => {
    const problems = problemsOf(() => loadApiConfig({}));
    expect(problems.join('\n')).toMatch(/DATABASE_URL/);
    expect(problems.join('\n')).toMatch(/JWT_SECRET/);
    expect(problems.join('\n')).toMatch(/OTP_PEPPER/);
    expect(problems.join('\n')).toMatch(/OTP_ENCRYPTION_KEY/);
  });

  it('names a short secret and a malformed number', () => {
    const problems = problemsOf(() =>
      loadApiConfig({ ...api, OTP_PEPPER: 'short', OTP_TTL_SECONDS: 'soon' }),
    );
    expect(problems.some((problem) => problem.startsWith('OTP_PEPPER:'))).toBe(true);
    expect(problems.some((problem) => problem.startsWith('OTP_TTL_SECONDS:'))).toBe(true);
  });

  it('refuses secrets under 32 characters, naming each', () => {
    const problems = problemsOf(() =>
      loadApiConfig({
        ...api,
        NODE_ENV: 'production',
        JWT_SECRET: 'x'.repeat(31),
        OTP_ENCRYPTION_KEY: 'short',
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^OTP_ENCRYPTION_KEY: .*32/),
      expect.stringMatching(/^JWT_SECRET: .*32/),
    ]);
  });

  it('refuses debug codes in production', () => {
    expect(
      problemsOf(() => loadApiConfig({ ...api, NODE_ENV: 'production', OTP_DEBUG_RESPONSE: 'true' })),
    ).toEqual([expect.stringMatching(/^OTP_DEBUG_RESPONSE:/)]);
  });

  it('treats empty strings as unset', () => {
    expect(loadApiConfig({ ...api, PORT: '' }).PORT).toBe(3000);
  });
});

describe('loadWorkerConfig', () => {
  it('requires the Gmail credentials when EMAIL_PROVIDER=gmail (the default)', () => {
    const problems = problemsOf(() => loadWorkerConfig(base));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^EMAIL_CLIENT_ID:/),
        expect.stringMatching(/^EMAIL_CLIENT_SECRET:/),
        expect.stringMatching(/^EMAIL_REFRESH_TOKEN:/),
        expect.stringMatching(/^EMAIL_FROM:/),
      ]),
    );
    expect(loadWorkerConfig(gmail).GMAIL_API_ROOT_URL).toBe('https://gmail.googleapis.com/');
  });

  it('requires the Twilio settings when WHATSAPP_PROVIDER=twilio', () => {
    expect(problemsOf(() => loadWorkerConfig({ ...gmail, WHATSAPP_PROVIDER: 'twilio' }))).toEqual([
      expect.stringMatching(/^TWILIO_ACCOUNT_SID:/),
      expect.stringMatching(/^TWILIO_AUTH_TOKEN:/),
      expect.stringMatching(/^TWILIO_WHATSAPP_FROM:/),
    ]);
  });

  it('takes a notice template SID for WhatsApp, and refuses one that is not HX and 32 hex digits', () => {
    const sid = `HX${'ab'.repeat(16)}`;
    expect(loadWorkerConfig({ ...gmail, TWILIO_WHATSAPP_NOTICE_CONTENT_SID: sid })).toMatchObject({
      TWILIO_WHATSAPP_NOTICE_CONTENT_SID: sid,
    });
    expect(
      problemsOf(() => loadWorkerConfig({ ...gmail, TWILIO_WHATSAPP_NOTICE_CONTENT_SID: 'HX1' })),
    ).toEqual([expect.stringMatching(/^TWILIO_WHATSAPP_NOTICE_CONTENT_SID:/)]);
  });

  it('refuses the console WhatsApp provider in production', () => {
    expect(
      problemsOf(() => loadWorkerConfig({ ...gmail, NODE_ENV: 'production', WHATSAPP_PROVIDER: 'console' })),
    ).toEqual([expect.stringMatching(/^WHATSAPP_PROVIDER: console/)]);
  });

  it('runs without credentials on the console provider, but not in production', () => {
    expect(loadWorkerConfig({ ...base, EMAIL_PROVIDER: 'console' }).EMAIL_PROVIDER).toBe('console');
    expect(
      problemsOf(() => loadWorkerConfig({ ...base, EMAIL_PROVIDER: 'console', NODE_ENV: 'production' })),
    ).toEqual([expect.stringMatching(/^EMAIL_PROVIDER:/)]);
  });
});

describe('the README', () => {
  it('documents every configuration variable', async () => {
    const { readFile } = await import('node:fs/promises');
    const { ApiConfigSchema, WorkerConfigSchema } = await import('../src/config.js');
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    const names = [...Object.keys(ApiConfigSchema.properties), ...Object.keys(WorkerConfigSchema.properties)];
    expect(names.filter((name) => !readme.includes(`\`${name}\``))).toEqual([]);
  });
});
