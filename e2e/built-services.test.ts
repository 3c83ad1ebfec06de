import { createTestDatabase, type FakeGoogle, startFakeGoogle, type TestDatabase } from '@otp-relay/testkit';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  apiClient,
  freePort,
  GOOGLE_CREDENTIALS,
  killStartedProcesses,
  migrate,
  ready,
  registration,
  SCRIPTS,
  serviceEnv,
  startProcess,
} from './support/processes.js';

/**
 * The service as operators run it: the built output, the migration CLI, then the API and worker
 * as separate processes with the contract's environment, Gmail pointed at the fake.
 */

let google: FakeGoogle;
let database: TestDatabase;

beforeAll(async () => {
  google = await startFakeGoogle(GOOGLE_CREDENTIALS);
  database = await createTestDatabase(inject('testServices'), { migrated: false });
});
afterAll(async () => {
  killStartedProcesses();
  await google.close();
  await database.drop();
});

describe('the built services', () => {
  it('migrate, start, deliver one email, verify, and stop cleanly on SIGTERM', async () => {
    const port = await freePort();
    const env = serviceEnv({
      databaseUrl: database.url,
      redisUrl: inject('testServices').redisUrl,
      google,
      port,
    });
    await migrate(env);

    const api = startProcess(SCRIPTS.api, env);
    const worker = startProcess(SCRIPTS.worker, env);
    await Promise.all([ready.api(api), ready.worker(worker)]);

    const call = apiClient(port);
    const email = `e2e-${port}@example.com`;
    const requested = await call('request-otp/', registration(email));
    expect(requested.status).toBe(200);
    expect(requested.body).not.toHaveProperty('debug_otp');

    const [message] = await google.waitForEmails(1, { to: email });
    const code = /code is: (\d{6})/.exec(message?.text ?? '')?.[1];
    expect(code).toMatch(/^\d{6}$/);

    const verified = await call('verify-otp/', { email, otp: code });
    expect(verified.status).toBe(200);
    const { user, token } = verified.body as { user: { email: string }; token: string };
    expect(user.email).toBe(email);

    const me = await call('me', undefined, token);
    expect(me.status).toBe(200);
    expect(me.body.user).toEqual(user);
    expect(google.sent.filter((sent) => sent.to.includes(email))).toHaveLength(1);

    api.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    expect(await api.exited).toBe(0);
    expect(await worker.exited).toBe(0);
  });
});
