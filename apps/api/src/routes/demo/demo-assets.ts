import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The demo page's built files (apps/demo, `pnpm build`), read once when the API starts. */
export interface DemoAssets {
  html: string;
  script: string;
  styles: string;
}

/**
 * Where apps/demo put its build: resolved through the @otp-relay/demo package, so it is found
 * the same from apps/api/src (tsx, `pnpm dev`), apps/api/dist and the image.
 */
export function demoDistPath(): string {
  return path.dirname(createRequire(import.meta.url).resolve('@otp-relay/demo/dist/index.html'));
}

export async function loadDemoAssets(): Promise<DemoAssets> {
  let dist: string;
  try {
    dist = demoDistPath();
  } catch (error) {
    throw new Error(
      'DEMO_PAGE is on but the demo page is not built (apps/demo/dist): run `pnpm build`, or set DEMO_PAGE=false.',
      { cause: error },
    );
  }
  const [html, script, styles] = await Promise.all(
    ['index.html', 'demo.js', 'demo.css'].map((name) => readFile(path.join(dist, name), 'utf8')),
  );
  return { html: html ?? '', script: script ?? '', styles: styles ?? '' };
}
