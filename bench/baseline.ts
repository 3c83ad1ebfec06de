/**
 * Starting the speed-of-light baseline (bench/baseline-server.ts) beside ours: a database of its
 * own holding one table shaped like our first version's otp_challenges, the same Redis, the same
 * argon2id parameters.
 */
import { randomBytes } from 'node:crypto';
import { BASELINE_TABLE_SQL } from './baseline-server.js';
import type { Mailbox } from './mailbox.js';
import {
  ARGON2,
  type BenchProcess,
  GOOGLE_CREDENTIALS,
  HELPERS,
  nextMessage,
  startHelper,
} from './processes.js';
import { adminClient, type BenchServices, clearRedisPrefix, withDatabase } from './services.js';

export interface Baseline {
  proc: BenchProcess;
  origin: string;
  database: string;
  stop(): Promise<void>;
}

export interface BaselineOptions {
  /** Also deliver each code, through the Gmail client, to this fake Google (see baseline-server.ts). */
  sendTo?: Mailbox;
}

export async function startBaseline(
  services: BenchServices,
  options: BaselineOptions = {},
): Promise<Baseline> {
  const database = `otp_relay_bench_baseline_${randomBytes(4).toString('hex')}`;
  const admin = adminClient(services.adminDatabaseUrl);
  try {
    await admin.unsafe(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(services.adminDatabaseUrl, database);
  const sql = adminClient(url);
  try {
    await sql.unsafe(BASELINE_TABLE_SQL);
  } finally {
    await sql.end();
  }
  const queuePrefix = `bench-baseline-${randomBytes(4).toString('hex')}`;
  const proc = startHelper(options.sendTo ? 'baseline-send' : 'baseline', HELPERS.baseline, {
    BASELINE_SERVE: '1',
    NODE_ENV: 'production',
    DATABASE_URL: url,
    REDIS_URL: services.redisUrl,
    QUEUE_PREFIX: queuePrefix,
    JWT_SECRET: randomBytes(32).toString('hex'),
    OTP_PEPPER: randomBytes(32).toString('hex'),
    ARGON2_MEMORY_COST: String(ARGON2.memoryCost),
    ARGON2_TIME_COST: String(ARGON2.timeCost),
    ARGON2_PARALLELISM: String(ARGON2.parallelism),
    ...(options.sendTo
      ? {
          BASELINE_SEND: '1',
          GMAIL_CLIENT_ID: GOOGLE_CREDENTIALS.clientId,
          GMAIL_CLIENT_SECRET: GOOGLE_CREDENTIALS.clientSecret,
          GMAIL_REFRESH_TOKEN: GOOGLE_CREDENTIALS.refreshToken,
          GMAIL_API_ROOT_URL: options.sendTo.rootUrl,
          GMAIL_TOKEN_URL: options.sendTo.tokenUrl,
        }
      : {}),
  });
  const { port } = await nextMessage(proc, (message) => {
    const m = message as { type?: string; port?: number };
    return m.type === 'ready' && m.port ? { port: m.port } : undefined;
  });
  return {
    proc,
    origin: `http://127.0.0.1:${port}`,
    database,
    async stop() {
      await proc.stop(5_000);
      await clearRedisPrefix(services.redisUrl, queuePrefix);
      const dropper = adminClient(services.adminDatabaseUrl);
      try {
        await dropper.unsafe(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}
