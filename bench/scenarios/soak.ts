/**
 * Scenario 5, soak: minutes of mixed load (registrations, with a wrong code, a resend inside the
 * cooldown and `GET /me` mixed in) at full concurrency. API and worker memory in the first and the
 * last fifth after the warm-up (VmRSS from /proc, heap from their metrics), and the event-loop delay p99 that
 * prom-client's default metrics report for each scrape interval (the API's /metrics on its operators'
 * listener, the worker's metrics port).
 */
import { oursRegistration } from '../flows.js';
import { HttpClient, Latencies, runClosedLoop } from '../load.js';
import { cpuDelta, residentBytes, snapshotCpu } from '../proc-stats.js';
import { EVENT_LOOP_P99, HEAP_USED, scrape } from '../prometheus.js';
import { row } from '../report.js';
import { median } from '../rounds.js';
import { sharedCpuSources, stackCpuSources, startStack } from '../stack.js';
import { otherCpuCores, type Scenario } from './context.js';

interface Sample {
  atMs: number;
  apiRss?: number;
  workerRss?: number;
  apiHeap?: number;
  workerHeap?: number;
  /** ms */
  apiLoopP99?: number;
  workerLoopP99?: number;
}

const MB = 2 ** 20;
const growth = (start?: number, end?: number) =>
  start !== undefined && end !== undefined && start > 0 ? (100 * (end - start)) / start : null;

export const soakScenario: Scenario = async ({ services, config, log, defer }) => {
  const cfg = config.soak;
  const stack = await startStack(services, { label: 'soak' });
  defer(async () => {
    await stack.stop();
    await stack.database.drop();
  });
  const api = stack.api;
  const worker = stack.workers[0];
  if (!api?.adminOrigin || !worker) throw new Error('the soak stack has no API or worker');
  const apiMetricsUrl = `${api.adminOrigin}/metrics`;
  const client = new HttpClient(api.origin, cfg.concurrency);
  defer(() => client.close());
  const iteration = oursRegistration(client, stack.mailbox, {
    emailTimeoutMs: config.register.emailTimeoutMs,
    mixed: true,
  });

  log(`  warm-up (${cfg.warmupMs / 1000} s)`);
  await runClosedLoop({
    concurrency: cfg.concurrency,
    durationMs: cfg.warmupMs,
    drainTimeoutMs: 30_000,
    iteration,
    latencies: new Latencies(),
  });

  const startedAt = Date.now();
  const sample = async (): Promise<Sample> => {
    const [apiMetrics, workerMetrics] = await Promise.all([
      scrape(apiMetricsUrl),
      scrape(`${worker.origin}/metrics`),
    ]);
    const ms = (seconds?: number) => (seconds === undefined ? undefined : seconds * 1000);
    const value = (metrics: Map<string, number> | undefined, name: string) => metrics?.get(name);
    return {
      atMs: Date.now() - startedAt,
      apiRss: residentBytes(api.proc.pid),
      workerRss: residentBytes(worker.proc.pid),
      apiHeap: value(apiMetrics, HEAP_USED),
      workerHeap: value(workerMetrics, HEAP_USED),
      apiLoopP99: ms(value(apiMetrics, EVENT_LOOP_P99)),
      workerLoopP99: ms(value(workerMetrics, EVENT_LOOP_P99)),
    };
  };
  // The first scrape also resets prom-client's event-loop histogram, so intervals start clean.
  const initial = await sample();
  const samples: Sample[] = [];
  const cpu = { ...stackCpuSources(stack), ...sharedCpuSources(services) };
  const before = snapshotCpu(cpu);
  const sampler = setInterval(() => {
    void sample().then((s) => samples.push(s));
  }, cfg.sampleEveryMs);
  log(`  mixed load (${cfg.durationMs / 1000} s)`);
  const latencies = new Latencies();
  const load = await runClosedLoop({
    concurrency: cfg.concurrency,
    durationMs: cfg.durationMs,
    drainTimeoutMs: 30_000,
    iteration,
    latencies,
  }).finally(() => clearInterval(sampler));
  const cpuMs = cpuDelta(before, snapshotCpu(cpu));
  const end = await sample();
  // Memory is a sawtooth: it climbs between garbage collections (the API's RSS by ±50 MB between
  // readings) and drops after one. A leak is a rising floor, so growth compares the lowest reading
  // of the first and the last fifth of the soak; the medians are shown beside them.
  const readings = [initial, ...samples, end];
  const edge = Math.max(1, Math.floor(readings.length / 5));
  const firstSamples = readings.slice(0, edge);
  const lastSamples = readings.slice(readings.length - edge);
  const memory = (list: Sample[], pick: (values: number[]) => number) => {
    const of = (key: 'apiRss' | 'workerRss' | 'apiHeap' | 'workerHeap') => {
      const values = list.map((s) => s[key]).filter((v): v is number => v !== undefined);
      return values.length > 0 ? pick(values) : undefined;
    };
    return {
      apiRss: of('apiRss'),
      workerRss: of('workerRss'),
      apiHeap: of('apiHeap'),
      workerHeap: of('workerHeap'),
    };
  };
  const floor = (values: number[]) => Math.min(...values);
  const first = memory(firstSamples, floor);
  const last = memory(lastSamples, floor);
  const firstMedian = memory(firstSamples, median);
  const lastMedian = memory(lastSamples, median);
  // Loop delay under load: the intervals that ended while the load ran.
  const loaded = samples.filter((s) => s.atMs <= cfg.durationMs);
  const loops = (key: 'apiLoopP99' | 'workerLoopP99') =>
    loaded.map((s) => s[key]).filter((v): v is number => v !== undefined);
  const apiLoops = loops('apiLoopP99');
  const workerLoops = loops('workerLoopP99');
  const maxOf = (values: number[]) => (values.length > 0 ? Math.max(...values) : null);
  const mb = (bytes?: number) => (bytes === undefined ? null : bytes / MB);
  const lat = latencies.summaries();

  return {
    name: 'soak',
    title: `soak: ${cfg.durationMs / 1000} s of mixed load, ${cfg.concurrency} virtual users, after ${cfg.warmupMs / 1000} s warm-up`,
    referenceLabel: 'first fifth after warm-up',
    rows: [
      row('registrations/s', '/s', load.ratePerSecond, null),
      row(
        'API RSS floor (last vs first fifth)',
        'MB',
        mb(last.apiRss),
        mb(first.apiRss),
        '< 1.1 ×',
        (_o, _r, x) => x < 1.1,
      ),
      row(
        'worker RSS floor (last vs first fifth)',
        'MB',
        mb(last.workerRss),
        mb(first.workerRss),
        '< 1.1 ×',
        (_o, _r, x) => x < 1.1,
      ),
      row('API heap used floor (last vs first fifth)', 'MB', mb(last.apiHeap), mb(first.apiHeap)),
      row('worker heap used floor (last vs first fifth)', 'MB', mb(last.workerHeap), mb(first.workerHeap)),
      row('API RSS median (last vs first fifth)', 'MB', mb(lastMedian.apiRss), mb(firstMedian.apiRss)),
      row(
        'worker RSS median (last vs first fifth)',
        'MB',
        mb(lastMedian.workerRss),
        mb(firstMedian.workerRss),
      ),
      row('API event-loop delay p99, worst interval', 'ms', maxOf(apiLoops), null, '< 50 ms', (o) => o < 50),
      row('API event-loop delay p99, median interval', 'ms', median(apiLoops), null),
      row('worker event-loop delay p99, worst interval', 'ms', maxOf(workerLoops), null),
      row('request-otp p99', 'ms', lat['request-otp']?.p99, null),
      row('verify-otp p99', 'ms', lat['verify-otp']?.p99, null),
      row('me p99', 'ms', lat.me?.p99, null),
      row('other CPU on the machine (cores)', '', otherCpuCores(cpuMs, load.elapsedMs), null),
    ],
    notes: [
      `RSS floor growth: API ${growth(first.apiRss, last.apiRss)?.toFixed(1)} %, worker ${growth(first.workerRss, last.workerRss)?.toFixed(1)} %.`,
      `Memory: the lowest and the median of the first and last ${edge} readings (one every ${cfg.sampleEveryMs / 1000} s); a leak raises the floor, garbage collection's sawtooth moves the median.`,
      `Event-loop p99 per ${cfg.sampleEveryMs / 1000} s scrape interval (prom-client, 10 ms resolution), ${apiLoops.length} intervals.`,
      `${load.completed} registrations, errors ${JSON.stringify(load.errors)}.`,
    ],
    details: {
      first,
      last,
      firstMedian,
      lastMedian,
      initial,
      end,
      samples,
      latencies: lat,
      load: { ...load, latencies: undefined },
      cpuMs,
    },
  };
};
