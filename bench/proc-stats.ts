/**
 * CPU time and memory of processes, read from Linux's /proc: per process (utime + stime of all its
 * threads), per process tree (Postgres: the postmaster and its backends), and machine-wide
 * (/proc/stat), so what the measured processes did not use can be reported as "other CPU use".
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's times; 100 on every Linux we know, asked once anyway. */
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();
const MS_PER_TICK = 1000 / TICKS_PER_SECOND;

interface ProcStat {
  ppid: number;
  /** Own CPU (all threads), in ms. */
  selfMs: number;
  /** CPU of children it has reaped, in ms. */
  reapedChildrenMs: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const field = (n: number) => Number(fields[n - 3] ?? 0);
  return {
    ppid: field(4),
    selfMs: (field(14) + field(15)) * MS_PER_TICK,
    reapedChildrenMs: (field(16) + field(17)) * MS_PER_TICK,
  };
}

export function processExists(pid: number): boolean {
  return readStat(pid) !== undefined;
}

/** Cumulative CPU ms of one process (0 once it is gone). */
export function processCpuMs(pid: number): number {
  return readStat(pid)?.selfMs ?? 0;
}

/**
 * Cumulative CPU ms of a process and its children, as long as it lives: its own time, the time of
 * the children it has reaped (Postgres' postmaster reaps every backend that exits), and the
 * time of the children alive now. Each child is counted once, alive or reaped.
 */
export function processTreeCpuMs(rootPid: number): number {
  const root = readStat(rootPid);
  if (!root) return 0;
  let total = root.selfMs + root.reapedChildrenMs;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.ppid === rootPid) total += stat.selfMs;
  }
  return total;
}

/** Busy CPU ms of the whole machine (every core, not idle or waiting for I/O) since boot. */
export function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((sum, value) => sum + value, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return (total - idle) * MS_PER_TICK;
}

/** Resident memory of a process in bytes (VmRSS), or undefined when it is gone. */
export function residentBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The parent of a process, if it exists. */
export function parentPid(pid: number): number | undefined {
  return readStat(pid)?.ppid;
}

/** Named cumulative CPU counters, read together: a snapshot, and the difference of two. */
export type CpuSources = Record<string, () => number>;
export type CpuSnapshot = Record<string, number>;

export function snapshotCpu(sources: CpuSources): CpuSnapshot {
  const snapshot: CpuSnapshot = { machine: machineBusyMs() };
  for (const [name, read] of Object.entries(sources)) snapshot[name] = read();
  return snapshot;
}

/** CPU ms used between two snapshots, by source, plus `machine` (all cores) and `other` (the rest). */
export function cpuDelta(before: CpuSnapshot, after: CpuSnapshot): CpuSnapshot {
  const delta: CpuSnapshot = {};
  let measured = 0;
  for (const [name, value] of Object.entries(after)) {
    const used = Math.max(0, value - (before[name] ?? 0));
    delta[name] = used;
    if (name !== 'machine') measured += used;
  }
  delta.other = Math.max(0, (delta.machine ?? 0) - measured);
  return delta;
}

/** The bench process itself (load generator, its HTTP clients, the orchestration). */
export const selfCpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};
