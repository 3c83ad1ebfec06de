/**
 * The demo page's Content-Security-Policy. Its script, styles and settings are files of its own
 * origin (apps/demo, built), so nothing inline is allowed; a CAPTCHA widget adds its provider's
 * origins, as each documents: Turnstile's script and frames; hCaptcha's script, frames, styles and
 * API calls.
 */

export type CaptchaProvider = 'turnstile' | 'hcaptcha';

/** Each provider's widget: the script the page loads, and the origins it needs beyond 'self'. */
export const CAPTCHA_WIDGETS: Readonly<
  Record<CaptchaProvider, { scriptUrl: string; origins: readonly string[] }>
> = {
  turnstile: {
    scriptUrl: 'https://challenges.cloudflare.com/turnstile/v0/api.js',
    origins: ['https://challenges.cloudflare.com'],
  },
  hcaptcha: {
    scriptUrl: 'https://js.hcaptcha.com/1/api.js',
    origins: ['https://hcaptcha.com', 'https://*.hcaptcha.com'],
  },
};

/** helmet's `contentSecurityPolicy.directives` for the page (with `useDefaults: false`). */
export function demoCspDirectives(captcha: CaptchaProvider | undefined): Record<string, string[]> {
  const origins = captcha ? [...CAPTCHA_WIDGETS[captcha].origins] : [];
  const hcaptcha = captcha === 'hcaptcha' ? origins : [];
  return {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'", ...origins],
    scriptSrcAttr: ["'none'"],
    styleSrc: ["'self'", ...hcaptcha],
    connectSrc: ["'self'", ...hcaptcha],
    frameSrc: origins.length > 0 ? origins : ["'none'"],
    // The page's favicon is `data:,` (no request for one).
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  };
}
