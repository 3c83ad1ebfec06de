import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { ApiConfig } from '@otp-relay/core';
import { registrationFlows } from '@otp-relay/db';
import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { post, type Stack, shopper, startStack } from './support/stack.js';

/**
 * The deployment's send budgets: per channel and per receiving domain, whoever asks. At a cap,
 * request-otp and resend-otp answer 503 SEND_BUDGET_EXHAUSTED with Retry-After and write nothing.
 * (e2e/send-budget.test.ts shows the same across two API processes and the worker.)
 */

const logs = new PassThrough();
const logLines: string[] = [];
logs.on('data', (chunk: Buffer) => logLines.push(...chunk.toString().split('\n').filter(Boolean)));

let stack: Stack;
const opened: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  stack = await startStack({ logStream: logs, env: { OTP_RESEND_COOLDOWN_SECONDS: '0' } });
});
afterAll(async () => {
  await Promise.all(opened.map((app) => app.close()));
  await stack.close();
});

/** An API instance whose budgets count in a namespace of their own. */
async function apiWithBudgets(budgets: Partial<ApiConfig>): Promise<App> {
  const other = await stack.anotherApi({
    config: { QUEUE_PREFIX: `${stack.config.QUEUE_PREFIX}-${randomUUID()}`, ...budgets },
  });
  opened.push(other);
  return other.app;
}

function expectBudgetExhausted(response: {
  statusCode: number;
  headers: Record<string, unknown>;
  json(): unknown;
}) {
  expect(response.statusCode).toBe(503);
  expect(response.json()).toMatchObject({ success: false, code: 'SEND_BUDGET_EXHAUSTED' });
  const retryAfter = Number(response.headers['retry-after']);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(3600);
}

async function flowsFor(emails: string[]) {
  return stack.db.db.select().from(registrationFlows).where(inArray(registrationFlows.email, emails));
}

describe('the hourly email budget', () => {
  it('refuses sends past the cap, request and resend alike, with nothing written', async () => {
    const app = await apiWithBudgets({ SEND_BUDGET_EMAIL_HOURLY: 3 });
    const shoppers = [shopper(), shopper(), shopper(), shopper()];
    const answers = [];
    for (const body of shoppers) answers.push(await post(app, 'request-otp/', body));
    expect(answers.slice(0, 3).map((answer) => answer.statusCode)).toEqual([200, 200, 200]);
    expectBudgetExhausted(answers[3] as (typeof answers)[number]);

    const first = shoppers[0] as ReturnType<typeof shopper>;
    const resend = await post(app, 'resend-otp/', {
      email: first.email,
      otp_method: 'email',
      verification_id: answers[0]?.json().verification_id,
    });
    expectBudgetExhausted(resend);
    // The refused request opened no flow; the accepted ones kept their first code.
    const flows = await flowsFor(shoppers.map((body) => body.email));
    expect(flows).toHaveLength(3);
    expect(flows.every((flow) => flow.codeSequence === 1)).toBe(true);
  });

  it('logs a warning once the warning share is used, and the refusal as an error', async () => {
    const app = await apiWithBudgets({ SEND_BUDGET_EMAIL_HOURLY: 5, SEND_BUDGET_WARN_PERCENT: 60 });
    const statuses: number[] = [];
    for (let send = 0; send < 6; send += 1)
      statuses.push((await post(app, 'request-otp/', shopper())).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 503]);
    const warnings = logLines.filter((line) => line.includes('send budget 60% used'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0] as string)).toMatchObject({
      channel: 'email',
      budget: 'hourly',
      used: 3,
      cap: 5,
    });
    expect(logLines.some((line) => line.includes('send budget exhausted') && line.includes('"cap":5'))).toBe(
      true,
    );
  });

  it('gives the other limits back when a budget refuses, so the shopper can try again later', async () => {
    const namespace = {
      QUEUE_PREFIX: `${stack.config.QUEUE_PREFIX}-${randomUUID()}`,
      SEND_LIMIT_PER_DESTINATION: 1,
    };
    const tight = await apiWithBudgets({ ...namespace, SEND_BUDGET_EMAIL_HOURLY: 1 });
    expect((await post(tight, 'request-otp/', shopper())).statusCode).toBe(200);
    const body = shopper();
    for (let attempt = 0; attempt < 3; attempt += 1)
      expectBudgetExhausted(await post(tight, 'request-otp/', body));
    // The same counts under a larger budget: the refused sends took nothing from the address's own limit of 1.
    const roomier = await apiWithBudgets({ ...namespace, SEND_BUDGET_EMAIL_HOURLY: 100 });
    expect((await post(roomier, 'request-otp/', body)).statusCode).toBe(200);
  });
});

describe('the receiving-domain budget', () => {
  it('caps sends to one email domain per hour, other domains unaffected', async () => {
    const app = await apiWithBudgets({ SEND_BUDGET_EMAIL_DOMAIN_HOURLY: 2 });
    const at = (domain: string) => shopper({ email: `s-${randomUUID().slice(0, 8)}@${domain}` });
    expect((await post(app, 'request-otp/', at('mail.example'))).statusCode).toBe(200);
    // Case does not make another domain.
    expect((await post(app, 'request-otp/', at('MAIL.Example'))).statusCode).toBe(200);
    expectBudgetExhausted(await post(app, 'request-otp/', at('mail.example')));
    expect((await post(app, 'request-otp/', at('other.example'))).statusCode).toBe(200);
  });
});

describe('the WhatsApp budget', () => {
  it('caps WhatsApp sends across all countries, leaving email alone', async () => {
    const app = await apiWithBudgets({ SEND_BUDGET_WHATSAPP_HOURLY: 1, SEND_BUDGET_EMAIL_HOURLY: 10 });
    const whatsapp = (mobile: string) => shopper({ otp_method: 'whatsapp', mobile });
    expect((await post(app, 'request-otp/', whatsapp('+1 415 555 0121'))).statusCode).toBe(200);
    expectBudgetExhausted(await post(app, 'request-otp/', whatsapp('+49 1512 3456789')));
    expect((await post(app, 'request-otp/', shopper())).statusCode).toBe(200);
  });
});
