import { createDatabase } from '@otp-relay/db';
import { describe, expect, it } from 'vitest';
import {
  apiClient,
  freePort,
  hasRedisServer,
  ready,
  registration,
  SERVICE_SCRIPTS,
  serviceEnv,
  sharedRedis,
  startProcess,
  startRedisServer,
  useE2eContext,
} from './support/processes.js';

/** Accepted codes survive a Redis restart and a worker killed mid-send. */

const e2e = useE2eContext();

describe('nothing accepted is lost', () => {
  // CI installs redis-server; a machine that only has containers cannot stop and start one here.
  it.runIf(hasRedisServer)('Redis stopped, request accepted, Redis started: the email arrives', async () => {
    const redisPort = await freePort();
    let redis = await startRedisServer(redisPort);
    const port = await freePort();
    const env = serviceEnv({
      databaseUrl: e2e.database.url,
      redisUrl: redis.url,
      google: e2e.google,
      port,
      extra: { OUTBOX_RELAY_INTERVAL_MS: '200', OUTBOX_RELAY_GRACE_MS: '500' },
    });
    const api = startProcess(SERVICE_SCRIPTS.api, env);
    const worker = startProcess(SERVICE_SCRIPTS.worker, env);
    await Promise.all([ready.api(api), ready.worker(worker)]);

    await redis.stop();
    const email = `redis-restart-${port}@example.com`;
    const requested = await apiClient(port)('request-otp/', registration(email));
    expect(requested.status).toBe(200);

    redis = await startRedisServer(redisPort);
    const [message] = await e2e.google.waitForEmails(1, { to: email, timeoutMs: 30_000 });
    expect(message?.text).toMatch(/code is: \d{6}/);
    await redis.stop();
  });

  it('a worker killed with SIGKILL during a slow send: a new worker delivers the email', async () => {
    const port = await freePort();
    const env = serviceEnv({
      databaseUrl: e2e.database.url,
      ...sharedRedis(e2e.services),
      google: e2e.google,
      port,
      extra: { DELIVERY_LOCK_MS: '1000' },
    });
    const api = startProcess(SERVICE_SCRIPTS.api, env);
    const doomed = startProcess(SERVICE_SCRIPTS.worker, env);
    await Promise.all([ready.api(api), ready.worker(doomed)]);

    e2e.google.setLatency(5000);
    const sendsBefore = e2e.google.sendRequests;
    const email = `sigkill-${port}@example.com`;
    expect((await apiClient(port)('request-otp/', registration(email))).status).toBe(200);
    await e2e.google.waitForSendRequests(sendsBefore + 1);
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    e2e.google.setLatency(0);

    const successor = startProcess(SERVICE_SCRIPTS.worker, env);
    await ready.worker(successor);
    await successor.lineMatching(/delivery sent/);
    const [message] = await e2e.google.waitForEmails(1, { to: email, timeoutMs: 30_000 });
    expect(message?.text).toMatch(/code is: \d{6}/);

    // The interrupted attempt is counted: Gmail may have sent the first one as well.
    const db = createDatabase(e2e.database.url, { maxConnections: 1 });
    try {
      const rows = await db.db.query.deliveries.findMany({
        where: (row, { eq }) => eq(row.destination, email),
      });
      expect(rows).toEqual([
        expect.objectContaining({ status: 'sent', attempts: 2, interruptedAttempts: 1 }),
      ]);
    } finally {
      await db.close();
    }
  });

  it('a worker told to stop (SIGTERM) mid-send finishes that send, then exits', async () => {
    const port = await freePort();
    const env = serviceEnv({
      databaseUrl: e2e.database.url,
      ...sharedRedis(e2e.services),
      google: e2e.google,
      port,
    });
    const api = startProcess(SERVICE_SCRIPTS.api, env);
    const worker = startProcess(SERVICE_SCRIPTS.worker, env);
    await Promise.all([ready.api(api), ready.worker(worker)]);

    e2e.google.setLatency(1500);
    try {
      const sendsBefore = e2e.google.sendRequests;
      const email = `sigterm-${port}@example.com`;
      expect((await apiClient(port)('request-otp/', registration(email))).status).toBe(200);
      await e2e.google.waitForSendRequests(sendsBefore + 1);
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      expect(worker.lines.some((line) => line.includes('delivery sent'))).toBe(true);
      expect(e2e.google.sent.filter((sent) => sent.to.includes(email))).toHaveLength(1);
    } finally {
      e2e.google.setLatency(0);
    }
  });
});
