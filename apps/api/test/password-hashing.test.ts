import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createPasswordHasher } from '../src/registration/password-hashing.js';

/**
 * Under load every request-otp waits for a hashing thread, so the order they are served in is the
 * tail: a queue that lets later hashes pass earlier ones made some shoppers wait four times the
 * median (piscina's default puts a task it could not hand over at the back of its queue).
 */
describe('the password-hashing pool', () => {
  it.each([1, 2])('serves hashes in the order they were asked for (%i threads)', async (threads) => {
    const hasher = createPasswordHasher(
      { memoryCost: 1024, timeCost: 1, parallelism: 1 },
      { threads, queueLimit: 1_000 },
    );
    try {
      const unfinished = new Set<number>();
      const overtaken: number[] = [];
      const hashes: Promise<void>[] = [];
      // Asked for in bursts while the threads are busy, as requests arrive under load.
      for (let burst = 0; burst < 20; burst += 1) {
        for (let i = 0; i < 4; i += 1) {
          const index = burst * 4 + i;
          unfinished.add(index);
          hashes.push(
            hasher.hash(`password-${index}`).then(() => {
              unfinished.delete(index);
              // In arrival order, at most the other threads' hashes (asked for earlier) are still running.
              const earlier = [...unfinished].filter((other) => other < index).length;
              if (earlier >= threads) overtaken.push(index);
            }),
          );
        }
        await delay(1);
      }
      await Promise.all(hashes);
      expect(overtaken).toEqual([]);
    } finally {
      await hasher.close();
    }
  });
});
