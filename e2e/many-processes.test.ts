import { createDatabase } from '@otp-relay/db';
import { type FakeGoogle, startFakeGoogle } from '@otp-relay/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiClient,
  freePort,
  GOOGLE_CREDENTIALS,
  ready,
  registration,
  SERVICE_SCRIPTS,
  type ServiceProcess,
  serviceEnv,
  sharedRedis,
  startProcess,
  useE2eContext,
} from './support/processes.js';

/**
 * Three API and three worker processes on one Redis and one Postgres, as a scaled-out deployment
 * runs (in `.ci/run` on a Redis Cluster, through PgBouncer in transaction mode), with one API and
 * one worker killed (SIGKILL) mid-load.
 *
 * The doomed worker's Gmail never answers, so when it dies it is surely in the middle of sends;
 * the others send to the shoppers' inbox (`e2e.google`). The worker lock settings are the
 * defaults, so the 15 s in the takeover check is what a shopper gets in production.
 */

const REGISTRATIONS = 120;
const CLIENTS = 12;
const KILL_AFTER_ACCEPTED = 40;
/** What the issue promises a shopper whose code a dying worker was sending. */
const TAKEOVER_PROMISE_MS = 15_000;

const e2e = useE2eContext();
/** A Gmail that takes sends and never answers: the doomed worker is always mid-send. */
let unanswering: FakeGoogle;

beforeAll(async () => {
  unanswering = await startFakeGoogle(GOOGLE_CREDENTIALS);
  unanswering.setLatency(10 * 60_000);
});
afterAll(() => unanswering?.close());

type Answer = { status: number; body: Record<string, unknown> };

/** A shopper's browser against a load balancer: each call goes to the next live API. */
function balancer(ports: number[]) {
  const live = new Set(ports);
  let next = 0;
  return {
    remove: (port: number) => live.delete(port),
    live: () => [...live],
    call(path: string, body: unknown): Promise<Answer> {
      const targets = [...live];
      const port = targets[next++ % targets.length] as number;
      return apiClient(port)(path, body);
    },
  };
}

const codeIn = (text: string | undefined) => /code is: (\d{6})/.exec(text ?? '')?.[1];

describe('three APIs and three workers, one of each killed mid-load', () => {
  it('every accepted code is delivered and verified once, limits are shared, and a dying worker’s codes arrive within 15 s', {
    timeout: 180_000,
  }, async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const base = {
      databaseUrl: e2e.database.url,
      ...sharedRedis(e2e.services),
      google: e2e.google,
      // Registration cost is not what this test is about: test mode takes hashing under
      // production's floor, so six processes fit on a small CI machine.
      extra: {
        NODE_ENV: 'test',
        ARGON2_MEMORY_COST: '1024',
        ARGON2_TIME_COST: '1',
        PASSWORD_HASH_QUEUE_LIMIT: '1000',
        // So the per-address limit, not the wait between two codes, is what the last step meets.
        OTP_RESEND_COOLDOWN_SECONDS: '0',
      },
    };
    // One environment for all six (same queue prefix and secrets); each API its own port.
    const shared = serviceEnv({ ...base, port: ports[0] as number });
    const envOf = (port: number) => ({ ...shared, PORT: String(port) });
    const apis = ports.map((port) => startProcess(SERVICE_SCRIPTS.api, envOf(port)));
    const doomedWorker = startProcess(SERVICE_SCRIPTS.worker, {
      ...shared,
      GMAIL_API_ROOT_URL: unanswering.rootUrl,
    });
    const workers = [
      startProcess(SERVICE_SCRIPTS.worker, shared),
      startProcess(SERVICE_SCRIPTS.worker, shared),
    ];
    await Promise.all([...apis.map(ready.api), ready.worker(doomedWorker), ...workers.map(ready.worker)]);

    const lb = balancer(ports);
    const [doomedApi] = apis as [ServiceProcess, ...ServiceProcess[]];
    const accepted: string[] = [];
    /** Requests whose answer never came (their API died): unknown to the shopper, who would retry. */
    const unanswered: string[] = [];
    let killedAt: number | undefined;
    const killMidLoad = async () => {
      await unanswering.waitForSendRequests(1, 60_000);
      doomedWorker.child.kill('SIGKILL');
      doomedApi.child.kill('SIGKILL');
      lb.remove(ports[0] as number);
      killedAt = Date.now();
      await Promise.all([doomedWorker.exited, doomedApi.exited]);
    };

    const emails = Array.from(
      { length: REGISTRATIONS },
      (_, index) => `fleet-${index}-${ports[0]}@example.com`,
    );
    const pending = [...emails];
    let killing: Promise<void> | undefined;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        for (let email = pending.shift(); email; email = pending.shift()) {
          if (accepted.length >= KILL_AFTER_ACCEPTED && !killing) killing = killMidLoad();
          const answer = await lb.call('request-otp/', registration(email)).catch(() => undefined);
          if (answer === undefined) unanswered.push(email);
          else {
            expect(answer.status).toBe(200);
            accepted.push(email);
          }
        }
      }),
    );
    await killing;
    expect(killedAt).toBeDefined();
    expect(accepted.length).toBeGreaterThan(REGISTRATIONS - CLIENTS);

    // Every accepted code reaches its shopper once.
    await Promise.all(accepted.map((to) => e2e.google.waitForEmails(1, { to, timeoutMs: 90_000 })));
    const received = (address: string) => e2e.google.sent.filter((email) => email.to.includes(address));
    for (const email of accepted) expect(received(email), email).toHaveLength(1);
    // A request that died with its API may or may not have been stored; it never gets two codes.
    for (const email of unanswered) expect(received(email).length, email).toBeLessThanOrEqual(1);

    // The codes the killed worker was sending were taken over, and arrived within the promise.
    const db = createDatabase(e2e.database.url, { maxConnections: 1 });
    let interrupted: string[];
    try {
      const rows = (await db.db.query.deliveries.findMany()).filter((row) =>
        accepted.includes(row.destination),
      );
      expect(rows.map((row) => row.status)).toEqual(accepted.map(() => 'sent'));
      interrupted = rows.filter((row) => row.interruptedAttempts > 0).map((row) => row.destination);
    } finally {
      await db.close();
    }
    expect(interrupted.length).toBeGreaterThan(0);
    const takeovers = interrupted.map((email) => {
      const arrived = received(email)[0]?.receivedAt.getTime() ?? Number.POSITIVE_INFINITY;
      return { email, ms: arrived - (killedAt ?? 0) };
    });
    const slowest = Math.max(...takeovers.map((takeover) => takeover.ms));
    console.log(
      `${interrupted.length} codes taken over from the killed worker, the last ${slowest} ms after it died; ` +
        `${unanswered.length} requests unanswered when their API died`,
    );
    for (const { email, ms } of takeovers) {
      expect(ms, `${email} arrived ${ms} ms after its worker died`).toBeLessThanOrEqual(TAKEOVER_PROMISE_MS);
    }

    // Each code verifies exactly once, even when two APIs are asked at the same moment.
    const survivors = lb.live();
    await Promise.all(
      accepted.map(async (email, index) => {
        const otp = codeIn(received(email)[0]?.text);
        expect(otp, email).toMatch(/^\d{6}$/);
        const answers = await Promise.all(
          [0, 1].map((offset) =>
            apiClient(survivors[(index + offset) % survivors.length] as number)('verify-otp/', {
              email,
              otp,
            }),
          ),
        );
        const statuses = answers.map((answer) => answer.status).sort();
        expect(statuses[0], email).toBe(200);
        expect(statuses[1], email).toBeGreaterThanOrEqual(400);
        expect(statuses[1], email).toBeLessThan(500);
      }),
    );

    // Limits live in Redis, not in a process: one address gets SEND_LIMIT_PER_DESTINATION codes
    // (5) in all, whichever API each request reaches.
    const limited = registration(`fleet-limit-${ports[0]}@example.com`);
    const statuses: number[] = [];
    for (let request = 0; request < 8; request += 1) {
      statuses.push((await lb.call('request-otp/', limited)).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);

    // Readiness sees the surviving workers, on a cluster too (BullMQ reads CLIENT LIST per node).
    for (const port of survivors) expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);

    // The survivors keep serving and stop cleanly.
    await Promise.all([...apis.slice(1), ...workers].map((service) => service.stop()));
    for (const service of [...apis.slice(1), ...workers]) expect(await service.exited).toBe(0);
  });
});
