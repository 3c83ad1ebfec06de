import {
  createDeliveryQueue,
  createLogger,
  createRedisClient,
  loadApiConfig,
  loadConfigOrExit,
  queuePrefix,
  startTracing,
  tracingOptionsOf,
} from '@otp-relay/core';
import { createDatabase } from '@otp-relay/db';
import { buildApp } from './app.js';
import { buildAdminApp } from './http/admin-app.js';

const config = loadConfigOrExit(loadApiConfig, process.env);
const logger = createLogger(config.LOG_LEVEL, 'api');
// Off (nothing loaded) unless an OTLP endpoint is configured.
const tracing = await startTracing(tracingOptionsOf(config, 'otp-relay-api'));
const database = createDatabase(config.DATABASE_URL, {
  schema: config.DATABASE_SCHEMA,
  preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
});
const redis = createRedisClient(config, 'api');
redis.on('error', (error) => logger.warn({ err: error }, 'redis connection error'));
const deliveryQueue = createDeliveryQueue(redis, queuePrefix(config));
deliveryQueue.on('error', (error) => logger.warn({ err: error }, 'delivery queue error'));

const app = await buildApp({ config, database, redis, deliveryQueue, logger });
const admin = await buildAdminApp(app);
await app.listen({ host: config.HOST, port: config.PORT });
// After the public listener, so this line means both are up; with ADMIN_PORT=0 it tells the port.
const adminAddress = await admin.listen({ host: config.ADMIN_HOST, port: config.ADMIN_PORT });
logger.info(
  { admin: adminAddress, board: Boolean(config.ADMIN_USER && config.ADMIN_PASSWORD) },
  "operators' listener: /admin/queues, /metrics, /docs",
);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  // Bounded: a stuck close must not keep a stopping pod alive forever.
  setTimeout(() => process.exit(1), 10_000).unref();
  await admin.close();
  await app.close();
  await deliveryQueue.close();
  redis.disconnect();
  await database.close();
  await tracing?.shutdown();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
