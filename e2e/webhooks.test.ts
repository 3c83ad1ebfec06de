import { randomBytes } from 'node:crypto';
import { createDatabase, webhookEvents } from '@otp-relay/db';
import { type FakeWebhookReceiver, startFakeWebhookReceiver } from '@otp-relay/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  apiClient,
  freePort,
  ready,
  registration,
  SERVICE_SCRIPTS,
  serviceEnv,
  startProcess,
  useE2eContext,
} from './support/processes.js';

/**
 * Webhooks between built processes: an event survives the worker that was sending it, and a
 * receiver that never answers holds up no code.
 */

const e2e = useE2eContext();
const secret = `whsec_${randomBytes(32).toString('base64')}`;

let receiver: FakeWebhookReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

async function envWith(port: number, hook: FakeWebhookReceiver, extra: Record<string, string> = {}) {
  return serviceEnv({
    databaseUrl: e2e.database.url,
    redisUrl: e2e.services.redisUrl,
    google: e2e.google,
    port,
    extra: { WEBHOOK_URL: hook.url, WEBHOOK_SECRET: secret, ...extra },
  });
}

/** request-otp, the emailed code, verify-otp: the new account's id. */
async function register(port: number, email: string): Promise<string> {
  const call = apiClient(port);
  const requested = await call('request-otp/', registration(email));
  expect(requested.status).toBe(200);
  const [message] = await e2e.google.waitForEmails(1, { to: email, timeoutMs: 30_000 });
  const otp = /code is: (\d{6})/.exec(message?.text ?? '')?.[1];
  const verified = await call('verify-otp/', {
    email,
    otp,
    verification_id: requested.body.verification_id,
  });
  expect(verified.status).toBe(200);
  return (verified.body.user as { id: string }).id;
}

describe('webhooks across processes', () => {
  it('a worker killed (SIGKILL) mid-delivery: a second worker finishes, the receiver sees each event once', async () => {
    receiver = await startFakeWebhookReceiver({ secrets: [secret] });
    const port = await freePort();
    // The receiver takes the first event and then never answers: the worker dies waiting.
    receiver.failNext(1, { kind: 'hold' });
    const env = await envWith(port, receiver, { DELIVERY_LOCK_MS: '1000', WEBHOOK_TIMEOUT_SECONDS: '120' });
    const api = startProcess(SERVICE_SCRIPTS.api, env);
    const doomed = startProcess(SERVICE_SCRIPTS.worker, env);
    await Promise.all([ready.api(api), ready.worker(doomed)]);

    const userId = await register(port, `webhook-sigkill-${port}@example.com`);
    // Both events arrive at the receiver; one of them is held, its request still open.
    await receiver.waitForEvents(2, { timeoutMs: 30_000 });
    const held = receiver.requests.find((request) => request.outcome === 'held');
    expect(held).toBeDefined();
    // The other event was answered: the kill waits until its row says delivered, so the only
    // event the successor sends again is the held one.
    await doomed.lineMatching(/webhook delivered/);
    doomed.child.kill('SIGKILL');
    await doomed.exited;

    const successor = startProcess(SERVICE_SCRIPTS.worker, env);
    await ready.worker(successor);
    // The held event is sent again under the same webhook-id, and the receiver drops the repeat.
    await successor.lineMatching(/webhook delivered/);
    const repeats = receiver.requests.filter((request) => request.id === held?.id);
    expect(repeats.map((request) => request.outcome)).toEqual(['held', 'duplicate']);

    const events = receiver.events;
    expect(events.map((event) => event.type).sort()).toEqual(['user.registered', 'verification.approved']);
    expect(new Set(events.map((event) => event.id)).size).toBe(2);
    expect(events.every((event) => event.verifiedBy.length === 1)).toBe(true);
    expect(events.find((event) => event.type === 'user.registered')?.payload.data).toMatchObject({
      user: { id: userId },
    });

    // One row per fact, both delivered: no second id was ever made for either.
    const db = createDatabase(e2e.database.url, { maxConnections: 1 });
    try {
      const rows = await db.db.select().from(webhookEvents);
      expect(rows.map((row) => [row.type, row.status]).sort()).toEqual([
        ['user.registered', 'delivered'],
        ['verification.approved', 'delivered'],
      ]);
      expect(rows.map((row) => row.id).sort()).toEqual(events.map((event) => event.id).sort());
    } finally {
      await db.close();
    }
  });

  it('a receiver that never answers takes every webhook slot, and codes are still delivered', async () => {
    receiver = await startFakeWebhookReceiver({ secrets: [secret] });
    receiver.failNext(Number.POSITIVE_INFINITY, { kind: 'hang' });
    const port = await freePort();
    const env = await envWith(port, receiver, { WEBHOOK_CONCURRENCY: '2', WEBHOOK_TIMEOUT_SECONDS: '120' });
    const api = startProcess(SERVICE_SCRIPTS.api, env);
    const worker = startProcess(SERVICE_SCRIPTS.worker, env);
    await Promise.all([ready.api(api), ready.worker(worker)]);

    // Two registrations: four events for two slots, both held by requests that never end.
    await register(port, `webhook-hang-a-${port}@example.com`);
    await register(port, `webhook-hang-b-${port}@example.com`);
    await receiver.waitForRequests(2, 30_000);
    expect(receiver.requests.every((request) => request.outcome === 'hung')).toBe(true);

    // With every webhook slot stuck, codes go out as before.
    const emails = [0, 1, 2].map((index) => `webhook-hang-code-${index}-${port}@example.com`);
    for (const email of emails) {
      expect((await apiClient(port)('request-otp/', registration(email))).status).toBe(200);
    }
    for (const email of emails) {
      const [message] = await e2e.google.waitForEmails(1, { to: email, timeoutMs: 30_000 });
      expect(message?.text).toMatch(/code is: \d{6}/);
    }
    // Still two requests, still hanging: nothing else was taken from the webhook queue.
    expect(receiver.requests).toHaveLength(2);
    expect(receiver.events).toEqual([]);
  });
});
