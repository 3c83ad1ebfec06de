import { hash } from '@node-rs/argon2';

// `Algorithm` is a const enum, which isolated modules cannot read: 2 is Algorithm.Argon2id.
const ARGON2ID = 2;

export interface Argon2Parameters {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** argon2id; @node-rs/argon2 runs it on libuv's thread pool, off the event loop. */
export function hashPassword(password: string, parameters: Argon2Parameters): Promise<string> {
  return hash(password, { algorithm: ARGON2ID, ...parameters });
}
