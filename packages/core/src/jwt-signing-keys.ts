import { createECDH, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { deriveKey } from './otp-crypto.js';

/**
 * The keys access tokens are signed with (ES256, P-256): JWT_SIGNING_KEYS (a JWK Set of private
 * keys, the first signs, all verify), the same JSON in the file JWT_SIGNING_KEYS_FILE, or, when
 * neither is set, one key derived from JWT_SECRET so that every API instance agrees without a new
 * setting. Plain functions: config validation and the API both read keys through readJwtSigningKeys.
 */

/** An EC P-256 private key as a JWK, members normalised to these (anything else is dropped). */
export interface SigningJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  d: string;
  kid: string;
}

export type JwtSigningKeysSource = 'JWT_SIGNING_KEYS' | 'JWT_SIGNING_KEYS_FILE' | 'JWT_SECRET';

export type JwtSigningKeysResult =
  | { keys: SigningJwk[]; source: JwtSigningKeysSource }
  | { problems: string[] };

export interface JwtKeySettings {
  JWT_SECRET: string;
  JWT_SIGNING_KEYS?: string | undefined;
  JWT_SIGNING_KEYS_FILE?: string | undefined;
}

// The order n of P-256's base point: a private scalar must lie in [1, n-1].
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const COORDINATE = /^[A-Za-z0-9_-]{43}$/; // 32 bytes, base64url without padding

/**
 * RFC 7638's JWK thumbprint of an EC key (SHA-256, base64url): the same value as jose's
 * calculateJwkThumbprint (a test holds them together), computed synchronously because config
 * validation is synchronous.
 */
export function jwkThumbprint(jwk: Pick<SigningJwk, 'crv' | 'kty' | 'x' | 'y'>): string {
  // The required members in lexicographic order, no whitespace: exactly what RFC 7638 hashes.
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

/** The public point of a private scalar, or undefined when it is not a valid P-256 scalar. */
function publicPoint(d: Buffer): { x: string; y: string } | undefined {
  const ecdh = createECDH('prime256v1');
  try {
    ecdh.setPrivateKey(d);
  } catch {
    return undefined;
  }
  const point = ecdh.getPublicKey(); // uncompressed: 0x04 || x || y
  return { x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') };
}

/**
 * The key tokens are signed with when no key set is configured: derived from JWT_SECRET (HKDF,
 * as every other key here), so the same secret gives the same key, and the same kid, everywhere.
 */
export function deriveJwtSigningKey(secret: string): SigningJwk {
  const seed = BigInt(`0x${deriveKey(secret, 'jwt-es256-signing').toString('hex')}`);
  // Into [1, n-1]; n is within 2^-32 of 2^256, so the bias is negligible.
  const scalar = (seed % (P256_ORDER - 1n)) + 1n;
  const d = Buffer.from(scalar.toString(16).padStart(64, '0'), 'hex');
  const point = publicPoint(d);
  if (!point) throw new Error('derived P-256 scalar out of range'); // unreachable by construction
  const jwk = { kty: 'EC', crv: 'P-256', ...point } as const;
  return { ...jwk, d: d.toString('base64url'), kid: jwkThumbprint(jwk) };
}

/** One member of the set, checked: a P-256 private key whose d matches its x and y. */
function signingJwk(value: unknown, at: string): SigningJwk | string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [`${at}: must be a JWK object`];
  }
  const key = value as Record<string, unknown>;
  if (key.kty !== 'EC' || key.crv !== 'P-256') {
    return [`${at}: must be an EC P-256 key ("kty": "EC", "crv": "P-256") for ES256`];
  }
  const problems: string[] = [];
  if (key.alg !== undefined && key.alg !== 'ES256') problems.push(`${at}: "alg" must be ES256 when set`);
  if (key.use !== undefined && key.use !== 'sig') problems.push(`${at}: "use" must be sig when set`);
  if (key.kid !== undefined && (typeof key.kid !== 'string' || key.kid.trim() === '')) {
    problems.push(`${at}: "kid" must be a non-empty string when set`);
  }
  for (const name of ['x', 'y'] as const) {
    if (typeof key[name] !== 'string' || !COORDINATE.test(key[name])) {
      problems.push(`${at}: "${name}" must be 32 bytes in base64url`);
    }
  }
  if (key.d === undefined) {
    problems.push(`${at}: is a public key; a private key (with "d") is needed to sign`);
  } else if (typeof key.d !== 'string' || !COORDINATE.test(key.d)) {
    problems.push(`${at}: "d" must be 32 bytes in base64url`);
  }
  if (problems.length > 0) return problems;
  const [x, y, d] = [key.x, key.y, key.d] as [string, string, string];
  const point = publicPoint(Buffer.from(d, 'base64url'));
  if (!point) return [`${at}: "d" is not a valid P-256 private key`];
  if (point.x !== x || point.y !== y) return [`${at}: "d" does not belong to the public key in "x" and "y"`];
  const jwk = { kty: 'EC', crv: 'P-256', x, y } as const;
  return { ...jwk, d, kid: typeof key.kid === 'string' ? key.kid : jwkThumbprint(jwk) };
}

/**
 * A JWK Set of signing keys (the JSON of JWT_SIGNING_KEYS), or what is wrong with it. Messages
 * never quote the text: it holds private keys, and config errors are printed.
 */
export function parseJwtSigningKeySet(
  text: string,
  name: string,
): { keys: SigningJwk[] } | { problems: string[] } {
  const expected = 'a JWK Set, {"keys":[…]}, of EC P-256 private keys (pnpm jwt:keygen makes one)';
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return { problems: [`${name}: is not valid JSON; expected ${expected}`] };
  }
  const members = (document as { keys?: unknown } | null)?.keys;
  if (typeof document !== 'object' || document === null || !Array.isArray(members)) {
    const single = typeof document === 'object' && document !== null && 'kty' in document;
    return { problems: [`${name}: ${single ? 'is a single JWK; wrap it as' : 'must be'} ${expected}`] };
  }
  if (members.length === 0) return { problems: [`${name}: the set has no keys; the first key signs tokens`] };
  const problems: string[] = [];
  const keys: SigningJwk[] = [];
  const seen = new Map<string, string>(); // kid or thumbprint → where it was first seen
  members.forEach((member, index) => {
    const at = `${name}: keys[${index}]`;
    const key = signingJwk(member, at);
    if (Array.isArray(key)) {
      problems.push(...key);
      return;
    }
    const kidFirst = seen.get(`kid:${key.kid}`);
    if (kidFirst) problems.push(`${at}: duplicate kid "${key.kid}" (also ${kidFirst})`);
    const keyFirst = seen.get(`key:${jwkThumbprint(key)}`);
    if (keyFirst) problems.push(`${at}: the same key as ${keyFirst}`);
    seen.set(`kid:${key.kid}`, `keys[${index}]`);
    seen.set(`key:${jwkThumbprint(key)}`, `keys[${index}]`);
    keys.push(key);
  });
  return problems.length > 0 ? { problems } : { keys };
}

/**
 * The signing keys a configuration names: JWT_SIGNING_KEYS, the file JWT_SIGNING_KEYS_FILE (a
 * Kubernetes secret mounted as a file), at most one of them; or, with neither, the key derived
 * from JWT_SECRET.
 */
export function readJwtSigningKeys(
  settings: JwtKeySettings,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): JwtSigningKeysResult {
  const { JWT_SIGNING_KEYS: inline, JWT_SIGNING_KEYS_FILE: file } = settings;
  if (inline !== undefined && file !== undefined) {
    return { problems: ['JWT_SIGNING_KEYS, JWT_SIGNING_KEYS_FILE: set one of them, not both'] };
  }
  if (inline !== undefined) {
    const parsed = parseJwtSigningKeySet(inline, 'JWT_SIGNING_KEYS');
    return 'problems' in parsed ? parsed : { keys: parsed.keys, source: 'JWT_SIGNING_KEYS' };
  }
  if (file !== undefined) {
    let text: string;
    try {
      text = readFile(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      return { problems: [`JWT_SIGNING_KEYS_FILE: cannot read ${file} (${code})`] };
    }
    const parsed = parseJwtSigningKeySet(text, `JWT_SIGNING_KEYS_FILE (${file})`);
    return 'problems' in parsed ? parsed : { keys: parsed.keys, source: 'JWT_SIGNING_KEYS_FILE' };
  }
  return { keys: [deriveJwtSigningKey(settings.JWT_SECRET)], source: 'JWT_SECRET' };
}
