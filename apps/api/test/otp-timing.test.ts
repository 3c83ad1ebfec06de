import { describe, expect, it } from 'vitest';
import { addSeconds, isExpired, secondsUntil } from '../src/registration/otp-timing.js';

describe('expiry arithmetic', () => {
  const issuedAt = new Date('2026-01-01T12:00:00.000Z');
  const expiresAt = addSeconds(issuedAt, 600);

  it('expires exactly at the end of the lifetime, not a millisecond earlier', () => {
    expect(expiresAt.toISOString()).toBe('2026-01-01T12:10:00.000Z');
    expect(isExpired(expiresAt, new Date(expiresAt.getTime() - 1))).toBe(false);
    expect(isExpired(expiresAt, expiresAt)).toBe(true);
  });

  it('rounds the wait up so a client told to retry after N seconds is never early', () => {
    expect(secondsUntil(expiresAt, issuedAt)).toBe(600);
    expect(secondsUntil(expiresAt, new Date(expiresAt.getTime() - 1))).toBe(1);
    expect(secondsUntil(expiresAt, new Date(expiresAt.getTime() - 1001))).toBe(2);
    expect(secondsUntil(expiresAt, addSeconds(expiresAt, 5))).toBe(0);
  });
});
