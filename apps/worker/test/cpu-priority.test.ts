import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MODULE = fileURLToPath(new URL('../src/cpu-priority.ts', import.meta.url));

/** Runs lowerCpuPriority in a child process (it changes the calling thread's priority for good). */
function niceAfter(startAt: number, target: number): number {
  const script = `
    import { setPriority } from 'node:os';
    import { lowerCpuPriority } from ${JSON.stringify(MODULE)};
    setPriority(${startAt});
    process.stdout.write(String(lowerCpuPriority(${target})));`;
  const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  return Number(output);
}

describe('lowerCpuPriority', () => {
  it('lowers the priority to the nice value asked for', () => {
    expect(niceAfter(0, 10)).toBe(10);
  });

  it('never raises it above where the process was started', () => {
    expect(niceAfter(15, 10)).toBe(15);
  });

  it('leaves it alone at 0', () => {
    expect(niceAfter(0, 0)).toBe(0);
  });
});
