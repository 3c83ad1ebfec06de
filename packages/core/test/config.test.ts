import { describe, expect, it } from 'vitest';
import {
  allowedSmsCountries,
  allowedWhatsappCountries,
  demoPageEnabled,
  loadApiConfig,
  loadWorkerConfig,
} from '../src/config.js';
import { fastifyTrustProxy, trustProxySetting } from '../src/trust-proxy.js';
import { problemsOf } from './support/config-problems.js';

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

const development = { NODE_ENV: 'development' } as const;
const production = { NODE_ENV: 'production' } as const;

describe('loadApiConfig', () => {
  it('applies the documented defaults and converts numbers and booleans', () => {
    const config = loadApiConfig({
      ...api,
      OTP_TTL_SECONDS: '300',
      OTP_DEBUG_RESPONSE: 'true',
      ...development,
    });
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
    expect(loadWorkerConfig({ ...base, EMAIL_PROVIDER: 'console', ...development }).EMAIL_PROVIDER).toBe(
      'console',
    );
    expect(
      problemsOf(() => loadWorkerConfig({ ...base, EMAIL_PROVIDER: 'console', NODE_ENV: 'production' })),
    ).toEqual([expect.stringMatching(/^EMAIL_PROVIDER:/)]);
  });
});

describe('EMAIL_PROVIDER=smtp', () => {
  const smtp = { ...base, EMAIL_PROVIDER: 'smtp', SMTP_URL: 'smtps://u:p@mail.example:465' };

  it('needs SMTP_URL (the mail server) and no Gmail settings; SMTP_BACKUP_URL is optional', () => {
    const config = loadWorkerConfig(smtp);
    expect(config.EMAIL_PROVIDER).toBe('smtp');
    expect(config.SMTP_BACKUP_URL).toBeUndefined();
    expect(
      loadWorkerConfig({ ...smtp, SMTP_BACKUP_URL: 'smtps://u:p@backup.example:465' }).SMTP_BACKUP_URL,
    ).toBe('smtps://u:p@backup.example:465');
    expect(problemsOf(() => loadWorkerConfig({ ...base, EMAIL_PROVIDER: 'smtp' }))).toEqual([
      expect.stringMatching(/^SMTP_URL: required when EMAIL_PROVIDER=smtp/),
    ]);
  });

  it('refuses SMTP_BACKUP_URL with another provider, naming what backs Gmail up instead', () => {
    expect(problemsOf(() => loadWorkerConfig({ ...gmail, SMTP_BACKUP_URL: 'smtp://127.0.0.1:25' }))).toEqual([
      expect.stringMatching(/^SMTP_BACKUP_URL: only used with EMAIL_PROVIDER=smtp \(with gmail, SMTP_URL is/),
    ]);
    expect(
      problemsOf(() =>
        loadWorkerConfig({
          ...base,
          ...development,
          EMAIL_PROVIDER: 'console',
          SMTP_BACKUP_URL: 'smtp://127.0.0.1:25',
        }),
      ),
    ).toEqual([expect.stringMatching(/^SMTP_BACKUP_URL: only used with EMAIL_PROVIDER=smtp/)]);
  });

  it('requires TLS of both servers in production, naming each', () => {
    const plain = 'smtp://u:p@mail.example:587';
    expect(
      problemsOf(() =>
        loadWorkerConfig({
          ...smtp,
          ...production,
          SMTP_URL: plain,
          SMTP_BACKUP_URL: `${plain}?requireTLS=false`,
        }),
      ),
    ).toEqual([
      expect.stringMatching(/^SMTP_URL: must require TLS in production/),
      expect.stringMatching(/^SMTP_BACKUP_URL: must require TLS in production/),
    ]);
    expect(
      problemsOf(() =>
        loadWorkerConfig({ ...smtp, ...production, SMTP_BACKUP_URL: `${plain}?requireTLS=true` }),
      ),
    ).toEqual([]);
  });
});

describe('production: the default, and its floors', () => {
  it('is what an unset NODE_ENV means, and the defaults pass its floors', () => {
    expect(loadApiConfig(api).NODE_ENV).toBe('production');
    expect(loadWorkerConfig(gmail).NODE_ENV).toBe('production');
  });

  it('refuses debug codes and console providers when NODE_ENV is unset, saying why', () => {
    expect(problemsOf(() => loadApiConfig({ ...api, OTP_DEBUG_RESPONSE: 'true' }))).toEqual([
      expect.stringMatching(/^OTP_DEBUG_RESPONSE: must be false in production/),
      expect.stringMatching(/^NODE_ENV: not set, so production applies/),
    ]);
    expect(problemsOf(() => loadApiConfig({ ...api, OTP_LENGTH: '4' }))).toEqual([
      expect.stringMatching(/^OTP_LENGTH: must be at least 6/),
      expect.stringMatching(/^NODE_ENV: not set/),
    ]);
    expect(
      problemsOf(() =>
        loadWorkerConfig({ ...base, EMAIL_PROVIDER: 'console', WHATSAPP_PROVIDER: 'console' }),
      ),
    ).toEqual([
      expect.stringMatching(/^EMAIL_PROVIDER: console/),
      expect.stringMatching(/^WHATSAPP_PROVIDER: console/),
      expect.stringMatching(/^NODE_ENV: not set/),
    ]);
  });

  it.each([
    ['OTP_LENGTH', { OTP_LENGTH: '5' }, { OTP_LENGTH: '6' }],
    ['OTP_TTL_SECONDS', { OTP_TTL_SECONDS: '601' }, { OTP_TTL_SECONDS: '600' }],
    [
      'OTP_RESEND_COOLDOWN_SECONDS',
      { OTP_RESEND_COOLDOWN_SECONDS: '29' },
      { OTP_RESEND_COOLDOWN_SECONDS: '30' },
    ],
    ['OTP_MAX_ATTEMPTS', { OTP_MAX_ATTEMPTS: '6' }, { OTP_MAX_ATTEMPTS: '5' }],
    ['JWT_EXPIRES_IN_SECONDS', { JWT_EXPIRES_IN_SECONDS: '86401' }, { JWT_EXPIRES_IN_SECONDS: '86400' }],
    [
      'ARGON2_MEMORY_COST',
      { ARGON2_MEMORY_COST: '19455', ARGON2_TIME_COST: '2' },
      { ARGON2_MEMORY_COST: '19456', ARGON2_TIME_COST: '2' },
    ],
    [
      'ARGON2_MEMORY_COST',
      { ARGON2_MEMORY_COST: '19456', ARGON2_TIME_COST: '1' },
      { ARGON2_MEMORY_COST: '47104', ARGON2_TIME_COST: '1' },
    ],
    [
      'ARGON2_MEMORY_COST',
      { ARGON2_MEMORY_COST: '7167', ARGON2_TIME_COST: '8' },
      { ARGON2_MEMORY_COST: '7168', ARGON2_TIME_COST: '8' },
    ],
    [
      'CAPTCHA_VERIFY_URL',
      { CAPTCHA_VERIFY_URL: 'http://captcha.example/siteverify' },
      { CAPTCHA_VERIFY_URL: 'https://captcha.example/siteverify' },
    ],
  ])('refuses %s past its floor, naming it, and takes the floor itself', (name, under, at) => {
    expect(problemsOf(() => loadApiConfig({ ...api, ...production, ...under }))).toEqual([
      expect.stringMatching(new RegExp(`^${name}: .*production`)),
    ]);
    expect(problemsOf(() => loadApiConfig({ ...api, ...production, ...at }))).toEqual([]);
  });

  it("takes each of OWASP's argon2id configurations", () => {
    for (const [memory, time] of [
      [47104, 1],
      [19456, 2],
      [12288, 3],
      [9216, 4],
      [7168, 5],
    ]) {
      const costs = { ARGON2_MEMORY_COST: String(memory), ARGON2_TIME_COST: String(time) };
      expect(loadApiConfig({ ...api, ...production, ...costs })).toMatchObject({
        ARGON2_MEMORY_COST: memory,
      });
    }
  });

  it('keeps no floors in test and development, where lifetimes are short on purpose', () => {
    const weak = {
      OTP_LENGTH: '4',
      OTP_TTL_SECONDS: '30',
      OTP_RESEND_COOLDOWN_SECONDS: '0',
      OTP_MAX_ATTEMPTS: '20',
      ARGON2_MEMORY_COST: '1024',
      ARGON2_TIME_COST: '1',
      JWT_EXPIRES_IN_SECONDS: '604800',
      CAPTCHA_VERIFY_URL: 'http://captcha.example/siteverify',
      TRUST_PROXY: 'true',
      WHATSAPP_PROVIDER: 'twilio',
    };
    for (const NODE_ENV of ['test', 'development']) {
      expect(problemsOf(() => loadApiConfig({ ...api, ...weak, NODE_ENV }))).toEqual([]);
      expect(
        problemsOf(() =>
          loadWorkerConfig({
            ...gmail,
            NODE_ENV,
            GMAIL_API_ROOT_URL: 'http://gmail.example/',
            SMTP_URL: 'smtp://mail.example:25',
          }),
        ),
      ).toEqual([]);
    }
  });

  it('takes http:// provider URLs to loopback hosts only', () => {
    for (const url of [
      'http://127.0.0.1:8080/',
      'http://127.8.9.10/',
      'http://localhost:9/',
      'http://[::1]:9/',
    ]) {
      const urls = {
        GMAIL_API_ROOT_URL: url,
        GOOGLE_OAUTH_TOKEN_URL: `${url}token`,
        TWILIO_API_BASE_URL: url,
      };
      expect(problemsOf(() => loadWorkerConfig({ ...gmail, ...urls }))).toEqual([]);
      expect(problemsOf(() => loadApiConfig({ ...api, CAPTCHA_VERIFY_URL: url }))).toEqual([]);
    }
    const remote = {
      GMAIL_API_ROOT_URL: 'http://gmail.example/',
      GOOGLE_OAUTH_TOKEN_URL: 'http://127.0.0.1.example/token',
      TWILIO_API_BASE_URL: 'http://10.0.0.1',
    };
    expect(problemsOf(() => loadWorkerConfig({ ...gmail, ...production, ...remote }))).toEqual([
      expect.stringMatching(/^GMAIL_API_ROOT_URL: must be an https:\/\/ URL in production/),
      expect.stringMatching(/^GOOGLE_OAUTH_TOKEN_URL: must be an https:\/\//),
      expect.stringMatching(/^TWILIO_API_BASE_URL: must be an https:\/\//),
    ]);
  });

  it('takes SMTP only with TLS required (smtps:// or requireTLS=true), or to a loopback relay', () => {
    for (const url of [
      'smtps://u:p@mail.example:465',
      'smtp://u:p@mail.example:587?requireTLS=true',
      'smtp://127.0.0.1:25',
      'smtp://localhost:1025',
    ]) {
      expect(
        problemsOf(() => loadWorkerConfig({ ...gmail, SMTP_URL: url })),
        url,
      ).toEqual([]);
    }
    for (const url of ['smtp://u:p@mail.example:587', 'smtp://u:p@mail.example:587?requireTLS=false']) {
      expect(
        problemsOf(() => loadWorkerConfig({ ...gmail, ...production, SMTP_URL: url })),
        url,
      ).toEqual([expect.stringMatching(/^SMTP_URL: must require TLS in production/)]);
    }
  });
});

describe('TRUST_PROXY', () => {
  it('takes a hop count, a list of addresses, CIDRs and named ranges, or false', () => {
    expect(trustProxySetting('1')).toBe(1);
    expect(trustProxySetting('0')).toBe(0);
    expect(trustProxySetting('10.0.0.0/8, 192.168.1.1')).toEqual(['10.0.0.0/8', '192.168.1.1']);
    expect(trustProxySetting('loopback,uniquelocal,linklocal,2001:db8::/32')).toEqual([
      'loopback',
      'uniquelocal',
      'linklocal',
      '2001:db8::/32',
    ]);
    expect(trustProxySetting('false')).toBe(false);
    expect(trustProxySetting('')).toBe(false);
    expect(loadApiConfig({ ...api, TRUST_PROXY: '2' }).TRUST_PROXY).toBe('2');
  });

  it('gives Fastify a hop count as the hop rule (Fastify itself reads a number as trusting no one)', () => {
    const trust = fastifyTrustProxy(2);
    if (typeof trust !== 'function') throw new Error('expected the hop rule');
    expect([0, 1, 2].map((hop) => trust('198.51.100.7', hop))).toEqual([true, true, false]);
    expect(fastifyTrustProxy(0)).toBe(false);
    expect(fastifyTrustProxy(['10.0.0.0/8'])).toEqual(['10.0.0.0/8']);
  });

  it('refuses true in production, naming it, and takes it elsewhere', () => {
    expect(problemsOf(() => loadApiConfig({ ...api, ...production, TRUST_PROXY: 'true' }))).toEqual([
      expect.stringMatching(/^TRUST_PROXY: true lets every client name its own IP/),
    ]);
    expect(loadApiConfig({ ...api, ...development, TRUST_PROXY: 'true' }).TRUST_PROXY).toBe('true');
    expect(trustProxySetting('true')).toBe(true);
  });

  it.each([
    'yes',
    '-1',
    '1.5',
    '1.2.3',
    '10.0.0.0/33',
    '10.0.0.0/0',
    '10.0.0.0/8/8',
    '::1/129',
    '10.0.0.1,,10.0.0.2',
    'loopback, 300.1.1.1',
    'proxy.internal',
  ])('refuses %j in any environment, naming TRUST_PROXY', (value) => {
    expect(problemsOf(() => loadApiConfig({ ...api, ...development, TRUST_PROXY: value }))).toEqual([
      expect.stringMatching(/^TRUST_PROXY: /),
    ]);
    expect(() => trustProxySetting(value)).toThrow(/^TRUST_PROXY: /);
  });
});

describe('WHATSAPP_ALLOWED_COUNTRIES', () => {
  it('must be said in production when WhatsApp is on: countries, or * for any', () => {
    const whatsapp = { ...api, ...production, WHATSAPP_PROVIDER: 'twilio' };
    expect(problemsOf(() => loadApiConfig(whatsapp))).toEqual([
      expect.stringMatching(/^WHATSAPP_ALLOWED_COUNTRIES: required in production/),
    ]);
    const anyCountry = loadApiConfig({ ...whatsapp, WHATSAPP_ALLOWED_COUNTRIES: '*' });
    expect(allowedWhatsappCountries(anyCountry)).toEqual(new Set());
    const some = loadApiConfig({ ...whatsapp, WHATSAPP_ALLOWED_COUNTRIES: 'us, gb,DE' });
    expect(allowedWhatsappCountries(some)).toEqual(new Set(['US', 'GB', 'DE']));
  });

  it('may stay unset (any country) with WhatsApp off, or outside production', () => {
    expect(problemsOf(() => loadApiConfig({ ...api, ...production }))).toEqual([]);
    const dev = loadApiConfig({ ...api, ...development, WHATSAPP_PROVIDER: 'console' });
    expect(allowedWhatsappCountries(dev)).toEqual(new Set());
  });

  it('refuses anything but alpha-2 codes or a lone *', () => {
    for (const value of ['*,US', 'USA', 'US;GB']) {
      expect(
        problemsOf(() => loadApiConfig({ ...api, WHATSAPP_ALLOWED_COUNTRIES: value })),
        value,
      ).toEqual([expect.stringMatching(/^WHATSAPP_ALLOWED_COUNTRIES: /)]);
    }
  });
});

describe('SMS', () => {
  const twilioAccount = { TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`, TWILIO_AUTH_TOKEN: 'token' };
  const messagingServiceSid = `MG${'ab'.repeat(16)}`;
  // The worker checks the SMS country list before a fallback to SMS: production wants it set.
  const smsWorker = { ...gmail, SMS_ALLOWED_COUNTRIES: 'US' };

  it('wants SMS_ALLOWED_COUNTRIES in the worker too, in production with SMS on', () => {
    const sms = { ...gmail, ...twilioAccount, SMS_PROVIDER: 'twilio', TWILIO_SMS_FROM: '+15005550006' };
    expect(problemsOf(() => loadWorkerConfig({ ...sms, NODE_ENV: 'production' }))).toEqual([
      expect.stringMatching(/^SMS_ALLOWED_COUNTRIES: required in production/),
    ]);
    expect(loadWorkerConfig({ ...sms, NODE_ENV: 'development' }).SMS_ALLOWED_COUNTRIES).toBe('');
  });

  it('is off unless SMS_PROVIDER says otherwise, and needs no Twilio settings then', () => {
    expect(loadApiConfig(api).SMS_PROVIDER).toBe('disabled');
    expect(loadWorkerConfig(gmail).SMS_PROVIDER).toBe('disabled');
  });

  it('needs the Twilio account and a sender with SMS_PROVIDER=twilio, naming each', () => {
    expect(problemsOf(() => loadWorkerConfig({ ...smsWorker, SMS_PROVIDER: 'twilio' }))).toEqual([
      'TWILIO_ACCOUNT_SID: required when SMS_PROVIDER=twilio',
      'TWILIO_AUTH_TOKEN: required when SMS_PROVIDER=twilio',
      expect.stringMatching(
        /^TWILIO_SMS_FROM, TWILIO_MESSAGING_SERVICE_SID: one is required when SMS_PROVIDER=twilio/,
      ),
    ]);
  });

  it('takes a sender number or a Messaging Service, but not both', () => {
    const sms = { ...smsWorker, ...twilioAccount, SMS_PROVIDER: 'twilio' };
    expect(loadWorkerConfig({ ...sms, TWILIO_SMS_FROM: '+15005550006' })).toMatchObject({
      TWILIO_SMS_FROM: '+15005550006',
    });
    expect(loadWorkerConfig({ ...sms, TWILIO_MESSAGING_SERVICE_SID: messagingServiceSid })).toMatchObject({
      TWILIO_MESSAGING_SERVICE_SID: messagingServiceSid,
    });
    expect(
      problemsOf(() =>
        loadWorkerConfig({
          ...sms,
          TWILIO_SMS_FROM: '+15005550006',
          TWILIO_MESSAGING_SERVICE_SID: messagingServiceSid,
        }),
      ),
    ).toEqual([expect.stringMatching(/^TWILIO_SMS_FROM, TWILIO_MESSAGING_SERVICE_SID: set only one/)]);
  });

  it('refuses a sender that is not E.164 and a service SID that is not MG and 32 hex digits', () => {
    expect(
      problemsOf(() =>
        loadWorkerConfig({
          ...smsWorker,
          TWILIO_SMS_FROM: 'whatsapp:+15005550006',
          TWILIO_MESSAGING_SERVICE_SID: 'MG1',
        }),
      ),
    ).toEqual([
      expect.stringMatching(/^TWILIO_SMS_FROM: /),
      expect.stringMatching(/^TWILIO_MESSAGING_SERVICE_SID: /),
    ]);
  });

  it('names the account settings once when WhatsApp and SMS are both on Twilio', () => {
    const both = { ...smsWorker, WHATSAPP_PROVIDER: 'twilio', SMS_PROVIDER: 'twilio' };
    expect(problemsOf(() => loadWorkerConfig(both))).toEqual([
      'TWILIO_ACCOUNT_SID: required when WHATSAPP_PROVIDER=twilio or SMS_PROVIDER=twilio',
      'TWILIO_AUTH_TOKEN: required when WHATSAPP_PROVIDER=twilio or SMS_PROVIDER=twilio',
      expect.stringMatching(/^TWILIO_WHATSAPP_FROM:/),
      expect.stringMatching(/^TWILIO_SMS_FROM, TWILIO_MESSAGING_SERVICE_SID:/),
    ]);
  });

  it('refuses the console SMS provider in production', () => {
    expect(
      problemsOf(() => loadWorkerConfig({ ...smsWorker, ...production, SMS_PROVIDER: 'console' })),
    ).toEqual([expect.stringMatching(/^SMS_PROVIDER: console/)]);
    expect(loadWorkerConfig({ ...smsWorker, ...development, SMS_PROVIDER: 'console' }).SMS_PROVIDER).toBe(
      'console',
    );
  });

  it('needs SMS_ALLOWED_COUNTRIES in production when SMS is on: countries, or * for any', () => {
    const sms = { ...api, ...production, SMS_PROVIDER: 'twilio' };
    expect(problemsOf(() => loadApiConfig(sms))).toEqual([
      expect.stringMatching(/^SMS_ALLOWED_COUNTRIES: required in production/),
    ]);
    // WhatsApp's list says nothing about SMS.
    expect(problemsOf(() => loadApiConfig({ ...sms, WHATSAPP_ALLOWED_COUNTRIES: '*' }))).toEqual([
      expect.stringMatching(/^SMS_ALLOWED_COUNTRIES: required in production/),
    ]);
    expect(allowedSmsCountries(loadApiConfig({ ...sms, SMS_ALLOWED_COUNTRIES: '*' }))).toEqual(new Set());
    const some = loadApiConfig({ ...sms, SMS_ALLOWED_COUNTRIES: 'us, ca' });
    expect(allowedSmsCountries(some)).toEqual(new Set(['US', 'CA']));
    expect(allowedWhatsappCountries(some)).toEqual(new Set());
  });

  it('may leave SMS_ALLOWED_COUNTRIES unset with SMS off, or outside production', () => {
    expect(problemsOf(() => loadApiConfig({ ...api, ...production, SMS_PROVIDER: 'disabled' }))).toEqual([]);
    expect(problemsOf(() => loadApiConfig({ ...api, ...development, SMS_PROVIDER: 'twilio' }))).toEqual([]);
    expect(problemsOf(() => loadApiConfig({ ...api, SMS_ALLOWED_COUNTRIES: 'USA' }))).toEqual([
      expect.stringMatching(/^SMS_ALLOWED_COUNTRIES: /),
    ]);
  });

  it('caps SMS sends per country on its own, 100 an hour by default', () => {
    expect(loadApiConfig(api)).toMatchObject({
      SMS_COUNTRY_HOURLY_CAP: 100,
      WHATSAPP_COUNTRY_HOURLY_CAP: 100,
    });
    expect(loadApiConfig({ ...api, SMS_COUNTRY_HOURLY_CAP: '5' }).SMS_COUNTRY_HOURLY_CAP).toBe(5);
  });
});

describe('CAPTCHA_PROVIDER', () => {
  it('needs CAPTCHA_SECRET_KEY, naming it', () => {
    expect(problemsOf(() => loadApiConfig({ ...api, CAPTCHA_PROVIDER: 'turnstile' }))).toEqual([
      'CAPTCHA_SECRET_KEY: required when CAPTCHA_PROVIDER=turnstile',
    ]);
    expect(loadApiConfig({ ...api, CAPTCHA_PROVIDER: 'hcaptcha', CAPTCHA_SECRET_KEY: 'k' })).toMatchObject({
      CAPTCHA_PROVIDER: 'hcaptcha',
    });
  });
});

describe('DEMO_PAGE', () => {
  it('is on in development and off elsewhere unless set', () => {
    expect(demoPageEnabled(loadApiConfig({ ...api, NODE_ENV: 'development' }))).toBe(true);
    expect(demoPageEnabled(loadApiConfig({ ...api, NODE_ENV: 'test' }))).toBe(false);
    expect(demoPageEnabled(loadApiConfig(api))).toBe(false);
  });

  it('says what it is when set: true serves the page in production too, false hides it in development', () => {
    expect(demoPageEnabled(loadApiConfig({ ...api, DEMO_PAGE: 'true' }))).toBe(true);
    expect(demoPageEnabled(loadApiConfig({ ...api, NODE_ENV: 'development', DEMO_PAGE: 'false' }))).toBe(
      false,
    );
    // Empty counts as unset, as everywhere.
    expect(demoPageEnabled(loadApiConfig({ ...api, NODE_ENV: 'development', DEMO_PAGE: '' }))).toBe(true);
  });

  it('refuses anything but true or false, naming it', () => {
    expect(problemsOf(() => loadApiConfig({ ...api, DEMO_PAGE: 'yes please' }))).toEqual([
      expect.stringMatching(/^DEMO_PAGE: /),
    ]);
  });
});

describe('docs/configuration.md', () => {
  it('documents every configuration variable', async () => {
    const { readFile } = await import('node:fs/promises');
    const { ApiConfigSchema, WorkerConfigSchema } = await import('../src/config.js');
    const reference = await readFile(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
    const names = [...Object.keys(ApiConfigSchema.properties), ...Object.keys(WorkerConfigSchema.properties)];
    // In the table: a row whose first cell names the variable (alone or beside its pair).
    const rows = reference.split('\n').filter((line) => line.startsWith('| `'));
    const tabled = (name: string) => rows.some((row) => row.split('|')[1]?.includes(`\`${name}\``));
    expect(names.filter((name) => !tabled(name))).toEqual([]);
  });
});
