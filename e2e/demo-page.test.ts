import { randomBytes } from 'node:crypto';
import { createOtpRelayClient, OtpRelayError } from '@otp-relay/client';
import { type FakeCaptcha, startFakeCaptcha } from '@otp-relay/testkit';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { artifactPath, collectPageProblems, launchChromium, waitForText } from './support/browser.js';
import {
  apiClient,
  freePort,
  ready,
  registration,
  SERVICE_SCRIPTS,
  serviceEnv,
  startProcess,
  useE2eContext,
} from './support/processes.js';

/**
 * The demo signup page (`GET /`, apps/demo built, served because NODE_ENV=development turns
 * DEMO_PAGE on) in a real browser, against the built API and worker: codes by email through the
 * fake Google, also shown on the page (`OTP_DEBUG_RESPONSE=true`).
 */

const e2e = useE2eContext();
let browser: Browser;
let baseUrl = '';
let port = 0;
/** The services' environment, for another API beside them. */
let env: NodeJS.ProcessEnv = {};
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  // First, so a missing Chromium fails the file at once with how to install it.
  browser = await launchChromium();
  port = await freePort();
  env = serviceEnv({
    databaseUrl: e2e.database.url,
    redisUrl: e2e.services.redisUrl,
    google: e2e.google,
    port,
    extra: { NODE_ENV: 'development', OTP_DEBUG_RESPONSE: 'true' },
  });
  const api = startProcess(SERVICE_SCRIPTS.api, env);
  const worker = startProcess(SERVICE_SCRIPTS.worker, env);
  await Promise.all([ready.api(api), ready.worker(worker)]);
  baseUrl = `http://127.0.0.1:${port}`;
});

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
});

afterAll(async () => {
  await browser?.close();
});

interface Person {
  email: string;
  username: string;
  firstName: string;
  lastName: string;
  password: string;
}

function person(): Person {
  const id = randomBytes(4).toString('hex');
  return {
    email: `zoe-${id}@example.com`,
    username: `zoe_${id}`,
    firstName: 'Zoë',
    lastName: "O'Neill",
    password: 'a long enough password',
  };
}

/** A fresh browser context on the page, screenshotted if the test fails. */
async function openPage(
  viewport = { width: 1024, height: 900 },
  options: { url?: string; prepare?: (context: BrowserContext) => Promise<unknown> } = {},
): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport });
  contexts.push(context);
  await options.prepare?.(context);
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems = collectPageProblems(page);
  onTestFailed(async ({ task }) => {
    const file = artifactPath(`demo-page-failed-${task.name.replace(/\W+/g, '-').slice(0, 60)}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    console.log(`screenshot of the failure: ${file}`);
  });
  await page.goto(`${options.url ?? baseUrl}/`);
  await page.getByTestId('register-form').waitFor();
  return { page, problems };
}

async function fillRegistration(page: Page, who: Person) {
  await page.getByLabel('Email address', { exact: true }).fill(who.email);
  await page.getByLabel('Username', { exact: true }).fill(who.username);
  await page.getByLabel('First name', { exact: true }).fill(who.firstName);
  await page.getByLabel('Last name', { exact: true }).fill(who.lastName);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
}

/** Submits the registration and waits for the code step; answers the code the page shows. */
async function requestCode(page: Page): Promise<string> {
  await page.getByTestId('register-submit').click();
  await page.getByTestId('code-step').waitFor();
  const hint = await waitForText(page.getByTestId('debug-hint'), /your code is \d+/);
  const shown = /Development: your code is (\d+)/.exec(hint)?.[1];
  expect(shown, hint).toMatch(/^\d{6}$/);
  return shown as string;
}

async function emailedCode(to: string): Promise<string> {
  const [message] = await e2e.google.waitForEmails(1, { to });
  const code = /code is: (\d{6})/.exec(message?.text ?? '')?.[1];
  expect(code, message?.text).toMatch(/^\d{6}$/);
  return code as string;
}

async function enterCode(page: Page, code: string) {
  await page.getByLabel('Verification code', { exact: true }).fill(code);
  await page.getByTestId('verify-submit').click();
}

describe('the demo signup page', () => {
  it('is served as its built files under a CSP that allows no inline script or style', async () => {
    const answers = await Promise.all(
      ['/', '/demo.js', '/demo.css', '/demo-settings.json'].map(async (path) => {
        const response = await fetch(`${baseUrl}${path}`);
        expect(response.status, path).toBe(200);
        const csp = response.headers.get('content-security-policy') ?? '';
        expect(csp).toContain("default-src 'self'");
        expect(csp).toContain("script-src 'self';");
        expect(csp).toContain("style-src 'self';");
        expect(csp).not.toContain('unsafe-inline');
        return { type: response.headers.get('content-type'), body: await response.text() };
      }),
    );
    expect(answers.map((answer) => answer.type)).toEqual([
      'text/html; charset=utf-8',
      'text/javascript; charset=utf-8',
      'text/css; charset=utf-8',
      'application/json; charset=utf-8',
    ]);
    const [html, script] = answers;
    // No inline script: one module script, the built bundle.
    expect(html?.body.match(/<script\b[^>]*>/g)).toEqual(['<script type="module" src="/demo.js">']);
    expect(JSON.parse(answers[3]?.body ?? '')).toEqual({ captcha: null });
    // The page talks to the API through @otp-relay/client, bundled in: no fetch of its own.
    expect(script?.body).toContain('function createOtpRelayClient(');
    expect(script?.body).toContain('this.name = "OtpRelayError"');
    expect(script?.body.match(/fetch\(["'`]\/api/g)).toBeNull();
  });

  it('signs up: details, the emailed code, and the verified account', async () => {
    const { page, problems } = await openPage();
    const who = person();
    await fillRegistration(page, who);
    const opened = page.waitForResponse((response) => response.url().endsWith('/api/accounts/request-otp/'));
    const shown = await requestCode(page);
    const polled = page.waitForRequest((request) => request.url().includes('/api/accounts/verifications/'));
    const { verification_id: verificationId } = (await (await opened).json()) as { verification_id: string };
    expect(verificationId).toMatch(/^vf_/);

    expect(await page.getByTestId('code-sent-to').textContent()).toContain(who.email);
    // The page follows its code: it polls the flow's status by its id and says where the code is.
    const poll = await polled;
    expect([poll.method(), new URL(poll.url()).pathname]).toEqual([
      'GET',
      `/api/accounts/verifications/${verificationId}`,
    ]);
    await waitForText(page.getByTestId('delivery-status'), /^Your code: (sent|delivered)\.$/);
    const emailed = await emailedCode(who.email);
    expect(shown).toBe(emailed);

    // The page names its flow: a second registration for the same address could not confuse it.
    const verify = page.waitForRequest((request) => request.url().endsWith('/api/accounts/verify-otp/'));
    await enterCode(page, emailed);
    expect((await verify).postDataJSON()).toEqual({
      email: who.email,
      otp: emailed,
      verification_id: verificationId,
    });
    await page.getByTestId('verified-step').waitFor();
    await waitForText(page.getByTestId('verified-name'), `${who.firstName} ${who.lastName}`);
    expect(await page.getByTestId('verified-email').textContent()).toBe(who.email);
    expect(await page.getByTestId('verified-email-proof').textContent()).toBe('✓ verified');
    expect(await page.getByTestId('verified-mobile-row').isVisible()).toBe(false);
    expect(await page.getByTestId('verified-username').textContent()).toBe(who.username);
    expect(await page.getByTestId('verified-badge').textContent()).toContain('Verified');
    expect(await page.getByTestId('verified-first-name').textContent()).toBe(who.firstName);

    const screenshot = artifactPath('demo-page-verified.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`screenshot: ${screenshot}`);
    expect(problems).toEqual([]);
  });

  it('says a wrong code is not right, then takes the right one', async () => {
    const { page, problems } = await openPage();
    const who = person();
    await fillRegistration(page, who);
    const code = await requestCode(page);

    await enterCode(page, code === '000000' ? '111111' : '000000');
    await waitForText(page.getByTestId('otp-error'), 'That code is not right');
    expect(await page.getByTestId('otp').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByTestId('code-step').isVisible()).toBe(true);

    await enterCode(page, code);
    await waitForText(page.getByTestId('verified-name'), `${who.firstName} ${who.lastName}`);
    expect(problems).toEqual([]);
  });

  it('holds resends during the cooldown and says how long to wait', async () => {
    const { page, problems } = await openPage();
    const who = person();
    await fillRegistration(page, who);
    const code = await requestCode(page);

    const resend = page.getByTestId('resend-button');
    const countdown = await waitForText(resend, /Resend code in \d+ s/);
    expect(Number(/in (\d+) s/.exec(countdown)?.[1])).toBeGreaterThan(0);
    expect(await resend.isDisabled()).toBe(true);

    // Back to the form and send again inside the cooldown: the API answers 429 with Retry-After.
    await page.getByTestId('change-details').click();
    const answer = page.waitForResponse((response) => response.url().endsWith('/api/accounts/request-otp/'));
    await page.getByTestId('register-submit').click();
    const response = await answer;
    expect(response.status()).toBe(429);
    const retryAfter = response.headers()['retry-after'];
    expect(retryAfter).toMatch(/^\d+$/);
    await waitForText(page.getByTestId('register-alert'), `Too many requests — try again in ${retryAfter} s`);

    // The code already sent still works.
    await page.getByTestId('have-code').click();
    expect(await resend.isDisabled()).toBe(true);
    await enterCode(page, code);
    await waitForText(page.getByTestId('verified-name'), `${who.firstName} ${who.lastName}`);
    expect(problems).toEqual([]);
  });

  it('puts field errors next to their fields: malformed values, a taken username, WhatsApp off', async () => {
    const call = apiClient(port);
    const taken = registration(`taken-${randomBytes(4).toString('hex')}@example.com`);
    const opened = await call('request-otp/', taken);
    expect(opened.status).toBe(200);
    const verified = await call('verify-otp/', {
      email: taken.email,
      otp: await emailedCode(taken.email),
      verification_id: opened.body.verification_id,
    });
    expect(verified.status).toBe(200);

    const { page, problems } = await openPage();
    const who = person();
    await fillRegistration(page, { ...who, email: 'not-an-email', username: 'a!', password: 'short' });
    await page.getByTestId('register-submit').click();
    await waitForText(page.getByTestId('email-error'), 'Enter a valid email address');
    await waitForText(page.getByTestId('username-error'), 'Use 3–30 letters');
    await waitForText(page.getByTestId('password-error'), 'Use at least 8 characters');
    await waitForText(page.getByTestId('register-alert'), 'Please fix the highlighted fields.');
    expect(await page.getByTestId('first-name-error').isVisible()).toBe(false);

    await fillRegistration(page, { ...who, username: taken.username });
    await page.getByTestId('register-submit').click();
    await waitForText(page.getByTestId('username-error'), 'That username is already taken');

    await page.getByLabel('Username', { exact: true }).fill(who.username);
    expect(await page.getByTestId('mobile-field').isVisible()).toBe(false);
    await page.getByLabel('WhatsApp', { exact: true }).check();
    await page.getByLabel('Mobile number', { exact: true }).fill('+1 415 555 2671');
    await page.getByTestId('register-submit').click();
    await waitForText(page.getByTestId('otp-method-error'), 'not available on this service');

    // SMS too: the same mobile field, the same answer while the service has SMS off.
    await page.getByLabel('SMS', { exact: true }).check();
    expect(await page.getByTestId('otp-method-error').isVisible()).toBe(false);
    expect(await page.getByTestId('mobile-field').isVisible()).toBe(true);
    const asked = page.waitForRequest((request) => request.url().endsWith('/api/accounts/request-otp/'));
    await page.getByTestId('register-submit').click();
    expect((await asked).postDataJSON()).toMatchObject({ otp_method: 'sms', mobile: '+1 415 555 2671' });
    await waitForText(page.getByTestId('otp-method-error'), 'not available on this service');
    const screenshot = artifactPath('demo-page-field-errors.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`screenshot: ${screenshot}`);
    expect(problems).toEqual([]);
  });

  it('cancels a sign-up: the flow ends, its code stops working, and the page says so', async () => {
    const { page, problems } = await openPage();
    const who = person();
    await fillRegistration(page, who);
    const code = await requestCode(page);

    const answer = page.waitForResponse((response) => response.url().endsWith('/cancel'));
    await page.getByTestId('cancel-signup').click();
    const response = await answer;
    expect(response.request().method()).toBe('POST');
    const { verification } = (await response.json()) as { verification: { verification_id: string } };
    await waitForText(page.getByTestId('register-status'), 'Sign-up cancelled: that code no longer works.');
    expect(await page.getByTestId('register-step').isVisible()).toBe(true);

    // What a shop's frontend would see, through the same client the page uses.
    const client = createOtpRelayClient({ baseUrl });
    const status = await client.verificationStatus(verification.verification_id);
    expect(status.verification.status).toBe('canceled');
    const refused = await client
      .verifyOtp({ email: who.email, otp: code, verification_id: verification.verification_id })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OtpRelayError);
    expect(problems).toEqual([]);
  });

  it('speaks the chosen language: a bad password gets a code and params the page translates', async () => {
    const { page, problems } = await openPage();
    const picker = page.getByTestId('language-picker');
    // Twelve languages, each named in its own.
    const names = await picker.locator('option').allTextContents();
    expect(names).toHaveLength(12);
    expect(names).toEqual(expect.arrayContaining(['español', 'العربية', '日本語', 'English']));

    const who = person();
    await fillRegistration(page, { ...who, password: 'short' });
    await picker.selectOption('es');
    expect(await page.evaluate<string>('document.documentElement.lang')).toBe('es');
    await waitForText(page.getByTestId('register-submit'), 'Enviar mi código');
    const answered = page.waitForResponse((response) =>
      response.url().endsWith('/api/accounts/request-otp/'),
    );
    const asked = page.waitForRequest((request) => request.url().endsWith('/api/accounts/request-otp/'));
    await page.getByTestId('register-submit').click();
    expect((await asked).postDataJSON()).toMatchObject({ locale: 'es' });
    const answer = await answered;
    expect(answer.status()).toBe(400);
    expect(await answer.json()).toMatchObject({
      code: 'VALIDATION_ERROR',
      errors: { password: { code: 'too_short', params: { min: 8 }, message: 'must be 8 to 128 characters' } },
    });
    // The page's words come from the code and params, not from the English message.
    await waitForText(page.getByTestId('password-error'), 'Usa al menos 8 caracteres.');
    await waitForText(page.getByTestId('register-alert'), 'Corrige el campo marcado.');
    const screenshot = artifactPath('demo-page-spanish-field-error.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`screenshot: ${screenshot}`);

    // Arabic reads right to left: the page turns around, the brand on the right, the picker on the left.
    await picker.selectOption('ar');
    expect(await page.evaluate<string>('document.documentElement.dir')).toBe('rtl');
    await waitForText(page.getByTestId('register-submit'), 'أرسل الرمز');
    const mark = await page.locator('.brand-mark').boundingBox();
    const pickerBox = await picker.boundingBox();
    expect(mark && pickerBox && mark.x > pickerBox.x).toBe(true);
    const email = await page.getByTestId('email').boundingBox();
    const emailLabel = await page.locator('label[for="email"]').boundingBox();
    // A label starts at the right edge of its field in right-to-left.
    expect(email && emailLabel && emailLabel.x + emailLabel.width > email.x + email.width - 40).toBe(true);
    await page.getByTestId('register-submit').click();
    // The minimum in the locale's digits (Arabic-Indic where the browser's ICU uses them).
    await waitForText(page.getByTestId('password-error'), /استخدم [8٨] أحرف على الأقل/);
    const arabic = artifactPath('demo-page-arabic-rtl.png');
    await page.screenshot({ path: arabic, fullPage: true });
    console.log(`screenshot: ${arabic}`);

    // A language without the page's own translation: English words, its locale still sent.
    await picker.selectOption('de');
    expect(await page.evaluate<string>('document.documentElement.dir')).toBe('ltr');
    await waitForText(page.getByTestId('register-submit'), 'Send my code');
    expect(problems).toEqual([]);
  });

  it('fits a phone screen', async () => {
    const { page, problems } = await openPage({ width: 375, height: 740 });
    const who = person();
    await fillRegistration(page, who);
    await requestCode(page);
    // A string: the tests are type-checked without the DOM library.
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    const screenshot = artifactPath('demo-page-phone.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`screenshot: ${screenshot}`);
    expect(problems).toEqual([]);
  });
});

/**
 * A stand-in for Turnstile's `api.js`, served in its place: each widget is a button that "solves"
 * it with the next of `answers`, behind the same render/getResponse/reset calls the page makes.
 * It calls the page's onload callback as the real script does.
 */
function stubTurnstileScript(answers: string[]): string {
  return `(() => {
  const answers = ${JSON.stringify(answers)};
  const widgets = [];
  window.turnstile = {
    render(container, options) {
      const widget = { answer: '' };
      widgets.push(widget);
      const solve = document.createElement('button');
      solve.type = 'button';
      solve.textContent = 'I am human';
      solve.dataset.testid = container.dataset.testid + '-solve';
      solve.addEventListener('click', () => {
        widget.answer = answers.shift() || '';
        options.callback(widget.answer);
      });
      container.appendChild(solve);
      return String(widgets.length - 1);
    },
    getResponse: (id) => widgets[Number(id)].answer,
    reset: (id) => { widgets[Number(id)].answer = ''; },
  };
  window[new URL(document.currentScript.src).searchParams.get('onload')]();
})();`;
}

describe('the demo signup page with a CAPTCHA', () => {
  const secret = 'e2e-captcha-secret';
  let captcha: FakeCaptcha;
  let captchaUrl = '';

  beforeAll(async () => {
    captcha = await startFakeCaptcha({ secret });
    const captchaPort = await freePort();
    // Beside the other API, on the same database, queue and worker, with Turnstile on.
    const api = startProcess(SERVICE_SCRIPTS.api, {
      ...env,
      PORT: String(captchaPort),
      CAPTCHA_PROVIDER: 'turnstile',
      CAPTCHA_SECRET_KEY: secret,
      CAPTCHA_SITE_KEY: 'e2e-site-key',
      CAPTCHA_VERIFY_URL: captcha.turnstileVerifyUrl,
      OTP_RESEND_COOLDOWN_SECONDS: '0',
    });
    await ready.api(api);
    captchaUrl = `http://127.0.0.1:${captchaPort}`;
  });

  afterAll(async () => {
    await captcha?.close();
  });

  it('sends each widget answer once with request-otp and resend-otp, and says when it is missing or refused', async () => {
    const answers = ['an-answer-the-provider-refuses', captcha.issueAnswer(), captcha.issueAnswer()];
    const { page, problems } = await openPage(undefined, {
      url: captchaUrl,
      prepare: (context) =>
        context.route('https://challenges.cloudflare.com/turnstile/v0/api.js?*', (route) =>
          route.fulfill({ contentType: 'application/javascript', body: stubTurnstileScript([...answers]) }),
        ),
    });
    const who = person();
    await fillRegistration(page, who);

    // Not solved yet: the page says so and sends nothing.
    await page.getByTestId('register-submit').click();
    await waitForText(page.getByTestId('captcha-error'), 'Complete the human check first.');
    expect(captcha.calls).toHaveLength(0);

    // An answer the provider refuses.
    await page.getByTestId('captcha-register-solve').click();
    expect(await page.getByTestId('captcha-error').isVisible()).toBe(false);
    await page.getByTestId('register-submit').click();
    await waitForText(page.getByTestId('captcha-error'), 'The human check failed or expired');

    // A good one: sent as captcha_token, then the widget is reset for the next request.
    await page.getByTestId('captcha-register-solve').click();
    const opened = page.waitForRequest((request) => request.url().endsWith('/api/accounts/request-otp/'));
    await requestCode(page);
    expect((await opened).postDataJSON()).toMatchObject({ email: who.email, captcha_token: answers[1] });
    expect(await page.evaluate<string>("window.turnstile.getResponse('0')")).toBe('');

    // Resend has a widget of its own.
    await page.getByTestId('resend-button').click();
    await waitForText(page.getByTestId('code-alert'), 'Complete the human check first.');
    await page.getByTestId('captcha-resend-solve').click();
    const resent = page.waitForRequest((request) => request.url().endsWith('/api/accounts/resend-otp/'));
    await page.getByTestId('resend-button').click();
    expect((await resent).postDataJSON()).toMatchObject({ email: who.email, captcha_token: answers[2] });
    await waitForText(page.getByTestId('code-status'), 'A new code is on its way');
    const hint = await waitForText(page.getByTestId('debug-hint'), /your code is \d+/);

    await enterCode(page, /your code is (\d+)/.exec(hint)?.[1] ?? '');
    await waitForText(page.getByTestId('verified-name'), `${who.firstName} ${who.lastName}`);
    expect(captcha.calls.map((call) => call.success)).toEqual([false, true, true]);
    expect(captcha.calls.every((call) => call.remoteip === '127.0.0.1')).toBe(true);
    expect(problems).toEqual([]);
  });
});
