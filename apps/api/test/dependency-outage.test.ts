import { deliveries, registrationFlows } from '@otp-relay/db';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, type Stack, shopper, startStack } from './support/stack.js';

// Nothing listens on port 1 of loopback: a dependency that is down.
const DEAD_POSTGRES = 'postgres://postgres@127.0.0.1:1/none';
const DEAD_REDIS = 'redis://127.0.0.1:1';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

/** An API instance beside the stack's, with one dependency pointed at nothing. */
const appWith = (down: { databaseUrl?: string; redisUrl?: string }) => stack.anotherApi(down);

describe('when Postgres is down', () => {
  it('answers 503 in the error shape, and readiness says so', async () => {
    const { app, close } = await appWith({ databaseUrl: DEAD_POSTGRES });
    try {
      const response = await post(app, 'request-otp/', shopper());
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ success: false, code: 'SERVICE_UNAVAILABLE' });
      expect(response.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);

      const verify = await post(app, 'verify-otp/', { email: 'a@example.com', otp: '123456' });
      expect(verify.statusCode).toBe(503);

      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().checks).toMatchObject({ postgres: 'unavailable', redis: 'ok' });
    } finally {
      await close();
    }
  });
});

describe('when Redis is down', () => {
  it('still accepts the request, and the outbox relay delivers the code once Redis is back', async () => {
    const { app, close } = await appWith({ redisUrl: DEAD_REDIS });
    try {
      const body = shopper();
      const response = await post(app, 'request-otp/', body);
      expect(response.statusCode).toBe(200);
      const rows = await stack.db.db
        .select({ status: deliveries.status })
        .from(deliveries)
        .innerJoin(registrationFlows, eq(deliveries.flowId, registrationFlows.id))
        .where(eq(registrationFlows.email, body.email));
      expect(rows).toEqual([{ status: 'queued' }]);

      // The worker's relay finds the row that has no job and enqueues it.
      const worker = stack.startWorker();
      expect(await worker.relayOnce()).toBe(1);
      const [email] = await stack.google.waitForEmails(1, { to: body.email });
      expect(email?.text).toMatch(/code is: \d{6}/);
    } finally {
      await close();
    }
  });
});
