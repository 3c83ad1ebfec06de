import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  randomInt,
  timingSafeEqual,
} from 'node:crypto';

/**
 * The cryptography of a one-time code: how it is made, how it is stored (only as an HMAC),
 * and how the worker gets it back to send it (AES-256-GCM on the delivery row).
 */

export type KeyPurpose = 'otp-hmac' | 'payload-encryption' | 'jwt-es256-signing';

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

/** A registration flow's public id: 144 bits from a CSPRNG, opaque to everyone who holds it. */
export function generateVerificationId(): string {
  return `vf_${randomBytes(18).toString('base64url')}`;
}

/**
 * HMAC-SHA256 of `binding:code` under a key Postgres never sees. Binding the code to its owner
 * means a hash copied to another row matches nothing there.
 */
export function hashCode(hmacKey: Buffer, binding: string, code: string): string {
  return createHmac('sha256', hmacKey).update(`${binding}:${code}`).digest('base64url');
}

/** Marks a hash bound to its flow's id; hashes made before flows were bound to the email address. */
const FLOW_BOUND = 'f1.';

/** The stored form of a flow's code: bound to the flow, so it verifies that flow and no other. */
export function hashFlowCode(hmacKey: Buffer, flowId: string, code: string): string {
  return `${FLOW_BOUND}${hashCode(hmacKey, flowId, code)}`;
}

/**
 * Whether `code` is the one the flow keeps the hash of, compared in constant time. Hashes of codes
 * pending when flows came (migration 0001) are bound to the address, and are read as such until
 * they expire.
 */
export function flowCodeMatches(
  hmacKey: Buffer,
  flow: { id: string; email: string; codeHash: string },
  code: string,
): boolean {
  const expected = flow.codeHash.startsWith(FLOW_BOUND)
    ? hashFlowCode(hmacKey, flow.id, code)
    : hashCode(hmacKey, flow.email, code);
  const stored = Buffer.from(flow.codeHash);
  const given = Buffer.from(expected);
  return stored.length === given.length && timingSafeEqual(stored, given);
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
