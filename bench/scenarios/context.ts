/**
 * What every scenario is given: the servers, the run's sizes, a log, the results of the scenarios
 * before it, and `defer` for what must be stopped or dropped when it ends (on error too).
 */
import type { BenchConfig } from '../config.js';
import type { CpuSnapshot } from '../proc-stats.js';
import type { ScenarioResult } from '../report.js';
import type { BenchServices } from '../services.js';

export interface ScenarioContext {
  services: BenchServices;
  config: BenchConfig;
  log(message: string): void;
  previous: ReadonlyMap<string, ScenarioResult>;
  defer(cleanup: () => Promise<unknown>): void;
}

export type Scenario = (context: ScenarioContext) => Promise<Omit<ScenarioResult, 'durationMs'>>;

/** CPU use of what the bench does not measure by process, as cores busy on average. */
export function otherCpuCores(cpuMs: CpuSnapshot, elapsedMs: number): number {
  return (cpuMs.other ?? 0) / elapsedMs;
}

export const sumOf = (cpuMs: CpuSnapshot, names: string[]) =>
  names.reduce((sum, name) => sum + (cpuMs[name] ?? 0), 0);
