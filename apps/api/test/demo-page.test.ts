import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ApiConfig } from '@otp-relay/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoDistPath } from '../src/routes/demo/demo-assets.js';
import { type Stack, startStack } from './support/stack.js';

/**
 * The demo page's routes (routes/demo): served only when DEMO_PAGE is on (by default only in
 * development), as the files apps/demo built (`pnpm build`), under a CSP that allows nothing inline.
 * e2e/demo-page.test.ts drives the page itself in Chromium.
 */

const SITE_KEY = 'demo-site-key';
const CAPTCHA_SECRET = 'demo-captcha-secret-never-sent';
const PAGE_FILES = ['/', '/demo.js', '/demo.css', '/demo-settings.json'];

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

/** GETs each path from an API built with this config, then closes it. */
async function fetchFrom(config: Partial<ApiConfig>, paths: string[]) {
  const other = await stack.anotherApi({ config });
  try {
    return await Promise.all(paths.map((url) => other.app.inject({ method: 'GET', url })));
  } finally {
    await other.close();
  }
}

/** The CSP as `{directive: sources}`. */
function csp(header: unknown): Record<string, string> {
  return Object.fromEntries(
    String(header)
      .split(';')
      .filter((directive) => directive.trim() !== '')
      .map((directive) => {
        const [name = '', ...sources] = directive.trim().split(/\s+/);
        return [name, sources.join(' ')];
      }),
  );
}

describe('DEMO_PAGE', () => {
  it('is off outside development by default: no page, script, stylesheet or settings', async () => {
    for (const url of PAGE_FILES) {
      const response = await stack.app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(404);
      expect(response.json()).toMatchObject({ success: false, code: 'NOT_FOUND' });
    }
  });

  it('is on in development by default, and DEMO_PAGE=false turns it off there', async () => {
    const on = await fetchFrom({ NODE_ENV: 'development' }, ['/']);
    expect(on[0]?.statusCode).toBe(200);
    const off = await fetchFrom({ NODE_ENV: 'development', DEMO_PAGE: false }, PAGE_FILES);
    expect(off.map((response) => response.statusCode)).toEqual([404, 404, 404, 404]);
  });

  it('DEMO_PAGE=true serves the built files in production too', async () => {
    const dist = demoDistPath();
    const answers = await fetchFrom({ NODE_ENV: 'production', DEMO_PAGE: true }, PAGE_FILES);
    const built = await Promise.all(
      ['index.html', 'demo.js', 'demo.css'].map((name) => readFile(path.join(dist, name), 'utf8')),
    );
    expect(answers.slice(0, 3).map((response) => response.body)).toEqual(built);
    expect(answers.map((response) => response.headers['content-type'])).toEqual([
      'text/html; charset=utf-8',
      'text/javascript; charset=utf-8',
      'text/css; charset=utf-8',
      'application/json; charset=utf-8',
    ]);
    for (const response of answers) expect(response.headers['cache-control']).toBe('no-cache');
    expect(answers[3]?.json()).toEqual({ captcha: null });
  });
});

describe('the demo page', () => {
  it('has a CSP that allows no inline script or style, no framing and no other origin', async () => {
    const [page] = await fetchFrom({ NODE_ENV: 'development' }, ['/']);
    expect(csp(page?.headers['content-security-policy'])).toEqual({
      'default-src': "'self'",
      'script-src': "'self'",
      'script-src-attr': "'none'",
      'style-src': "'self'",
      'connect-src': "'self'",
      'frame-src': "'none'",
      'img-src': "'self' data:",
      'font-src': "'self'",
      'object-src': "'none'",
      'base-uri': "'none'",
      'form-action': "'self'",
      'frame-ancestors': "'none'",
    });
  });

  it('serves only its four files: nothing else of the build is reachable', async () => {
    const answers = await fetchFrom({ NODE_ENV: 'development' }, [
      '/index.html',
      '/.tsbuildinfo',
      '/demo.js.map',
      '/dist/demo.js',
      '/..%2fpackage.json',
    ]);
    expect(answers.map((response) => response.statusCode)).toEqual([404, 404, 404, 404, 404]);
  });

  it('with Turnstile: its widget settings, never the secret key, and its origin in script-src and frame-src only', async () => {
    const answers = await fetchFrom(
      {
        NODE_ENV: 'development',
        CAPTCHA_PROVIDER: 'turnstile',
        CAPTCHA_SITE_KEY: SITE_KEY,
        CAPTCHA_SECRET_KEY: CAPTCHA_SECRET,
      },
      PAGE_FILES,
    );
    expect(answers[3]?.json()).toEqual({
      captcha: {
        provider: 'turnstile',
        siteKey: SITE_KEY,
        scriptUrl: 'https://challenges.cloudflare.com/turnstile/v0/api.js',
      },
    });
    for (const response of answers) expect(response.body).not.toContain(CAPTCHA_SECRET);
    expect(csp(answers[0]?.headers['content-security-policy'])).toMatchObject({
      'script-src': "'self' https://challenges.cloudflare.com",
      'frame-src': 'https://challenges.cloudflare.com',
      'style-src': "'self'",
      'connect-src': "'self'",
    });
  });

  it('with hCaptcha: its origins in script-src, frame-src, style-src and connect-src', async () => {
    const [page, , , settings] = await fetchFrom(
      {
        NODE_ENV: 'development',
        CAPTCHA_PROVIDER: 'hcaptcha',
        CAPTCHA_SITE_KEY: SITE_KEY,
        CAPTCHA_SECRET_KEY: CAPTCHA_SECRET,
      },
      PAGE_FILES,
    );
    expect(settings?.json()).toMatchObject({
      captcha: { provider: 'hcaptcha', scriptUrl: 'https://js.hcaptcha.com/1/api.js' },
    });
    const policy = csp(page?.headers['content-security-policy']);
    for (const directive of ['script-src', 'style-src', 'connect-src']) {
      expect(policy[directive], directive).toBe("'self' https://hcaptcha.com https://*.hcaptcha.com");
    }
    expect(policy['frame-src']).toBe('https://hcaptcha.com https://*.hcaptcha.com');
  });

  it('shows no widget and allows no provider without a site key', async () => {
    const [page, , , settings] = await fetchFrom(
      {
        NODE_ENV: 'development',
        CAPTCHA_PROVIDER: 'turnstile',
        CAPTCHA_SITE_KEY: undefined,
        CAPTCHA_SECRET_KEY: CAPTCHA_SECRET,
      },
      PAGE_FILES,
    );
    expect(settings?.json()).toEqual({ captcha: null });
    expect(page?.headers['content-security-policy']).not.toMatch(/cloudflare|hcaptcha/);
  });
});
