import { parseArgs } from 'node:util';
import {
  createDeadLetterQueue,
  createDeliveryQueue,
  createRedisClient,
  loadConfigOrExit,
  loadWorkerConfig,
} from '@otp-relay/core';
import { createDatabase } from '@otp-relay/db';
import { replayDeadDeliveries } from './delivery/dead-letters.js';

/** `pnpm dlq:replay --all` or `pnpm dlq:replay <deliveryId>…`: send dead deliveries again. */

const { values, positionals } = parseArgs({
  options: { all: { type: 'boolean', default: false } },
  allowPositionals: true,
});
if (!values.all && positionals.length === 0) {
  console.error('Usage: dlq:replay --all | dlq:replay <deliveryId> [<deliveryId>…]');
  process.exit(2);
}

const config = loadConfigOrExit(loadWorkerConfig, process.env);
const database = createDatabase(config.DATABASE_URL, { maxConnections: 2 });
const connection = createRedisClient(config.REDIS_URL, 'worker');
const deliveryQueue = createDeliveryQueue(connection, config.QUEUE_PREFIX);
const deadLetterQueue = createDeadLetterQueue(connection, config.QUEUE_PREFIX);
try {
  const report = await replayDeadDeliveries(
    {
      db: database.db,
      deliveryQueue,
      deadLetterQueue,
      retryPolicy: { maxAttempts: config.DELIVERY_MAX_ATTEMPTS },
    },
    values.all ? undefined : positionals,
  );
  console.log(`Replayed ${report.replayed.length} dead deliveries.`);
  for (const id of report.replayed) console.log(`  replayed  ${id}`);
  for (const { deliveryId, reason } of report.skipped) console.log(`  skipped   ${deliveryId}: ${reason}`);
  for (const id of report.notDead) console.log(`  not dead  ${id}`);
} finally {
  await Promise.all([deliveryQueue.close(), deadLetterQueue.close()]);
  connection.disconnect();
  await database.close();
}
