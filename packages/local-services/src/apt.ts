import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { findExecutable } from './executables.js';

/** What decides how a missing server can be got on this machine. */
export interface Machine {
  platform: NodeJS.Platform;
  isRoot: boolean;
  /** /etc/debian_version exists and apt-get is on PATH. */
  hasApt: boolean;
}

export function thisMachine(): Machine {
  return {
    platform: process.platform,
    isRoot: process.getuid?.() === 0,
    hasApt: existsSync('/etc/debian_version') && findExecutable('apt-get') !== undefined,
  };
}

/** Installing for the developer is only done where it needs no password and no guess: root with apt. */
export function canInstallWithApt(machine: Machine): boolean {
  return machine.platform === 'linux' && machine.isRoot && machine.hasApt;
}

/** apt-get update and install, quietly; rejects with apt's last lines when it fails. */
export async function aptInstall(packages: string[]): Promise<void> {
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
  await run(['update', '-qq']);
  await run(['install', '-y', '-qq', ...packages]);
}
