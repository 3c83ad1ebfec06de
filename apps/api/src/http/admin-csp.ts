import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * The Content-Security-Policy of the operators' listener: one policy that lets Bull Board's page
 * and Swagger UI work with no 'unsafe-inline' and no 'unsafe-eval'. Both load their scripts and
 * stylesheets from their own origin; what they need beyond that:
 * - Bull Board's page (@bull-board/ui's dist/index.ejs) has a `<style>` element and `style`
 *   attributes in its loading placeholder: allowed by their hashes, taken from the installed
 *   template at start-up so an upgrade cannot silently break them. Its config is a JSON
 *   `<script type="application/json">`, which is not run, so no script needs allowing.
 * - Bull Board's script renders the Redis logo as an SVG with a `<style>` element: allowed by its
 *   hash (REDIS_LOGO_STYLE), for @bull-board/ui 9.10.1, the version package.json pins.
 * - Bull Board's page loads IBM Plex from Google Fonts: that stylesheet and its font files.
 * - Swagger UI (@fastify/swagger-ui 6) has no inline script (its static/csp.json lists none). Its
 *   standalone layout's top bar would draw an SVG logo with a `<style>`: the admin app uses the
 *   base layout, which has no top bar.
 * - Both stylesheets have data: images (icons).
 * e2e/operators-listener.test.ts opens both pages in Chromium and fails on any violation, naming
 * the hash a new version would need.
 */

/** Where @bull-board/ui is installed: a peer of @bull-board/api, so resolved from there as the board does. */
export function bullBoardUiPath(): string {
  const boardApi = createRequire(import.meta.url).resolve('@bull-board/api');
  return path.dirname(createRequire(boardApi).resolve('@bull-board/ui/package.json'));
}

const sha256Source = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
const unique = (values: string[]) => [...new Set(values)];

/** Hash sources for the inline `<style>` elements and `style` attributes of an HTML template. */
export function inlineStyleHashes(html: string): { elements: string[]; attributes: string[] } {
  return {
    elements: unique(
      [...html.matchAll(/<style[^>]*>([\s\S]*?)<\/style>/g)].map((match) => sha256Source(match[1] ?? '')),
    ),
    attributes: unique([...html.matchAll(/\sstyle="([^"]*)"/g)].map((match) => sha256Source(match[1] ?? ''))),
  };
}

/** The `<style>` of the Redis logo that @bull-board/ui 9.10.1 draws (static/js/main.*.js). */
const REDIS_LOGO_STYLE = "'sha256-r2N1TB/gHbBtBZFKg7ejmq1acVSREzucTAEw6ga4hoU='";

const GOOGLE_FONTS_STYLESHEETS = 'https://fonts.googleapis.com';
const GOOGLE_FONTS_FILES = 'https://fonts.gstatic.com';

/** helmet's `contentSecurityPolicy.directives` for the operators' app (with `useDefaults: false`). */
export function adminCspDirectives(boardUiPath: string): Record<string, string[]> {
  const board = inlineStyleHashes(readFileSync(path.join(boardUiPath, 'dist', 'index.ejs'), 'utf8'));
  return {
    defaultSrc: ["'self'"],
    baseUri: ["'self'"],
    connectSrc: ["'self'"],
    fontSrc: ["'self'", 'data:', GOOGLE_FONTS_FILES],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    imgSrc: ["'self'", 'data:'],
    objectSrc: ["'none'"],
    scriptSrc: ["'self'"],
    scriptSrcAttr: ["'none'"],
    styleSrc: ["'self'", GOOGLE_FONTS_STYLESHEETS, ...board.elements, REDIS_LOGO_STYLE],
    // 'unsafe-hashes' allows exactly the attribute values hashed here, not inline event handlers
    // (script-src-attr is 'none').
    styleSrcAttr: ["'unsafe-hashes'", ...board.attributes],
    // No upgrade-insecure-requests: the operators' listener is plain HTTP, often reached by an
    // address that is not loopback (a tunnel, a container's port), where upgrading would break it.
  };
}
