import { createECDH, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadApiConfig } from '../src/config.js';
import {
  deriveJwtSigningKey,
  jwkThumbprint,
  parseJwtSigningKeySet,
  readJwtSigningKeys,
  type SigningJwk,
} from '../src/jwt-signing-keys.js';

const SECRET = 'j'.repeat(32);
const api = {
  DATABASE_URL: 'postgres://u:p@localhost:5432/db',
  REDIS_URL: 'redis://localhost:6379',
  OTP_ENCRYPTION_KEY: 'e'.repeat(32),
  OTP_PEPPER: 'p'.repeat(32),
  JWT_SECRET: SECRET,
};

/** A fresh P-256 private JWK as Node exports it (kty, crv, x, y, d; no kid). */
function privateJwk(curve = 'P-256'): Record<string, string> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
  return privateKey.export({ format: 'jwk' }) as Record<string, string>;
}

const set = (...keys: unknown[]) => JSON.stringify({ keys });

function problems(text: string): string[] {
  const parsed = parseJwtSigningKeySet(text, 'JWT_SIGNING_KEYS');
  return 'problems' in parsed ? parsed.problems : [];
}

function keysOf(text: string): SigningJwk[] {
  const parsed = parseJwtSigningKeySet(text, 'JWT_SIGNING_KEYS');
  if ('problems' in parsed) throw new Error(parsed.problems.join('\n'));
  return parsed.keys;
}

describe('deriveJwtSigningKey', () => {
  it('gives the same key and kid for the same JWT_SECRET, so every API instance agrees', () => {
    const first = deriveJwtSigningKey(SECRET);
    expect(deriveJwtSigningKey(SECRET)).toEqual(first);
    expect(first.kid).toBe(jwkThumbprint(first));
    expect(deriveJwtSigningKey('k'.repeat(32)).kid).not.toBe(first.kid);
  });

  it('gives a valid P-256 key pair: d yields x and y', () => {
    for (const secret of [SECRET, 'another secret of 32 characters!', 'x'.repeat(64)]) {
      const key = deriveJwtSigningKey(secret);
      const ecdh = createECDH('prime256v1');
      ecdh.setPrivateKey(Buffer.from(key.d, 'base64url'));
      const point = ecdh.getPublicKey();
      expect(point.subarray(1, 33).toString('base64url')).toBe(key.x);
      expect(point.subarray(33).toString('base64url')).toBe(key.y);
      // And a set made of it passes the same checks as a configured one.
      expect(keysOf(set(key))).toEqual([key]);
    }
  });
});

describe('parseJwtSigningKeySet', () => {
  it('keeps the order (the first signs), keeps a given kid and names the others by thumbprint', () => {
    const a = privateJwk();
    const b: Record<string, string> = { ...privateJwk(), kid: '2025-05', alg: 'ES256', use: 'sig' };
    const keys = keysOf(set(a, b));
    expect(keys.map((key) => key.x)).toEqual([a.x, b.x]);
    expect(keys[0]?.kid).toBe(jwkThumbprint({ kty: 'EC', crv: 'P-256', x: a.x ?? '', y: a.y ?? '' }));
    expect(keys[1]?.kid).toBe('2025-05');
    expect(Object.keys(keys[1] ?? {}).sort()).toEqual(['crv', 'd', 'kid', 'kty', 'x', 'y']);
  });

  it('refuses what is not JSON without quoting it (it holds private keys)', () => {
    const key = privateJwk();
    const text = `{"keys":[{"kty":"EC","crv":"P-256","d":"${key.d}"`;
    const found = problems(text);
    expect(found).toEqual([expect.stringMatching(/^JWT_SIGNING_KEYS: is not valid JSON/)]);
    expect(found.join('\n')).not.toContain(key.d);
  });

  it('refuses a lone JWK, another shape and an empty set, saying what is expected', () => {
    expect(problems(JSON.stringify(privateJwk()))).toEqual([
      expect.stringMatching(/is a single JWK; wrap it as a JWK Set, \{"keys":\[…\]\}/),
    ]);
    for (const other of ['[]', '"keys"', 'null', '{"keys":{}}']) {
      expect(problems(other)).toEqual([expect.stringMatching(/must be a JWK Set/)]);
    }
    expect(problems('{"keys":[]}')).toEqual([expect.stringMatching(/the set has no keys/)]);
  });

  it('refuses keys that cannot sign ES256: other curves and types, public keys, broken members', () => {
    const good = privateJwk();
    const { d: _d, ...publicOnly } = good;
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    const ed25519 = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
    const cases: [unknown, RegExp][] = [
      [privateJwk('P-384'), /keys\[0\]: must be an EC P-256 key/],
      [rsa, /keys\[0\]: must be an EC P-256 key/],
      [ed25519, /keys\[0\]: must be an EC P-256 key/],
      [{ kty: 'oct', k: 'c2VjcmV0' }, /keys\[0\]: must be an EC P-256 key/],
      ['a string', /keys\[0\]: must be a JWK object/],
      [publicOnly, /keys\[0\]: is a public key; a private key \(with "d"\) is needed/],
      [{ ...good, d: 'short' }, /"d" must be 32 bytes in base64url/],
      [{ ...good, x: 'AAAA' }, /"x" must be 32 bytes in base64url/],
      [{ ...good, alg: 'HS256' }, /"alg" must be ES256/],
      [{ ...good, use: 'enc' }, /"use" must be sig/],
      [{ ...good, kid: '' }, /"kid" must be a non-empty string/],
      [{ ...good, kid: 7 }, /"kid" must be a non-empty string/],
      // d of one key with x, y of another: it would sign tokens the published key cannot verify.
      [{ ...good, d: privateJwk().d }, /"d" does not belong to the public key/],
      // Zero is not a private key.
      [{ ...good, d: Buffer.alloc(32).toString('base64url') }, /"d" is not a valid P-256 private key/],
    ];
    for (const [key, expected] of cases) {
      expect(problems(set(key)), JSON.stringify(key)).toEqual([expect.stringMatching(expected)]);
    }
    // Each member is named, and every problem is told at once.
    expect(problems(set(good, publicOnly, rsa))).toEqual([
      expect.stringMatching(/^JWT_SIGNING_KEYS: keys\[1\]: /),
      expect.stringMatching(/^JWT_SIGNING_KEYS: keys\[2\]: /),
    ]);
  });

  it('refuses a kid used twice, and one key listed twice', () => {
    const [a, b] = [privateJwk(), privateJwk()];
    expect(problems(set({ ...a, kid: 'k1' }, { ...b, kid: 'k1' }))).toEqual([
      'JWT_SIGNING_KEYS: keys[1]: duplicate kid "k1" (also keys[0])',
    ]);
    expect(problems(set(a, { ...a, kid: 'renamed' }))).toEqual([
      'JWT_SIGNING_KEYS: keys[1]: the same key as keys[0]',
    ]);
  });

  it('never quotes a private member in any problem', () => {
    const key = privateJwk();
    const all = [
      ...problems(set({ ...key, kty: 'RSA' })),
      ...problems(set({ ...key, x: key.y })),
      ...problems(set(key, key)),
    ];
    expect(all.length).toBeGreaterThan(2);
    expect(all.join('\n')).not.toContain(key.d);
  });
});

describe('readJwtSigningKeys', () => {
  const text = set(privateJwk(), privateJwk());

  it('reads JWT_SIGNING_KEYS, or the file JWT_SIGNING_KEYS_FILE names, or derives from JWT_SECRET', () => {
    const inline = readJwtSigningKeys({ JWT_SECRET: SECRET, JWT_SIGNING_KEYS: text });
    expect(inline).toMatchObject({ source: 'JWT_SIGNING_KEYS', keys: keysOf(text) });
    const files: string[] = [];
    const fromFile = readJwtSigningKeys(
      { JWT_SECRET: SECRET, JWT_SIGNING_KEYS_FILE: '/run/keys.json' },
      (path) => {
        files.push(path);
        return text;
      },
    );
    expect(files).toEqual(['/run/keys.json']);
    expect(fromFile).toMatchObject({ source: 'JWT_SIGNING_KEYS_FILE', keys: keysOf(text) });
    expect(readJwtSigningKeys({ JWT_SECRET: SECRET })).toEqual({
      source: 'JWT_SECRET',
      keys: [deriveJwtSigningKey(SECRET)],
    });
  });

  it('refuses both settings at once, an unreadable file, and a bad file naming it', () => {
    expect(
      readJwtSigningKeys({ JWT_SECRET: SECRET, JWT_SIGNING_KEYS: text, JWT_SIGNING_KEYS_FILE: '/k.json' }),
    ).toEqual({ problems: ['JWT_SIGNING_KEYS, JWT_SIGNING_KEYS_FILE: set one of them, not both'] });
    expect(
      readJwtSigningKeys({ JWT_SECRET: SECRET, JWT_SIGNING_KEYS_FILE: '/nonexistent/otp-relay/keys.json' }),
    ).toEqual({ problems: ['JWT_SIGNING_KEYS_FILE: cannot read /nonexistent/otp-relay/keys.json (ENOENT)'] });
    expect(
      readJwtSigningKeys({ JWT_SECRET: SECRET, JWT_SIGNING_KEYS_FILE: '/k.json' }, () => '{"keys":[]}'),
    ).toEqual({
      problems: [expect.stringMatching(/^JWT_SIGNING_KEYS_FILE \(\/k\.json\): the set has no keys/)],
    });
  });
});

describe('loadApiConfig and the signing keys', () => {
  it('stops start-up with the problem, naming the variable', () => {
    let found: string[] = [];
    try {
      loadApiConfig({ ...api, JWT_SIGNING_KEYS: 'not json' });
    } catch (error) {
      if (error instanceof ConfigError) found = error.problems;
    }
    expect(found).toEqual([expect.stringMatching(/^JWT_SIGNING_KEYS: is not valid JSON/)]);
  });

  it('takes a valid set, and neither setting', () => {
    const text = set(privateJwk());
    expect(loadApiConfig({ ...api, JWT_SIGNING_KEYS: text }).JWT_SIGNING_KEYS).toBe(text);
    expect(loadApiConfig(api).JWT_SIGNING_KEYS).toBeUndefined();
  });
});
