import { findExecutable, isExecutable } from './executables.js';

/**
 * Where package managers put redis-server, so a shell that has not sourced Homebrew's environment
 * still finds it: Homebrew (Apple silicon, Intel, Linux), MacPorts, Debian/Ubuntu and other
 * distributions' sbin, snap.
 */
export const COMMON_REDIS_DIRS = [
  '/opt/homebrew/bin',
  '/usr/local/bin',
  '/home/linuxbrew/.linuxbrew/bin',
  '/opt/local/bin',
  '/usr/bin',
  '/usr/sbin',
  '/snap/bin',
];

/** The first executable redis-server on PATH or in COMMON_REDIS_DIRS; undefined when there is none. */
export function findRedisServer(
  pathVariable = process.env.PATH ?? '',
  executable: (file: string) => boolean = isExecutable,
): string | undefined {
  return findExecutable('redis-server', COMMON_REDIS_DIRS, pathVariable, executable);
}
