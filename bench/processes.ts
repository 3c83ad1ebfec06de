/**
 * The processes a bench run starts: the BUILT API and worker (as operators run them, after
 * `pnpm build`), and the bench's own helpers in TypeScript (fake Google, baseline server, bare
 * BullMQ worker) through tsx. Every one is remembered, so all are stopped at the end, on error too.
 * The ideas of e2e/support/processes.ts, without its vitest hooks.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export const SCRIPTS = {
  migrate: 'packages/db/dist/migrate-cli.js',
  api: 'apps/api/dist/main.js',
  worker: 'apps/worker/dist/main.js',
} as const;

/** The bench's helper scripts, run with tsx and the workspace's source condition. */
export const HELPERS = {
  fakeGoogle: 'bench/helpers/fake-google-child.ts',
  baseline: 'bench/baseline-server.ts',
  ceilingWorker: 'bench/helpers/ceiling-worker.ts',
} as const;

const TSX_ARGS = ['--import', 'tsx', '--conditions=@otp-relay/source'];

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface BenchProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  /** The last stdout lines (bounded). */
  readonly lines: readonly string[];
  stderr(): string;
  exited: Promise<number | string | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<BenchProcess>();
const KEPT_LINES = 200;
const KEPT_STDERR = 64 * 1024;

export interface StartOptions {
  /** Node flags before the script (e.g. --cpu-prof). */
  execArgv?: string[];
  /** An IPC channel to the child (process.send). */
  ipc?: boolean;
}

/** Starts `node [execArgv] script` in the repository root with exactly `env`. */
export function startProcess(
  name: string,
  script: string,
  env: NodeJS.ProcessEnv,
  options: StartOptions = {},
): BenchProcess {
  const child = spawn(process.execPath, [...(options.execArgv ?? []), script], {
    cwd: ROOT,
    env,
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-KEPT_STDERR);
  });
  const lines: string[] = [];
  if (child.stdout) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (lines.length > KEPT_LINES) lines.shift();
    });
  }
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string | null);
  const process_: BenchProcess = {
    name,
    child,
    pid: child.pid,
    lines,
    stderr: () => stderr,
    exited,
    async stop(graceMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      running.delete(process_);
    },
  };
  running.add(process_);
  void exited.then(() => running.delete(process_));
  return process_;
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
