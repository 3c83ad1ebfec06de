/**
 * Scenario 1, register: distinct shoppers request a code, read it from the fake inbox and verify
 * it, C at a time, in rounds interleaved with the speed-of-light baseline. Reports registrations/s,
 * each endpoint's p50/p90/p99, CPU ms per registration by process, and Postgres transactions per
 * registration (pg_stat_database of the scenario's own database). A second reference, the baseline
 * that also sends each code through the Gmail client, runs in the same rounds: the targets
 * are against the first, the second shows how much of the gap is the delivery itself.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { startBaseline } from '../baseline.js';
import { BASELINE_PATHS, baselineRegistration, oursRegistration } from '../flows.js';
import { HttpClient } from '../load.js';
import { type CpuSnapshot, processCpuMs } from '../proc-stats.js';
import { row, type TableRow } from '../report.js';
import { type RoundTarget, runInterleaved, type TargetSummary, totalCpu } from '../rounds.js';
import { databaseTransactions } from '../services.js';
import { sharedCpuSources, stackCpuSources, startStack } from '../stack.js';
import { otherCpuCores, type Scenario, sumOf } from './context.js';

const OURS_COST = ['api', 'worker', 'postgres', 'redis'];
const BASELINE_COST = ['baseline', 'postgres', 'redis'];
const SENDING_BASELINE_COST = ['baseline-send', 'postgres', 'redis'];

export const registerScenario: Scenario = async ({ services, config, log, defer }) => {
  const cfg = config.register;
  const stack = await startStack(services, { label: 'register' });
  defer(async () => {
    await stack.stop();
    await stack.database.drop();
  });
  const baseline = await startBaseline(services);
  defer(() => baseline.stop());
  const sendingBaseline = await startBaseline(services, { sendTo: stack.mailbox });
  defer(() => sendingBaseline.stop());
  const api = stack.api;
  if (!api) throw new Error('the register stack has no API');

  const oursClient = new HttpClient(api.origin, cfg.concurrency);
  const baselineClient = new HttpClient(baseline.origin, cfg.concurrency);
  const sendingBaselineClient = new HttpClient(sendingBaseline.origin, cfg.concurrency);
  defer(() => Promise.all([oursClient.close(), baselineClient.close(), sendingBaselineClient.close()]));

  const targets: RoundTarget[] = [
    // The baseline goes first: ours is idle for a whole round before its first one, so Postgres has
    // flushed the statistics of its warm-up (backends flush at most every 10 s when idle).
    {
      name: 'baseline',
      concurrency: cfg.concurrency,
      iteration: baselineRegistration(baselineClient),
      costSources: BASELINE_COST,
    },
    {
      name: 'baseline-send',
      concurrency: cfg.concurrency,
      iteration: oursRegistration(sendingBaselineClient, stack.mailbox, {
        emailTimeoutMs: cfg.emailTimeoutMs,
        paths: BASELINE_PATHS,
      }),
      costSources: SENDING_BASELINE_COST,
    },
    {
      name: 'ours',
      concurrency: cfg.concurrency,
      iteration: oursRegistration(oursClient, stack.mailbox, { emailTimeoutMs: cfg.emailTimeoutMs }),
      costSources: OURS_COST,
    },
  ];
  let transactionsBefore = 0;
  let transactionsAt = 0;
  const baselinePid = baseline.proc.pid;
  const sendingBaselinePid = sendingBaseline.proc.pid;
  const summaries = await runInterleaved({
    targets,
    rounds: cfg.rounds,
    roundMs: cfg.roundMs,
    warmupMs: cfg.warmupMs,
    drainTimeoutMs: cfg.drainTimeoutMs,
    cpu: {
      ...stackCpuSources(stack),
      baseline: () => processCpuMs(baselinePid),
      'baseline-send': () => processCpuMs(sendingBaselinePid),
      ...sharedCpuSources(services),
    },
    log,
    async beforeRound(target, round) {
      if (target.name === 'ours' && round === 1) {
        transactionsBefore = await databaseTransactions(services, stack.database.name);
        transactionsAt = Date.now();
      }
    },
  });
  // The worker queries Postgres on its own too (outbox relay, retention): counted while idle, to net it out.
  const transactionsOf = () => databaseTransactions(services, stack.database.name);
  await delay(cfg.statsFlushMs);
  const idleFrom = { xacts: await transactionsOf(), at: Date.now() };
  await delay(cfg.idleWindowMs);
  const idleTo = { xacts: await transactionsOf(), at: Date.now() };
  const backgroundPerSecond = Math.max(
    0,
    (idleTo.xacts - idleFrom.xacts) / ((idleTo.at - idleFrom.at) / 1000),
  );
  // Ending the services ends their Postgres sessions, which flush their last statistics.
  await stack.stopServices();
  const stoppedAt = Date.now();
  await delay(1_000);
  const transactions = (await transactionsOf()) - transactionsBefore;
  const background = backgroundPerSecond * ((stoppedAt - transactionsAt) / 1000);

  const ours = summaries.ours as TargetSummary;
  const base = summaries.baseline as TargetSummary;
  const sending = summaries['baseline-send'] as TargetSummary;
  const oursCpu = totalCpu(ours.rounds);
  const baseCpu = totalCpu(base.rounds);
  const sendingCpu = totalCpu(sending.rounds);
  const allRounds = [...ours.rounds, ...base.rounds, ...sending.rounds];
  const allCpu = totalCpu(allRounds);
  const elapsedMs = allRounds.reduce((sum, round) => sum + round.elapsedMs, 0);
  const perReg = (cpu: Record<string, number>, names: string[], completed: number) =>
    completed > 0 ? sumOf(cpu, names) / completed : Number.NaN;
  const perCount = (value: number) => (ours.completed > 0 ? value / ours.completed : null);
  const lat = (summary: TargetSummary, endpoint: string, key: 'p50' | 'p90' | 'p99') =>
    summary.latencies[endpoint]?.[key];

  /** Ours beside a reference by process: API and worker against its server (then `shares`), Postgres, Redis. */
  const cpuBesideReference = (
    cpu: CpuSnapshot,
    completed: number,
    server: 'baseline' | 'baseline-send',
    shares: TableRow[] = [],
  ) => [
    row(
      `  of which API (+worker) / ${server === 'baseline' ? 'baseline' : 'sending baseline'} server`,
      'ms',
      perReg(oursCpu, ['api', 'worker'], ours.completed),
      perReg(cpu, [server], completed),
    ),
    ...shares,
    ...(['Postgres', 'Redis'] as const).map((name) =>
      row(
        `  of which ${name}`,
        'ms',
        perReg(oursCpu, [name.toLowerCase()], ours.completed),
        perReg(cpu, [name.toLowerCase()], completed),
      ),
    ),
  ];

  const rows: TableRow[] = [
    row(
      'registrations/s',
      '/s',
      ours.ratePerSecond,
      base.ratePerSecond,
      '≥ 0.9 × baseline',
      (_o, _r, x) => x >= 0.9,
    ),
  ];
  for (const endpoint of ['request-otp', 'verify-otp']) {
    for (const key of ['p50', 'p90', 'p99'] as const) {
      const target = endpoint === 'verify-otp' && key === 'p99' ? '≤ 1.5 × baseline' : '';
      const check = target ? (_o: number, _r: number, x: number) => x <= 1.5 : undefined;
      rows.push(
        row(`${endpoint} ${key}`, 'ms', lat(ours, endpoint, key), lat(base, endpoint, key), target, check),
      );
    }
  }
  rows.push(
    row('request → provider acceptance p50', 'ms', lat(ours, 'delivery', 'p50'), null),
    row('request → provider acceptance p99', 'ms', lat(ours, 'delivery', 'p99'), null),
    row(
      'CPU ms/registration (app+PG+Redis)',
      'ms',
      ours.cpuMsPerRegistration,
      base.cpuMsPerRegistration,
      '≤ 1.2 × baseline',
      (_o, _r, x) => x <= 1.2,
    ),
    ...cpuBesideReference(baseCpu, base.completed, 'baseline', [
      row('  of which API', 'ms', perReg(oursCpu, ['api'], ours.completed), null),
      row('  of which worker', 'ms', perReg(oursCpu, ['worker'], ours.completed), null),
    ]),
    row('vs the baseline that also sends: registrations/s', '/s', ours.ratePerSecond, sending.ratePerSecond),
    row(
      'vs the baseline that also sends: verify-otp p99',
      'ms',
      lat(ours, 'verify-otp', 'p99'),
      lat(sending, 'verify-otp', 'p99'),
    ),
    row(
      'vs the baseline that also sends: request → provider acceptance p99',
      'ms',
      lat(ours, 'delivery', 'p99'),
      lat(sending, 'delivery', 'p99'),
    ),
    row(
      'vs the baseline that also sends: CPU ms/registration',
      'ms',
      ours.cpuMsPerRegistration,
      sending.cpuMsPerRegistration,
    ),
    ...cpuBesideReference(sendingCpu, sending.completed, 'baseline-send'),
    row('Postgres transactions/registration, all', '', perCount(transactions), null),
    row(
      'Postgres transactions/registration, net of background',
      '',
      perCount(transactions - background),
      null,
      '≤ 5',
      (o) => o <= 5,
    ),
    row('fake Google CPU (cores)', '', (allCpu['fake-google'] ?? 0) / elapsedMs, null),
    row('load generator CPU (cores)', '', (allCpu['load-generator'] ?? 0) / elapsedMs, null),
    row('other CPU on the machine (cores)', '', otherCpuCores(allCpu, elapsedMs), null),
  );

  const errors = { ours: ours.errors, baseline: base.errors, 'baseline-send': sending.errors };
  return {
    name: 'register',
    title: `register: ${cfg.concurrency} virtual users, ${cfg.rounds} × ${cfg.roundMs / 1000} s rounds each, interleaved`,
    referenceLabel: 'baseline',
    rows,
    notes: [
      'Values are medians of per-round figures; CPU includes the drain at the end of each round.',
      'The baseline does no delivery: ours includes the worker and the email send, the baseline does not.',
      'The baseline that also sends pops each code from Redis in the same process and sends a plain-text email ' +
        'through the same Gmail client: no retries, no delivery record, no limits (bench/baseline-server.ts).',
      `Postgres transactions over ${ours.completed} registrations (all ours rounds): ${transactions}, of which ` +
        `~${background.toFixed(0)} background (${backgroundPerSecond.toFixed(2)}/s measured idle: outbox relay, retention); ` +
        `net ${(perCount(transactions - background) ?? Number.NaN).toFixed(3)} per registration.`,
      ...(ours.completed === 0 ? ['No registration of ours completed.'] : []),
      ...(Object.values(errors).some((byKind) => Object.keys(byKind).length > 0)
        ? [`Errors: ${JSON.stringify(errors)}`]
        : []),
    ],
    details: {
      summaries,
      transactions,
      cpuMsByProcess: { all: allCpu, ours: oursCpu, baseline: baseCpu, 'baseline-send': sendingCpu },
      elapsedMs,
    },
  };
};
