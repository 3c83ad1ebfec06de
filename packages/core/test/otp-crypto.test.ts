import { describe, expect, it } from 'vitest';
import { decryptPayload, deriveKey, encryptPayload, generateCode, hashCode } from '../src/otp-crypto.js';

const SECRET = 'a'.repeat(64);

describe('generateCode', () => {
  it('makes codes of exactly the asked length, digits only, leading zeros kept', () => {
    const codes = Array.from({ length: 2000 }, () => generateCode(6));
    for (const code of codes) expect(code).toMatch(/^[0-9]{6}$/);
    // With 2000 draws of a 6-digit code, at least one begins with 0 unless zeros are dropped (p ≈ 1e-92).
    expect(codes.some((code) => code.startsWith('0'))).toBe(true);
    expect(new Set(codes).size).toBeGreaterThan(1990);
  });

  it('honours other lengths', () => {
    expect(generateCode(4)).toMatch(/^[0-9]{4}$/);
    expect(generateCode(10)).toMatch(/^[0-9]{10}$/);
  });
});

describe('deriveKey', () => {
  it('derives a distinct 32-byte key per purpose, stable for one secret', () => {
    const hmac = deriveKey(SECRET, 'otp-hmac');
    expect(hmac).toHaveLength(32);
    expect(deriveKey(SECRET, 'otp-hmac').equals(hmac)).toBe(true);
    expect(deriveKey(SECRET, 'payload-encryption').equals(hmac)).toBe(false);
    expect(deriveKey('b'.repeat(64), 'otp-hmac').equals(hmac)).toBe(false);
  });
});

describe('hashCode', () => {
  const key = deriveKey(SECRET, 'otp-hmac');

  it('stores no trace of the code and changes with the code', () => {
    const stored = hashCode(key, 'ann@example.com', '123456');
    expect(stored).not.toContain('123456');
    expect(hashCode(key, 'ann@example.com', '123456')).toBe(stored);
    expect(hashCode(key, 'ann@example.com', '123457')).not.toBe(stored);
  });

  it('binds the hash to its address and to the pepper', () => {
    const stored = hashCode(key, 'ann@example.com', '123456');
    expect(hashCode(key, 'bob@example.com', '123456')).not.toBe(stored);
    expect(hashCode(deriveKey('c'.repeat(64), 'otp-hmac'), 'ann@example.com', '123456')).not.toBe(stored);
  });
});

describe('encryptPayload / decryptPayload', () => {
  const key = deriveKey(SECRET, 'payload-encryption');

  it('round-trips, with a fresh IV each time', () => {
    const first = encryptPayload(key, '{"code":"123456"}', 'delivery-1');
    const second = encryptPayload(key, '{"code":"123456"}', 'delivery-1');
    expect(first).not.toEqual(second);
    expect(first).not.toContain('123456');
    expect(decryptPayload(key, first, 'delivery-1')).toBe('{"code":"123456"}');
  });

  it('refuses a ciphertext moved to another row, tampered with, or opened with another key', () => {
    const sealed = encryptPayload(key, 'secret', 'delivery-1');
    expect(() => decryptPayload(key, sealed, 'delivery-2')).toThrow();
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3] ?? '', 'base64url');
    body[0] = (body[0] ?? 0) ^ 1;
    expect(() =>
      decryptPayload(key, [parts[0], parts[1], parts[2], body.toString('base64url')].join('.'), 'delivery-1'),
    ).toThrow();
    expect(() =>
      decryptPayload(deriveKey('d'.repeat(64), 'payload-encryption'), sealed, 'delivery-1'),
    ).toThrow();
    expect(() => decryptPayload(key, 'garbage', 'delivery-1')).toThrow(/format/);
  });
});
