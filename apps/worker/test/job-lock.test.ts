import { loadWorkerConfig } from '@otp-relay/core';
import { describe, expect, it } from 'vitest';
import { jobLockSettings, takeoverBoundMs } from '../src/delivery/job-lock.js';

describe("a dead worker's job", () => {
  it('goes to another worker within 12 s by default, leaving 3 s of the 15 s promise for the send', () => {
    const { DELIVERY_LOCK_MS } = loadWorkerConfig({
      NODE_ENV: 'development',
      DATABASE_URL: 'postgres://u:p@db:5432/otp',
      REDIS_URL: 'redis://redis:6379',
      OTP_ENCRYPTION_KEY: 'e'.repeat(32),
      EMAIL_PROVIDER: 'console',
    });
    expect(takeoverBoundMs(jobLockSettings(DELIVERY_LOCK_MS))).toBeLessThanOrEqual(12_000);
  });

  it('is checked for twice per lock period, so a lapsed lock is found within half a period', () => {
    expect(jobLockSettings(8000)).toEqual({ lockDuration: 8000, stalledInterval: 4000, maxStalledCount: 2 });
    expect(takeoverBoundMs(jobLockSettings(1001))).toBe(1502);
  });
});
