import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import fastifyCors from '@fastify/cors';
import fastifyHelmet from '@fastify/helmet';
import fastifySwagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  type ApiConfig,
  createDeadLetterQueue,
  createLogger,
  createWebhookQueue,
  type DeliveryQueue,
  demoPageEnabled,
  deriveKey,
  fastifyTrustProxy,
  type Logger,
  queuePrefix,
  type RedisClient,
  trustProxySetting,
} from '@otp-relay/core';
import type { DatabaseHandle } from '@otp-relay/db';
import ajvErrors from 'ajv-errors';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify';
import { createAccessTokens } from './auth/access-tokens.js';
import { signingKeysFromConfig } from './auth/signing-keys.js';
import { createReceiptService } from './delivery-receipts/receipt-service.js';
import { OPERATOR_SOURCES, type OperatorSources } from './http/admin-app.js';
import { corsOrigins } from './http/cors-origins.js';
import { frameworkError, registerErrorContract } from './http/error-contract.js';
import { createApiMetrics } from './http/metrics.js';
import { openApiOptions } from './http/openapi.js';
import { createQueueConsumerCheck } from './http/queue-consumer-check.js';
import { requestTracing } from './http/request-tracing.js';
import { createHumanCheck, type HumanCheck } from './registration/human-check.js';
import { createPasswordHasher } from './registration/password-hashing.js';
import { createRegistrationService } from './registration/registration-service.js';
import { createSendLimits } from './registration/send-limits.js';
import { accountsRoutes } from './routes/accounts/accounts-routes.js';
import { verificationRoutes } from './routes/accounts/verification-routes.js';
import { loadDemoAssets } from './routes/demo/demo-assets.js';
import { demoRoutes } from './routes/demo/demo-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { twilioReceiptRoutes } from './routes/webhooks/twilio-receipt-routes.js';
import { jwksRoutes } from './routes/well-known/jwks-routes.js';

export interface AppDeps {
  config: ApiConfig;
  database: DatabaseHandle;
  /** Shared by the queues, the rate limits and readiness: made with the 'api' profile (fails fast). */
  redis: RedisClient;
  deliveryQueue: DeliveryQueue;
  /** A pino logger to use; by default one is made from LOG_LEVEL. */
  logger?: Logger;
  /** The clock codes expire by; tests move it instead of waiting. */
  now?: () => Date;
  /** The CAPTCHA check; by default the one CAPTCHA_PROVIDER configures (none when unset). */
  humanCheck?: HumanCheck;
}

export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** `TRUST_PROXY` as Fastify takes it; core says what it may be (loadApiConfig has checked it). */
function trustProxy(value: string) {
  return fastifyTrustProxy(trustProxySetting(value));
}

/**
 * Builds the public (shop-facing) HTTP app without listening: `main.ts` listens, tests use
 * `app.inject`. The operators' app is built from it by `buildAdminApp` (http/admin-app.ts).
 */
export async function buildApp(deps: AppDeps): Promise<App> {
  const { config } = deps;
  const logger = deps.logger ?? createLogger(config.LOG_LEVEL, 'api');
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Path parameters up to 256 characters reach their route, whose schema answers for them
    // (a verification_id is at most 128); the router's own refusals keep the error contract.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
    frameworkErrors: frameworkError,
    trustProxy: trustProxy(config.TRUST_PROXY),
    bodyLimit: 16 * 1024,
    // Every log line of a request carries its id; a caller's X-Request-Id is kept for tracing.
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    ajv: {
      // Strict bodies: no silent coercion or dropping of fields the client should not send.
      // `x-examples`: the request examples of the OpenAPI document (http/openapi.ts), not a rule.
      customOptions: {
        removeAdditional: false,
        coerceTypes: false,
        allErrors: true,
        keywords: ['x-examples'],
      },
      // Each field's message for people (`errorMessage` in its schema) instead of ajv's own.
      // (`.default`: ajv-errors is CommonJS with a default export; at run time both are the plugin.)
      plugins: [(ajv) => ajvErrors.default(ajv)],
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // JSON only: the default text/plain parser would let non-JSON bodies reach validation.
  app.removeContentTypeParser('text/plain');
  registerErrorContract(app);
  // First, so every route registered after it runs inside its request's span.
  await app.register(requestTracing);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  const deadLetterQueue = createDeadLetterQueue(deps.redis, queuePrefix(config));
  deadLetterQueue.on('error', (error) => logger.warn({ error: error.message }, 'dead-letter queue error'));
  app.addHook('onClose', () => deadLetterQueue.close());
  // Events for the shop's backend, recorded only when it has a WEBHOOK_URL; the worker sends them.
  const webhookQueue = config.WEBHOOK_URL ? createWebhookQueue(deps.redis, queuePrefix(config)) : undefined;
  webhookQueue?.on('error', (error) => logger.warn({ error: error.message }, 'webhook queue error'));
  if (webhookQueue) app.addHook('onClose', () => webhookQueue.close());
  const passwordHasher = createPasswordHasher(
    {
      memoryCost: config.ARGON2_MEMORY_COST,
      timeCost: config.ARGON2_TIME_COST,
      parallelism: config.ARGON2_PARALLELISM,
    },
    {
      threads: config.PASSWORD_HASH_THREADS || undefined,
      queueLimit: config.PASSWORD_HASH_QUEUE_LIMIT || undefined,
    },
  );
  app.addHook('onClose', () => passwordHasher.close());
  const metrics = createApiMetrics({ deliveryQueue: deps.deliveryQueue, deadLetterQueue, passwordHasher });
  await app.register(metrics.plugin);

  await app.register(fastifySwagger, openApiOptions());

  const allowedOrigins = corsOrigins(config);
  await app.register(fastifyCors, {
    origin: allowedOrigins.length > 0 ? allowedOrigins : false,
    // A shop's page on another origin may read these (browsers hide other headers from it):
    // how long to wait after a 429 or 503, and the id its logs carry.
    exposedHeaders: ['retry-after', 'x-request-id'],
  });
  const signingKeys = signingKeysFromConfig(config);
  const accessTokens = await createAccessTokens({
    keys: signingKeys.keys,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    expiresInSeconds: config.JWT_EXPIRES_IN_SECONDS,
    ...(deps.now ? { now: deps.now } : {}),
  });
  logger.info(
    { kid: signingKeys.keys[0].kid, verifying: signingKeys.keys.length, derived: signingKeys.derived },
    signingKeys.derived
      ? 'access tokens: ES256 key derived from JWT_SECRET (set JWT_SIGNING_KEYS to be able to rotate it)'
      : 'access tokens: ES256 keys from the configured set',
  );

  const sendLimits = createSendLimits({
    redis: deps.redis,
    config,
    logger,
    budgetEvents: metrics.budgetEvents,
  });
  const registration = createRegistrationService({
    db: deps.database.db,
    deliveryQueue: deps.deliveryQueue,
    config,
    keys: {
      otpHmac: deriveKey(config.OTP_PEPPER, 'otp-hmac'),
      payloadEncryption: deriveKey(config.OTP_ENCRYPTION_KEY, 'payload-encryption'),
    },
    sendLimits,
    passwordHasher,
    humanCheck: deps.humanCheck ?? createHumanCheck(config, logger),
    events: metrics.events,
    ...(webhookQueue ? { webhookQueue } : {}),
    logger,
    ...(deps.now ? { now: deps.now } : {}),
  });

  // The API proper, with helmet's headers.
  await app.register(async (api) => {
    await api.register(fastifyHelmet);
    // A worker that exited leaves the API accepting codes nobody sends: readiness says so, by
    // failing (the default) or, where workers scale to zero on queue length, as `degraded`.
    const workerCheck = { worker: createQueueConsumerCheck(deps.deliveryQueue) };
    const coreChecks = { postgres: () => deps.database.ping(), redis: () => deps.redis.ping() };
    await api.register(healthRoutes, {
      readinessChecks: config.READINESS_REQUIRES_WORKER ? { ...coreChecks, ...workerCheck } : coreChecks,
      reportedChecks: config.READINESS_REQUIRES_WORKER ? {} : workerCheck,
    });
    await api.register(jwksRoutes, { jwks: accessTokens.jwks });
    await api.register(accountsRoutes, {
      prefix: '/api/accounts',
      accessTokens,
      registration,
      debugResponses: config.OTP_DEBUG_RESPONSE && config.NODE_ENV !== 'production',
      ipLimits: sendLimits,
    });
    await api.register(verificationRoutes, { prefix: '/api/accounts', registration, ipLimits: sendLimits });
    // Twilio's receipts, asked for (by the worker) only when the service has a public address.
    if (config.PUBLIC_BASE_URL && config.TWILIO_AUTH_TOKEN) {
      await api.register(twilioReceiptRoutes, {
        receipts: createReceiptService({
          db: deps.database.db,
          deliveryQueue: deps.deliveryQueue,
          retryPolicy: { maxAttempts: config.DELIVERY_MAX_ATTEMPTS },
          ...(deps.now ? { now: deps.now } : {}),
        }),
        authToken: config.TWILIO_AUTH_TOKEN,
        publicBaseUrl: config.PUBLIC_BASE_URL,
      });
    }
    // A signup page to try the flow in a browser (DEMO_PAGE); not a page for a shop's shoppers.
    if (demoPageEnabled(config)) {
      await api.register(demoRoutes, {
        assets: await loadDemoAssets(),
        captchaProvider: config.CAPTCHA_PROVIDER,
        captchaSiteKey: config.CAPTCHA_SITE_KEY,
      });
    }
  });

  // Bull Board, /metrics and /docs are served by the operators' app, on a listener of its own.
  app.decorate(OPERATOR_SOURCES, {
    config,
    logger,
    redis: deps.redis,
    deliveryQueue: deps.deliveryQueue,
    deadLetterQueue,
    webhookQueue,
    metricsRegistry: metrics.registry,
  } satisfies OperatorSources);

  return app;
}
