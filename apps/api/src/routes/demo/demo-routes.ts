import type { FastifyPluginAsync } from 'fastify';
import type { DemoAssets } from './demo-assets.js';
import { CAPTCHA_WIDGETS, type CaptchaProvider, demoCspDirectives } from './demo-csp.js';

/**
 * The demo signup page (apps/demo, built): `GET /`, `/demo.js`, `/demo.css`, and
 * `/demo-settings.json`, the page's run-time settings (the CAPTCHA widget to show). Registered
 * when DEMO_PAGE is on, without a prefix: the page calls `/api/accounts/...` on its own origin.
 */
export interface DemoRoutesOptions {
  assets: DemoAssets;
  /** CAPTCHA_PROVIDER: with a site key, the page shows that provider's widget. */
  captchaProvider?: CaptchaProvider | undefined;
  /** CAPTCHA_SITE_KEY, the widget's public key. */
  captchaSiteKey?: string | undefined;
}

export const demoRoutes: FastifyPluginAsync<DemoRoutesOptions> = async (app, options) => {
  const provider = options.captchaSiteKey ? options.captchaProvider : undefined;
  const settings = {
    captcha:
      provider && options.captchaSiteKey
        ? { provider, siteKey: options.captchaSiteKey, scriptUrl: CAPTCHA_WIDGETS[provider].scriptUrl }
        : null,
  };
  const helmet = {
    contentSecurityPolicy: { useDefaults: false, directives: demoCspDirectives(provider) },
  };
  const files = [
    { url: '/', type: 'text/html; charset=utf-8', body: options.assets.html },
    { url: '/demo.js', type: 'text/javascript; charset=utf-8', body: options.assets.script },
    { url: '/demo.css', type: 'text/css; charset=utf-8', body: options.assets.styles },
    { url: '/demo-settings.json', type: 'application/json; charset=utf-8', body: JSON.stringify(settings) },
  ];
  for (const file of files) {
    app.get(file.url, { schema: { hide: true }, helmet }, async (_request, reply) =>
      reply.type(file.type).header('cache-control', 'no-cache').send(file.body),
    );
  }
};
