import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';

/** Browser tests drive Debian's Chromium (not a Playwright download) with playwright-core. */

export const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches Chromium with a fresh profile; fails, saying how to install it, when it is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `The browser tests need Debian's Chromium at ${CHROMIUM_PATH}, which is missing. Install it with ` +
        '`apt-get update && apt-get install -y chromium` (as root; `bash .ci/run` does this in CI).',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** Where a test keeps a file for people to look at: `$CI_ARTIFACTS_DIR`, else the OS temp dir. */
export function artifactPath(fileName: string): string {
  const directory = process.env.CI_ARTIFACTS_DIR || path.join(tmpdir(), 'otp-relay-e2e');
  mkdirSync(directory, { recursive: true });
  return path.join(directory, fileName);
}

/**
 * What went wrong inside the page: uncaught errors and console errors, such as a CSP violation.
 * "Failed to load resource" lines are left out: Chromium logs one for every 4xx answer the page
 * expects (a wrong code is a 400).
 */
export function collectPageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) {
      problems.push(`console: ${message.text()}`);
    }
  });
  return problems;
}

/** Waits until the locator is visible with this text (Playwright polls; no sleeps). */
export async function waitForText(locator: Locator, text: string | RegExp): Promise<string> {
  await locator.filter({ hasText: text }).waitFor({ state: 'visible' });
  return (await locator.textContent()) ?? '';
}
