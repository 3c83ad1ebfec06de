/**
 * The processes a bench run starts: the BUILT API and worker (as operators run them, after
 * `pnpm build`), and the bench's own helpers in TypeScript (fake Google, baseline server, bare
 * BullMQ worker) through tsx. Every one is remembered, so all are stopped at the end, on error too.
 */
import { setTimeout as delay } from 'node:timers/promises';
import {
  type NodeProcess,
  type NodeProcessOptions,
  type ServiceSecrets,
  serviceEnvironment,
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

/** argon2id's defaults, written out so the bench and its baseline are seen to use the same. */
export const ARGON2 = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/** The environment of API and worker: production, Gmail pointed at the fake, limits out of the way. */
export function serviceEnv(options: {
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  secrets: ServiceSecrets;
  google: { rootUrl: string; tokenUrl: string };
  port: number;
  /** The API's operators' listener (/metrics): any free port when unset. */
  adminPort?: number;
  extra?: Record<string, string>;
}): NodeJS.ProcessEnv {
  return serviceEnvironment({
    ...options,
    google: { ...GOOGLE_CREDENTIALS, ...options.google },
    extra: {
      // Request logs are info: at warn they cost nothing here, as they would not in a quiet production.
      LOG_LEVEL: 'warn',
      ARGON2_MEMORY_COST: String(ARGON2.memoryCost),
      ARGON2_TIME_COST: String(ARGON2.timeCost),
      ARGON2_PARALLELISM: String(ARGON2.parallelism),
      // The closed loops keep every virtual shopper's hash waiting at once; the bench measures what
      // a registration costs, not the load shedding that refuses hashes past the default queue.
      PASSWORD_HASH_QUEUE_LIMIT: '1000',
      WORKER_METRICS_PORT: String(options.port),
      ...options.extra,
    },
  });
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
