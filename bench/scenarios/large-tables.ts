/**
 * Scenario 4, large tables: the register scenario on a database that already holds 1,000,000 users
 * and 1,000,000 old (expired, used) challenges with their sent deliveries, bulk-loaded with
 * `INSERT … SELECT generate_series` and analysed. Rounds interleave it with a stack on an empty
 * database, so the two are compared under the same machine conditions.
 */
import { performance } from 'node:perf_hooks';
import { oursRegistration } from '../flows.js';
import { HttpClient } from '../load.js';
import { row, type TableRow } from '../report.js';
import { type RoundTarget, runInterleaved, type TargetSummary, totalCpu } from '../rounds.js';
import { adminClient, type BenchDatabase, createBenchDatabase } from '../services.js';
import { type Stack, sharedCpuSources, stackCpuSources, startStack } from '../stack.js';
import { otherCpuCores, type Scenario } from './context.js';

const PASSWORD_HASH = `$argon2id$v=19$m=19456,t=2,p=1$${'a'.repeat(22)}$${'b'.repeat(43)}`;
// A sealed payload's size (v1.iv.tag.ciphertext); old rows are never opened again.
const OLD_PAYLOAD = `v1.${'A'.repeat(16)}.${'B'.repeat(22)}.${'C'.repeat(60)}`;

/**
 * Rows numbered [from, to): users, their used challenges, and those challenges' sent deliveries,
 * `step` seconds apart over 28 days ending a day ago: inside the worker's retention window (RETENTION_DAYS,
 * 30 by default), so this is the steady state the hourly purge leaves, and the purge a worker runs
 * at start finds nothing to delete (rows older than the window would be purged during the rounds).
 */
async function loadBatch(url: string, from: number, to: number, step: number) {
  const sql = adminClient(url);
  try {
    await sql`
      INSERT INTO users (email, username, first_name, last_name, password_hash, is_verified, created_at, updated_at)
      SELECT 'old' || g || '@example.com', 'old_' || g, 'Old', 'Shopper', ${PASSWORD_HASH}, true,
             now() - interval '29 days' + ${step}::float8 * g * interval '1 second',
             now() - interval '29 days' + ${step}::float8 * g * interval '1 second'
      FROM generate_series(${from}::int, ${to - 1}::int) AS g`;
    await sql`
      INSERT INTO otp_challenges (id, email, channel, destination, code_hash, username, first_name, last_name,
                                  password_hash, failed_attempts, expires_at, consumed_at, created_at)
      SELECT md5('c' || g)::uuid, 'old' || g || '@example.com', 'email', 'old' || g || '@example.com',
             md5('h' || g), 'old_' || g, 'Old', 'Shopper', ${PASSWORD_HASH}, 0,
             now() - interval '29 days' + ${step}::float8 * g * interval '1 second' + interval '10 minutes',
             now() - interval '29 days' + ${step}::float8 * g * interval '1 second' + interval '1 minute',
             now() - interval '29 days' + ${step}::float8 * g * interval '1 second'
      FROM generate_series(${from}::int, ${to - 1}::int) AS g`;
    await sql`
      INSERT INTO deliveries (id, kind, challenge_id, channel, provider, destination, payload_ciphertext, status,
                              attempts, provider_message_id, sent_at, created_at, updated_at)
      SELECT md5('d' || g)::uuid, 'otp', md5('c' || g)::uuid, 'email', 'gmail', 'old' || g || '@example.com',
             ${OLD_PAYLOAD}, 'sent', 1, left(md5('m' || g), 16),
             now() - interval '29 days' + ${step}::float8 * g * interval '1 second' + interval '2 seconds',
             now() - interval '29 days' + ${step}::float8 * g * interval '1 second',
             now() - interval '29 days' + ${step}::float8 * g * interval '1 second' + interval '2 seconds'
      FROM generate_series(${from}::int, ${to - 1}::int) AS g`;
  } finally {
    await sql.end();
  }
}

async function loadLargeTables(
  database: BenchDatabase,
  rows: number,
  batchRows: number,
  log: (m: string) => void,
) {
  const started = performance.now();
  for (let from = 1; from <= rows; from += batchRows) {
    const to = Math.min(rows + 1, from + batchRows);
    await loadBatch(database.url, from, to, (28 * 86_400) / rows);
    log(
      `  loaded ${to - 1} of ${rows} rows per table (${((performance.now() - started) / 1000).toFixed(0)} s)`,
    );
  }
  const sql = adminClient(database.url);
  try {
    await sql.unsafe('VACUUM (ANALYZE) users, otp_challenges, deliveries');
    const sizes = await sql<{ name: string; bytes: string }[]>`
      SELECT relname AS name, pg_total_relation_size(oid)::text AS bytes FROM pg_class
      WHERE relname IN ('users', 'otp_challenges', 'deliveries')`;
    return {
      loadMs: performance.now() - started,
      tableBytes: Object.fromEntries(sizes.map((size) => [size.name, Number(size.bytes)])),
    };
  } finally {
    await sql.end();
  }
}

export const largeTablesScenario: Scenario = async ({ services, config, log, defer }) => {
  const cfg = config.largeTables;
  const reg = config.register;
  const large = await createBenchDatabase(services, 'large');
  defer(() => large.drop());
  log(`  bulk-loading ${cfg.rows} users, challenges and deliveries`);
  const loaded = await loadLargeTables(large, cfg.rows, cfg.batchRows, log);

  const stacks: Stack[] = [];
  defer(async () => {
    for (const stack of stacks) {
      await stack.stop();
      if (stack.database !== large) await stack.database.drop();
    }
  });
  const empty = await startStack(services, { label: 'empty' });
  stacks.push(empty);
  const full = await startStack(services, { label: 'large', database: large });
  stacks.push(full);

  const targets: RoundTarget[] = [];
  for (const [name, stack] of [
    ['empty', empty],
    ['large', full],
  ] as const) {
    const api = stack.api;
    if (!api) throw new Error('the stack has no API');
    const client = new HttpClient(api.origin, reg.concurrency);
    defer(() => client.close());
    targets.push({
      name,
      concurrency: reg.concurrency,
      iteration: oursRegistration(client, stack.mailbox, { emailTimeoutMs: reg.emailTimeoutMs }),
      costSources: [`${name}-api`, `${name}-worker`, 'postgres', 'redis'],
    });
  }
  const summaries = await runInterleaved({
    targets,
    rounds: reg.rounds,
    roundMs: reg.roundMs,
    warmupMs: reg.warmupMs,
    drainTimeoutMs: reg.drainTimeoutMs,
    cpu: {
      ...stackCpuSources(empty, 'empty-'),
      ...stackCpuSources(full, 'large-'),
      ...sharedCpuSources(services),
    },
    log,
  });
  const e = summaries.empty as TargetSummary;
  const l = summaries.large as TargetSummary;
  const p99 = (summary: TargetSummary, endpoint: string) => summary.latencies[endpoint]?.p99;
  const within = (_o: number, _r: number, x: number) => x <= 1.2;
  const perReg = (summary: TargetSummary, source: string) =>
    summary.completed > 0 ? (totalCpu(summary.rounds)[source] ?? Number.NaN) / summary.completed : null;
  const otherCores = (summary: TargetSummary) =>
    otherCpuCores(
      totalCpu(summary.rounds),
      summary.rounds.reduce((sum, round) => sum + round.elapsedMs, 0),
    );
  const rows: TableRow[] = [
    row('registrations/s', '/s', l.ratePerSecond, e.ratePerSecond),
    row('request-otp p99', 'ms', p99(l, 'request-otp'), p99(e, 'request-otp'), '≤ 1.2 × empty', within),
    row('verify-otp p99', 'ms', p99(l, 'verify-otp'), p99(e, 'verify-otp'), '≤ 1.2 × empty', within),
    row('request → provider acceptance p99', 'ms', p99(l, 'delivery'), p99(e, 'delivery')),
    row('CPU ms/registration (app+PG+Redis)', 'ms', l.cpuMsPerRegistration, e.cpuMsPerRegistration),
    row('  of which Postgres', 'ms', perReg(l, 'postgres'), perReg(e, 'postgres')),
    row('other CPU on the machine (cores)', '', otherCores(l), otherCores(e)),
    row('bulk load + VACUUM ANALYZE', 's', loaded.loadMs / 1000, null),
  ];
  return {
    name: 'large-tables',
    title: `large tables: ${cfg.rows} users, old challenges and deliveries; ${reg.concurrency} virtual users`,
    referenceLabel: 'empty database',
    rows,
    notes: [
      `Table sizes with indexes (MB): ${Object.entries(loaded.tableBytes)
        .map(([name, bytes]) => `${name} ${(bytes / 2 ** 20).toFixed(0)}`)
        .join(', ')}.`,
      ...(Object.keys(l.errors).length + Object.keys(e.errors).length > 0
        ? [`Errors: ${JSON.stringify({ large: l.errors, empty: e.errors })}`]
        : []),
    ],
    details: { summaries, loaded },
  };
};
