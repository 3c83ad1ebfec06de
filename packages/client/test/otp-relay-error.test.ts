import { describe, expect, it } from 'vitest';
import { OtpRelayError, parseRetryAfter } from '../src/index.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('42', now)).toBe(42);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP date as the seconds until it, never negative', () => {
    expect(parseRetryAfter('Sun, 01 Mar 2026 12:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Sun, 01 Mar 2026 11:59:00 GMT', now)).toBe(0);
  });

  it('has nothing to say without a header or with one it cannot read', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});

describe('OtpRelayError', () => {
  it('is an Error with a stable name and empty field errors by default', () => {
    const error = new OtpRelayError({ code: 'NETWORK_ERROR', status: 0, message: 'unreachable' });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'OtpRelayError', code: 'NETWORK_ERROR', status: 0, fieldErrors: {} });
    expect(error.retryAfter).toBeUndefined();
  });
});
