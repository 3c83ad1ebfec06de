/**
 * Interleaved rounds: targets (ours and the baseline, or an empty and a large database) take turns
 * in short rounds, so drift and noise of the machine hit all of them alike; each round's rate,
 * latencies and CPU are kept, and targets are compared on the medians of their rounds. A round is
 * a closed loop (virtual users, for saturation) or an open one (arrivals at a fixed rate).
 */
import {
  type Iteration,
  Latencies,
  type LatencySummary,
  type LoadResult,
  runClosedLoop,
  runOpenLoop,
} from './load.js';
import { type CpuSnapshot, type CpuSources, cpuDelta, snapshotCpu } from './proc-stats.js';

/**
 * How each target is loaded: `concurrency` virtual users back to back, or registrations arriving at
 * `ratePerSecond` whatever the target's speed, latencies counted from their scheduled arrivals.
 */
export type RoundLoad =
  | { kind: 'closed'; concurrency: number }
  | { kind: 'open'; ratePerSecond: number; maxInFlight: number };

export interface RoundTarget {
  name: string;
  iteration: Iteration;
  /** The CPU sources whose sum is this target's cost per registration. */
  costSources: string[];
}

export interface RoundResult {
  target: string;
  round: number;
  ratePerSecond: number;
  completed: number;
  errors: Record<string, number>;
  abandoned: number;
  /** Arrivals skipped because too many were in flight (open loop only). */
  skipped: number;
  latencies: Record<string, LatencySummary>;
  /** CPU ms by process over the round (window and drain), with `machine` and `other`. */
  cpuMs: CpuSnapshot;
  elapsedMs: number;
  /** CPU ms per completed registration of the target's cost sources. */
  cpuMsPerRegistration: number;
}

export interface TargetSummary {
  rounds: RoundResult[];
  /** Medians over rounds. */
  ratePerSecond: number;
  cpuMsPerRegistration: number;
  /** Median over rounds of each endpoint's percentiles. */
  latencies: Record<string, { p50: number; p90: number; p99: number }>;
  /** All rounds' samples together. */
  merged: Record<string, LatencySummary>;
  completed: number;
  /** Open loop: arrivals skipped over all rounds. */
  skipped: number;
  errors: Record<string, number>;
}

export function median(values: number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export function summarizeRound(
  target: RoundTarget,
  round: number,
  load: LoadResult,
  cpuMs: CpuSnapshot,
): RoundResult {
  const cost = target.costSources.reduce((sum, name) => sum + (cpuMs[name] ?? 0), 0);
  return {
    target: target.name,
    round,
    ratePerSecond: load.ratePerSecond,
    completed: load.completed,
    errors: load.errors,
    abandoned: load.abandoned,
    skipped: load.skipped,
    latencies: load.latencies.summaries(),
    cpuMs,
    elapsedMs: load.elapsedMs,
    cpuMsPerRegistration: load.completed > 0 ? cost / load.completed : Number.NaN,
  };
}

export interface InterleaveOptions {
  targets: RoundTarget[];
  load: RoundLoad;
  rounds: number;
  roundMs: number;
  /** Per target, before the rounds, under the same load; none when 0. */
  warmupMs: number;
  drainTimeoutMs: number;
  cpu: CpuSources;
  log(message: string): void;
  /** Called before each measured round (e.g. to read Postgres' counters). */
  beforeRound?(target: RoundTarget, round: number): Promise<void>;
}

function runLoad(
  load: RoundLoad,
  target: RoundTarget,
  durationMs: number,
  drainTimeoutMs: number,
  latencies: Latencies,
): Promise<LoadResult> {
  const common = { durationMs, drainTimeoutMs, iteration: target.iteration, latencies };
  return load.kind === 'closed'
    ? runClosedLoop({ ...common, concurrency: load.concurrency })
    : runOpenLoop({
        ...common,
        ratePerSecond: load.ratePerSecond,
        maxInFlight: load.maxInFlight,
        measureFromArrival: true,
      });
}

export async function runInterleaved(options: InterleaveOptions): Promise<Record<string, TargetSummary>> {
  if (options.warmupMs > 0) {
    for (const target of options.targets) {
      options.log(`  warm-up ${target.name} (${options.warmupMs / 1000} s)`);
      await runLoad(options.load, target, options.warmupMs, options.drainTimeoutMs, new Latencies());
    }
  }
  const results: RoundResult[] = [];
  const merged = new Map(options.targets.map((target) => [target.name, new Latencies()]));
  for (let round = 1; round <= options.rounds; round += 1) {
    for (const target of options.targets) {
      await options.beforeRound?.(target, round);
      const latencies = new Latencies();
      const before = snapshotCpu(options.cpu);
      const load = await runLoad(options.load, target, options.roundMs, options.drainTimeoutMs, latencies);
      const result = summarizeRound(target, round, load, cpuDelta(before, snapshotCpu(options.cpu)));
      merged.get(target.name)?.add(latencies);
      results.push(result);
      const errors = load.errorCount > 0 ? `, ${load.errorCount} errors ${JSON.stringify(load.errors)}` : '';
      const skipped = load.skipped > 0 ? `, ${load.skipped} arrivals skipped` : '';
      const requestP99 = result.latencies['request-otp']?.p99;
      options.log(
        `  round ${round} ${target.name}: ${result.ratePerSecond.toFixed(1)} reg/s, ` +
          `${result.cpuMsPerRegistration.toFixed(1)} CPU ms/reg, ` +
          `request-otp p99 ${requestP99?.toFixed(1) ?? '—'} ms${errors}${skipped}`,
      );
    }
  }
  const summaries: Record<string, TargetSummary> = {};
  for (const target of options.targets) {
    const rounds = results.filter((result) => result.target === target.name);
    const endpoints = new Set(rounds.flatMap((result) => Object.keys(result.latencies)));
    const latencies: TargetSummary['latencies'] = {};
    for (const endpoint of endpoints) {
      const of = (key: 'p50' | 'p90' | 'p99') =>
        median(rounds.map((result) => result.latencies[endpoint]?.[key] ?? Number.NaN));
      latencies[endpoint] = { p50: of('p50'), p90: of('p90'), p99: of('p99') };
    }
    const errors: Record<string, number> = {};
    for (const result of rounds) {
      for (const [key, count] of Object.entries(result.errors)) errors[key] = (errors[key] ?? 0) + count;
    }
    summaries[target.name] = {
      rounds,
      ratePerSecond: median(rounds.map((result) => result.ratePerSecond)),
      cpuMsPerRegistration: median(rounds.map((result) => result.cpuMsPerRegistration)),
      latencies,
      merged: merged.get(target.name)?.summaries() ?? {},
      completed: rounds.reduce((sum, result) => sum + result.completed, 0),
      skipped: rounds.reduce((sum, result) => sum + result.skipped, 0),
      errors,
    };
  }
  return summaries;
}

/** Sums CPU ms by source over rounds. */
export function totalCpu(rounds: RoundResult[]): CpuSnapshot {
  const total: CpuSnapshot = {};
  for (const round of rounds) {
    for (const [name, ms] of Object.entries(round.cpuMs)) total[name] = (total[name] ?? 0) + ms;
  }
  return total;
}
