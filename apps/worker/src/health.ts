import type { DatabaseHandle } from '@otp-relay/db';
import type { Worker } from 'bullmq';

/** A dependency check: resolves when it is fine, rejects (or times out) when not. */
export type HealthCheck = () => Promise<void>;

type CheckResult = 'ok' | 'unavailable';

export interface HealthReport {
  status: CheckResult;
  /** Each check by name: which one failed is what the operator needs first. */
  checks: Record<string, CheckResult>;
}

const CHECK_TIMEOUT_MS = 2000;

/** Runs every check at once, each bounded: a dependency that hangs counts as unavailable. */
export async function checkHealth(
  checks: Record<string, HealthCheck>,
  timeoutMs = CHECK_TIMEOUT_MS,
): Promise<HealthReport> {
  const names = Object.keys(checks);
  const results = await Promise.all(
    names.map(async (name): Promise<CheckResult> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
      });
      try {
        await Promise.race([checks[name]?.(), timeout]);
        return 'ok';
      } catch {
        return 'unavailable';
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const report = Object.fromEntries(names.map((name, index) => [name, results[index] ?? 'unavailable']));
  return { status: results.every((result) => result === 'ok') ? 'ok' : 'unavailable', checks: report };
}

export interface WorkerHealthSources {
  /** The worker's Redis client (a node or a cluster). */
  redis: { readonly status: string; ping(): Promise<unknown> };
  database: Pick<DatabaseHandle, 'ping'>;
  /** The delivery queue's consumer: a worker that stopped taking jobs is not healthy. */
  consumer: Pick<Worker, 'isRunning' | 'isPaused' | 'closing'>;
}

/** What the worker's /healthz checks: Redis (PING), Postgres (SELECT), and its own consumer. */
export function workerHealthChecks(sources: WorkerHealthSources): Record<string, HealthCheck> {
  return {
    redis: async () => {
      // The worker's client queues commands while disconnected (it never fails them): ask only when ready.
      if (sources.redis.status !== 'ready') throw new Error(`redis is ${sources.redis.status}`);
      await sources.redis.ping();
    },
    postgres: () => sources.database.ping(),
    consumer: async () => {
      const { consumer } = sources;
      if (!consumer.isRunning() || consumer.isPaused() || consumer.closing) {
        throw new Error('the delivery consumer is not taking jobs');
      }
    },
  };
}
