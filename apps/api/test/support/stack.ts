import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  type ApiConfig,
  createDeliveryQueue,
  createLogger,
  createRedisClient,
  DELIVERY_QUEUE,
  deriveKey,
  loadApiConfig,
  loadWorkerConfig,
  loggerOptions,
} from '@otp-relay/core';
import { createDatabase } from '@otp-relay/db';
import {
  createTestDatabase,
  type FakeGoogle,
  type SentEmail,
  startFakeGoogle,
  startFakeSmtp,
  startFakeTwilio,
  uniqueQueuePrefix,
} from '@otp-relay/testkit';
import { createSenders, createWorker, type DeliveryWorker } from '@otp-relay/worker';
import { Job, QueueEvents } from 'bullmq';
import { type DestinationStream, pino } from 'pino';
import { inject } from 'vitest';
import { type App, buildApp } from '../../src/app.js';
import { buildAdminApp } from '../../src/http/admin-app.js';

/**
 * The whole service for an integration test: the API (through `inject`), a real worker, real
 * Postgres (a database of the test file's own) and Redis (a queue prefix of its own), and the
 * fake Google behind the real Gmail client. The clock is the test's to move.
 */

const GOOGLE = { clientId: 'test-client', clientSecret: 'test-secret', refreshToken: 'test-refresh' };
const TWILIO = { accountSid: `AC${'0123456789abcdef'.repeat(2)}`, authToken: 'test-twilio-token' };
const SMTP = { user: 'relay', password: 'smtp-password' };
export const EMAIL_FROM = 'Test Shop <no-reply@shop.test>';
export const WHATSAPP_FROM = 'whatsapp:+14155238886';
export const SMS_FROM = '+15005550006';

export interface StackOptions {
  env?: Record<string, string>;
  /** Where API and worker log (at trace level); silent when unset. */
  logStream?: DestinationStream;
  /** Configure the fake SMTP server as the backup mail transport (SMTP_URL). */
  smtpBackup?: boolean;
}

export async function startStack(options: StackOptions = {}) {
  const services = inject('testServices');
  const database = await createTestDatabase(services);
  const [google, twilio, smtp] = await Promise.all([
    startFakeGoogle(GOOGLE),
    startFakeTwilio(TWILIO),
    startFakeSmtp(SMTP),
  ]);
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: database.url,
    REDIS_URL: services.redisUrl,
    QUEUE_PREFIX: uniqueQueuePrefix(),
    JWT_SECRET: randomBytes(32).toString('hex'),
    OTP_PEPPER: randomBytes(32).toString('hex'),
    OTP_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    // Cheaper hashing than production keeps the suite quick; the algorithm is the same.
    ARGON2_MEMORY_COST: '4096',
    ARGON2_TIME_COST: '1',
    // Every injected request comes from one address; tests of the limits set their own.
    RATE_LIMIT_IP_MAX: '100000',
    VERIFY_LIMIT_PER_IP: '100000',
    // Most tests send to a handful of domains; the budgets' own tests set them.
    SEND_BUDGET_EMAIL_HOURLY: '0',
    SEND_BUDGET_EMAIL_DAILY: '0',
    SEND_BUDGET_EMAIL_DOMAIN_HOURLY: '0',
    SEND_BUDGET_WHATSAPP_HOURLY: '0',
    SEND_BUDGET_WHATSAPP_DAILY: '0',
    SEND_BUDGET_SMS_HOURLY: '0',
    SEND_BUDGET_SMS_DAILY: '0',
    DELIVERY_BACKOFF_BASE_MS: '10',
    EMAIL_PROVIDER: 'gmail',
    EMAIL_CLIENT_ID: GOOGLE.clientId,
    EMAIL_CLIENT_SECRET: GOOGLE.clientSecret,
    EMAIL_REFRESH_TOKEN: GOOGLE.refreshToken,
    EMAIL_FROM,
    GMAIL_API_ROOT_URL: google.rootUrl,
    GOOGLE_OAUTH_TOKEN_URL: google.tokenUrl,
    WHATSAPP_PROVIDER: 'twilio',
    TWILIO_ACCOUNT_SID: TWILIO.accountSid,
    TWILIO_AUTH_TOKEN: TWILIO.authToken,
    TWILIO_WHATSAPP_FROM: WHATSAPP_FROM,
    SMS_PROVIDER: 'twilio',
    TWILIO_SMS_FROM: SMS_FROM,
    TWILIO_API_BASE_URL: twilio.baseUrl,
    ...(options.smtpBackup ? { SMTP_URL: smtp.url } : {}),
    PROVIDER_TIMEOUT_MS: '5000',
    DELIVERY_BACKOFF_MAX_MS: '1000',
    // Tests run the relay when they mean to (relayOnce), not on a timer.
    OUTBOX_RELAY_INTERVAL_MS: '3600000',
    OUTBOX_RELAY_GRACE_MS: '0',
    ...options.env,
  };
  const apiConfig = loadApiConfig(env);
  const workerConfig = loadWorkerConfig(env);
  const logger = options.logStream
    ? pino(loggerOptions('trace', 'test'), options.logStream)
    : createLogger('silent', 'test');

  let clockOffsetMs = 0;
  const now = () => new Date(Date.now() + clockOffsetMs);

  const db = createDatabase(database.url);
  const apiRedis = createRedisClient(services.redisUrl, 'api');
  await once(apiRedis, 'ready');
  const deliveryQueue = createDeliveryQueue(apiRedis, apiConfig.QUEUE_PREFIX);
  const app = await buildApp({
    config: apiConfig,
    database: db,
    redis: apiRedis,
    deliveryQueue,
    logger,
    now,
  });
  // The operators' listener: Bull Board, /metrics, /docs (through `inject` too).
  const admin = await buildAdminApp(app);

  const queueEvents = new QueueEvents(DELIVERY_QUEUE, {
    connection: { url: services.redisUrl },
    prefix: apiConfig.QUEUE_PREFIX,
  });
  await queueEvents.waitUntilReady();

  const workerRedis = createRedisClient(services.redisUrl, 'worker');
  let worker: DeliveryWorker | undefined;

  const stack = {
    app,
    admin,
    google,
    twilio,
    smtp,
    twilioCredentials: TWILIO,
    /** The environment the services were configured from, for processes a test starts. */
    env,
    /** The tests' plain Redis server, for clients a test makes itself. */
    redisUrl: services.redisUrl,
    workerConfig,
    db,
    config: apiConfig,
    now,
    advanceClock(seconds: number) {
      clockOffsetMs += seconds * 1000;
    },
    startWorker() {
      worker ??= createWorker({
        config: workerConfig,
        db: db.db,
        connection: workerRedis,
        payloadKey: deriveKey(workerConfig.OTP_ENCRYPTION_KEY, 'payload-encryption'),
        senders: createSenders(workerConfig, logger),
        logger,
        now,
      });
      return worker;
    },
    /**
     * Another API instance beside the stack's: same Postgres, Redis and queue prefix unless told
     * otherwise (a dependency that is down, a config of its own).
     */
    async anotherApi(
      overrides: { config?: Partial<ApiConfig>; databaseUrl?: string; redisUrl?: string } = {},
    ) {
      const config = { ...apiConfig, ...overrides.config };
      const otherDb = overrides.databaseUrl
        ? createDatabase(overrides.databaseUrl, { schema: config.DATABASE_SCHEMA })
        : db;
      const redis = createRedisClient(overrides.redisUrl ?? services.redisUrl, 'api');
      redis.on('error', () => {});
      if (!overrides.redisUrl) await once(redis, 'ready');
      const queue = createDeliveryQueue(redis, config.QUEUE_PREFIX);
      queue.on('error', () => {});
      const other = await buildApp({ config, database: otherDb, redis, deliveryQueue: queue, logger });
      const otherAdmin = await buildAdminApp(other);
      return {
        app: other,
        admin: otherAdmin,
        async close() {
          await otherAdmin.close();
          await other.close();
          await queue.close();
          redis.disconnect();
          if (otherDb !== db) await otherDb.close();
        },
      };
    },
    /** Resolves when the delivery's job has finished for good: done, or failed with no attempt left. */
    async settled(deliveryId: string) {
      const job = await Job.fromId(deliveryQueue, deliveryId);
      if (!job) throw new Error(`no job for delivery ${deliveryId}`);
      await job.waitUntilFinished(queueEvents).catch(() => undefined);
    },
    async stopWorker() {
      await worker?.close();
      worker = undefined;
    },
    async close() {
      await stack.stopWorker();
      await admin.close();
      await app.close();
      await deliveryQueue.close();
      await queueEvents.close();
      apiRedis.disconnect();
      workerRedis.disconnect();
      await db.close();
      await Promise.all([google.close(), twilio.close(), smtp.close()]);
      await database.drop();
    },
  };
  return stack;
}

export type Stack = Awaited<ReturnType<typeof startStack>>;

export const shopper = (overrides: Record<string, unknown> = {}) => ({
  email: `shopper-${randomBytes(4).toString('hex')}@example.com`,
  otp_method: 'email',
  username: `shopper_${randomBytes(4).toString('hex')}`,
  first_name: 'Ann',
  last_name: 'Lee',
  password: 'correct horse battery staple',
  ...overrides,
});

export function post(app: App, path: string, payload: unknown) {
  return app.inject({
    method: 'POST',
    url: `/api/accounts/${path}`,
    payload: payload as Record<string, unknown>,
  });
}

/** The code in a verification email's text part (from Gmail or an SMTP server). */
export function codeIn(email: Pick<SentEmail, 'text'> | undefined): string {
  const match = /code is: (\d+)/.exec(email?.text ?? '');
  if (!match?.[1]) throw new Error(`No code in email: ${email?.text}`);
  return match[1];
}

/** Opens a registration flow for a shopper: its id, and the code that the email brought. */
export async function openFlow(
  stack: Stack,
  body: ReturnType<typeof shopper>,
  google: FakeGoogle = stack.google,
): Promise<{ code: string; verificationId: string }> {
  const before = google.sent.filter((email) => email.to.includes(body.email)).length;
  const response = await post(stack.app, 'request-otp/', body);
  if (response.statusCode !== 200)
    throw new Error(`request-otp answered ${response.statusCode}: ${response.body}`);
  const emails = await google.waitForEmails(before + 1, { to: body.email });
  const latest = emails.at(-1);
  if (!latest) throw new Error('no email arrived');
  return { code: codeIn(latest), verificationId: response.json().verification_id };
}

/** Registers a shopper and returns the code that the email brought. */
export async function requestCode(stack: Stack, body: ReturnType<typeof shopper>, google?: FakeGoogle) {
  return (await openFlow(stack, body, google)).code;
}
