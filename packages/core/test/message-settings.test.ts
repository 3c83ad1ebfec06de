import { describe, expect, it } from 'vitest';
import { loadMessagesConfig, loadWorkerConfig } from '../src/config.js';
import { localeContentSids, parseLocaleContentSids } from '../src/whatsapp-content-sids.js';
import { problemsOf } from './support/config-problems.js';

const worker = {
  DATABASE_URL: 'postgres://u:p@localhost:5432/db',
  REDIS_URL: 'redis://localhost:6379',
  OTP_ENCRYPTION_KEY: 'e'.repeat(32),
  EMAIL_CLIENT_ID: 'id',
  EMAIL_CLIENT_SECRET: 'secret',
  EMAIL_REFRESH_TOKEN: 'refresh',
  EMAIL_FROM: 'Shop <no-reply@shop.test>',
  NODE_ENV: 'development',
};
const sid = (digit: string) => `HX${digit.repeat(32)}`;

describe('TWILIO_WHATSAPP_CONTENT_SIDS', () => {
  it('maps each listed locale to its template', () => {
    const config = loadWorkerConfig({
      ...worker,
      TWILIO_WHATSAPP_CONTENT_SIDS: `es=${sid('1')}, ar = ${sid('2')}`,
    });
    expect(localeContentSids(config.TWILIO_WHATSAPP_CONTENT_SIDS)).toEqual(
      new Map([
        ['es', sid('1')],
        ['ar', sid('2')],
      ]),
    );
    expect(localeContentSids(loadWorkerConfig(worker).TWILIO_WHATSAPP_CONTENT_SIDS).size).toBe(0);
  });

  it('refuses a wrong form, an unsupported locale and a locale given twice, naming the setting', () => {
    expect(parseLocaleContentSids(`es=${sid('1')},es=${sid('2')},xx=${sid('3')},fr=HX1,de`).problems).toEqual(
      [
        '"es" is given twice',
        '"xx" is not a supported locale',
        '"fr=HX1" is not locale=HX followed by 32 hex digits',
        '"de" is not locale=HX followed by 32 hex digits',
      ],
    );
    expect(
      problemsOf(() =>
        loadWorkerConfig({ ...worker, TWILIO_WHATSAPP_NOTICE_CONTENT_SIDS: `pt=${sid('1')}` }),
      ),
    ).toEqual(['TWILIO_WHATSAPP_NOTICE_CONTENT_SIDS: "pt" is not a supported locale']);
  });
});

describe('BRAND_*', () => {
  it('defaults to no name (neutral wording) and a blue', () => {
    expect(loadWorkerConfig(worker)).toMatchObject({ BRAND_COLOR: '#1f6feb' });
    expect(loadWorkerConfig(worker).BRAND_NAME).toBeUndefined();
  });

  it('refuses a colour that is not #rrggbb and URLs that are not http(s)', () => {
    for (const [name, value] of [
      ['BRAND_COLOR', 'red'],
      ['BRAND_COLOR', '#fff'],
      ['BRAND_LOGO_URL', 'javascript:alert(1)'],
      ['BRAND_SUPPORT_URL', 'https://shop.example/"><script>'],
      ['BRAND_NAME', 'Shop <b>'],
      ['BRAND_NAME', '{brand}'],
    ] as const) {
      expect(
        problemsOf(() => loadWorkerConfig({ ...worker, [name]: value })),
        `${name}=${value}`,
      ).toEqual([expect.stringMatching(new RegExp(`^${name}: `))]);
    }
  });

  it('wants https for the logo and the support page in production', () => {
    const production = {
      ...worker,
      NODE_ENV: 'production',
      BRAND_LOGO_URL: 'http://shop.example/logo.png',
      BRAND_SUPPORT_URL: 'http://127.0.0.1/help',
    };
    expect(problemsOf(() => loadWorkerConfig(production))).toEqual(
      expect.arrayContaining([
        'BRAND_LOGO_URL: must be an https:// URL in production',
        'BRAND_SUPPORT_URL: must be an https:// URL in production',
      ]),
    );
  });

  it('messages:render reads only the brand and TEMPLATES_DIR', () => {
    expect(loadMessagesConfig({ BRAND_NAME: 'Acme', TEMPLATES_DIR: '/etc/otp' })).toEqual({
      BRAND_NAME: 'Acme',
      BRAND_COLOR: '#1f6feb',
      TEMPLATES_DIR: '/etc/otp',
    });
  });
});
