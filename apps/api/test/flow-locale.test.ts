import { registrationFlows } from '@otp-relay/db';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, shopper, startStack } from './support/stack.js';

/**
 * request-otp chooses the flow's language (body `locale`, Accept-Language, the phone's country,
 * English), keeps it on the flow and says it; a resend keeps it; no header can make it fail.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    env: { OTP_RESEND_COOLDOWN_SECONDS: '0', WHATSAPP_ALLOWED_COUNTRIES: '', SMS_ALLOWED_COUNTRIES: '' },
  });
  stack.startWorker();
});
afterAll(() => stack.close());

function requestOtp(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return stack.app.inject({ method: 'POST', url: '/api/accounts/request-otp/', headers, payload: body });
}

async function storedLocale(verificationId: string): Promise<string | undefined> {
  const [flow] = await stack.db.db
    .select({ locale: registrationFlows.locale })
    .from(registrationFlows)
    .where(eq(registrationFlows.verificationId, verificationId));
  return flow?.locale;
}

async function opened(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const answer = await requestOtp(body, headers);
  expect(answer.statusCode, answer.body).toBe(200);
  const { verification_id: id, locale } = answer.json() as { verification_id: string; locale: string };
  expect(await storedLocale(id)).toBe(locale);
  return { id, locale };
}

describe('the flow locale', () => {
  it('is the body locale, negotiated to a supported one', async () => {
    expect((await opened(shopper({ locale: 'ar' }))).locale).toBe('ar');
    expect((await opened(shopper({ locale: 'pt' }))).locale).toBe('pt-BR');
    expect((await opened(shopper({ locale: 'es-MX' }), { 'accept-language': 'ja' })).locale).toBe('es');
  });

  it('comes from Accept-Language without a body locale (es-MX,es;q=0.9 → es), and the email is Spanish', async () => {
    const body = shopper();
    expect((await opened(body, { 'accept-language': 'es-MX,es;q=0.9' })).locale).toBe('es');
    const [email] = await stack.google.waitForEmails(1, { to: body.email });
    expect(email?.subject).toMatch(/^\d{6} es tu código de verificación$/);
  });

  it('falls back to English for an unknown locale, and so does the email', async () => {
    const body = shopper({ locale: 'xx' });
    expect((await opened(body)).locale).toBe('en');
    const [email] = await stack.google.waitForEmails(1, { to: body.email });
    expect(email?.subject).toMatch(/^\d{6} is your verification code$/);
    expect((await opened(shopper({ locale: 'tlh' }))).locale).toBe('en');
    expect((await opened(shopper(), { 'accept-language': 'xx' })).locale).toBe('en');
    expect((await opened(shopper())).locale).toBe('en');
  });

  it("takes the phone's country as the last hint for WhatsApp and SMS, never for email", async () => {
    const brazilian = '+55 11 91234-5678';
    const bySms = await opened(shopper({ otp_method: 'sms', mobile: brazilian }));
    expect(bySms.locale).toBe('pt-BR');
    const byWhatsApp = await opened(shopper({ otp_method: 'whatsapp', mobile: '+52 55 1234 5678' }));
    expect(byWhatsApp.locale).toBe('es');
    const byEmail = await opened(shopper({ otp_method: 'email', mobile: '+55 11 91234-5679' }));
    expect(byEmail.locale).toBe('en');
    // The header still comes first.
    const told = await opened(shopper({ otp_method: 'sms', mobile: '+55 21 91234-5670' }), {
      'accept-language': 'fr',
    });
    expect(told.locale).toBe('fr');
  });

  it('refuses a malformed tag with 400 naming locale', async () => {
    for (const locale of ['not a tag', 'en_US_', '12', '']) {
      const answer = await requestOtp(shopper({ locale }));
      expect(answer.statusCode, locale).toBe(400);
      expect(answer.json(), locale).toMatchObject({
        code: 'VALIDATION_ERROR',
        errors: { locale: { code: expect.any(String), message: expect.any(String) } },
      });
    }
    const malformed = await requestOtp(shopper({ locale: 'en_US_' }));
    expect(malformed.json().errors.locale).toMatchObject({
      code: 'invalid_format',
      params: { format: 'locale' },
    });
  });

  it('is kept by a resend, which takes no locale of its own', async () => {
    const body = shopper({ locale: 'ja' });
    const { id } = await opened(body);
    const resend = (payload: Record<string, unknown>) =>
      stack.app.inject({
        method: 'POST',
        url: '/api/accounts/resend-otp/',
        headers: { 'accept-language': 'de' },
        payload: { email: body.email, otp_method: 'email', verification_id: id, ...payload },
      });
    expect((await resend({})).statusCode).toBe(200);
    expect(await storedLocale(id)).toBe('ja');
    const withLocale = await resend({ locale: 'de' });
    expect(withLocale.statusCode).toBe(400);
    expect(withLocale.json().errors.locale).toMatchObject({ code: 'unknown_field' });
    expect(await storedLocale(id)).toBe('ja');
  });

  it('is shown by the status endpoint', async () => {
    const { id } = await opened(shopper({ locale: 'zh-CN' }));
    const status = await stack.app.inject({ method: 'GET', url: `/api/accounts/verifications/${id}` });
    expect(status.json().verification.locale).toBe('zh-CN');
  });
});

describe('Accept-Language from an attacker', () => {
  it.each([
    ['a huge header', `${'xx-aaaaaaaa;q=0.9,'.repeat(400)}es`],
    ['many tags', Array.from({ length: 300 }, (_, i) => `x${i % 10}-a${i}`).join(',')],
    ['invalid q values', 'es;q=2,fr;q=abc,de;q=-1,ja;q=NaN,it;q=1e3,nl;q='],
    ['garbage', '\u00e9\u00e9;;;,,,;q=;=,*,*;q=1'],
    ['a tag too long', `en-${'a'.repeat(2000)}`],
  ])('%s: no 5xx, the flow falls back to English', async (_name, header) => {
    const answer = await requestOtp(shopper(), { 'accept-language': header });
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json().locale).toBe('en');
  });
});
