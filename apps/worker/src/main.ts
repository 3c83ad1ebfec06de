import {
  createLogger,
  createRedisClient,
  deriveKey,
  loadConfigOrExit,
  loadWorkerConfig,
  queuePrefix,
  startTracing,
  tracingOptionsOf,
} from '@otp-relay/core';
import { createDatabase } from '@otp-relay/db';
import { createSenders, messagesOf } from './delivery/senders.js';
import { checkHealth, workerHealthChecks } from './health.js';
import { scheduleRetention } from './maintenance/retention.js';
import { loadMessagesOrExit } from './messages/load-messages-or-exit.js';
import { createWorkerMetrics, portOf } from './metrics.js';
import { createWorker } from './worker.js';

const config = loadConfigOrExit(loadWorkerConfig, process.env);
const logger = createLogger(config.LOG_LEVEL, 'worker');
// Off (nothing loaded) unless an OTLP endpoint is configured.
const tracing = await startTracing(tracingOptionsOf(config, 'otp-relay-worker'));
// Every catalogue and email template compiled before anything connects: a broken one stops the start.
const messages = await loadMessagesOrExit(messagesOf(config));
const database = createDatabase(config.DATABASE_URL, {
  maxConnections: Math.min(config.WORKER_CONCURRENCY, 20),
  schema: config.DATABASE_SCHEMA,
  preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
});
const connection = createRedisClient(config, 'worker');
connection.on('error', (error) => logger.warn({ err: error }, 'redis connection error'));

const metrics = createWorkerMetrics();

const delivery = createWorker({
  config,
  db: database.db,
  connection,
  payloadKey: deriveKey(config.OTP_ENCRYPTION_KEY, 'payload-encryption'),
  senders: createSenders(config, logger, Promise.resolve(messages)),
  logger,
  events: metrics.events,
  webhookMetrics: metrics.webhookEvents,
});
const metricsServer = await metrics.listen(config.WORKER_METRICS_PORT, config.WORKER_METRICS_HOST, () =>
  checkHealth(workerHealthChecks({ redis: connection, database, consumer: delivery.worker })),
);
const retention = await scheduleRetention({
  db: database.db,
  connection,
  prefix: queuePrefix(config),
  retentionDays: config.RETENTION_DAYS,
  maxAttempts: config.OTP_MAX_ATTEMPTS,
  logger,
  webhooks: delivery.webhooks,
});
logger.info(
  {
    concurrency: config.WORKER_CONCURRENCY,
    emailProvider: config.EMAIL_PROVIDER,
    whatsappProvider: config.WHATSAPP_PROVIDER,
    webhooks: Boolean(delivery.webhooks),
    emailBackup:
      config.EMAIL_PROVIDER === 'smtp' ? Boolean(config.SMTP_BACKUP_URL) : Boolean(config.SMTP_URL),
    metrics: `http://${config.WORKER_METRICS_HOST}:${portOf(metricsServer)}/metrics`,
    tracing: Boolean(tracing),
  },
  'worker started',
);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping: finishing in-flight deliveries');
  // Bounded: a send that hangs past this is retried by another worker (stalled-job recovery).
  setTimeout(() => process.exit(1), 30_000).unref();
  await Promise.all([delivery.close(), retention.close()]);
  metricsServer.close();
  connection.disconnect();
  await database.close();
  await tracing?.shutdown();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
