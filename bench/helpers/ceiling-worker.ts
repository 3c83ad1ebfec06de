/**
 * The queue's own ceiling: a bare BullMQ Worker on the same Redis whose processor only waits as
 * long as the fake provider does. Whatever our worker delivers per second below this is our code
 * (Postgres claims and records, the Gmail client, MIME), not BullMQ. Reports completions over IPC.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

export interface CeilingReport {
  type: 'done';
  count: number;
  first: number;
  last: number;
}

const env = process.env;
const expected = Number(env.CEILING_JOBS);
const waitMs = Number(env.CEILING_WAIT_MS);
const connection = new Redis(env.REDIS_URL ?? '', { maxRetriesPerRequest: null });

let count = 0;
let first = 0;
let last = 0;
const worker = new Worker(
  env.CEILING_QUEUE ?? 'otp-delivery',
  async () => {
    await delay(waitMs);
  },
  { connection, concurrency: Number(env.CEILING_CONCURRENCY), prefix: env.CEILING_PREFIX ?? 'bull' },
);
worker.on('completed', () => {
  count += 1;
  const now = Date.now();
  if (first === 0) first = now;
  last = now;
  if (count === expected) process.send?.({ type: 'done', count, first, last } satisfies CeilingReport);
});
worker.on('error', () => {});

const stop = () => {
  void worker.close().finally(() => {
    connection.disconnect();
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('disconnect', stop);
process.on('message', (message: { type: string }) => {
  if (message.type === 'report') process.send?.({ type: 'done', count, first, last } satisfies CeilingReport);
});
