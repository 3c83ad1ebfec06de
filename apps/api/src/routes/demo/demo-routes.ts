import type { FastifyPluginAsync } from 'fastify';
import { DEMO_PAGE_HTML } from './demo-page-html.js';
import { DEMO_PAGE_SCRIPT } from './demo-page-script.js';
import { DEMO_PAGE_CSS } from './demo-page-styles.js';

/**
 * A signup page that drives the accounts API from a browser: `GET /` (the page), `/demo.js` and
 * `/demo.css`. For development only (`app.ts` registers it when NODE_ENV=development); the page
 * calls `/api/accounts/...` on the same origin, so it is meant to be registered without a prefix.
 *
 * The assets are string constants in `.ts` modules, so they are part of the `tsc` output and
 * need no file reads at runtime. Everything is same-origin, which helmet's default CSP allows.
 */
const ASSETS = [
  { url: '/', type: 'text/html; charset=utf-8', body: DEMO_PAGE_HTML },
  { url: '/demo.js', type: 'application/javascript; charset=utf-8', body: DEMO_PAGE_SCRIPT },
  { url: '/demo.css', type: 'text/css; charset=utf-8', body: DEMO_PAGE_CSS },
] as const;

export const demoRoutes: FastifyPluginAsync = async (app) => {
  for (const asset of ASSETS) {
    app.get(asset.url, { schema: { hide: true } }, async (_request, reply) =>
      reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body),
    );
  }
};
