/**
 * Where `pnpm dev` gets a redis-server: the PATH, then the places package managers put one (a
 * shell that has not sourced Homebrew's environment still finds it), then, as root on Debian or
 * Ubuntu, apt as .ci/run does. Otherwise one line says how to install it.
 */
import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';

/** Homebrew (Apple silicon, Intel, Linux), MacPorts, Debian/Ubuntu and distributions' sbin, snap. */
export const COMMON_REDIS_DIRS = [
  '/opt/homebrew/bin',
  '/usr/local/bin',
  '/home/linuxbrew/.linuxbrew/bin',
  '/opt/local/bin',
  '/usr/bin',
  '/usr/sbin',
  '/snap/bin',
];

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable redis-server on PATH or in COMMON_REDIS_DIRS; undefined when there is none. */
export async function findRedisServer(
  pathVariable = process.env.PATH ?? '',
  executable: (file: string) => Promise<boolean> = isExecutable,
): Promise<string | undefined> {
  const dirs = [...pathVariable.split(path.delimiter).filter(Boolean), ...COMMON_REDIS_DIRS];
  for (const dir of new Set(dirs)) {
    const candidate = path.join(dir, 'redis-server');
    if (await executable(candidate)) return candidate;
  }
  return undefined;
}

export interface Machine {
  platform: NodeJS.Platform;
  isRoot: boolean;
  /** /etc/debian_version exists and apt-get is on PATH. */
  hasApt: boolean;
}

/** Installing for the developer is only done where it needs no password and no guess: root with apt. */
export function canInstallWithApt(machine: Machine): boolean {
  return machine.platform === 'linux' && machine.isRoot && machine.hasApt;
}

/** One line saying how to get Redis on this machine, or how to do without it. */
export function redisInstallHint(machine: Machine): string {
  const install =
    machine.platform === 'darwin'
      ? '`brew install redis`'
      : machine.hasApt
        ? '`sudo apt-get install -y redis-server`'
        : "your distribution's redis package (e.g. `sudo dnf install redis`)";
  return `redis-server not found: install it with ${install}, or set REDIS_URL to a running Redis (e.g. \`docker run -p 6379:6379 redis:7\`).`;
}

/** apt-get update and install, quietly; rejects with apt's last lines when it fails. */
export function installRedisWithApt(): Promise<void> {
  const run = (args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn('apt-get', args, {
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let errors = '';
      child.stderr.on('data', (chunk: Buffer) => {
        errors = (errors + chunk.toString()).slice(-2000);
      });
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0
          ? resolve()
          : reject(new Error(`apt-get ${args[0]} failed (code ${code}): ${errors.trim()}`)),
      );
    });
  return run(['update', '-qq']).then(() => run(['install', '-y', '-qq', 'redis-server']));
}
