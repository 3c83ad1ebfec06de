import { availableParallelism } from 'node:os';
import type { Options } from '@node-rs/argon2';
import { Piscina } from 'piscina';

// `Algorithm` is a const enum, which isolated modules cannot read: 2 is Algorithm.Argon2id.
const ARGON2ID = 2;

/**
 * The nice value the hashing threads add to their own. At 5 a short task that wakes up preempts a
 * hash almost at once (under full load it took verify's p99 from ~22 ms to ~17 ms), while during a
 * burst of other work a hash still gets about a quarter of a core; at 19 it would get next to none.
 */
const LOW_PRIORITY = 5;

export interface Argon2Parameters {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export interface PasswordHasher {
  /** argon2id, in PHC string form; HashQueueFullError at once when the queue is full. */
  hash(password: string): Promise<string>;
  /** Hashes waiting for a free thread: under load, the first sign that the API is short of CPU. */
  readonly waiting: number;
  close(): Promise<void>;
}

/** Every hashing thread is busy and the queue in front of them is full. */
export class HashQueueFullError extends Error {
  constructor() {
    super('password hashing queue is full');
    this.name = 'HashQueueFullError';
  }
}

/**
 * argon2id on a pool of worker threads at a lower CPU priority. The hash is the only CPU-heavy
 * step of a registration; at normal priority it competes with the event loop, Postgres, Redis
 * and the worker for every core, and each round trip of a verify or a send waits behind it. At a
 * lower priority it takes the CPU the rest leaves, which under full load is most of it: the
 * throughput is the same, the short steps stop queueing.
 */
export function createPasswordHasher(
  parameters: Argon2Parameters,
  pool: {
    /** Hashing threads; one per core by default (more would only add 19 MiB apiece). */
    threads?: number | undefined;
    /**
     * Hashes that may wait for a thread; twice the threads by default. A flood must not grow
     * memory and latency without bound: past this a request is refused at once (the caller
     * answers 503 with Retry-After) instead of waiting behind the others.
     */
    queueLimit?: number | undefined;
  } = {},
): PasswordHasher {
  const threads = pool.threads ?? availableParallelism();
  const queueLimit = pool.queueLimit ?? 2 * threads;
  const workers = new Piscina({
    filename: new URL('./password-hash-worker.js', import.meta.url).href,
    maxThreads: threads,
    // Kept between bursts: a new thread costs a module load before its first hash.
    idleTimeout: 60_000,
    niceIncrement: LOW_PRIORITY,
    // First come, first hashed. By default a task piscina could not hand to a thread goes to the
    // back of its queue, so under load later requests overtook earlier ones: request-otp's p99 at
    // saturation was 3.7 × the sending baseline's, its median 1.3 × (docs/performance.md).
    stricterFIFO: true,
  });
  const options: Options = { algorithm: ARGON2ID, ...parameters };
  return {
    hash(password) {
      if (workers.queueSize >= queueLimit) return Promise.reject(new HashQueueFullError());
      return workers.run({ password, options }) as Promise<string>;
    },
    get waiting() {
      return workers.queueSize;
    },
    close: () => workers.close(),
  };
}
