/**
 * The demo signup page, served at `/` in development. Kept as a string in a `.ts` module so it
 * ships with `tsc`'s output (`dist/`) as well as running from `src/`. It is a template literal:
 * no backtick or backslash in it, and dollar-braces only for the CAPTCHA parts below.
 *
 * helmet's default CSP applies (`default-src 'self'`): no inline script, style or event handlers;
 * the behaviour is in `/demo.js` (demo-page-script.ts) and the look in `/demo.css` (demo-page-styles.ts).
 * With a CAPTCHA, demo-routes.ts widens it to the provider's origins.
 */

export type DemoCaptchaProvider = 'turnstile' | 'hcaptcha';

/** The widget to show: CAPTCHA_PROVIDER and the public CAPTCHA_SITE_KEY. */
export interface DemoCaptcha {
  provider: DemoCaptchaProvider;
  siteKey: string;
}

/** Each provider's widget script. */
export const CAPTCHA_SCRIPT_URLS: Readonly<Record<DemoCaptchaProvider, string>> = {
  turnstile: 'https://challenges.cloudflare.com/turnstile/v0/api.js',
  hcaptcha: 'https://js.hcaptcha.com/1/api.js',
};

/** The global function `/demo.js` defines and the provider's script calls once it has loaded. */
export const CAPTCHA_ONLOAD_CALLBACK = 'otpRelayCaptchaReady';

function escapeAttribute(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('"', '&quot;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;');
}

/**
 * Explicit rendering: `/demo.js` renders one widget per form that sends a code and resets it after
 * each use. Both scripts are deferred, so they run in document order: the callback exists first.
 */
function captchaScript(captcha: DemoCaptcha | undefined): string {
  if (!captcha) return '';
  const src = `${CAPTCHA_SCRIPT_URLS[captcha.provider]}?render=explicit&onload=${CAPTCHA_ONLOAD_CALLBACK}`;
  return `
  <script src="${escapeAttribute(src)}" defer></script>`;
}

/** Where `/demo.js` renders a widget; it reads the provider and the site key from the attributes. */
function captchaBox(captcha: DemoCaptcha | undefined, name: 'register' | 'resend'): string {
  if (!captcha) return '';
  return `<div class="field captcha" role="group" aria-label="Human check" data-testid="captcha-${name}"
            data-captcha-provider="${captcha.provider}" data-sitekey="${escapeAttribute(captcha.siteKey)}"></div>`;
}

/** The register form's widget, with the place for its errors (`captcha_token` in an error answer). */
function registerCaptcha(captcha: DemoCaptcha | undefined): string {
  if (!captcha) return '';
  return `${captchaBox(captcha, 'register')}
          <p id="captcha-error" class="field-error" data-testid="captcha-error" hidden></p>`;
}

/** The page, with the CAPTCHA widget when one is configured. */
export const demoPageHtml = (captcha?: DemoCaptcha): string => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <title>Create your account · otp-relay demo</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/demo.css">
  <script src="/demo.js" defer></script>${captchaScript(captcha)}
</head>
<body>
  <main class="shell">
    <header class="brand">
      <span class="brand-mark" aria-hidden="true">✓</span>
      <span class="brand-name">otp-relay</span>
      <span class="brand-tag">Demo</span>
    </header>

    <div class="card">
      <ol class="steps" aria-label="Progress">
        <li class="step" data-step="register" data-testid="progress-register">Details</li>
        <li class="step" data-step="code" data-testid="progress-code">Verify</li>
        <li class="step" data-step="verified" data-testid="progress-verified">Done</li>
      </ol>

      <section id="register-step" class="panel" data-testid="register-step" aria-labelledby="register-title">
        <h1 id="register-title" class="title" tabindex="-1">Create your account</h1>
        <p class="lead">We will send you a one-time code to confirm it is you.</p>

        <div class="alert alert-error" role="alert" data-testid="register-alert" hidden></div>
        <button type="button" class="link-button" data-testid="have-code" hidden>I already have a code</button>

        <form id="register-form" data-testid="register-form" novalidate>
          <div class="field">
            <label for="email">Email address</label>
            <input id="email" name="email" type="email" autocomplete="email" inputmode="email"
              spellcheck="false" autocapitalize="off" required maxlength="254"
              aria-describedby="email-error" data-testid="email">
            <p id="email-error" class="field-error" data-testid="email-error" hidden></p>
          </div>

          <div class="field">
            <label for="username">Username</label>
            <input id="username" name="username" type="text" autocomplete="username" spellcheck="false"
              autocapitalize="off" required maxlength="30" aria-describedby="username-hint username-error"
              data-testid="username">
            <p id="username-hint" class="hint">3–30 letters, digits, underscores, dots or hyphens.</p>
            <p id="username-error" class="field-error" data-testid="username-error" hidden></p>
          </div>

          <div class="field-row">
            <div class="field">
              <label for="first-name">First name</label>
              <input id="first-name" name="first_name" type="text" autocomplete="given-name" required
                maxlength="100" aria-describedby="first-name-error" data-testid="first-name">
              <p id="first-name-error" class="field-error" data-testid="first-name-error" hidden></p>
            </div>
            <div class="field">
              <label for="last-name">Last name</label>
              <input id="last-name" name="last_name" type="text" autocomplete="family-name" required
                maxlength="100" aria-describedby="last-name-error" data-testid="last-name">
              <p id="last-name-error" class="field-error" data-testid="last-name-error" hidden></p>
            </div>
          </div>

          <div class="field">
            <label for="password">Password</label>
            <div class="input-with-button">
              <input id="password" name="password" type="password" autocomplete="new-password" required
                maxlength="128" aria-describedby="password-hint password-error" data-testid="password">
              <button type="button" class="input-button" aria-controls="password" aria-pressed="false"
                data-testid="password-toggle">Show</button>
            </div>
            <p id="password-hint" class="hint">At least 8 characters.</p>
            <p id="password-error" class="field-error" data-testid="password-error" hidden></p>
          </div>

          <fieldset class="field choice" aria-describedby="otp-method-error">
            <legend>Send my code by</legend>
            <div class="choice-options">
              <label class="choice-option">
                <input type="radio" name="otp_method" value="email" checked data-testid="channel-email">
                <span>Email</span>
              </label>
              <label class="choice-option">
                <input type="radio" name="otp_method" value="whatsapp" data-testid="channel-whatsapp">
                <span>WhatsApp</span>
              </label>
            </div>
            <p id="otp-method-error" class="field-error" data-testid="otp-method-error" hidden></p>
          </fieldset>

          <div class="field" id="mobile-field" data-testid="mobile-field" hidden>
            <label for="mobile">Mobile number</label>
            <input id="mobile" name="mobile" type="tel" autocomplete="tel" inputmode="tel" maxlength="32"
              placeholder="+1 415 555 2671" aria-describedby="mobile-hint mobile-error" data-testid="mobile">
            <p id="mobile-hint" class="hint">With the country code, as WhatsApp knows it.</p>
            <p id="mobile-error" class="field-error" data-testid="mobile-error" hidden></p>
          </div>

          ${registerCaptcha(captcha)}
          <button type="submit" class="button button-primary" data-testid="register-submit">Send my code</button>
        </form>
      </section>

      <section id="code-step" class="panel" data-testid="code-step" aria-labelledby="code-title" hidden>
        <h1 id="code-title" class="title" tabindex="-1">Check your <span data-testid="code-channel">email</span></h1>
        <p class="lead" data-testid="code-sent-to">We sent a code.</p>
        <p class="delivery-status" role="status" aria-live="polite" data-testid="delivery-status" hidden></p>

        <div class="alert alert-info" data-testid="debug-hint" hidden></div>
        <div class="alert alert-success" role="status" data-testid="code-status" hidden></div>
        <div class="alert alert-error" role="alert" data-testid="code-alert" hidden></div>

        <form id="code-form" data-testid="code-form" novalidate>
          <div class="field">
            <label for="otp">Verification code</label>
            <input id="otp" name="otp" class="code-input" type="text" inputmode="numeric"
              autocomplete="one-time-code" maxlength="10" required aria-describedby="otp-error"
              data-testid="otp">
            <p id="otp-error" class="field-error" data-testid="otp-error" hidden></p>
          </div>
          <button type="submit" class="button button-primary" data-testid="verify-submit">Verify</button>
        </form>

        ${captchaBox(captcha, 'resend')}
        <div class="secondary-actions">
          <button type="button" class="button button-secondary" data-testid="resend-button">Resend code</button>
          <button type="button" class="link-button" data-testid="change-details">Change my details</button>
        </div>
      </section>

      <section id="verified-step" class="panel" data-testid="verified-step" aria-labelledby="verified-title" hidden>
        <div class="verified-head">
          <span class="avatar" aria-hidden="true" data-testid="verified-initials"></span>
          <div>
            <h1 id="verified-title" class="title" tabindex="-1">Welcome, <span data-testid="verified-first-name"></span></h1>
            <span class="badge" data-testid="verified-badge">Verified</span>
          </div>
        </div>
        <p class="lead">Your account is confirmed. This is what the API knows about you:</p>
        <dl class="details">
          <div><dt>Name</dt><dd data-testid="verified-name"></dd></div>
          <div><dt>Email</dt><dd><span data-testid="verified-email"></span>
            <span class="proof" data-testid="verified-email-proof"></span></dd></div>
          <div data-testid="verified-mobile-row" hidden><dt>Mobile</dt><dd><span data-testid="verified-mobile"></span>
            <span class="proof" data-testid="verified-mobile-proof"></span></dd></div>
          <div><dt>Username</dt><dd data-testid="verified-username"></dd></div>
        </dl>
        <button type="button" class="button button-secondary" data-testid="start-over">Start over</button>
      </section>
    </div>

    <p class="footnote">Development demo of the otp-relay API. Served only when NODE_ENV=development.</p>
  </main>
</body>
</html>
`;
