/**
 * CI smoke of `pnpm bench`: runs `bench/run.ts --smoke --profile` (everything tiny) against the test
 * run's Postgres and Redis, and checks that every scenario produced finite, positive numbers and that
 * the JSON was written. It does not check the performance targets: CI machines are too noisy for that.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { SCENARIOS } from './config.js';
import { REPO_ROOT } from './processes.js';
import type { BenchReport } from './report.js';

/** Metrics (by name prefix) that must be above zero in each scenario; every other one must be ≥ 0. */
const POSITIVE: Record<string, string[]> = {
  register: [
    'registrations/s',
    'request-otp p99',
    'verify-otp p99',
    'CPU ms/registration',
    'Postgres transactions',
  ],
  'slow-provider': [
    'request-otp p99 (slow vs fast), median',
    'codes delivered',
    'request → provider acceptance p99',
  ],
  'delivery-throughput': ['deliveries/s', 'queue ceiling', 'worker CPU ms/delivery'],
  'large-tables': ['registrations/s', 'request-otp p99', 'verify-otp p99'],
  soak: ['registrations/s', 'API RSS', 'worker RSS', 'API event-loop delay p99, worst'],
};

describe('pnpm bench --smoke', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'otp-relay-bench-smoke-'));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('runs every scenario and writes the JSON', { timeout: 240_000 }, async () => {
    const services = inject('testServices');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@otp-relay/source',
        'bench/run.ts',
        '--smoke',
        '--profile',
        '--out-dir',
        outDir,
      ],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          BENCH_DATABASE_URL: services.adminDatabaseUrl,
          BENCH_REDIS_URL: services.redisUrl,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const [code] = await once(child, 'exit');
    expect(code, output).toBe(0);

    const latest = join(outDir, 'latest.json');
    expect(existsSync(latest)).toBe(true);
    expect(readdirSync(outDir).filter((name) => /^\d{4}-.*\.json$/.test(name))).toHaveLength(1);
    const report = JSON.parse(readFileSync(latest, 'utf8')) as BenchReport;
    const [markdown] = readdirSync(outDir).filter((name) => /^\d{4}-.*\.md$/.test(name));
    const tables = readFileSync(join(outDir, markdown ?? 'missing.md'), 'utf8');
    for (const scenario of report.scenarios) expect(tables).toContain(`### ${scenario.title}`);

    expect(report.scenarios.map((scenario) => scenario.name)).toEqual([...SCENARIOS]);
    for (const scenario of report.scenarios) {
      expect(scenario.error, scenario.name).toBeUndefined();
      expect(scenario.rows.length, scenario.name).toBeGreaterThan(0);
      for (const r of scenario.rows) {
        const label = `${scenario.name}: ${r.metric}`;
        expect(r.ours, label).not.toBeNull();
        expect(Number.isFinite(r.ours), label).toBe(true);
        expect(r.ours as number, label).toBeGreaterThanOrEqual(0);
        const mustBePositive = POSITIVE[scenario.name]?.some((prefix) => r.metric.startsWith(prefix));
        if (mustBePositive) expect(r.ours as number, label).toBeGreaterThan(0);
      }
    }
    // Both baselines ran and were measured: their references are there beside ours, and ours and the
    // sending baseline ran again at half its rate, open loop.
    const register = report.scenarios.find((scenario) => scenario.name === 'register');
    const halfRate = [
      'registrations/s at half rate',
      'request-otp p50 at half rate',
      'request-otp p90 at half rate',
      'request-otp p99 at half rate',
      'verify-otp p99 at half rate',
    ];
    for (const metric of halfRate) {
      const r = register?.rows.find((candidate) => candidate.metric === metric);
      expect(r?.ours, metric).toBeGreaterThan(0);
      expect(r?.reference, metric).toBeGreaterThan(0);
    }
    for (const prefix of [
      'registrations/s',
      'request-otp p99',
      'verify-otp p99',
      'CPU ms/registration',
      'vs the baseline that sends nothing',
    ]) {
      const rows = register?.rows.filter((r) => r.metric.startsWith(prefix)) ?? [];
      expect(rows.length, prefix).toBeGreaterThan(0);
      for (const r of rows) expect(r.reference, `register: ${r.metric}`).toBeGreaterThan(0);
    }
    // The targets are against the sending baseline.
    const targets = register?.rows.filter((r) => r.target !== '' && !r.metric.startsWith('Postgres')) ?? [];
    expect(targets.map((r) => r.metric)).toEqual([
      'registrations/s',
      'request-otp p99',
      'verify-otp p99',
      'request-otp p99 at half rate',
      'CPU ms/registration (app+PG+Redis)',
    ]);
    for (const r of targets) expect(r.target, r.metric).toMatch(/× sending baseline$/);

    const processes = report.profile?.processes ?? [];
    expect(processes.map((p) => p.process).sort()).toEqual(['api', 'worker']);
    for (const p of processes) expect(p.top.length).toBeGreaterThan(0);
  });
});
