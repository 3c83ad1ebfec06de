import type { Server } from 'node:http';
import { createRedisClient } from '@otp-relay/core';
import { createDatabase, type DatabaseHandle } from '@otp-relay/db';
import { createTestDatabase, type TestDatabase, uniqueQueuePrefix } from '@otp-relay/testkit';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  checkHealth,
  type HealthReport,
  type WorkerHealthSources,
  workerHealthChecks,
} from '../src/health.js';
import { createWorkerMetrics, portOf } from '../src/metrics.js';

/**
 * The worker's /healthz answers for Redis, Postgres and its own consumer: 503, naming the check
 * that failed, when any of them is not well.
 */

let testDatabase: TestDatabase;
let database: DatabaseHandle;
let redis: Redis;
let consumer: Worker;
const servers: Server[] = [];
// BullMQ leaves a connection it was given open: these are closed at the end.
const connections: Redis[] = [];
const connection = () => {
  const client = createRedisClient(inject('testServices').redisUrl, 'worker');
  connections.push(client);
  return client;
};

beforeAll(async () => {
  const services = inject('testServices');
  testDatabase = await createTestDatabase(services);
  database = createDatabase(testDatabase.url);
  redis = createRedisClient(services.redisUrl, 'worker');
  // A consumer like the delivery worker's, on a queue of this test's own (it never gets a job).
  consumer = new Worker('health-test', async () => undefined, {
    connection: connection(),
    prefix: uniqueQueuePrefix(),
  });
  await consumer.waitUntilReady();
  await redis.ping();
});
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});
afterAll(async () => {
  await consumer.close();
  redis.disconnect();
  for (const client of connections) client.disconnect();
  await database.close();
  await testDatabase.drop();
});

/** GET /healthz from a metrics server checking these sources. */
async function healthz(sources: Partial<WorkerHealthSources> = {}) {
  const server = await createWorkerMetrics().listen(0, '127.0.0.1', () =>
    checkHealth(workerHealthChecks({ redis, database, consumer, ...sources })),
  );
  servers.push(server);
  const response = await fetch(`http://127.0.0.1:${portOf(server)}/healthz`);
  return { status: response.status, body: (await response.json()) as HealthReport };
}

describe("the worker's /healthz", () => {
  it('says ok, check by check, when Redis, Postgres and the consumer are well', async () => {
    expect(await healthz()).toEqual({
      status: 200,
      body: { status: 'ok', checks: { redis: 'ok', postgres: 'ok', consumer: 'ok' } },
    });
  });

  it('answers 503 naming postgres when the database cannot be reached', async () => {
    const closed = createDatabase(testDatabase.url);
    await closed.ping();
    await closed.close();
    expect(await healthz({ database: closed })).toEqual({
      status: 503,
      body: { status: 'unavailable', checks: { redis: 'ok', postgres: 'unavailable', consumer: 'ok' } },
    });
  });

  it('answers 503 naming redis when its client is disconnected', async () => {
    const disconnected = createRedisClient(inject('testServices').redisUrl, 'worker');
    await disconnected.ping();
    disconnected.disconnect();
    expect(await healthz({ redis: disconnected })).toEqual({
      status: 503,
      body: { status: 'unavailable', checks: { redis: 'unavailable', postgres: 'ok', consumer: 'ok' } },
    });
  });

  it('answers 503 naming the consumer while it is paused, and ok again once it resumes', async () => {
    await consumer.pause(true);
    try {
      expect((await healthz()).body.checks).toEqual({ redis: 'ok', postgres: 'ok', consumer: 'unavailable' });
    } finally {
      consumer.resume();
    }
    expect((await healthz()).status).toBe(200);
  });

  it('answers 503 naming the consumer once it is closed', async () => {
    const closed = new Worker('health-test', async () => undefined, {
      connection: connection(),
      prefix: uniqueQueuePrefix(),
    });
    await closed.waitUntilReady();
    expect((await healthz({ consumer: closed })).status).toBe(200);
    await closed.close();
    expect(await healthz({ consumer: closed })).toEqual({
      status: 503,
      body: { status: 'unavailable', checks: { redis: 'ok', postgres: 'ok', consumer: 'unavailable' } },
    });
  });
});

describe("the worker's /livez", () => {
  it('says ok while the process answers, whatever its dependencies do', async () => {
    const closed = createDatabase(testDatabase.url);
    await closed.close();
    const server = await createWorkerMetrics().listen(0, '127.0.0.1', () =>
      checkHealth(workerHealthChecks({ redis, database: closed, consumer })),
    );
    servers.push(server);
    const base = `http://127.0.0.1:${portOf(server)}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(503);
    expect((await fetch(`${base}/livez`)).status).toBe(200);
  });
});

describe('checkHealth', () => {
  it('counts a check that hangs as unavailable, without waiting for it', async () => {
    const report = await checkHealth({ stuck: () => new Promise(() => {}), fine: async () => {} }, 50);
    expect(report).toEqual({ status: 'unavailable', checks: { stuck: 'unavailable', fine: 'ok' } });
  });
});
