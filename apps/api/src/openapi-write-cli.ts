import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createDeliveryQueue, createLogger, loadApiConfig } from '@otp-relay/core';
import { createDatabase } from '@otp-relay/db';
import { Redis } from 'ioredis';
import { buildApp } from './app.js';
import { buildAdminApp } from './http/admin-app.js';
import { formatOpenApiDocument } from './http/openapi.js';

/**
 * `pnpm openapi:write [file]`: writes the OpenAPI document the operators' app serves at /docs/json
 * to docs/openapi.json (or `file`). Needs no Postgres or Redis: the app is built with clients that
 * never connect. The document does not depend on the configuration, so a fixed one is used.
 */

const DOCUMENT_URL = '/docs/json';
const target = process.argv[2] ?? fileURLToPath(new URL('../../../docs/openapi.json', import.meta.url));

const secret = () => randomBytes(32).toString('hex');
const REDIS_URL = 'redis://127.0.0.1:1';
const config = loadApiConfig({
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  // Never reached: postgres.js connects on the first query, and Redis is lazy (below).
  DATABASE_URL: 'postgres://openapi@127.0.0.1:1/openapi',
  REDIS_URL: REDIS_URL,
  JWT_SECRET: secret(),
  OTP_PEPPER: secret(),
  OTP_ENCRYPTION_KEY: secret(),
});
const database = createDatabase(config.DATABASE_URL);
const redis = new Redis(REDIS_URL, { lazyConnect: true, enableOfflineQueue: false });
// BullMQ connects its queues' clients all the same; their refusals do not matter here.
redis.on('error', () => {});
const deliveryQueue = createDeliveryQueue(redis, config.QUEUE_PREFIX);
deliveryQueue.on('error', () => {});
const app = await buildApp({ config, database, redis, deliveryQueue, logger: createLogger('silent', 'api') });
const admin = await buildAdminApp(app);
try {
  const response = await admin.inject({ method: 'GET', url: DOCUMENT_URL });
  if (response.statusCode !== 200) throw new Error(`${DOCUMENT_URL} answered ${response.statusCode}`);
  await writeFile(target, formatOpenApiDocument(response.json()));
  console.log(`Wrote ${target}`);
} finally {
  await admin.close();
  await app.close();
  await deliveryQueue.close();
  redis.disconnect();
  await database.close();
}
