import { createHash } from 'node:crypto';

/**
 * Advisory lock keys of the migrator: 64 bits of a hash of what is locked (a schema's migrations,
 * or the move out of public), so two installs in one database never wait for each other, and every
 * version of the migrator agrees on them.
 */
export function migrationLockKey(scope: string): string {
  return createHash('sha256').update(`otp-relay migrations ${scope}`).digest().readBigInt64BE(0).toString();
}
