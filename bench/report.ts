/**
 * What a run reports: per scenario, rows of (metric, ours, baseline or reference, ratio, target,
 * pass/fail) printed as one table, and everything measured written as JSON to
 * bench-results/<timestamp>.json and bench-results/latest.json, with the tables as Markdown beside it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessProfile } from './profile.js';

export interface TableRow {
  metric: string;
  unit: string;
  ours: number | null;
  /** The baseline, or the reference run compared with (fast provider, empty tables, …). */
  reference: number | null;
  ratio: number | null;
  /** The issue's target, in words, e.g. "≥ 0.9 × baseline". */
  target: string;
  pass: boolean | null;
}

export interface ScenarioResult {
  name: string;
  title: string;
  /** What "reference" means in this scenario's rows. */
  referenceLabel: string;
  durationMs: number;
  rows: TableRow[];
  notes: string[];
  details: unknown;
  error?: string;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  mode: string;
  machine: Record<string, unknown>;
  services: Record<string, unknown>;
  config: unknown;
  scenarios: ScenarioResult[];
  profile?: { durationMs: number; registrations: number; processes: ProcessProfile[] };
}

export function row(
  metric: string,
  unit: string,
  ours: number | null | undefined,
  reference: number | null | undefined,
  target = '',
  check?: (ours: number, reference: number, ratio: number) => boolean,
): TableRow {
  const o = ours === undefined || ours === null || !Number.isFinite(ours) ? null : ours;
  const r = reference === undefined || reference === null || !Number.isFinite(reference) ? null : reference;
  const ratio = o !== null && r !== null && r !== 0 ? o / r : null;
  let pass: boolean | null = null;
  if (check) pass = o === null ? false : check(o, r ?? Number.NaN, ratio ?? Number.NaN);
  return { metric, unit, ours: o, reference: r, ratio, target, pass };
}

const format = (value: number | null, unit = '') => {
  if (value === null) return '—';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return `${value.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
};

export function formatTable(scenarios: ScenarioResult[]): string {
  const header = ['scenario', 'metric', 'ours', 'baseline / ref', 'ratio', 'target', 'result'];
  const lines: string[][] = [header];
  for (const scenario of scenarios) {
    if (scenario.error) {
      lines.push([scenario.name, 'ERROR', scenario.error.slice(0, 60), '', '', '', 'fail']);
      continue;
    }
    for (const r of scenario.rows) {
      lines.push([
        scenario.name,
        r.metric,
        format(r.ours, r.unit),
        r.reference === null ? '—' : `${format(r.reference, r.unit)}`,
        r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`,
        r.target,
        r.pass === null ? '' : r.pass ? 'pass' : 'FAIL',
      ]);
    }
  }
  const widths = header.map((_, i) => Math.max(...lines.map((line) => (line[i] ?? '').length)));
  const render = (line: string[]) => line.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ');
  const rule = widths.map((w) => '-'.repeat(w)).join('-|-');
  const [first, ...rest] = lines;
  return [render(first ?? header), rule, ...rest.map(render)].join('\n');
}

/**
 * The scenarios as Markdown, one table per scenario with its notes under it: what
 * docs/performance.md shows, so a new run can replace the tables there as they are.
 */
export function formatMarkdown(scenarios: ScenarioResult[]): string {
  const sections: string[] = [];
  for (const scenario of scenarios) {
    const lines = [`### ${scenario.title}`, ''];
    if (scenario.error) {
      lines.push(`**error**: ${scenario.error}`, '');
      sections.push(lines.join('\n'));
      continue;
    }
    lines.push(`| metric | ours | ${scenario.referenceLabel || 'reference'} | ratio | target | met |`);
    lines.push('| --- | --- | --- | --- | --- | --- |');
    for (const r of scenario.rows) {
      const cells = [
        r.unit ? `${r.metric} (${r.unit})` : r.metric,
        r.ours === null ? '' : format(r.ours),
        r.reference === null ? '' : format(r.reference),
        r.ratio === null ? '' : r.ratio.toFixed(2),
        r.target,
        r.pass === null ? '' : r.pass ? 'yes' : '**no**',
      ];
      lines.push(`| ${cells.join(' | ')} |`);
    }
    lines.push('', ...scenario.notes.flatMap((note) => [`_${note}_`, '']));
    sections.push(lines.join('\n'));
  }
  return sections.join('\n');
}

/** Writes `<dir>/<timestamp>.json` (and `.md`) and `<dir>/latest.json`; returns the JSON's path. */
export function writeReport(dir: string, report: BenchReport): string {
  mkdirSync(dir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const path = join(dir, `${stamp}.json`);
  const json = `${JSON.stringify(report, (_key, value) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2)}\n`;
  writeFileSync(path, json);
  writeFileSync(join(dir, `${stamp}.md`), formatMarkdown(report.scenarios));
  writeFileSync(join(dir, 'latest.json'), json);
  return path;
}
