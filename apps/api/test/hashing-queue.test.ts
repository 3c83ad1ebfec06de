import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, shopper, startStack } from './support/stack.js';

/**
 * The password hash is the one costly step of request-otp, and anyone may ask for it. Its queue is
 * bounded (about two waiting per hashing thread): past that a request is refused with 503 and
 * Retry-After at once, instead of waiting behind the flood and growing memory.
 */

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack.close();
});

describe('a full hashing queue', () => {
  it('answers 503 SERVICE_BUSY with Retry-After at once, before the queued hashes finish', async () => {
    // One thread and a slow hash: the first request hashes, two wait, the rest find the queue full.
    const busy = await stack.anotherApi({
      config: { PASSWORD_HASH_THREADS: 1, ARGON2_MEMORY_COST: 65536, ARGON2_TIME_COST: 3 },
    });
    try {
      const finished: { statusCode: number; code?: string; retryAfter?: unknown }[] = [];
      await Promise.all(
        Array.from({ length: 12 }, async () => {
          const response = await busy.app.inject({
            method: 'POST',
            url: '/api/accounts/request-otp/',
            payload: shopper(),
          });
          finished.push({
            statusCode: response.statusCode,
            code: response.json().code,
            retryAfter: response.headers['retry-after'],
          });
        }),
      );
      const accepted = finished.filter((answer) => answer.statusCode === 200);
      const refused = finished.filter((answer) => answer.statusCode === 503);
      expect(accepted.length + refused.length).toBe(12);
      expect(accepted.length).toBeGreaterThanOrEqual(1);
      expect(refused.length).toBeGreaterThanOrEqual(6);
      for (const answer of refused) {
        expect(answer).toMatchObject({ code: 'SERVICE_BUSY' });
        expect(Number(answer.retryAfter)).toBeGreaterThan(0);
      }
      // Quickly: every refusal was answered before the first accepted request was.
      const firstAccepted = finished.findIndex((answer) => answer.statusCode === 200);
      expect(finished.slice(firstAccepted).every((answer) => answer.statusCode === 200)).toBe(true);
    } finally {
      await busy.close();
    }
  });
});
