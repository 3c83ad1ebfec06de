/**
 * The sizes and durations of a bench run: `full` (the numbers the issue asks for; ~22 minutes on
 * 2 cores) and `smoke` (everything tiny, to prove the machinery works in CI in about a minute).
 */

export type Mode = 'full' | 'smoke';

export const SCENARIOS = [
  'register',
  'slow-provider',
  'delivery-throughput',
  'large-tables',
  'soak',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchConfig {
  mode: Mode;
  register: {
    concurrency: number;
    warmupMs: number;
    roundMs: number;
    /** Rounds per target, interleaved (baseline, ours, baseline, ours, …). */
    rounds: number;
    emailTimeoutMs: number;
    drainTimeoutMs: number;
    /** After the rounds: the wait for Postgres to flush statistics, then the idle window that measures background transactions. */
    statsFlushMs: number;
    idleWindowMs: number;
    /**
     * After the closed-loop rounds: ours and the sending baseline, interleaved, under arrivals at
     * half the sending baseline's registrations/s in them (open loop), for the tail below saturation.
     */
    halfRate: {
      roundMs: number;
      rounds: number;
      /** Connections per target, up to: arrivals must not queue in the load generator behind a few. */
      connections: number;
      /** Beyond this many registrations in flight an arrival is skipped (and counted). */
      maxInFlight: number;
    };
  };
  slowProvider: {
    latencyMs: number;
    /** Every n-th send answered 503 (10 → 10 %). */
    failEvery: number;
    /**
     * Arrival rate as a share of scenario 1's registrations/s (open loop: same load, fast or slow).
     * Half: near saturation, p99 is queueing noise and says nothing of the provider's effect.
     */
    rateShare: number;
    /** Arrival rate when scenario 1 did not run. */
    fallbackRatePerSecond: number;
    warmupMs: number;
    roundMs: number;
    rounds: number;
    /** The promise to shoppers: a code within this time. */
    deliveryDeadlineMs: number;
    /** From the email's arrival to the verify: the shopper reads it and types the code. */
    thinkTimeMs: { min: number; max: number };
  };
  deliveryThroughput: {
    deliveries: number;
    latencyMs: number;
    concurrencies: number[];
    /** Worker processes (at the highest concurrency) compared. */
    processes: number[];
    /** A configuration stops after this long; its rate is over what it delivered. */
    boundMs: number;
  };
  largeTables: {
    rows: number;
    batchRows: number;
  };
  soak: {
    concurrency: number;
    warmupMs: number;
    durationMs: number;
    sampleEveryMs: number;
  };
  profile: {
    durationMs: number;
  };
}

export function benchConfig(mode: Mode, concurrency?: number): BenchConfig {
  const full = mode === 'full';
  const c = concurrency ?? (full ? 16 : 4);
  return {
    mode,
    register: {
      concurrency: c,
      warmupMs: full ? 8_000 : 1_500,
      roundMs: full ? 15_000 : 2_500,
      rounds: full ? 3 : 1,
      emailTimeoutMs: 30_000,
      drainTimeoutMs: 35_000,
      statsFlushMs: full ? 11_000 : 0,
      idleWindowMs: full ? 20_000 : 1_000,
      halfRate: {
        roundMs: full ? 15_000 : 2_500,
        rounds: full ? 3 : 1,
        connections: 64,
        maxInFlight: 2_000,
      },
    },
    slowProvider: {
      latencyMs: 300,
      failEvery: 10,
      rateShare: 0.5,
      fallbackRatePerSecond: full ? 40 : 8,
      warmupMs: full ? 5_000 : 1_000,
      // Six rounds of 30 s each way: ~7,000 requests a side, so that a p99 compared within 10 %
      // is not mostly the noise between rounds (±30 % at 3 × 20 s).
      roundMs: full ? 30_000 : 3_000,
      rounds: full ? 6 : 1,
      deliveryDeadlineMs: 60_000,
      thinkTimeMs: full ? { min: 2_000, max: 8_000 } : { min: 50, max: 200 },
    },
    deliveryThroughput: {
      deliveries: full ? 5_000 : 120,
      latencyMs: 50,
      concurrencies: [1, 10, 50],
      processes: [1, 2],
      boundMs: full ? 40_000 : 3_000,
    },
    largeTables: {
      rows: full ? 1_000_000 : 10_000,
      batchRows: full ? 250_000 : 10_000,
    },
    soak: {
      concurrency: c,
      warmupMs: full ? 30_000 : 2_000,
      durationMs: full ? 300_000 : 8_000,
      sampleEveryMs: full ? 5_000 : 1_000,
    },
    profile: {
      durationMs: full ? 20_000 : 3_000,
    },
  };
}
