/**
 * One "stack" of ours under test: a fresh migrated database, a fresh queue prefix, the fake Google
 * in its own process, the built API and any number of built workers. Scenarios start one (or two,
 * to compare) and stop it when done; its process ids feed the CPU and memory readings.
 */
import { randomBytes } from 'node:crypto';
import { newServiceSecrets, type ServiceSecrets } from '@otp-relay/testkit/node-processes';
import { type Mailbox, startMailbox } from './mailbox.js';
import { type CpuSources, processCpuMs, processTreeCpuMs, selfCpuMs } from './proc-stats.js';
import {
  type BenchProcess,
  freePort,
  SERVICE_SCRIPTS,
  serviceEnv,
  startProcess,
  waitForHttp,
} from './processes.js';
import { type BenchDatabase, type BenchServices, clearRedisPrefix, createBenchDatabase } from './services.js';

export interface ServiceHandle {
  proc: BenchProcess;
  port: number;
  origin: string;
  /** The API's operators' listener (its /metrics); workers serve theirs on `origin`. */
  adminOrigin?: string;
}

export interface Stack {
  label: string;
  database: BenchDatabase;
  queuePrefix: string;
  secrets: ServiceSecrets;
  mailbox: Mailbox;
  api?: ServiceHandle;
  workers: ServiceHandle[];
  /** Starts `count` more workers with the stack's environment. */
  addWorkers(count: number, extra?: Record<string, string>): Promise<ServiceHandle[]>;
  stopWorkers(): Promise<void>;
  /** Stops API and workers (gracefully: their Postgres sessions end and flush their statistics). */
  stopServices(): Promise<void>;
  stop(): Promise<void>;
}

export interface StackOptions {
  label: string;
  api?: boolean;
  workers?: number;
  /** Extra environment for API and workers (e.g. WORKER_CONCURRENCY). */
  env?: Record<string, string>;
  /** Node flags for API and workers (e.g. --cpu-prof). */
  execArgv?: string[];
  /** An existing database to use instead of a fresh one. */
  database?: BenchDatabase;
}

export async function startStack(services: BenchServices, options: StackOptions): Promise<Stack> {
  const database = options.database ?? (await createBenchDatabase(services, options.label));
  const queuePrefix = `bench-${options.label}-${randomBytes(4).toString('hex')}`;
  const secrets = newServiceSecrets();
  const mailbox = await startMailbox().catch(async (error: unknown) => {
    if (!options.database) await database.drop();
    throw error;
  });
  const workers: ServiceHandle[] = [];
  let api: ServiceHandle | undefined;

  const envFor = (port: number, adminPort: number | undefined, extra: Record<string, string> = {}) =>
    serviceEnv({
      databaseUrl: database.url,
      redisUrl: services.redisUrl,
      queuePrefix,
      secrets,
      google: mailbox,
      port,
      adminPort,
      extra: { ...options.env, ...extra },
    });
  const execArgv = options.execArgv ?? [];

  async function startService(
    kind: 'api' | 'worker',
    extra?: Record<string, string>,
  ): Promise<ServiceHandle> {
    const port = await freePort();
    const adminPort = kind === 'api' ? await freePort() : undefined;
    const proc = startProcess(kind, SERVICE_SCRIPTS[kind], envFor(port, adminPort, extra), { execArgv });
    const origin = `http://127.0.0.1:${port}`;
    const adminOrigin = adminPort ? `http://127.0.0.1:${adminPort}` : undefined;
    // LOG_LEVEL=warn hides the "listening"/"started" lines: readiness is the health endpoint (the
    // operators' listener starts after the public one).
    await waitForHttp(proc, `${adminOrigin ?? origin}/healthz`);
    return { proc, port, origin, adminOrigin };
  }

  const stack: Stack = {
    label: options.label,
    database,
    queuePrefix,
    secrets,
    mailbox,
    get api() {
      return api;
    },
    workers,
    async addWorkers(count, extra) {
      const started = await Promise.all(Array.from({ length: count }, () => startService('worker', extra)));
      workers.push(...started);
      return started;
    },
    async stopWorkers() {
      await Promise.all(workers.map((worker) => worker.proc.stop()));
      workers.length = 0;
    },
    async stopServices() {
      await Promise.all([api?.proc.stop(), stack.stopWorkers()]);
      api = undefined;
    },
    async stop() {
      await stack.stopServices();
      await mailbox.close();
      await clearRedisPrefix(services.redisUrl, queuePrefix);
    },
  };
  try {
    const [startedApi] = await Promise.all([
      options.api === false ? undefined : startService('api'),
      stack.addWorkers(options.workers ?? 1),
    ]);
    api = startedApi;
  } catch (error) {
    await stack.stop();
    if (!options.database) await database.drop();
    throw error;
  }
  return stack;
}

/** CPU counters of a stack's processes (by pid, so a stopped process stops counting). */
export function stackCpuSources(stack: Stack, prefix = ''): CpuSources {
  const apiPid = stack.api?.proc.pid;
  const workerPids = stack.workers.map((worker) => worker.proc.pid);
  const fakePid = stack.mailbox.proc.pid;
  return {
    ...(apiPid ? { [`${prefix}api`]: () => processCpuMs(apiPid) } : {}),
    [`${prefix}worker`]: () => workerPids.reduce((sum, pid) => sum + processCpuMs(pid), 0),
    [`${prefix}fake-google`]: () => processCpuMs(fakePid),
  };
}

/** CPU counters of the shared servers and the bench itself. */
export function sharedCpuSources(services: BenchServices): CpuSources {
  const { postmasterPid, redisPid } = services;
  return {
    ...(postmasterPid ? { postgres: () => processTreeCpuMs(postmasterPid) } : {}),
    ...(redisPid ? { redis: () => processCpuMs(redisPid) } : {}),
    'load-generator': selfCpuMs,
  };
}
