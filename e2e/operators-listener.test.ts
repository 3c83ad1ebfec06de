import { randomUUID } from 'node:crypto';
import { createDeadLetterQueue, createRedisClient, type DeadLetterQueue } from '@otp-relay/core';
import type { Redis } from 'ioredis';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { artifactPath, collectPageProblems, launchChromium } from './support/browser.js';
import {
  freePort,
  ready,
  SERVICE_SCRIPTS,
  serviceEnv,
  startProcess,
  useE2eContext,
} from './support/processes.js';

/**
 * The operators' listener of the built API (ADMIN_PORT=0: any free port, read from its log): Bull
 * Board and Swagger UI render in a real browser under its Content-Security-Policy, with no
 * violation; retrying a dead letter from the board works; the shop-facing port serves none of it.
 */

const ADMIN = { username: 'ops', password: 'correct horse battery' };
const e2e = useE2eContext();
let browser: Browser;
let publicUrl = '';
let adminUrl = '';
let redis: Redis;
let deadLetters: DeadLetterQueue;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  // First, so a missing Chromium fails the file at once with how to install it.
  browser = await launchChromium();
  const port = await freePort();
  const env = serviceEnv({
    databaseUrl: e2e.database.url,
    redisUrl: e2e.services.redisUrl,
    google: e2e.google,
    port,
    extra: { ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password },
  });
  const api = startProcess(SERVICE_SCRIPTS.api, env);
  // The worker runs the dead-letter queue: it parks new copies as failed, and replays retried ones.
  const worker = startProcess(SERVICE_SCRIPTS.worker, env);
  const [apiStarted] = await Promise.all([ready.api(api), ready.worker(worker)]);
  publicUrl = `http://127.0.0.1:${port}`;
  adminUrl = (JSON.parse(apiStarted) as { admin: string }).admin;
  redis = createRedisClient(e2e.services.redisUrl, 'worker');
  deadLetters = createDeadLetterQueue(redis, env.QUEUE_PREFIX ?? '');
});

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
});

afterAll(async () => {
  await deadLetters?.close();
  redis?.disconnect();
  await browser?.close();
});

/** A page logged in to the board, offline: Google Fonts (the board's typeface) is not fetched. */
async function openPage(path: string): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ httpCredentials: ADMIN });
  contexts.push(context);
  await context.route(/^https:\/\/fonts\.(googleapis|gstatic)\.com\//, (route) => route.abort());
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems = collectPageProblems(page);
  onTestFailed(async ({ task }) => {
    const file = artifactPath(`operators-failed-${task.name.replace(/\W+/g, '-').slice(0, 60)}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    console.log(`screenshot of the failure: ${file}`);
  });
  await page.goto(`${adminUrl}${path}`);
  return { page, problems };
}

async function stateOf(jobId: string, wanted: string): Promise<string | undefined> {
  const deadline = Date.now() + 10_000;
  let state: string | undefined;
  while (Date.now() < deadline) {
    state = await (await deadLetters.getJob(jobId))?.getState();
    if (state === wanted) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return state;
}

describe("the operators' listener", () => {
  it('is on a port of its own: the public one serves no board, metrics or docs', async () => {
    expect(new URL(adminUrl).port).not.toBe(new URL(publicUrl).port);
    for (const path of ['/admin/queues', '/metrics', '/docs', '/docs/json']) {
      const onPublic = await fetch(`${publicUrl}${path}`);
      expect(onPublic.status, path).toBe(404);
      expect(await onPublic.json()).toMatchObject({ success: false, code: 'NOT_FOUND' });
    }
    const metrics = await fetch(`${adminUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/otp_relay_queue_jobs\{queue="otp-delivery",state="waiting"\} 0/);
    expect((await fetch(`${adminUrl}/healthz`)).status).toBe(200);
  });

  it('renders Bull Board with no CSP violation, and retries a dead letter from it', async () => {
    // A dead letter of a delivery that is not dead (there is none): its replay finds nothing to send.
    const deliveryId = randomUUID();
    const jobId = `${deliveryId}-3`;
    await deadLetters.add(
      'dead',
      {
        deliveryId,
        channel: 'email',
        provider: 'gmail',
        reason: 'gmail: rejected (HTTP 400)',
        errors: [],
        diedAt: new Date().toISOString(),
      },
      { jobId },
    );
    expect(await stateOf(jobId, 'failed')).toBe('failed');

    const { page, problems } = await openPage('/admin/queues');
    await page.getByText('otp-delivery-dead').first().waitFor();
    await page.goto(`${adminUrl}/admin/queues/queue/otp-delivery-dead?status=failed`);
    await page.getByText('gmail: rejected (HTTP 400)').first().waitFor();
    const retried = page.waitForResponse(
      (response) => response.request().method() === 'PUT' && response.url().endsWith('/retry/failed'),
    );
    await page.getByRole('button', { name: 'Retry all', exact: true }).click();
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    expect((await retried).status()).toBe(200);
    expect(await stateOf(jobId, 'completed')).toBe('completed');
    expect(problems).toEqual([]);
  });

  it('renders Swagger UI with the API document and no CSP violation', async () => {
    const { page, problems } = await openPage('/docs');
    // Swagger UI resolves the whole document before it draws anything: several seconds on a busy machine.
    await page.getByText('/api/accounts/request-otp/').first().waitFor({ timeout: 30_000 });
    expect(problems).toEqual([]);
  });
});
