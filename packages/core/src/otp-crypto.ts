import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, randomInt } from 'node:crypto';

/**
 * The cryptography of a one-time code: how it is made, how it is stored (only as an HMAC),
 * and how the worker gets it back to send it (AES-256-GCM on the delivery row).
 */

export type KeyPurpose = 'otp-hmac' | 'payload-encryption' | 'jwt-signing';

/** Operators configure any long random string; the key actually used is derived per purpose. */
export function deriveKey(secret: string, purpose: KeyPurpose): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'otp-relay', purpose, 32));
}

/** A uniformly random numeric code, leading zeros kept. */
export function generateCode(length: number): string {
  return randomInt(0, 10 ** length)
    .toString()
    .padStart(length, '0');
}

/**
 * The stored form of a code: an HMAC under a key Postgres never sees, bound to the address the code
 * was sent for (a hash copied to another address's row matches nothing). Verify computes the same
 * value from what the shopper sends and lets Postgres compare it in the statement that locks and
 * consumes the challenge: comparing two HMACs leaks nothing through timing that helps guess a code.
 */
export function hashCode(hmacKey: Buffer, email: string, code: string): string {
  return createHmac('sha256', hmacKey).update(`${email}:${code}`).digest('base64url');
}

const FORMAT_VERSION = 'v1';

/** `associatedData` (the delivery id) ties a ciphertext to its row: it cannot be moved to another. */
export function encryptPayload(key: Buffer, plaintext: string, associatedData: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(associatedData));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [FORMAT_VERSION, iv, cipher.getAuthTag(), ciphertext]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

export function decryptPayload(key: Buffer, sealed: string, associatedData: string): string {
  const [version, iv, tag, ciphertext] = sealed.split('.');
  if (version !== FORMAT_VERSION || !iv || !tag || ciphertext === undefined) {
    throw new Error('Unrecognised encrypted payload format');
  }
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(associatedData));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString(
    'utf8',
  );
}
