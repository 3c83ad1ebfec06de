import { createDatabase, deliveries } from '@otp-relay/db';
import { describe, expect, it } from 'vitest';
import {
  apiClient,
  freePort,
  ready,
  registration,
  SERVICE_SCRIPTS,
  serviceEnv,
  sharedRedis,
  startProcess,
  useE2eContext,
} from './support/processes.js';

/**
 * The send budget is the deployment's, not an instance's: two API processes on one Redis count
 * together, and past the cap neither accepts a send, so nothing more reaches the provider.
 */

const e2e = useE2eContext();

describe('the deployment-wide send budget', () => {
  it('two API processes together stop at the cap with 503 SEND_BUDGET_EXHAUSTED; only the budget is sent', async () => {
    const [firstPort, secondPort] = await Promise.all([freePort(), freePort()]);
    const env = serviceEnv({
      databaseUrl: e2e.database.url,
      ...sharedRedis(e2e.services),
      google: e2e.google,
      port: firstPort,
      extra: {
        SEND_BUDGET_EMAIL_HOURLY: '3',
        SEND_BUDGET_EMAIL_DAILY: '0',
        SEND_BUDGET_EMAIL_DOMAIN_HOURLY: '0',
        ADMIN_PORT: '0',
      },
    });
    const apis = [
      startProcess(SERVICE_SCRIPTS.api, env),
      startProcess(SERVICE_SCRIPTS.api, { ...env, PORT: String(secondPort) }),
    ];
    const worker = startProcess(SERVICE_SCRIPTS.worker, env);
    await Promise.all([...apis.map(ready.api), ready.worker(worker)]);
    const [first, second] = [apiClient(firstPort), apiClient(secondPort)];

    const emails = Array.from({ length: 6 }, (_, index) => `budget-${index}-${firstPort}@example.com`);
    const answers = [];
    // Alternating between the two processes: the count is shared.
    for (const [index, email] of emails.entries()) {
      answers.push(await (index % 2 === 0 ? first : second)('request-otp/', registration(email)));
    }
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 503, 503, 503]);
    for (const refused of answers.slice(3))
      expect(refused.body).toMatchObject({ code: 'SEND_BUDGET_EXHAUSTED' });
    const retryAfter = await fetch(`http://127.0.0.1:${secondPort}/api/accounts/request-otp/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(registration(`budget-late-${firstPort}@example.com`)),
    });
    expect(retryAfter.status).toBe(503);
    expect(Number(retryAfter.headers.get('retry-after'))).toBeGreaterThan(0);
    // A resend is a send too.
    const resend = await first('resend-otp/', {
      email: emails[0],
      otp_method: 'email',
      verification_id: answers[0]?.body.verification_id,
    });
    expect(resend.status).toBe(503);

    await e2e.google.waitForEmails(3, { timeoutMs: 30_000 });
    // Nothing was written for a refused send, so the worker has nothing more to send.
    const db = createDatabase(e2e.database.url, { maxConnections: 1 });
    try {
      expect(await db.db.$count(deliveries)).toBe(3);
    } finally {
      await db.close();
    }
    expect(e2e.google.sent.flatMap((sent) => sent.to).sort()).toEqual(emails.slice(0, 3).sort());
  });
});
