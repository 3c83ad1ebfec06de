// The body of the password-hashing pool's threads (see password-hashing.ts). Plain JavaScript so
// that one file loads both from the sources (tests) and from the build.
import { hashSync } from '@node-rs/argon2';

/** @param {{ password: string, options: import('@node-rs/argon2').Options }} task */
export default function hashPassword({ password, options }) {
  return hashSync(password, options);
}
