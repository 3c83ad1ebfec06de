/**
 * Postgres and Redis for the bench: BENCH_DATABASE_URL / BENCH_REDIS_URL, else TEST_DATABASE_URL /
 * TEST_REDIS_URL, else servers of its own started on loopback the way `.ci/run` does (Postgres 15
 * binaries run as the `postgres` user when we are root, since initdb refuses root). Also finds their
 * process ids, so their CPU can be counted when they run on this machine.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DEFAULT_DATABASE_SCHEMA } from '@otp-relay/core';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { parentPid, processExists } from './proc-stats.js';
import { freePort, SERVICE_SCRIPTS, startProcess } from './processes.js';

export interface BenchServices {
  /** An administrative URL (a role that may create databases), on its `postgres` database. */
  adminDatabaseUrl: string;
  redisUrl: string;
  /** Where they came from, for the report. */
  origin: 'BENCH_*' | 'TEST_*' | 'started';
  /** The postmaster's pid when Postgres runs on this machine and we can see it. */
  postmasterPid?: number;
  redisPid?: number;
  /** Server settings worth printing beside the numbers. */
  postgresVersion: string;
  postgresSettings: Record<string, string>;
  redisVersion: string;
  stop(): Promise<void>;
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export const adminClient = (url: string) => postgres(url, { max: 1, onnotice: () => {} });

export async function locateServices(env = process.env): Promise<BenchServices> {
  const pairs = [
    ['BENCH_*', env.BENCH_DATABASE_URL, env.BENCH_REDIS_URL],
    ['TEST_*', env.TEST_DATABASE_URL, env.TEST_REDIS_URL],
  ] as const;
  for (const [origin, databaseUrl, redisUrl] of pairs) {
    if (databaseUrl && redisUrl) return describe(origin, databaseUrl, redisUrl, async () => {});
    if (databaseUrl || redisUrl) {
      throw new Error(
        `Set both ${origin.replace('*', 'DATABASE_URL')} and ${origin.replace('*', 'REDIS_URL')}.`,
      );
    }
  }
  return startLocalServers();
}

async function describe(
  origin: BenchServices['origin'],
  adminDatabaseUrl: string,
  redisUrl: string,
  stop: () => Promise<void>,
): Promise<BenchServices> {
  const sql = adminClient(adminDatabaseUrl);
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    const [backend] = await sql<{ pid: number; version: string }[]>`
      SELECT pg_backend_pid() AS pid, current_setting('server_version') AS version`;
    const settings = await sql<{ name: string; setting: string }[]>`
      SELECT name, setting FROM pg_settings
      WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'max_connections')`;
    await redis.connect();
    const info = await redis.info('server');
    const redisPid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    // A backend's parent is the postmaster; seen only when the server runs on this machine.
    const postmasterPid = backend && processExists(backend.pid) ? parentPid(backend.pid) : undefined;
    return {
      adminDatabaseUrl,
      redisUrl,
      origin,
      ...(postmasterPid ? { postmasterPid } : {}),
      ...(redisPid && processExists(redisPid) ? { redisPid } : {}),
      postgresVersion: backend?.version ?? 'unknown',
      postgresSettings: Object.fromEntries(settings.map((row) => [row.name, row.setting])),
      redisVersion: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    redis.disconnect();
    await sql.end();
  }
}

function postgresBin(env: NodeJS.ProcessEnv): string {
  if (env.PG_BIN) return env.PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => existsSync(join(root, name, 'bin', 'initdb')))
        .sort((a, b) => Number(a) - Number(b))
    : [];
  const latest = versions.at(-1);
  if (!latest) {
    throw new Error(
      [
        'pnpm bench needs Postgres and Redis, and found neither URLs nor Postgres binaries to start one:',
        '  set BENCH_DATABASE_URL=postgres://…/postgres (a role that may CREATE DATABASE) and',
        '  BENCH_REDIS_URL=redis://…, or install Postgres (apt-get install postgresql) and redis-server',
        '  (or set PG_BIN to the directory of initdb and pg_ctl).',
      ].join('\n'),
    );
  }
  return join(root, latest, 'bin');
}

/** initdb refuses root: as root we run Postgres' tools as the `postgres` user, as .ci/run does. */
function asPostgresUser(command: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [command, args];
  return ['runuser', ['-u', 'postgres', '--', command, ...args]];
}

function run(command: string, args: string[]) {
  const [file, argv] = asPostgresUser(command, args);
  execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Synchronous stops of the servers this process started, for an exit by signal. */
const syncStops = new Set<() => void>();

export function stopLocalServersSync(): void {
  for (const stop of syncStops) stop();
  syncStops.clear();
}

async function startLocalServers(): Promise<BenchServices> {
  const bin = postgresBin(process.env);
  const hasRedis = (() => {
    try {
      execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  if (!hasRedis) {
    throw new Error(
      'pnpm bench found no BENCH_REDIS_URL/TEST_REDIS_URL and no redis-server to start: install redis-server.',
    );
  }

  const work = mkdtempSync(join(tmpdir(), 'otp-relay-bench-'));
  const data = join(work, 'pg');
  let redis: ChildProcess | undefined;
  let postgresStarted = false;
  const stopSync = () => {
    if (postgresStarted) {
      try {
        run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
      } catch {
        // Already gone.
      }
      postgresStarted = false;
    }
    if (redis && redis.exitCode === null) redis.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  };
  syncStops.add(stopSync);
  const stop = async () => {
    syncStops.delete(stopSync);
    if (postgresStarted) {
      try {
        run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
      } catch {
        // Already gone.
      }
      postgresStarted = false;
    }
    if (redis && redis.exitCode === null) {
      redis.kill('SIGTERM');
      await once(redis, 'exit');
    }
    rmSync(work, { recursive: true, force: true });
  };

  try {
    chmodSync(work, 0o755);
    mkdirSync(data);
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      chownSync(data, uid, gid);
    }
    run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
    const pgPort = await freePort();
    // The settings of .ci/run: durability off, as for tests; said in the report.
    const options = [
      `-h 127.0.0.1 -p ${pgPort} -k ${data}`,
      '-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300',
    ].join(' ');
    run(join(bin, 'pg_ctl'), ['-D', data, '-l', join(data, 'server.log'), '-w', '-o', options, 'start']);
    postgresStarted = true;

    const redisPort = await freePort();
    redis = spawn(
      'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const started = redis;
    if (!started.stdout) throw new Error('redis-server has no stdout');
    const lines = createInterface({ input: started.stdout });
    await new Promise<void>((resolve, reject) => {
      lines.on('line', (line) => {
        if (/Ready to accept connections/.test(line)) resolve();
      });
      started.once('exit', (code) => reject(new Error(`redis-server exited (${code})`)));
    });
    return await describe(
      'started',
      `postgres://postgres@127.0.0.1:${pgPort}/postgres`,
      `redis://127.0.0.1:${redisPort}`,
      stop,
    );
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database (the built migrate CLI, as operators run it). */
export async function createBenchDatabase(services: BenchServices, label: string): Promise<BenchDatabase> {
  const name = `otp_relay_bench_${label}_${randomBytes(4).toString('hex')}`;
  const admin = adminClient(services.adminDatabaseUrl);
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
    // So the scenarios' own connections (adminClient) find our tables by their plain names.
    await admin.unsafe(`ALTER DATABASE ${name} SET search_path = ${DEFAULT_DATABASE_SCHEMA}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(services.adminDatabaseUrl, name);
  const migration = startProcess('migrate', SERVICE_SCRIPTS.migrate, {
    PATH: process.env.PATH,
    DATABASE_URL: url,
  });
  const code = await migration.exited;
  if (code !== 0) throw new Error(`migration of ${name} failed (${code}): ${migration.stderr()}`);
  return {
    name,
    url,
    drop: async () => {
      const dropper = adminClient(services.adminDatabaseUrl);
      try {
        await dropper.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}

/** Committed plus rolled-back transactions of one database so far (pg_stat_database). */
export async function databaseTransactions(services: BenchServices, database: string): Promise<number> {
  const admin = adminClient(services.adminDatabaseUrl);
  try {
    const [row] = await admin<{ xacts: string }[]>`
      SELECT (xact_commit + xact_rollback)::text AS xacts FROM pg_stat_database WHERE datname = ${database}`;
    return Number(row?.xacts ?? 0);
  } finally {
    await admin.end();
  }
}

/** Removes every Redis key of a prefix (queues, jobs, limit counters): the shared Redis stays clean. */
export async function clearRedisPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
