/**
 * Scenario 3, delivery throughput: 5,000 deliveries already queued (rows and jobs made directly,
 * sealed and hashed as the API does, so only the worker is measured), the fake provider at 50 ms;
 * workers are started on the full queue and the drain is timed from the first acceptance to the
 * last. Worker concurrency 1, 10, 50; 1 and 2 processes; and beside them the queue's own ceiling:
 * a bare BullMQ Worker whose processor only waits 50 ms.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  createDeliveryQueue,
  DELIVERY_QUEUE,
  type DeliveryQueue,
  deliveryJobOptions,
  deriveKey,
  generateCode,
  generateVerificationId,
  hashFlowCode,
  sealDeliveryPayload,
} from '@otp-relay/core';
import type { ServiceSecrets } from '@otp-relay/testkit/node-processes';
import { Redis } from 'ioredis';
import type { CeilingReport } from '../helpers/ceiling-worker.js';
import { cpuDelta, processCpuMs, snapshotCpu } from '../proc-stats.js';
import { HELPERS, nextMessage, startHelper } from '../processes.js';
import { row, type TableRow } from '../report.js';
import { adminClient, clearRedisPrefix } from '../services.js';
import { sharedCpuSources, stackCpuSources, startStack } from '../stack.js';
import { otherCpuCores, type Scenario } from './context.js';

const PASSWORD_HASH = `$argon2id$v=19$m=19456,t=2,p=1$${'a'.repeat(22)}$${'b'.repeat(43)}`;
const BATCH = 1_000;
const MAX_ATTEMPTS = 8;

/** Enqueues the jobs as the API does (same options), in bulk. */
async function enqueue(queue: DeliveryQueue, ids: string[]) {
  for (let i = 0; i < ids.length; i += BATCH) {
    await queue.addBulk(
      ids.slice(i, i + BATCH).map((deliveryId) => ({
        name: 'deliver',
        data: { deliveryId },
        opts: deliveryJobOptions(deliveryId, { maxAttempts: MAX_ATTEMPTS }),
      })),
    );
  }
}

/**
 * Flow and delivery rows for `count` codes (each its flow's first), sealed and hashed with the
 * stack's keys: every code is one the worker must send.
 */
async function seedDeliveries(
  databaseUrl: string,
  secrets: ServiceSecrets,
  count: number,
): Promise<string[]> {
  const hmacKey = deriveKey(secrets.OTP_PEPPER, 'otp-hmac');
  const payloadKey = deriveKey(secrets.OTP_ENCRYPTION_KEY, 'payload-encryption');
  const sql = adminClient(databaseUrl);
  const run = randomBytes(3).toString('hex');
  const ids: string[] = [];
  try {
    for (let start = 0; start < count; start += BATCH) {
      const now = new Date();
      const expires = new Date(now.getTime() + 10 * 60_000);
      const flows = [];
      const deliveries = [];
      for (let i = start; i < Math.min(count, start + BATCH); i += 1) {
        const flowId = randomUUID();
        const deliveryId = randomUUID();
        const code = generateCode(6);
        const email = `t${run}-${i}@shop.test`;
        flows.push({
          id: flowId,
          verification_id: generateVerificationId(),
          kind: 'code',
          email,
          // Already its mailbox key: lower case, no +tag, not Gmail.
          email_key: email,
          channel: 'email',
          destination: email,
          code_hash: hashFlowCode(hmacKey, flowId, code),
          code_sequence: 1,
          username: `t${run}_${i}`,
          first_name: 'Bench',
          last_name: 'Shopper',
          password_hash: PASSWORD_HASH,
          expires_at: expires,
          created_at: now,
        });
        deliveries.push({
          id: deliveryId,
          kind: 'otp',
          flow_id: flowId,
          code_sequence: 1,
          channel: 'email',
          destination: email,
          payload_ciphertext: sealDeliveryPayload(payloadKey, deliveryId, { code }),
          created_at: now,
          updated_at: now,
        });
        ids.push(deliveryId);
      }
      await sql`INSERT INTO registration_flows ${sql(flows)}`;
      await sql`INSERT INTO deliveries ${sql(deliveries)}`;
    }
  } finally {
    await sql.end();
  }
  return ids;
}

interface DrainResult {
  label: string;
  workers: number;
  concurrency: number;
  delivered: number;
  /** Deliveries per second from the first acceptance to the last. */
  ratePerSecond: number;
  drainMs: number;
  bounded: boolean;
  cpuMs: Record<string, number>;
  workerCpuMsPerDelivery: number;
  postgresCpuMsPerDelivery: number;
  otherCores: number;
}

const rateOf = (count: number, first: number, last: number) =>
  count >= 2 && last > first ? ((count - 1) * 1000) / (last - first) : Number.NaN;

export const deliveryThroughputScenario: Scenario = async ({ services, config, log, defer }) => {
  const cfg = config.deliveryThroughput;
  const topConcurrency = Math.max(...cfg.concurrencies);
  const setups = [
    ...cfg.concurrencies.map((concurrency) => ({ workers: 1, concurrency })),
    ...cfg.processes.filter((n) => n !== 1).map((workers) => ({ workers, concurrency: topConcurrency })),
  ];
  const results: DrainResult[] = [];

  for (const setup of setups) {
    const label = `${setup.workers} worker${setup.workers > 1 ? 's' : ''} × concurrency ${setup.concurrency}`;
    const stack = await startStack(services, { label: 'throughput', api: false, workers: 0 });
    try {
      const ids = await seedDeliveries(stack.database.url, stack.secrets, cfg.deliveries);
      const redis = new Redis(services.redisUrl, { maxRetriesPerRequest: null });
      const queue = createDeliveryQueue(redis, stack.queuePrefix);
      try {
        await enqueue(queue, ids);
      } finally {
        await queue.close();
        redis.disconnect();
      }
      stack.mailbox.setLatency(cfg.latencyMs);
      stack.mailbox.resetCount();
      await stack.addWorkers(setup.workers, { WORKER_CONCURRENCY: String(setup.concurrency) });
      const cpu = { ...stackCpuSources(stack), ...sharedCpuSources(services) };
      const before = snapshotCpu(cpu);
      const started = Date.now();
      await stack.mailbox.waitForCount(cfg.deliveries, cfg.boundMs);
      const { count, first, last } = stack.mailbox.received;
      const cpuMs = cpuDelta(before, snapshotCpu(cpu));
      const elapsedMs = Date.now() - started;
      results.push({
        label,
        ...setup,
        delivered: count,
        ratePerSecond: rateOf(count, first, last),
        drainMs: last - first,
        bounded: count < cfg.deliveries,
        cpuMs,
        workerCpuMsPerDelivery: (cpuMs.worker ?? Number.NaN) / count,
        postgresCpuMsPerDelivery: (cpuMs.postgres ?? Number.NaN) / count,
        otherCores: otherCpuCores(cpuMs, elapsedMs),
      });
      log(`  ${label}: ${count} delivered, ${rateOf(count, first, last).toFixed(1)}/s`);
    } finally {
      await stack.stop();
      await stack.database.drop();
    }
  }

  // The ceiling: the same jobs (same options) on the same Redis, a processor that only waits.
  const prefix = `bench-ceiling-${randomBytes(4).toString('hex')}`;
  const redis = new Redis(services.redisUrl, { maxRetriesPerRequest: null });
  const queue = createDeliveryQueue(redis, prefix);
  defer(async () => {
    await queue.close();
    redis.disconnect();
    await clearRedisPrefix(services.redisUrl, prefix);
  });
  await enqueue(
    queue,
    Array.from({ length: cfg.deliveries }, () => randomUUID()),
  );
  const ceiling = startHelper('ceiling-worker', HELPERS.ceilingWorker, {
    REDIS_URL: services.redisUrl,
    CEILING_QUEUE: DELIVERY_QUEUE,
    CEILING_PREFIX: prefix,
    CEILING_CONCURRENCY: String(topConcurrency),
    CEILING_WAIT_MS: String(cfg.latencyMs),
    CEILING_JOBS: String(cfg.deliveries),
  });
  defer(() => ceiling.stop(5_000));
  const ceilingCpu = { ceiling: () => processCpuMs(ceiling.pid), ...sharedCpuSources(services) };
  const before = snapshotCpu(ceilingCpu);
  const isDone = (message: unknown) =>
    (message as CeilingReport).type === 'done' ? (message as CeilingReport) : undefined;
  const done = await nextMessage(ceiling, isDone, cfg.boundMs + 30_000).catch(async () => {
    ceiling.child.send({ type: 'report' });
    return nextMessage(ceiling, isDone, 5_000);
  });
  const ceilingCpuMs = cpuDelta(before, snapshotCpu(ceilingCpu));
  const ceilingRate = rateOf(done.count, done.first, done.last);
  log(`  ceiling (bare BullMQ, concurrency ${topConcurrency}): ${ceilingRate.toFixed(1)}/s`);

  const rows: TableRow[] = results.map((result) => {
    const isTarget = result.workers === 1 && result.concurrency === topConcurrency;
    return row(
      `deliveries/s, ${result.label}${result.bounded ? ` (${result.delivered} in ${cfg.boundMs / 1000} s)` : ''}`,
      '/s',
      result.ratePerSecond,
      ceilingRate,
      isTarget ? '≥ 300/s; ratio to ceiling' : '',
      isTarget ? (o) => o >= 300 : undefined,
    );
  });
  rows.push(row('queue ceiling (bare BullMQ worker)', '/s', ceilingRate, null));
  for (const result of results) {
    rows.push(row(`worker CPU ms/delivery, ${result.label}`, 'ms', result.workerCpuMsPerDelivery, null));
  }
  rows.push(
    row(
      'other CPU on the machine (cores, max setup)',
      '',
      Math.max(...results.map((result) => result.otherCores)),
      null,
    ),
  );
  return {
    name: 'delivery-throughput',
    title: `delivery throughput: ${cfg.deliveries} queued deliveries, provider latency ${cfg.latencyMs} ms`,
    referenceLabel: 'queue ceiling',
    rows,
    notes: [
      'Rows and jobs are made directly (as the API makes them); workers start on the full queue.',
      'Rate = (delivered − 1) / (last acceptance − first acceptance): worker start-up is not counted.',
      `A setup stops after ${cfg.boundMs / 1000} s; its rate is over what it delivered by then.`,
    ],
    details: { results, ceiling: { ...done, ratePerSecond: ceilingRate, cpuMs: ceilingCpuMs } },
  };
};
