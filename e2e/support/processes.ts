import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { findRedisServer, startLocalRedis } from '@otp-relay/local-services';
import {
  createTestDatabase,
  type FakeGoogle,
  startFakeGoogle,
  type TestDatabase,
  type TestServices,
} from '@otp-relay/testkit';
import {
  type NodeProcess,
  newServiceSecrets,
  SERVICE_SCRIPTS,
  serviceEnvironment,
  startNodeProcess,
} from '@otp-relay/testkit/node-processes';
import { afterAll, beforeAll, inject } from 'vitest';
import {
  directDatabaseUrl,
  poolerEnvironment,
  serviceDatabaseUrl,
  setServerSearchPath,
} from './pgbouncer.js';

/** Running the built services (`pnpm build`) as separate processes, as operators do. */

export { freePort, REPO_ROOT, SERVICE_SCRIPTS } from '@otp-relay/testkit/node-processes';

export const GOOGLE_CREDENTIALS = {
  clientId: 'e2e-client',
  clientSecret: 'e2e-secret',
  refreshToken: 'e2e-refresh',
};

/** The contract's environment for API and worker, Gmail pointed at the fake. */
export function serviceEnv(options: {
  databaseUrl: string;
  redisUrl?: string;
  redisClusterNodes?: string;
  google: FakeGoogle;
  port: number;
  extra?: Record<string, string>;
}): NodeJS.ProcessEnv {
  return serviceEnvironment({
    ...options,
    databaseUrl: serviceDatabaseUrl(options.databaseUrl),
    queuePrefix: `e2e-${randomBytes(4).toString('hex')}`,
    secrets: newServiceSecrets(),
    google: { ...GOOGLE_CREDENTIALS, rootUrl: options.google.rootUrl, tokenUrl: options.google.tokenUrl },
    // Several workers may run at once: each takes a free port, and logs it at start.
    extra: { WORKER_METRICS_PORT: '0', ...poolerEnvironment(), ...options.extra },
  });
}

/**
 * The run's shared Redis as the services reach it: the Redis Cluster when the run has one
 * (TEST_REDIS_CLUSTER_NODES, as `.ci/run` sets for its cluster pass), else the one server.
 */
export function sharedRedis(services: TestServices): { redisUrl: string } | { redisClusterNodes: string } {
  return services.redisClusterNodes
    ? { redisClusterNodes: services.redisClusterNodes }
    : { redisUrl: services.redisUrl };
}

export type ServiceProcess = NodeProcess;

/** Every process a test file started: killed after its tests, whatever happened. */
const started: Array<{ kill(): void }> = [];

export function startProcess(script: string, env: NodeJS.ProcessEnv): ServiceProcess {
  const service = startNodeProcess(script, script, env);
  started.push({ kill: () => killChild(service.child) });
  return service;
}

function killChild(child: ChildProcess) {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

function killStartedProcesses() {
  for (const process of started) process.kill();
}

export interface E2eContext {
  services: TestServices;
  google: FakeGoogle;
  database: TestDatabase;
}

/**
 * A test file's fake Google and database of its own, made before its tests and removed after,
 * with every process it started killed.
 */
export function useE2eContext(options: { migrated?: boolean } = {}): E2eContext {
  const context = {} as E2eContext;
  beforeAll(async () => {
    context.services = inject('testServices');
    context.google = await startFakeGoogle(GOOGLE_CREDENTIALS);
    context.database = await createTestDatabase(context.services, options);
    await setServerSearchPath(context.services.adminDatabaseUrl, context.database.url);
  });
  afterAll(async () => {
    killStartedProcesses();
    await context.google?.close();
    await context.database?.drop();
  });
  return context;
}

export async function migrate(env: NodeJS.ProcessEnv) {
  const databaseUrl = directDatabaseUrl(env.DATABASE_URL ?? '', inject('testServices').adminDatabaseUrl);
  const code = await startProcess(SERVICE_SCRIPTS.migrate, { ...env, DATABASE_URL: databaseUrl }).exited;
  if (code !== 0) throw new Error(`migration failed (${code})`);
}

export const ready = {
  /** Logged once both listeners are up (the shop's, then the operators'). */
  api: (service: ServiceProcess) => service.lineMatching(/"admin":"http/),
  worker: (service: ServiceProcess) => service.lineMatching(/worker started/),
};

/** A JSON client for the API of a started process. */
export function apiClient(port: number) {
  return async (path: string, body?: unknown, token?: string) => {
    const response = await fetch(`http://127.0.0.1:${port}/api/accounts/${path}`, {
      method: body ? 'POST' : 'GET',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
}

export const registration = (email: string) => ({
  email,
  otp_method: 'email',
  username: `u_${randomBytes(5).toString('hex')}`,
  first_name: 'Eve',
  last_name: 'Two',
  password: 'a long enough password',
});

/** A Redis server of the test's own, which it may stop and start (needs a redis-server installed). */
const redisServer = findRedisServer();
export const hasRedisServer = redisServer !== undefined;

export async function startRedisServer(port: number): Promise<{ url: string; stop(): Promise<void> }> {
  const redis = await startLocalRedis({ ...(redisServer ? { binary: redisServer } : {}), port });
  started.push({ kill: () => redis.server.stopSync() });
  return { url: redis.url, stop: redis.stop };
}
