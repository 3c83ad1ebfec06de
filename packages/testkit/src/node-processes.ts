import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * Node scripts as child processes: the built services as operators run them (after `pnpm build`),
 * and the bench's helpers. Shared by the process-level e2e tests and the bench; no test-runner
 * hooks here, so each caller decides when its processes are stopped.
 */

/** The repository root (this file is one level under packages/testkit, in src/ and in dist/). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The built entry points, relative to the repository root. */
export const SERVICE_SCRIPTS = {
  migrate: 'packages/db/dist/migrate-cli.js',
  api: 'apps/api/dist/main.js',
  worker: 'apps/worker/dist/main.js',
} as const;

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface NodeProcess {
  name: string;
  child: ChildProcess;
  /** Its stdout lines so far (the last `keptLines` of them). */
  readonly lines: readonly string[];
  /** What it wrote to stderr so far (the last 64 KiB). */
  stderr(): string;
  /** Resolves with the first stdout line that matches; rejects if the process exits first. */
  lineMatching(pattern: RegExp): Promise<string>;
  /** Resolves with the exit code (or signal) once it has exited. */
  exited: Promise<number | string | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface NodeProcessOptions {
  /** Node flags before the script (e.g. --cpu-prof, or --import tsx for TypeScript). */
  execArgv?: string[];
  /** An IPC channel to the child (process.send). */
  ipc?: boolean;
  /** How many stdout lines to keep; all by default. */
  keptLines?: number;
}

const KEPT_STDERR = 64 * 1024;

/** Starts `node [execArgv] script` in the repository root with exactly `env`. */
export function startNodeProcess(
  name: string,
  script: string,
  env: NodeJS.ProcessEnv,
  options: NodeProcessOptions = {},
): NodeProcess {
  const child = spawn(process.execPath, [...(options.execArgv ?? []), script], {
    cwd: REPO_ROOT,
    env,
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  if (!child.stdout || !child.stderr) throw new Error(`${name} has no stdout or stderr pipe`);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-KEPT_STDERR);
  });
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string | null);
  const keptLines = options.keptLines ?? Number.POSITIVE_INFINITY;
  const lines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    if (lines.length > keptLines) lines.shift();
    for (const listener of listeners) listener(line);
  });
  return {
    name,
    child,
    lines,
    exited,
    stderr: () => stderr,
    lineMatching(pattern) {
      const seen = lines.find((line) => pattern.test(line));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const listener = (line: string) => {
          if (!pattern.test(line)) return;
          listeners.delete(listener);
          resolve(line);
        };
        listeners.add(listener);
        void exited.then((code) => {
          if (listeners.delete(listener)) {
            reject(new Error(`${name} exited (${code}) before logging ${pattern}: ${stderr}`));
          }
        });
      });
    },
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The secrets one set of API and worker processes share (the worker opens what the API sealed). */
export interface ServiceSecrets {
  JWT_SECRET: string;
  OTP_PEPPER: string;
  OTP_ENCRYPTION_KEY: string;
}

export const newServiceSecrets = (): ServiceSecrets => ({
  JWT_SECRET: randomBytes(32).toString('hex'),
  OTP_PEPPER: randomBytes(32).toString('hex'),
  OTP_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
});

/**
 * The environment of the built API and worker on test services: production mode, Gmail pointed at
 * a fake Google that accepts `google`'s credentials, and the per-IP limit out of the way (every
 * request comes from loopback: one client, as far as that limit can tell). `extra` goes last.
 */
export function serviceEnvironment(options: {
  databaseUrl: string;
  /** One server; or a Redis Cluster's nodes, given instead (REDIS_CLUSTER_NODES). */
  redisUrl?: string;
  redisClusterNodes?: string;
  port: number;
  /** The API's operators' listener (ADMIN_PORT); by default any free port, which the API logs. */
  adminPort?: number;
  queuePrefix: string;
  secrets: ServiceSecrets;
  google: { rootUrl: string; tokenUrl: string; clientId: string; clientSecret: string; refreshToken: string };
  extra?: Record<string, string>;
}): NodeJS.ProcessEnv {
  const { google } = options;
  return {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    PORT: String(options.port),
    // Never the fixed default: processes started side by side would fight over it.
    ADMIN_PORT: String(options.adminPort ?? 0),
    DATABASE_URL: options.databaseUrl,
    ...(options.redisClusterNodes
      ? { REDIS_CLUSTER_NODES: options.redisClusterNodes }
      : { REDIS_URL: options.redisUrl }),
    QUEUE_PREFIX: options.queuePrefix,
    ...options.secrets,
    EMAIL_PROVIDER: 'gmail',
    EMAIL_CLIENT_ID: google.clientId,
    EMAIL_CLIENT_SECRET: google.clientSecret,
    EMAIL_REFRESH_TOKEN: google.refreshToken,
    EMAIL_FROM: 'Shop <no-reply@shop.test>',
    GMAIL_API_ROOT_URL: google.rootUrl,
    GOOGLE_OAUTH_TOKEN_URL: google.tokenUrl,
    // Every request of a test comes from loopback: one IP for all its shoppers.
    RATE_LIMIT_IP_MAX: '1000000000',
    VERIFY_LIMIT_PER_IP: '1000000000',
    // No send budgets: the bench and e2e send thousands of codes to one domain.
    SEND_BUDGET_EMAIL_HOURLY: '0',
    SEND_BUDGET_EMAIL_DAILY: '0',
    SEND_BUDGET_WHATSAPP_HOURLY: '0',
    SEND_BUDGET_WHATSAPP_DAILY: '0',
    SEND_BUDGET_SMS_HOURLY: '0',
    SEND_BUDGET_SMS_DAILY: '0',
    SEND_BUDGET_EMAIL_DOMAIN_HOURLY: '0',
    ...options.extra,
  };
}
