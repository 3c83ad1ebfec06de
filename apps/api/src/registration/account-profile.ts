import type { AccountMetadata } from '@otp-relay/core';
import { problem } from './field-errors.js';
import { RegistrationError } from './registration-errors.js';

/**
 * The profile rules the request schema cannot say: whether a username is required (a setting),
 * and the size of `metadata` as stored. The schema checks each key and value
 * (accounts-schemas.ts); the limits are here, in one place, and documented in docs/api.md.
 */
export const METADATA_LIMITS = {
  maxKeys: 16,
  maxKeyLength: 40,
  maxStringLength: 500,
  /** The whole object as JSON (UTF-8 bytes): it travels in every user object and event. */
  maxBytes: 2048,
} as const;

/** USERNAME_REQUIRED=true (the default): request-otp without one is refused, naming the field. */
export function requireUsername(username: string | undefined, required: boolean): string | null {
  if (username !== undefined) return username;
  if (required)
    throw new RegistrationError('VALIDATION_ERROR', 'is required', {
      field: 'username',
      problem: problem('required'),
    });
  return null;
}

/** The metadata to keep (an empty object when none was sent), or a 400 naming `metadata`. */
export function acceptMetadata(metadata: AccountMetadata | undefined): AccountMetadata {
  if (metadata === undefined) return {};
  const bytes = Buffer.byteLength(JSON.stringify(metadata));
  if (bytes > METADATA_LIMITS.maxBytes) {
    throw new RegistrationError(
      'VALIDATION_ERROR',
      `must be at most ${METADATA_LIMITS.maxBytes} bytes as JSON (is ${bytes})`,
      {
        field: 'metadata',
        problem: { code: 'too_large', params: { max_bytes: METADATA_LIMITS.maxBytes } },
      },
    );
  }
  return metadata;
}
