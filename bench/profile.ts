/**
 * Profiling: scenario 1's load once more, with API and worker started under `--cpu-prof`; their
 * .cpuprofile files (written when they exit) are summarised into the top functions by self time,
 * aggregated by function name and location, for each main JavaScript thread: the API's argon2
 * hashing threads are left out (they only hash), and show up as idle time on its main thread.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { BenchConfig } from './config.js';
import { oursRegistration } from './flows.js';
import { HttpClient, Latencies, runClosedLoop } from './load.js';
import { REPO_ROOT } from './processes.js';
import type { BenchServices } from './services.js';
import { startStack } from './stack.js';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileEntry {
  function: string;
  location: string;
  selfMs: number;
  /** Share of the profile's non-idle time. */
  percent: number;
  /** For native and Node-internal functions: the packages whose code called them, by self ms. */
  calledFrom?: Record<string, number>;
}

export interface ProcessProfile {
  process: string;
  totalMs: number;
  idleMs: number;
  top: ProfileEntry[];
  /** Self time by package (node_modules package, Node internals, native, or workspace folder). */
  byPackage: Record<string, number>;
}

/** `node_modules/.pnpm/fastify@5.1.0/node_modules/fastify/lib/x.js` → `fastify/lib/x.js`. */
function shortLocation(url: string, line: number): string {
  if (!url) return '';
  let path = url.startsWith('file://') ? new URL(url).pathname : url;
  const nodeModules = path.lastIndexOf('node_modules/');
  if (nodeModules >= 0) path = path.slice(nodeModules + 'node_modules/'.length);
  else if (path.startsWith('/')) path = relative(REPO_ROOT, path);
  return `${path}:${line + 1}`;
}

/** The package a frame belongs to: `postgres`, `@fastify/jwt`, `node`, `(native)`, `apps/api`. */
function packageOf(url: string): string {
  if (!url) return '(native)';
  if (url.startsWith('node:')) return 'node';
  const path = url.startsWith('file://') ? new URL(url).pathname : url;
  const nodeModules = path.lastIndexOf('node_modules/');
  if (nodeModules >= 0) {
    const [first = '', second = ''] = path.slice(nodeModules + 'node_modules/'.length).split('/');
    return first.startsWith('@') ? `${first}/${second}` : first;
  }
  return relative(REPO_ROOT, path).split('/').slice(0, 2).join('/');
}

const isUserland = (url: string) => url !== '' && !url.startsWith('node:');

export function summariseCpuProfile(profile: CpuProfile, topN = 10): Omit<ProcessProfile, 'process'> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // Each sample's time is the delta to the next one (the last gets none).
  for (let i = 0; i < samples.length; i += 1) {
    const id = samples[i];
    if (id === undefined) continue;
    self.set(id, (self.get(id) ?? 0) + (deltas[i + 1] ?? 0) / 1000);
  }
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  // The nearest caller outside Node and native code: whose socket write, whose crypto call.
  const callerPackage = (id: number): string => {
    for (let at = parents.get(id); at !== undefined; at = parents.get(at)) {
      const url = byId.get(at)?.callFrame.url ?? '';
      if (isUserland(url)) return packageOf(url);
    }
    return '(none)';
  };
  const aggregated = new Map<string, ProfileEntry>();
  const byPackage: Record<string, number> = {};
  let totalMs = 0;
  let idleMs = 0;
  for (const [id, ms] of self) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    totalMs += ms;
    const name = frame.functionName || '(anonymous)';
    if (name === '(idle)') {
      idleMs += ms;
      continue;
    }
    const pkg = packageOf(frame.url);
    byPackage[pkg] = (byPackage[pkg] ?? 0) + ms;
    const location = shortLocation(frame.url, frame.lineNumber);
    const key = `${name} ${location}`;
    const entry = aggregated.get(key) ?? { function: name, location, selfMs: 0, percent: 0 };
    entry.selfMs += ms;
    if (!isUserland(frame.url) && !name.startsWith('(')) {
      entry.calledFrom ??= {};
      const caller = callerPackage(id);
      entry.calledFrom[caller] = (entry.calledFrom[caller] ?? 0) + ms;
    }
    aggregated.set(key, entry);
  }
  const busy = totalMs - idleMs;
  const top = [...aggregated.values()]
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, topN)
    .map((entry) => ({
      ...entry,
      selfMs: Math.round(entry.selfMs),
      percent: busy > 0 ? Math.round((1000 * entry.selfMs) / busy) / 10 : 0,
      ...(entry.calledFrom ? { calledFrom: roundedTop(entry.calledFrom, 4) } : {}),
    }));
  return {
    totalMs: Math.round(totalMs),
    idleMs: Math.round(idleMs),
    top,
    byPackage: roundedTop(byPackage, 10),
  };
}

/** The `n` largest entries, rounded to ms. */
function roundedTop(values: Record<string, number>, n: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(values)
      .sort(([, a], [, b]) => b - a)
      .slice(0, n)
      .map(([key, ms]) => [key, Math.round(ms)]),
  );
}

export async function profileScenario(
  services: BenchServices,
  config: BenchConfig,
  log: (message: string) => void,
  keepDir?: string,
): Promise<{ durationMs: number; registrations: number; processes: ProcessProfile[] }> {
  const dir = keepDir ? resolve(keepDir) : mkdtempSync(join(tmpdir(), 'otp-relay-bench-prof-'));
  mkdirSync(dir, { recursive: true });
  const before = new Set(readdirSync(dir));
  log(`\n== profile (scenario 1 load, ${config.profile.durationMs / 1000} s, --cpu-prof)`);
  const stack = await startStack(services, {
    label: 'profile',
    execArgv: ['--cpu-prof', '--cpu-prof-dir', dir],
  });
  try {
    const api = stack.api;
    if (!api) throw new Error('the profile stack has no API');
    const pids = new Map([
      [api.proc.pid, 'api'],
      ...stack.workers.map((worker) => [worker.proc.pid, 'worker'] as const),
    ]);
    const client = new HttpClient(api.origin, config.register.concurrency);
    const load = await runClosedLoop({
      concurrency: config.register.concurrency,
      durationMs: config.profile.durationMs,
      drainTimeoutMs: config.register.drainTimeoutMs,
      iteration: oursRegistration(client, stack.mailbox, { emailTimeoutMs: config.register.emailTimeoutMs }),
      latencies: new Latencies(),
    });
    await client.close();
    // The profiles are written as the processes exit (their SIGTERM handlers end with process.exit).
    await stack.stopServices();
    const processes: ProcessProfile[] = [];
    const written = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile') && !before.has(name));
    if (keepDir) {
      const owners = [...pids].map(([pid, name]) => `${name} ${pid}`).join(', ');
      log(`profiles kept in ${dir} (by pid: ${owners}): ${written.join(', ')}`);
    }
    for (const file of written) {
      // CPU.<date>.<time>.<pid>.<thread>.<seq>: thread 0 is the main thread; the others are the
      // API's hashing threads, whose profile is the argon2 hash and nothing else.
      const [, pidText, threadText] = /^CPU\.\d+\.\d+\.(\d+)\.(\d+)\./.exec(file) ?? [];
      if (Number(threadText) !== 0) continue;
      const pid = Number(pidText);
      const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
      processes.push({ process: pids.get(pid) ?? `pid ${pid}`, ...summariseCpuProfile(profile) });
    }
    return { durationMs: config.profile.durationMs, registrations: load.completed, processes };
  } finally {
    await stack.stop();
    await stack.database.drop();
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  }
}

export function formatProfile(processes: ProcessProfile[]): string {
  const lines: string[] = [];
  for (const p of processes) {
    const busy = p.totalMs - p.idleMs;
    lines.push(`\n${p.process}: ${busy} ms busy of ${p.totalMs} ms profiled (main thread)`);
    for (const [i, entry] of p.top.entries()) {
      const callers = entry.calledFrom
        ? `  (called from ${Object.entries(entry.calledFrom)
            .map(([pkg, ms]) => `${pkg} ${ms} ms`)
            .join(', ')})`
        : '';
      lines.push(
        `  ${String(i + 1).padStart(2)}. ${entry.selfMs.toString().padStart(6)} ms ${entry.percent.toFixed(1).padStart(5)} %  ${entry.function}  ${entry.location}${callers}`,
      );
    }
    const packages = Object.entries(p.byPackage)
      .map(([pkg, ms]) => `${pkg} ${ms}`)
      .join(', ');
    lines.push(`  self ms by package: ${packages}`);
  }
  return lines.join('\n');
}
