import { parseArgs } from 'node:util';
import {
  createDeadLetterQueue,
  createDeliveryQueue,
  createRedisClient,
  createWebhookQueue,
  loadConfigOrExit,
  loadWorkerConfig,
  queuePrefix,
} from '@otp-relay/core';
import { createDatabase } from '@otp-relay/db';
import { replayDeadDeliveries } from './delivery/dead-letters.js';
import { replayDeadWebhookEvents } from './webhooks/webhook-dead-letters.js';

/**
 * `pnpm dlq:replay --all` or `pnpm dlq:replay <id>…`: send dead deliveries and dead webhook events
 * again. An id may name either (both are UUIDs from different tables).
 */

const { values, positionals } = parseArgs({
  options: { all: { type: 'boolean', default: false } },
  allowPositionals: true,
});
if (!values.all && positionals.length === 0) {
  console.error('Usage: dlq:replay --all | dlq:replay <deliveryId or webhook eventId> […]');
  process.exit(2);
}

const config = loadConfigOrExit(loadWorkerConfig, process.env);
const database = createDatabase(config.DATABASE_URL, {
  maxConnections: 2,
  schema: config.DATABASE_SCHEMA,
  preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
});
const connection = createRedisClient(config, 'worker');
const deliveryQueue = createDeliveryQueue(connection, queuePrefix(config));
const deadLetterQueue = createDeadLetterQueue(connection, queuePrefix(config));
const webhookQueue = createWebhookQueue(connection, queuePrefix(config));
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
  const events = await replayDeadWebhookEvents(
    { db: database.db, webhookQueue, deadLetterQueue },
    values.all ? undefined : positionals,
  );
  console.log(`Replayed ${report.replayed.length} dead deliveries.`);
  for (const id of report.replayed) console.log(`  replayed  ${id}`);
  for (const { deliveryId, reason } of report.skipped) console.log(`  skipped   ${deliveryId}: ${reason}`);
  console.log(`Replayed ${events.replayed.length} dead webhook events.`);
  for (const id of events.replayed) console.log(`  replayed  ${id}`);
  // Named by neither table's dead rows.
  for (const id of report.notDead.filter((id) => events.notDead.includes(id)))
    console.log(`  not dead  ${id}`);
} finally {
  await Promise.all([deliveryQueue.close(), deadLetterQueue.close(), webhookQueue.close()]);
  connection.disconnect();
  await database.close();
}
