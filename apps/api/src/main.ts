import {
  createDeliveryQueue,
  createLogger,
  createRedisClient,
  loadApiConfig,
  loadConfigOrExit,
} from '@otp-relay/core';
import { createDatabase } from '@otp-relay/db';
import { buildApp } from './app.js';

const config = loadConfigOrExit(loadApiConfig, process.env);
const logger = createLogger(config.LOG_LEVEL, 'api');
const database = createDatabase(config.DATABASE_URL);
const redis = createRedisClient(config.REDIS_URL, 'api');
redis.on('error', (error) => logger.warn({ err: error }, 'redis connection error'));
const deliveryQueue = createDeliveryQueue(redis, config.QUEUE_PREFIX);
deliveryQueue.on('error', (error) => logger.warn({ err: error }, 'delivery queue error'));

const app = await buildApp({ config, database, redis, deliveryQueue, logger });
await app.listen({ host: config.HOST, port: config.PORT });

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  // Bounded: a stuck close must not keep a stopping pod alive forever.
  setTimeout(() => process.exit(1), 10_000).unref();
  await app.close();
  await deliveryQueue.close();
  redis.disconnect();
  await database.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
