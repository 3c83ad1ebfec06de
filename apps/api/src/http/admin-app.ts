import { randomUUID } from 'node:crypto';
import fastifyHelmet from '@fastify/helmet';
import fastifySwagger, { type StaticDocumentSpec } from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type {
  ApiConfig,
  DeadLetterQueue,
  DeliveryQueue,
  Logger,
  RedisClient,
  WebhookQueue,
} from '@otp-relay/core';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { App } from '../app.js';
import { adminBoard } from './admin-board.js';
import { adminCspDirectives, bullBoardUiPath } from './admin-csp.js';
import { adminLogin } from './admin-login.js';
import { registerErrorContract } from './error-contract.js';
import { serveMetrics } from './metrics.js';

/** What the operators' app serves of the public app beside it; `buildApp` decorates the public app with it. */
export interface OperatorSources {
  config: ApiConfig;
  logger: Logger;
  redis: RedisClient;
  deliveryQueue: DeliveryQueue;
  deadLetterQueue: DeadLetterQueue;
  /** The shop's webhook events, when WEBHOOK_URL is set. */
  webhookQueue?: WebhookQueue | undefined;
  /** The registry the public app records its requests and registrations into. */
  metricsRegistry: Registry;
}

export const OPERATOR_SOURCES = 'operatorSources';

export type AdminApp = FastifyInstance;

/**
 * The operators' app, for a listener of its own (ADMIN_HOST/ADMIN_PORT, loopback by default) that
 * shoppers never reach: Bull Board (when ADMIN_USER/ADMIN_PASSWORD are set), `/metrics` of the
 * public app, its OpenAPI document and UI at `/docs`, and `/healthz`, all under helmet's headers.
 * Readies `app` (its OpenAPI document is complete only then); built without listening, like it.
 */
export async function buildAdminApp(app: App): Promise<AdminApp> {
  const sources = app.getDecorator<OperatorSources>(OPERATOR_SOURCES);
  const { config } = sources;
  await app.ready();

  const admin = Fastify({
    // Its own lines (Fastify's "Server listening" included) say which listener they are from.
    loggerInstance: sources.logger.child({ listener: 'admin' }) as FastifyBaseLogger,
    routerOptions: { ignoreTrailingSlash: true },
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // No trustProxy: the login throttle counts by the socket's address, which a client cannot forge.
  });
  registerErrorContract(admin);

  const boardUiPath = bullBoardUiPath();
  await admin.register(fastifyHelmet, {
    contentSecurityPolicy: { useDefaults: false, directives: adminCspDirectives(boardUiPath) },
    frameguard: { action: 'deny' },
  });

  admin.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' as const }));
  serveMetrics(admin, sources.metricsRegistry);

  // The public app's document as it is: OpenAPI 3.1 (http/openapi.ts), the one committed as
  // docs/openapi.json. Static mode serves any version as given, though its type says "2 or 3.0".
  const document = app.swagger() as StaticDocumentSpec['document'];
  await admin.register(fastifySwagger, { mode: 'static', specification: { document } });
  // A UI that sends no requests: this origin is not the API's, and the API's CORS would refuse them
  // anyway. The base layout has no top bar (an explorer for other documents, and an SVG logo whose
  // inline style the CSP would refuse).
  await admin.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    uiConfig: { layout: 'BaseLayout', supportedSubmitMethods: [] },
  });

  if (config.ADMIN_USER && config.ADMIN_PASSWORD) {
    await admin.register(adminBoard, {
      deliveryQueue: sources.deliveryQueue,
      deadLetterQueue: sources.deadLetterQueue,
      webhookQueue: sources.webhookQueue,
      uiBasePath: boardUiPath,
      requireAdmin: adminLogin({
        redis: sources.redis,
        queuePrefix: config.QUEUE_PREFIX,
        user: config.ADMIN_USER,
        password: config.ADMIN_PASSWORD,
      }),
    });
  }
  return admin;
}
