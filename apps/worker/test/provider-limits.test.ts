import { once } from 'node:events';
import { createLogger, createRedisClient, loadWorkerConfig, loggerOptions } from '@otp-relay/core';
import type { Delivery, RegistrationFlow } from '@otp-relay/db';
import { type FakeGoogle, startFakeGoogle, uniqueQueuePrefix } from '@otp-relay/testkit';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { DeliveryError, type MessageSender, type OutgoingMessage } from '../src/delivery/message-sender.js';
import {
  createDryProviders,
  DAILY_QUOTA_RESET_MS,
  type DryProviders,
  dryPeriodOf,
  ProviderLimitError,
} from '../src/delivery/provider-exhaustion.js';
import { jobBackoffDelay, retryComesTooLate } from '../src/delivery/retry-policy.js';
import { sendOnce } from '../src/delivery/send-attempt.js';
import { backupOf, createSenders, sendersOf } from '../src/delivery/senders.js';
import { classifyGmailError, createGmailSender } from '../src/email/gmail-sender.js';
import { classifySmtpError } from '../src/email/smtp-sender.js';
import { createWorkerMetrics } from '../src/metrics.js';

const credentials = { clientId: 'client', clientSecret: 'secret', refreshToken: 'refresh' };
const message = { kind: 'otp', to: 'ann@example.com', code: '123456', validForMinutes: 10 } as const;
const DAILY = { status: 403, reason: 'dailyLimitExceeded', message: 'Daily user sending limit exceeded.' };

let google: FakeGoogle;
let gmail: MessageSender;

beforeAll(async () => {
  google = await startFakeGoogle(credentials);
  gmail = createGmailSender({
    ...credentials,
    from: 'Shop <no-reply@shop.test>',
    apiRootUrl: google.rootUrl,
    tokenUrl: google.tokenUrl,
    timeoutMs: 2000,
  });
});
afterEach(() => google.reset());
afterAll(() => google.close());

async function gmailFailure(): Promise<DeliveryError> {
  const error = await gmail.send(message).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof DeliveryError)) throw new Error(`expected a DeliveryError, got ${String(error)}`);
  return error;
}

/** A gaxios error as the Gmail client throws it, with Google's envelope. */
function gaxiosError(status: number, reason: string, text: string, headers: Record<string, string> = {}) {
  return {
    status,
    message: text,
    response: {
      status,
      headers,
      data: {
        error: { code: status, message: text, errors: [{ message: text, domain: 'usageLimits', reason }] },
      },
    },
  };
}

describe('fake Google: Gmail usage-limit answers', () => {
  it("answers a test's own reason and message in Gmail's error envelope", async () => {
    google.failSends(1, { kind: 'status', ...DAILY });
    const response = await fetch(`${google.rootUrl}gmail/v1/users/me/messages/send`, {
      method: 'POST',
      body: '{}',
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({
      error: {
        code: 403,
        message: 'Daily user sending limit exceeded.',
        errors: [
          {
            message: 'Daily user sending limit exceeded.',
            domain: 'usageLimits',
            reason: 'dailyLimitExceeded',
          },
        ],
        status: 'PERMISSION_DENIED',
      },
    });
  });
});

describe("Gmail's limits", () => {
  it('reads the daily sending limit as Gmail run dry for a day (403 or 429)', async () => {
    for (const status of [403, 429]) {
      google.failSends(1, { kind: 'status', ...DAILY, status });
      const error = await gmailFailure();
      expect(error).toBeInstanceOf(ProviderLimitError);
      expect(error).toMatchObject({ limit: 'daily', retryable: true, retryAfterMs: DAILY_QUOTA_RESET_MS });
      expect(error.message).toMatch(/^gmail: daily sending limit reached \(HTTP \d+\): Daily user sending/);
    }
  });

  it('takes the reset from Retry-After when Gmail gives one', async () => {
    google.failSends(1, { kind: 'status', ...DAILY, retryAfterSeconds: 7200 });
    expect(await gmailFailure()).toMatchObject({ limit: 'daily', retryAfterMs: 7_200_000 });
  });

  it('reads the send pipeline\'s "(Mail sending)" 429 as the daily limit, with the time in its text', () => {
    const now = Date.parse('2025-03-01T10:00:00.000Z');
    const text = 'User-rate limit exceeded.  Retry after 2025-03-01T13:00:00.000Z (Mail sending)';
    expect(classifyGmailError(gaxiosError(429, 'rateLimitExceeded', text), now)).toMatchObject({
      limit: 'daily',
      retryAfterMs: 3 * 3600 * 1000,
    });
  });

  it('reads a 429 and the rate-limit 403s as rate limits, retryable after their Retry-After', async () => {
    google.failSends(1, { kind: 'status', status: 429, retryAfterSeconds: 3 });
    expect(await gmailFailure()).toMatchObject({ limit: 'rate', retryable: true, retryAfterMs: 3000 });
    for (const reason of ['rateLimitExceeded', 'userRateLimitExceeded']) {
      const error = classifyGmailError(gaxiosError(403, reason, 'User Rate Limit Exceeded'));
      expect(error).toMatchObject({ limit: 'rate', retryable: true, retryAfterMs: undefined });
    }
  });

  it('leaves other failures as they were: 503 transient, 403 accessNotConfigured permanent', async () => {
    google.failSends(1, { kind: 'status', status: 503 });
    const unavailable = await gmailFailure();
    expect(unavailable).not.toBeInstanceOf(ProviderLimitError);
    expect(unavailable.retryable).toBe(true);
    google.failSends(1, { kind: 'status', status: 403 });
    expect((await gmailFailure()).retryable).toBe(false);
  });
});

describe("SMTP's daily limit", () => {
  it('reads "Daily user sending limit exceeded" as the server run dry; other replies by their code', () => {
    const daily = classifySmtpError({
      responseCode: 550,
      message: 'Message failed: 550 5.4.5 Daily user sending limit exceeded.',
    });
    expect(daily).toMatchObject({ limit: 'daily', retryable: true, retryAfterMs: DAILY_QUOTA_RESET_MS });
    expect(classifySmtpError({ responseCode: 550, message: 'mailbox unavailable' })).toMatchObject({
      retryable: false,
    });
    expect(classifySmtpError({ responseCode: 451, message: 'local error' })).toMatchObject({
      retryable: true,
    });
  });
});

describe('dryPeriodOf', () => {
  const now = new Date('2025-03-01T10:00:00.000Z');
  const expiresAt = now.getTime() + 600_000;
  const tooLate = (retryAt: number) => retryAt >= expiresAt;

  it('is the reset of a daily limit, whatever the code', () => {
    expect(dryPeriodOf(new ProviderLimitError('x', 'daily', undefined), () => false, now)).toBe(
      DAILY_QUOTA_RESET_MS,
    );
  });

  it("is a rate limit's Retry-After only when it outlasts the code", () => {
    expect(dryPeriodOf(new ProviderLimitError('x', 'rate', 3_600_000), tooLate, now)).toBe(3_600_000);
    expect(dryPeriodOf(new ProviderLimitError('x', 'rate', 60_000), tooLate, now)).toBeUndefined();
    expect(dryPeriodOf(new ProviderLimitError('x', 'rate', undefined), tooLate, now)).toBeUndefined();
  });

  it('is nothing for any other failure, Retry-After or not', () => {
    const unavailable = new DeliveryError('x', { retryable: true, retryAfterMs: 3_600_000 });
    expect(dryPeriodOf(unavailable, tooLate, now)).toBeUndefined();
  });
});

describe('the look-ahead at a retry', () => {
  const settings = { baseMs: 2000, maxMs: 300_000 };

  it("is the same delay BullMQ's backoff takes for that job and attempt, within the jitter's bounds", () => {
    for (let attempt = 1; attempt <= 6; attempt += 1) {
      const delay = jobBackoffDelay('delivery-1', attempt, undefined, settings);
      expect(jobBackoffDelay('delivery-1', attempt, undefined, settings)).toBe(delay);
      const exponential = Math.min(settings.maxMs, settings.baseMs * 2 ** (attempt - 1));
      expect(delay).toBeGreaterThanOrEqual(Math.round(exponential / 2));
      expect(delay).toBeLessThanOrEqual(exponential);
    }
    const spread = new Set(
      ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => jobBackoffDelay(id, 3, undefined, settings)),
    );
    expect(spread.size).toBeGreaterThan(1);
  });

  it("waits at least the provider's Retry-After", () => {
    const failure = new DeliveryError('x', { retryable: true, retryAfterMs: 900_000 });
    expect(jobBackoffDelay('delivery-1', 1, failure, settings)).toBe(900_000);
  });

  it('comes too late once the code has expired by then; never for a notice', () => {
    const expiresAt = new Date('2025-03-01T10:10:00.000Z');
    const flow = { verifiedAt: null, closedAt: null, expiresAt, codeSequence: 1 } as RegistrationFlow;
    const otp = { kind: 'otp', codeSequence: 1 } as Pick<Delivery, 'kind' | 'codeSequence'>;
    expect(retryComesTooLate(otp, flow, expiresAt.getTime() - 1)).toBe(false);
    expect(retryComesTooLate(otp, flow, expiresAt.getTime())).toBe(true);
    const notice = { kind: 'registration-notice', codeSequence: null } as Pick<
      Delivery,
      'kind' | 'codeSequence'
    >;
    expect(retryComesTooLate(notice, undefined, expiresAt.getTime() + 1)).toBe(false);
  });
});

describe('providers run dry, in Redis', () => {
  let redis: Redis;
  beforeAll(async () => {
    redis = createRedisClient(inject('testServices').redisUrl, 'api');
    await once(redis, 'ready');
  });
  afterAll(() => redis.disconnect());

  it('is shared through one key under the queue prefix, marked (logged, counted) once until it resets', async () => {
    const prefix = uniqueQueuePrefix();
    const warnings: string[] = [];
    const logger = pino(loggerOptions('warn', 'test'), {
      write: (line: string) => warnings.push((JSON.parse(line) as { msg: string }).msg),
    });
    const metrics = createWorkerMetrics();
    const one = createDryProviders({ redis, prefix, logger, events: metrics.events });
    const another = createDryProviders({ redis, prefix, logger, events: metrics.events });

    expect(await another.isDry('gmail')).toBe(false);
    await one.markDry('gmail', 3_600_000, 'gmail: daily sending limit reached');
    await another.markDry('gmail', 7_200_000, 'gmail: daily sending limit reached');
    expect(await another.isDry('gmail')).toBe(true);
    expect(await another.isDry('smtp')).toBe(false);
    // The first marking stands: its reset, one warning, one count.
    const ttl = await redis.pttl(`${prefix}:provider-exhausted:gmail`);
    expect(ttl).toBeGreaterThan(3_000_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
    expect(warnings).toEqual([expect.stringMatching(/^provider has run dry/)]);
    expect(await metrics.registry.metrics()).toMatch(
      /otp_relay_provider_exhausted_total\{provider="gmail"\} 1\n/,
    );

    await redis.del(`${prefix}:provider-exhausted:gmail`);
    expect(await one.isDry('gmail')).toBe(false);
  });
});

function fakeSender(provider: string, sent: string[]): MessageSender {
  return {
    channel: 'email',
    provider,
    async send(outgoing: OutgoingMessage) {
      sent.push(`${provider}:${outgoing.to}`);
      return { provider, providerMessageId: `${provider}-1` };
    },
  };
}

const dryOnly = (provider: string): DryProviders => ({
  isDry: async (name) => name === provider,
  markDry: async () => {},
});

describe('email senders and their backups', () => {
  const base = {
    NODE_ENV: 'test',
    DATABASE_URL: 'postgres://u:p@localhost:5432/db',
    REDIS_URL: 'redis://localhost:6379',
    OTP_ENCRYPTION_KEY: 'e'.repeat(32),
  };
  const gmailEnv = {
    ...base,
    EMAIL_CLIENT_ID: 'id',
    EMAIL_CLIENT_SECRET: 's',
    EMAIL_REFRESH_TOKEN: 'r',
    EMAIL_FROM: 'Shop <no-reply@shop.test>',
  };
  const logger = createLogger('silent', 'test');

  it('backs Gmail with SMTP_URL (`smtp`), and an SMTP primary with SMTP_BACKUP_URL (`smtp-backup`)', () => {
    const onGmail = createSenders(loadWorkerConfig(gmailEnv), logger);
    expect(onGmail.primary.email?.provider).toBe('gmail');
    expect(backupOf(onGmail, 'email', 'gmail')).toBeUndefined();

    const gmailAndSmtp = createSenders(
      loadWorkerConfig({ ...gmailEnv, SMTP_URL: 'smtp://127.0.0.1:2525' }),
      logger,
    );
    expect(backupOf(gmailAndSmtp, 'email', 'gmail')?.provider).toBe('smtp');
    expect(backupOf(gmailAndSmtp, 'email', 'smtp')).toBeUndefined();

    const onSmtp = createSenders(
      loadWorkerConfig({
        ...base,
        EMAIL_PROVIDER: 'smtp',
        SMTP_URL: 'smtp://127.0.0.1:2525',
        SMTP_BACKUP_URL: 'smtp://127.0.0.1:2526',
      }),
      logger,
    );
    expect(onSmtp.primary.email?.provider).toBe('smtp');
    expect(backupOf(onSmtp, 'email', 'smtp')?.provider).toBe('smtp-backup');
    expect(onSmtp.byProvider['smtp-backup']?.channel).toBe('email');

    const onConsole = createSenders(loadWorkerConfig({ ...base, EMAIL_PROVIDER: 'console' }), logger);
    expect(onConsole.backups).toEqual({});
  });

  it('sends by the backup at once while the primary has run dry, and names the backup', async () => {
    const sent: string[] = [];
    const senders = sendersOf({ email: fakeSender('gmail', sent) }, [fakeSender('smtp', sent)]);
    const delivery = { channel: 'email', provider: null } as Delivery;
    const now = () => new Date();

    const dry = await sendOnce(senders, delivery, message, now, dryOnly('gmail'));
    expect(dry).toMatchObject({ accepted: { provider: 'smtp' } });
    const wet = await sendOnce(senders, delivery, message, now, dryOnly('nobody'));
    expect(wet).toMatchObject({ accepted: { provider: 'gmail' } });
    expect(sent).toEqual(['smtp:ann@example.com', 'gmail:ann@example.com']);
  });

  it('tries a dry primary that has no backup: there is nowhere else to go', async () => {
    const sent: string[] = [];
    const senders = sendersOf({ email: fakeSender('gmail', sent) });
    const delivery = { channel: 'email', provider: null } as Delivery;
    await sendOnce(senders, delivery, message, () => new Date(), dryOnly('gmail'));
    expect(sent).toEqual(['gmail:ann@example.com']);
  });
});
