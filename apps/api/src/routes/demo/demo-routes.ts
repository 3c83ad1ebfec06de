import type { FastifyPluginAsync, RouteShorthandOptions } from 'fastify';
import { type DemoCaptcha, type DemoCaptchaProvider, demoPageHtml } from './demo-page-html.js';
import { DEMO_PAGE_SCRIPT } from './demo-page-script.js';
import { DEMO_PAGE_CSS } from './demo-page-styles.js';

/**
 * A signup page that drives the accounts API from a browser: `GET /` (the page), `/demo.js` and
 * `/demo.css`. For development only (`app.ts` registers it when NODE_ENV=development); the page
 * calls `/api/accounts/...` on the same origin, so it is meant to be registered without a prefix.
 *
 * The assets are string constants in `.ts` modules, so they are part of the `tsc` output and
 * need no file reads at runtime. Everything is same-origin, which helmet's default CSP allows;
 * with a CAPTCHA the page also loads the provider's script and frames, and its CSP says so.
 */
export interface DemoRoutesOptions {
  /** CAPTCHA_PROVIDER: with a site key, the page shows that provider's widget. */
  captchaProvider?: DemoCaptchaProvider | undefined;
  /** CAPTCHA_SITE_KEY, the widget's public key. */
  captchaSiteKey?: string | undefined;
}

// What each provider's widget needs beyond 'self' (their documented CSP): its script, its
// iframes and, for hCaptcha, its API calls. helmet's default style-src already allows https:.
const PROVIDER_ORIGINS: Readonly<Record<DemoCaptchaProvider, readonly string[]>> = {
  turnstile: ['https://challenges.cloudflare.com'],
  hcaptcha: ['https://hcaptcha.com', 'https://*.hcaptcha.com'],
};

/** helmet's default CSP for the page, widened to the provider's origins (the rest stays default). */
function pageHelmet(captcha: DemoCaptcha | undefined): RouteShorthandOptions['helmet'] {
  if (!captcha) return undefined;
  const origins = PROVIDER_ORIGINS[captcha.provider];
  const directives: Record<string, string[]> = {
    'script-src': ["'self'", ...origins],
    'frame-src': ["'self'", ...origins],
  };
  if (captcha.provider === 'hcaptcha') directives['connect-src'] = ["'self'", ...origins];
  return { contentSecurityPolicy: { directives } };
}

export const demoRoutes: FastifyPluginAsync<DemoRoutesOptions> = async (app, options) => {
  const captcha =
    options.captchaProvider && options.captchaSiteKey
      ? { provider: options.captchaProvider, siteKey: options.captchaSiteKey }
      : undefined;
  const helmet = pageHelmet(captcha);
  const assets = [
    { url: '/', type: 'text/html; charset=utf-8', body: demoPageHtml(captcha), helmet },
    { url: '/demo.js', type: 'application/javascript; charset=utf-8', body: DEMO_PAGE_SCRIPT },
    { url: '/demo.css', type: 'text/css; charset=utf-8', body: DEMO_PAGE_CSS },
  ];
  for (const asset of assets) {
    app.get(
      asset.url,
      { schema: { hide: true }, ...(asset.helmet ? { helmet: asset.helmet } : {}) },
      async (_request, reply) => reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body),
    );
  }
};
