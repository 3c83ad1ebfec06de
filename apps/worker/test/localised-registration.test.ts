import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactPath, launchChromium } from '../../../e2e/support/browser.js';
import { post, type Stack, shopper, startStack } from '../../api/test/support/stack.js';

/**
 * A shopper's language, end to end: request-otp with `locale` through the real API, the worker
 * rendering the flow's messages, the real Gmail and Twilio clients against the fakes.
 */

const ARABIC_TEMPLATE = `HX${'a1'.repeat(16)}`;
const SPANISH_TEMPLATE = `HX${'e5'.repeat(16)}`;
const ANY_LANGUAGE_TEMPLATE = `HX${'00'.repeat(16)}`;

let stack: Stack;
let overridden: Stack;
const templatesDir = mkdtempSync(path.join(tmpdir(), 'otp-templates-'));

beforeAll(async () => {
  // The operator's folder, read when the worker starts: no build in between.
  writeFileSync(
    path.join(templatesDir, 'es.json'),
    JSON.stringify({ 'email.code.subject': '{code}: tu código para Tienda Ejemplo' }),
  );
  [stack, overridden] = await Promise.all([
    startStack({
      env: {
        TWILIO_WHATSAPP_CONTENT_SIDS: `ar=${ARABIC_TEMPLATE}, es=${SPANISH_TEMPLATE}`,
        TWILIO_WHATSAPP_CONTENT_SID: ANY_LANGUAGE_TEMPLATE,
      },
    }),
    startStack({ env: { TEMPLATES_DIR: templatesDir } }),
  ]);
  stack.startWorker();
  overridden.startWorker();
});
afterAll(() => Promise.all([stack?.close(), overridden?.close()]));

describe('locale "ar"', () => {
  it('sends a right-to-left Arabic email with the code in both parts (screenshot saved)', async () => {
    const body = shopper({ locale: 'ar' });
    const response = await post(stack.app, 'request-otp/', body);
    expect(response.statusCode, response.body).toBe(200);
    const [email] = await stack.google.waitForEmails(1, { to: body.email });
    if (!email) throw new Error('no email');

    const code = /(\d{6})/.exec(email.subject)?.[1];
    expect(code).toMatch(/^\d{6}$/);
    expect(email.subject).toContain('رمز التحقق');
    expect(email.text).toContain(`رمز التحقق الخاص بك هو: ${code}`);
    expect(email.html).toMatch(/<html lang="ar" dir="rtl"/);
    expect(email.html).toContain(String(code));
    expect(email.html).toContain('استخدم هذا الرمز لإكمال إنشاء حسابك');

    // The shopper can use it: the code in the Arabic email verifies.
    const verified = await post(stack.app, 'verify-otp/', {
      email: body.email,
      otp: code,
      verification_id: response.json().verification_id,
    });
    expect(verified.statusCode, verified.body).toBe(200);

    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 640, height: 720 } });
      await page.setContent(email.html);
      // Rendered right to left down to the code's block.
      // A string: the tests' tsconfig has no DOM types.
      expect(await page.evaluate('getComputedStyle(document.querySelector(".otp-code")).direction')).toBe(
        'rtl',
      );
      const file = artifactPath('arabic-code-email.png');
      await page.screenshot({ path: file, fullPage: true });
      console.log(`Arabic code email screenshot: ${file}`);
    } finally {
      await browser.close();
    }
  });

  it('picks the Arabic WhatsApp template for an Arabic WhatsApp registration', async () => {
    const body = shopper({ otp_method: 'whatsapp', mobile: '+1 415 555 2671', locale: 'ar' });
    expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
    const [message] = await stack.twilio.waitForMessages(1, { to: 'whatsapp:+14155552671' });
    expect(message?.contentSid).toBe(ARABIC_TEMPLATE);
    expect(message?.body).toBeUndefined();
  });

  it('leaves a locale without its own template on the single one', async () => {
    const body = shopper({ otp_method: 'whatsapp', mobile: '+1 415 555 2672', locale: 'fr' });
    expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
    const [message] = await stack.twilio.waitForMessages(1, { to: 'whatsapp:+14155552672' });
    expect(message?.contentSid).toBe(ANY_LANGUAGE_TEMPLATE);
  });
});

describe('TEMPLATES_DIR', () => {
  it("changes the Spanish subject from the operator's folder, without a rebuild", async () => {
    const body = shopper({ locale: 'es' });
    expect((await post(overridden.app, 'request-otp/', body)).statusCode).toBe(200);
    const [email] = await overridden.google.waitForEmails(1, { to: body.email });
    expect(email?.subject).toMatch(/^\d{6}: tu código para Tienda Ejemplo$/);
    // The rest of the catalogue is still the shipped Spanish one.
    expect(email?.text).toContain('Tu código de verificación es:');
  });
});
