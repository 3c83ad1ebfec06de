/**
 * The processes a bench run starts: the BUILT API and worker (as operators run them, after
 * `pnpm build`), and the bench's own helpers in TypeScript (fake Google, baseline server, bare
 * BullMQ worker) through tsx. Every one is remembered, so all are stopped at the end, on error too.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type NodeProcess,
  type NodeProcessOptions,
  startNodeProcess,
} from '@otp-relay/testkit/node-processes';

export { freePort, REPO_ROOT, SERVICE_SCRIPTS } from '@otp-relay/testkit/node-processes';

/** The bench's helper scripts, run with tsx and the workspace's source condition. */
export const HELPERS = {
  fakeGoogle: 'bench/helpers/fake-google-child.ts',
  baseline: 'bench/baseline-server.ts',
  ceilingWorker: 'bench/helpers/ceiling-worker.ts',
} as const;

const TSX_ARGS = ['--import', 'tsx', '--conditions=@otp-relay/source'];

export type BenchProcess = NodeProcess & { pid: number };

const running = new Set<BenchProcess>();

/** Starts `node [execArgv] script` in the repository root with exactly `env`; remembered until it exits. */
export function startProcess(
  name: string,
  script: string,
  env: NodeJS.ProcessEnv,
  options: NodeProcessOptions = {},
): BenchProcess {
  const started = startNodeProcess(name, script, env, { keptLines: 200, ...options });
  const { pid } = started.child;
  if (pid === undefined) throw new Error(`${name} did not start`);
  const proc: BenchProcess = { ...started, pid };
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  return proc;
}

/** A bench helper (TypeScript) with an IPC channel. */
export function startHelper(name: string, script: string, env: NodeJS.ProcessEnv): BenchProcess {
  return startProcess(name, script, { ...process.env, ...env }, { execArgv: TSX_ARGS, ipc: true });
}

/** Resolves with the first IPC message that `accept` returns a value for; rejects if the process exits first. */
export function nextMessage<T>(
  proc: BenchProcess,
  accept: (message: unknown) => T | undefined,
  timeoutMs = 60_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${proc.name}: no expected message in ${timeoutMs} ms: ${proc.stderr()}`));
    }, timeoutMs);
    const onMessage = (message: unknown) => {
      const value = accept(message);
      if (value === undefined) return;
      cleanup();
      resolve(value);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`${proc.name} exited (${code}): ${proc.stderr()}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      proc.child.off('message', onMessage);
      proc.child.off('exit', onExit);
    };
    proc.child.on('message', onMessage);
    proc.child.once('exit', onExit);
  });
}

/** Polls `GET url` until it answers 200; rejects if the process exits or after `timeoutMs`. */
export async function waitForHttp(proc: BenchProcess, url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void proc.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${proc.name} exited before answering ${url}: ${proc.stderr()}`);
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await delay(50);
  }
  throw new Error(`${proc.name} did not answer ${url} within ${timeoutMs} ms: ${proc.stderr()}`);
}

export const GOOGLE_CREDENTIALS = {
  clientId: 'bench-client',
  clientSecret: 'bench-secret',
  refreshToken: 'bench-refresh',
};

/** The secrets one stack of API and worker share (the worker opens what the API sealed). */
export interface StackSecrets {
  JWT_SECRET: string;
  OTP_PEPPER: string;
  OTP_ENCRYPTION_KEY: string;
}

export const newSecrets = (): StackSecrets => ({
  JWT_SECRET: randomBytes(32).toString('hex'),
  OTP_PEPPER: randomBytes(32).toString('hex'),
  OTP_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
});

/** argon2id's defaults, written out so the bench and its baseline are seen to use the same. */
export const ARGON2 = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/** The environment of API and worker: production, Gmail pointed at the fake, limits out of the way. */
export function serviceEnv(options: {
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  secrets: StackSecrets;
  google: { rootUrl: string; tokenUrl: string };
  port: number;
  extra?: Record<string, string>;
}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    // Request logs are info: at warn they cost nothing here, as they would not in a quiet production.
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: String(options.port),
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redisUrl,
    QUEUE_PREFIX: options.queuePrefix,
    ...options.secrets,
    EMAIL_PROVIDER: 'gmail',
    EMAIL_CLIENT_ID: GOOGLE_CREDENTIALS.clientId,
    EMAIL_CLIENT_SECRET: GOOGLE_CREDENTIALS.clientSecret,
    EMAIL_REFRESH_TOKEN: GOOGLE_CREDENTIALS.refreshToken,
    EMAIL_FROM: 'Shop <no-reply@shop.test>',
    GMAIL_API_ROOT_URL: options.google.rootUrl,
    GOOGLE_OAUTH_TOKEN_URL: options.google.tokenUrl,
    // All load comes from one loopback address: the per-IP limit would measure itself.
    RATE_LIMIT_IP_MAX: '1000000000',
    ARGON2_MEMORY_COST: String(ARGON2.memoryCost),
    ARGON2_TIME_COST: String(ARGON2.timeCost),
    ARGON2_PARALLELISM: String(ARGON2.parallelism),
    WORKER_METRICS_PORT: String(options.port),
    ...options.extra,
  };
}

/** Stops every process still running (SIGTERM, then SIGKILL). */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...running].map((proc) => proc.stop(5_000)));
}

/** Last resort on exit: no child outlives the bench. */
export function killAllProcessesSync(): void {
  for (const proc of running) {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
  }
}
