/**
 * A bench run: finds or starts Postgres and Redis, runs the chosen scenarios one after the other
 * (each cleans up after itself, on error too), optionally profiles scenario 1, and assembles the
 * report. Whatever it started is stopped before it returns or throws.
 */
import { cpus, totalmem } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { type BenchConfig, benchConfig, type Mode, SCENARIOS, type ScenarioName } from './config.js';
import { cpuDelta, machineBusyMs } from './proc-stats.js';
import { ARGON2, stopAllProcesses } from './processes.js';
import { profileScenario } from './profile.js';
import type { BenchReport, ScenarioResult } from './report.js';
import type { Scenario, ScenarioContext } from './scenarios/context.js';
import { deliveryThroughputScenario } from './scenarios/delivery-throughput.js';
import { largeTablesScenario } from './scenarios/large-tables.js';
import { registerScenario } from './scenarios/register.js';
import { slowProviderScenario } from './scenarios/slow-provider.js';
import { soakScenario } from './scenarios/soak.js';
import { type BenchServices, locateServices } from './services.js';

const SCENARIO_RUNNERS: Record<ScenarioName, Scenario> = {
  register: registerScenario,
  'slow-provider': slowProviderScenario,
  'delivery-throughput': deliveryThroughputScenario,
  'large-tables': largeTablesScenario,
  soak: soakScenario,
};

export interface BenchOptions {
  mode: Mode;
  only?: ScenarioName[];
  concurrency?: number;
  profile?: boolean;
  /** Where to keep the profile's raw .cpuprofile files; by default they are summarised and deleted. */
  profileDir?: string;
  log?(message: string): void;
}

/** CPU the machine spends while the bench does nothing: what else runs here. */
async function idleMachineCores(ms: number): Promise<number> {
  const before = { machine: machineBusyMs() };
  await delay(ms);
  return (cpuDelta(before, { machine: machineBusyMs() }).machine ?? 0) / ms;
}

async function runScenario(
  name: ScenarioName,
  services: BenchServices,
  config: BenchConfig,
  previous: Map<string, ScenarioResult>,
  log: (message: string) => void,
): Promise<ScenarioResult> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const context: ScenarioContext = {
    services,
    config,
    log,
    previous,
    defer: (cleanup) => cleanups.push(cleanup),
  };
  const started = Date.now();
  log(`\n== ${name}`);
  try {
    const result = await SCENARIO_RUNNERS[name](context);
    return { ...result, durationMs: Date.now() - started };
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log(`scenario ${name} failed: ${message}`);
    return {
      name,
      title: name,
      referenceLabel: '',
      durationMs: Date.now() - started,
      rows: [],
      notes: [],
      details: {},
      error: message.split('\n')[0] ?? message,
    };
  } finally {
    // Last deferred first: clients before the services they talk to.
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => log(`cleanup failed: ${String(error)}`));
    }
  }
}

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const log = options.log ?? ((message: string) => console.log(message));
  const config = benchConfig(options.mode, options.concurrency);
  const startedAt = new Date().toISOString();
  const selected = options.only?.length ? SCENARIOS.filter((s) => options.only?.includes(s)) : [...SCENARIOS];

  log(`bench (${options.mode}): ${selected.join(', ')}`);
  const services = await locateServices();
  try {
    log(
      `Postgres ${services.postgresVersion} and Redis ${services.redisVersion} (${services.origin}); ` +
        `CPU measured for Postgres: ${services.postmasterPid ? 'yes' : 'no'}, Redis: ${services.redisPid ? 'yes' : 'no'}`,
    );
    const idleCores = await idleMachineCores(options.mode === 'full' ? 3_000 : 500);
    log(`machine busy before the run (other processes): ${idleCores.toFixed(2)} cores`);
    const previous = new Map<string, ScenarioResult>();
    const scenarios: ScenarioResult[] = [];
    for (const name of selected) {
      const result = await runScenario(name, services, config, previous, log);
      previous.set(name, result);
      scenarios.push(result);
    }
    const profile = options.profile
      ? await profileScenario(services, config, log, options.profileDir)
      : undefined;
    return {
      startedAt,
      finishedAt: new Date().toISOString(),
      mode: options.mode,
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        memoryBytes: totalmem(),
        node: process.version,
        idleBusyCoresBeforeRun: idleCores,
      },
      services: {
        origin: services.origin,
        postgres: services.postgresVersion,
        postgresSettings: services.postgresSettings,
        redis: services.redisVersion,
        postgresCpuMeasured: Boolean(services.postmasterPid),
        redisCpuMeasured: Boolean(services.redisPid),
        argon2: ARGON2,
      },
      config,
      scenarios,
      ...(profile ? { profile } : {}),
    };
  } finally {
    await stopAllProcesses();
    await services.stop();
  }
}
