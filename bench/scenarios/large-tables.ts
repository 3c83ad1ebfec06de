/**
 * Scenario 4, large tables: the register scenario on a database that already holds 1,000,000 users
 * and the 1,000,000 old (expired, verified) flows that made them, with their sent deliveries,
 * bulk-loaded with `INSERT … SELECT generate_series` and analysed. Rounds interleave it with a stack
 * on an empty database, so the two are compared under the same machine conditions.
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

/**
 * Rows numbered [from, to): verified flows, the accounts they made (email proven), each flow's sent
 * code and its destination's cooldown row, `step` seconds apart over 28 days ending a day ago:
 * inside the worker's retention window (RETENTION_DAYS, 30 by default), so this is the steady state
 * the hourly purge leaves, and the purge a worker runs at start finds nothing to delete (rows older
 * than the window would be purged during the rounds). Retention keeps cooldown rows, so every old
 * destination has one. As verify and the purge leave them, the ended flows hold no password hash
 * and their sent codes no sealed payload: else the purge a worker runs at start would scrub a
 * million rows of each during the rounds (it did, costing Postgres a core).
 */
async function loadBatch(url: string, from: number, to: number, step: number) {
  const sql = adminClient(url);
  // Row g's flow started at t; its code was sent at t + 2 s and verified at t + 1 min, making the account.
  const batch = sql`
    (SELECT g, 'old' || g || '@example.com' AS email,
            now() - interval '29 days' + ${step}::float8 * g * interval '1 second' AS t
     FROM generate_series(${from}::int, ${to - 1}::int) AS g) AS r`;
  try {
    await sql`
      INSERT INTO users (email, username, first_name, last_name, password_hash, is_verified,
                         email_verified_at, created_at, updated_at)
      SELECT email, 'old_' || g, 'Old', 'Shopper', ${PASSWORD_HASH}, true,
             t + interval '1 minute', t + interval '1 minute', t + interval '1 minute'
      FROM ${batch}`;
    // The sizes of real values: a 24-character verification id, an `f1.` hash of 43 characters.
    await sql`
      INSERT INTO registration_flows (id, verification_id, kind, email, email_key, channel, destination,
                                      username, first_name, last_name, password_hash, code_hash,
                                      code_sequence, failed_attempts, expires_at, verified_at, created_at)
      SELECT md5('c' || g)::uuid, 'vf_' || left(md5('v' || g), 24), 'code', email, email, 'email', email,
             'old_' || g, 'Old', 'Shopper', NULL,
             'f1.' || md5('h' || g) || left(md5('i' || g), 11),
             1, 0, t + interval '10 minutes', t + interval '1 minute', t
      FROM ${batch}`;
    await sql`
      INSERT INTO deliveries (id, kind, flow_id, code_sequence, channel, provider, destination,
                              payload_ciphertext, status, attempts, provider_message_id, sent_at,
                              created_at, updated_at)
      SELECT md5('d' || g)::uuid, 'otp', md5('c' || g)::uuid, 1, 'email', 'gmail', email,
             NULL, 'sent', 1, left(md5('m' || g), 16),
             t + interval '2 seconds', t, t + interval '2 seconds'
      FROM ${batch}`;
    await sql`
      INSERT INTO send_cooldowns (destination_key, last_sent_at)
      SELECT email, t FROM ${batch}`;
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
    await sql.unsafe('VACUUM (ANALYZE) users, registration_flows, deliveries, send_cooldowns');
    const sizes = await sql<{ name: string; bytes: string }[]>`
      SELECT relname AS name, pg_total_relation_size(oid)::text AS bytes FROM pg_class
      WHERE relname IN ('users', 'registration_flows', 'deliveries', 'send_cooldowns')`;
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
  log(`  bulk-loading ${cfg.rows} users, flows, deliveries and cooldowns`);
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
      iteration: oursRegistration(client, stack.mailbox, { emailTimeoutMs: reg.emailTimeoutMs }),
      costSources: [`${name}-api`, `${name}-worker`, 'postgres', 'redis'],
    });
  }
  const summaries = await runInterleaved({
    targets,
    load: { kind: 'closed', concurrency: reg.concurrency },
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
    title: `large tables: ${cfg.rows} users, old flows and deliveries; ${reg.concurrency} virtual users`,
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
