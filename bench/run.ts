/**
 * `pnpm bench` entry: parses the arguments, runs the bench, prints the table and writes the JSON.
 *   --smoke              everything tiny (CI)
 *   --only <scenario>    one scenario (repeatable, or comma-separated): register, slow-provider,
 *                        delivery-throughput, large-tables, soak
 *   --concurrency <n>    virtual users of the register and soak scenarios
 *   --profile            afterwards, profile API and worker under scenario 1 (--cpu-prof)
 *   --profile-dir <dir>  keep the raw .cpuprofile files there (for Chrome DevTools); implies --profile
 *   --out-dir <dir>      where the JSON goes (default bench-results/)
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runBench } from './bench.js';
import { SCENARIOS, type ScenarioName } from './config.js';
import { killAllProcessesSync, REPO_ROOT } from './processes.js';
import { formatProfile } from './profile.js';
import { formatTable, writeReport } from './report.js';
import { stopLocalServersSync } from './services.js';

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
    concurrency: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'profile-dir': { type: 'string' },
    'out-dir': { type: 'string' },
  },
});

const only = (values.only ?? []).flatMap((value) => value.split(',')).filter(Boolean);
const unknown = only.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}; choose from ${SCENARIOS.join(', ')}`);
  process.exit(2);
}

// Interrupted: nothing started may outlive the bench.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAllProcessesSync();
    stopLocalServersSync();
    process.exit(130);
  });
}

const report = await runBench({
  mode: values.smoke ? 'smoke' : 'full',
  only: only as ScenarioName[],
  ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
  profile: values.profile || values['profile-dir'] !== undefined,
  ...(values['profile-dir'] ? { profileDir: values['profile-dir'] } : {}),
});

console.log(`\n${formatTable(report.scenarios)}`);
for (const scenario of report.scenarios) {
  if (scenario.notes.length > 0) console.log(`\n${scenario.name}:\n  ${scenario.notes.join('\n  ')}`);
}
if (report.profile) {
  console.log(`\nprofile: top self time under scenario 1's load${formatProfile(report.profile.processes)}`);
}
const path = writeReport(values['out-dir'] ?? join(REPO_ROOT, 'bench-results'), report);
console.log(`\nresults: ${path}`);
process.exit(report.scenarios.some((scenario) => scenario.error) ? 1 : 0);
