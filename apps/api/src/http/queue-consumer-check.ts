import type { Queue } from 'bullmq';

/** How long a seen worker is trusted before Redis is asked again (probes come every few seconds). */
const SEEN_WORKER_TRUST_MS = 5000;

export class NoConsumerError extends Error {
  constructor(queueName: string) {
    super(`no worker is consuming ${queueName}`);
    this.name = 'NoConsumerError';
  }
}

/**
 * A readiness check that throws while no worker consumes the queue. BullMQ names each worker's
 * connection, and `getWorkersCount` finds them in CLIENT LIST: one command, no keys read. Only a
 * positive answer is remembered (for a few seconds), so a missing worker is reported at once and a
 * present one costs a CLIENT LIST per SEEN_WORKER_TRUST_MS at most.
 */
export function createQueueConsumerCheck(
  queue: Pick<Queue, 'getWorkersCount' | 'name'>,
  now: () => number = Date.now,
): () => Promise<void> {
  let seenAt: number | undefined;
  return async () => {
    if (seenAt !== undefined && now() - seenAt < SEEN_WORKER_TRUST_MS) return;
    const count = await queue.getWorkersCount();
    if (count === 0) {
      seenAt = undefined;
      throw new NoConsumerError(queue.name);
    }
    seenAt = now();
  };
}
