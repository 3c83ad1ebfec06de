/**
 * The load generator: an undici Pool per target, virtual users running an iteration (e.g. one
 * registration) in a closed loop (each starts its next when the last is done) or arrivals at a
 * fixed rate (open loop, so a slower system does not get less load). Latencies per endpoint go to
 * HDR histograms (µs), measured on the client from sending the request to reading the whole answer,
 * or, for an open loop's first request when asked, from the arrival's scheduled time (see runOpenLoop).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { build, type Histogram } from 'hdr-histogram-js';
import { Pool } from 'undici';

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

const newHistogram = () =>
  build({ lowestDiscernibleValue: 1, highestTrackableValue: 300_000_000, numberOfSignificantValueDigits: 3 });

/** Latency histograms by endpoint name; values are recorded in ms and kept in µs. */
export class Latencies {
  private readonly histograms = new Map<string, Histogram>();

  record(endpoint: string, ms: number): void {
    let histogram = this.histograms.get(endpoint);
    if (!histogram) {
      histogram = newHistogram();
      this.histograms.set(endpoint, histogram);
    }
    histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  add(other: Latencies): void {
    for (const [endpoint, histogram] of other.histograms) {
      let mine = this.histograms.get(endpoint);
      if (!mine) {
        mine = newHistogram();
        this.histograms.set(endpoint, mine);
      }
      mine.add(histogram);
    }
  }

  endpoints(): string[] {
    return [...this.histograms.keys()];
  }

  /** Percentiles in ms; undefined when nothing was recorded. */
  summary(endpoint: string): LatencySummary | undefined {
    const histogram = this.histograms.get(endpoint);
    if (!histogram || histogram.totalCount === 0) return undefined;
    const ms = (us: number) => Math.round(us) / 1000;
    return {
      count: histogram.totalCount,
      p50: ms(histogram.getValueAtPercentile(50)),
      p90: ms(histogram.getValueAtPercentile(90)),
      p99: ms(histogram.getValueAtPercentile(99)),
      max: ms(histogram.maxValue),
      mean: Math.round(histogram.mean) / 1000,
    };
  }

  summaries(): Record<string, LatencySummary> {
    const out: Record<string, LatencySummary> = {};
    for (const endpoint of this.endpoints()) {
      const summary = this.summary(endpoint);
      if (summary) out[endpoint] = summary;
    }
    return out;
  }
}

/** Counts of what went wrong, by a short key (`request-otp:500`, `email-timeout`). */
export class ErrorCounts {
  readonly counts: Record<string, number> = {};
  add(key: string): void {
    this.counts[key] = (this.counts[key] ?? 0) + 1;
  }
  get total(): number {
    return Object.values(this.counts).reduce((sum, n) => sum + n, 0);
  }
}

export class UnexpectedStatus extends Error {
  constructor(
    readonly endpoint: string,
    readonly status: number,
    body: string,
  ) {
    super(`${endpoint} answered ${status}: ${body.slice(0, 300)}`);
  }
}

export interface CallResult {
  status: number;
  body: unknown;
}

/** A keep-alive connection pool to one origin, recording each call's latency under a name. */
export class HttpClient {
  private readonly pool: Pool;

  constructor(origin: string, connections: number) {
    this.pool = new Pool(origin, {
      connections,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      headersTimeout: 120_000,
      bodyTimeout: 120_000,
    });
  }

  /** Calls and records the latency; throws UnexpectedStatus unless the status is in `expect`. */
  async call(
    latencies: Latencies,
    endpoint: string,
    method: 'GET' | 'POST',
    path: string,
    options: {
      body?: unknown;
      token?: string;
      expect?: number[];
      /** Measure from this instant (performance.now()) instead of from the send: an arrival's scheduled time. */
      since?: number;
    } = {},
  ): Promise<CallResult> {
    const headers: Record<string, string> = {};
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const started = options.since ?? performance.now();
    const response = await this.pool.request({
      method,
      path,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.body.text();
    latencies.record(endpoint, performance.now() - started);
    if (!(options.expect ?? [200]).includes(response.statusCode)) {
      throw new UnexpectedStatus(endpoint, response.statusCode, text);
    }
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: kept as text.
    }
    return { status: response.statusCode, body };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export interface IterationContext {
  /** A number unique in the whole run: for distinct shoppers. */
  seq: number;
  latencies: Latencies;
  errors: ErrorCounts;
  /**
   * Open loop measured from arrivals: when this iteration was due (performance.now()). Its first
   * request's latency counts from here, so that the load generator falling behind its schedule
   * shows as latency instead of vanishing (coordinated omission).
   */
  arrivalAt?: number;
}

/** One unit of work (e.g. a registration); resolves true when it completed as it should. */
export type Iteration = (context: IterationContext) => Promise<boolean>;

export interface LoadResult {
  /** The measured window: iterations start only inside it. */
  windowMs: number;
  /** Window plus the drain of iterations in flight at its end. */
  elapsedMs: number;
  /** Completed iterations that finished inside the window, and in all. */
  completedInWindow: number;
  completed: number;
  /** completedInWindow per second of window. */
  ratePerSecond: number;
  /** Iterations still running when the drain timed out. */
  abandoned: number;
  /** Arrivals skipped because too many were in flight (open loop only). */
  skipped: number;
  errors: Record<string, number>;
  errorCount: number;
  latencies: Latencies;
}

let globalSeq = 0;
export const nextSeq = () => ++globalSeq;

function describeError(error: unknown): string {
  if (error instanceof UnexpectedStatus) return `${error.endpoint}:${error.status}`;
  if (error instanceof Error) return error.message.replace(/\S+@\S+/g, '<addr>').slice(0, 80);
  return String(error);
}

interface Tracker {
  latencies: Latencies;
  errors: ErrorCounts;
  completed: number;
  completedInWindow: number;
  inFlight: number;
}

async function runOne(
  iteration: Iteration,
  tracker: Tracker,
  deadline: number,
  arrivalAt?: number,
): Promise<void> {
  tracker.inFlight += 1;
  try {
    const ok = await iteration({
      seq: nextSeq(),
      latencies: tracker.latencies,
      errors: tracker.errors,
      arrivalAt,
    });
    if (ok) {
      tracker.completed += 1;
      if (performance.now() <= deadline) tracker.completedInWindow += 1;
    }
  } catch (error) {
    tracker.errors.add(describeError(error));
  } finally {
    tracker.inFlight -= 1;
  }
}

async function drain(tracker: Tracker, work: Promise<unknown>, timeoutMs: number): Promise<number> {
  const timedOut = await Promise.race([work.then(() => false), delay(timeoutMs).then(() => true)]);
  return timedOut ? tracker.inFlight : 0;
}

function result(tracker: Tracker, windowMs: number, started: number, abandoned: number, skipped = 0) {
  return {
    windowMs,
    elapsedMs: performance.now() - started,
    completedInWindow: tracker.completedInWindow,
    completed: tracker.completed,
    ratePerSecond: tracker.completedInWindow / (windowMs / 1000),
    abandoned,
    skipped,
    errors: tracker.errors.counts,
    errorCount: tracker.errors.total,
    latencies: tracker.latencies,
  } satisfies LoadResult;
}

const newTracker = (latencies: Latencies): Tracker => ({
  latencies,
  errors: new ErrorCounts(),
  completed: 0,
  completedInWindow: 0,
  inFlight: 0,
});

/** `concurrency` virtual users, each running `iteration` back to back until the window ends. */
export async function runClosedLoop(options: {
  concurrency: number;
  durationMs: number;
  drainTimeoutMs: number;
  iteration: Iteration;
  latencies: Latencies;
}): Promise<LoadResult> {
  const tracker = newTracker(options.latencies);
  const started = performance.now();
  const deadline = started + options.durationMs;
  const user = async () => {
    while (performance.now() < deadline) await runOne(options.iteration, tracker, deadline);
  };
  const users = Promise.all(Array.from({ length: options.concurrency }, user));
  await delay(options.durationMs);
  const abandoned = await drain(tracker, users, options.drainTimeoutMs);
  return result(tracker, options.durationMs, started, abandoned);
}

/**
 * Iterations started at a fixed rate, whatever the system's speed (at most `maxInFlight` at once;
 * beyond that an arrival is skipped and counted). A late start (the load generator's own event loop
 * behind) is caught up at once, not dropped. With `measureFromArrival`, iterations are given their
 * scheduled time (IterationContext.arrivalAt) to measure their first request from.
 */
export async function runOpenLoop(options: {
  ratePerSecond: number;
  durationMs: number;
  drainTimeoutMs: number;
  maxInFlight: number;
  iteration: Iteration;
  latencies: Latencies;
  measureFromArrival?: boolean;
}): Promise<LoadResult> {
  const tracker = newTracker(options.latencies);
  const started = performance.now();
  const deadline = started + options.durationMs;
  const intervalMs = 1000 / options.ratePerSecond;
  const running = new Set<Promise<void>>();
  let skipped = 0;
  for (let i = 0; ; i += 1) {
    const due = started + i * intervalMs;
    if (due >= deadline) break;
    const wait = due - performance.now();
    if (wait > 0) await delay(wait);
    if (tracker.inFlight >= options.maxInFlight) {
      skipped += 1;
      continue;
    }
    const arrivalAt = options.measureFromArrival ? due : undefined;
    const one = runOne(options.iteration, tracker, deadline, arrivalAt).finally(() => running.delete(one));
    running.add(one);
  }
  const remaining = deadline - performance.now();
  if (remaining > 0) await delay(remaining);
  const abandoned = await drain(tracker, Promise.all(running), options.drainTimeoutMs);
  return result(tracker, options.durationMs, started, abandoned, skipped);
}
