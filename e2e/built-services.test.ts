import { describe, expect, it } from 'vitest';
import {
  apiClient,
  freePort,
  migrate,
  ready,
  registration,
  SERVICE_SCRIPTS,
  serviceEnv,
  sharedRedis,
  startProcess,
  useE2eContext,
} from './support/processes.js';

/**
 * The service as operators run it: the built output, the migration CLI, then the API and worker
 * as separate processes with the contract's environment, Gmail pointed at the fake.
 */

const e2e = useE2eContext({ migrated: false });

describe('the built services', () => {
  it('migrate, start, deliver one email, verify, and stop cleanly on SIGTERM', async () => {
    const port = await freePort();
    const env = serviceEnv({
      databaseUrl: e2e.database.url,
      ...sharedRedis(e2e.services),
      google: e2e.google,
      port,
    });
    await migrate(env);

    const api = startProcess(SERVICE_SCRIPTS.api, env);
    const worker = startProcess(SERVICE_SCRIPTS.worker, env);
    const [, workerStarted] = await Promise.all([ready.api(api), ready.worker(worker)]);
    const workerMetrics = (JSON.parse(workerStarted) as { metrics: string }).metrics;

    const call = apiClient(port);
    const email = `e2e-${port}@example.com`;
    const requested = await call('request-otp/', registration(email));
    expect(requested.status).toBe(200);
    expect(requested.body).not.toHaveProperty('debug_otp');

    const [message] = await e2e.google.waitForEmails(1, { to: email });
    const code = /code is: (\d{6})/.exec(message?.text ?? '')?.[1];
    expect(code).toMatch(/^\d{6}$/);

    const verified = await call('verify-otp/', { email, otp: code });
    expect(verified.status).toBe(200);
    const { user, token } = verified.body as { user: { email: string }; token: string };
    expect(user.email).toBe(email);

    const me = await call('me', undefined, token);
    expect(me.status).toBe(200);
    expect(me.body.user).toEqual(user);
    expect(e2e.google.sent.filter((sent) => sent.to.includes(email))).toHaveLength(1);

    // The worker's own metrics port: the delivery and its latency, and a liveness probe.
    await worker.lineMatching(/delivery sent/);
    const scraped = await (await fetch(workerMetrics)).text();
    expect(scraped).toMatch(
      /otp_relay_deliveries_total\{channel="email",provider="gmail",outcome="sent"\} 1/,
    );
    expect(scraped).toMatch(
      /otp_relay_delivery_attempts_total\{channel="email",provider="gmail",result="sent"\} 1/,
    );
    expect(scraped).toMatch(/otp_relay_delivery_latency_seconds_count\{channel="email",provider="gmail"\} 1/);
    expect((await fetch(workerMetrics.replace('/metrics', '/healthz'))).status).toBe(200);

    api.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    expect(await api.exited).toBe(0);
    expect(await worker.exited).toBe(0);
  });

  it.each([
    [
      'api',
      SERVICE_SCRIPTS.api,
      { OTP_DEBUG_RESPONSE: 'true' },
      /OTP_DEBUG_RESPONSE: must be false in production/,
    ],
    ['api', SERVICE_SCRIPTS.api, { OTP_PEPPER: 'too-short' }, /OTP_PEPPER: .*32 characters/],
    ['worker', SERVICE_SCRIPTS.worker, { EMAIL_PROVIDER: 'console' }, /EMAIL_PROVIDER: console/],
    ['worker', SERVICE_SCRIPTS.worker, { WHATSAPP_PROVIDER: 'console' }, /WHATSAPP_PROVIDER: console/],
  ])('in production the %s refuses to start with %o, naming it', async (_app, script, override, message) => {
    const env = {
      ...serviceEnv({
        databaseUrl: e2e.database.url,
        ...sharedRedis(e2e.services),
        google: e2e.google,
        port: 1,
      }),
      ...override,
    };
    const started = startProcess(script, env);
    expect(await started.exited).toBe(2);
    expect(started.stderr()).toMatch(message);
  });
});
