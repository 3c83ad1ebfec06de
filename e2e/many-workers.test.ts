import { createDatabase } from '@otp-relay/db';
import { describe, expect, it } from 'vitest';
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

/** Any number of worker processes share one queue, and every code goes out once. */

const REQUESTS = 200;
const CLIENT_CONCURRENCY = 20;

const e2e = useE2eContext();

describe('two worker processes on one queue', () => {
  it(`deliver ${REQUESTS} codes, each exactly once`, async () => {
    const port = await freePort();
    const env = serviceEnv({
      databaseUrl: e2e.database.url,
      redisUrl: e2e.services.redisUrl,
      google: e2e.google,
      port,
      // Registration cost and load shedding are not what this test is about: test mode takes
      // hashing under production's floor, and every one of the concurrent clients' hashes may wait.
      extra: {
        NODE_ENV: 'test',
        ARGON2_MEMORY_COST: '1024',
        ARGON2_TIME_COST: '1',
        PASSWORD_HASH_QUEUE_LIMIT: '1000',
        WORKER_CONCURRENCY: '10',
      },
    });
    const api = startProcess(SERVICE_SCRIPTS.api, env);
    const workers = [startProcess(SERVICE_SCRIPTS.worker, env), startProcess(SERVICE_SCRIPTS.worker, env)];
    await Promise.all([ready.api(api), ...workers.map(ready.worker)]);

    const call = apiClient(port);
    const emails = Array.from({ length: REQUESTS }, (_, index) => `many-${index}-${port}@example.com`);
    const queue = [...emails];
    await Promise.all(
      Array.from({ length: CLIENT_CONCURRENCY }, async () => {
        for (let email = queue.shift(); email; email = queue.shift()) {
          const response = await call('request-otp/', registration(email));
          expect(response.status).toBe(200);
        }
      }),
    );

    const sent = await e2e.google.waitForEmails(REQUESTS, { timeoutMs: 60_000 });
    const recipients = sent.flatMap((message) => message.to);
    expect(new Set(recipients).size).toBe(REQUESTS);
    expect(recipients.sort()).toEqual([...emails].sort());

    for (const worker of workers) {
      expect(worker.lines.filter((line) => line.includes('delivery sent')).length).toBeGreaterThan(0);
    }
    // Every row was claimed once, by one worker.
    const db = createDatabase(e2e.database.url, { maxConnections: 1 });
    try {
      const rows = await db.db.query.deliveries.findMany();
      expect(rows).toHaveLength(REQUESTS);
      expect(rows.every((row) => row.attempts === 1 && row.interruptedAttempts === 0)).toBe(true);
    } finally {
      await db.close();
    }
    expect(e2e.google.sent).toHaveLength(REQUESTS);
  });
});
