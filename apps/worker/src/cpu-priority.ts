import { getPriority, setPriority } from 'node:os';

/**
 * Lowers the calling thread's CPU priority to the nice value `nice`; threads it starts later (libuv's
 * pool) inherit it. Never raises the priority: that takes privileges, and an operator who started
 * the worker lower meant it. Returns the nice value now in force.
 *
 * Why: sends are background work. On a host the worker shares with the API, a shopper's request
 * (and its password hash) should get a core before a send does; on a host of its own this changes
 * nothing. docs/performance.md has the measurements.
 */
export function lowerCpuPriority(nice: number): number {
  if (nice > getPriority()) setPriority(nice);
  return getPriority();
}
