import type { Logger } from '@otp-relay/core';
import { type Database, deliveries, registrationFlows, sendCooldowns } from '@otp-relay/db';
import { Queue, Worker } from 'bullmq';
import { and, eq, inArray, isNull, lt } from 'drizzle-orm';
import type { Redis } from 'ioredis';

/**
 * Retention: flows whose last code expired more than `RETENTION_DAYS` ago go, with their
 * deliveries (by cascade), and so do registration notices of that age that belong to no flow
 * (they were sent before flows existed), and cooldown rows of that age. Users stay. Deleting in batches keeps
 * each transaction short, so the purge never holds up registrations.
 */

const BATCH_SIZE = 5000;

export async function purgeExpired(
  db: Database,
  cutoff: Date,
): Promise<{ flows: number; notices: number; cooldowns: number }> {
  let flows = 0;
  for (;;) {
    const old = db
      .select({ id: registrationFlows.id })
      .from(registrationFlows)
      .where(lt(registrationFlows.expiresAt, cutoff))
      .limit(BATCH_SIZE);
    const deleted = await db
      .delete(registrationFlows)
      .where(inArray(registrationFlows.id, old))
      .returning({ id: registrationFlows.id });
    flows += deleted.length;
    if (deleted.length < BATCH_SIZE) break;
  }
  let notices = 0;
  for (;;) {
    const old = db
      .select({ id: deliveries.id })
      .from(deliveries)
      .where(
        and(
          eq(deliveries.kind, 'registration-notice'),
          isNull(deliveries.flowId),
          lt(deliveries.createdAt, cutoff),
        ),
      )
      .limit(BATCH_SIZE);
    const deleted = await db
      .delete(deliveries)
      .where(inArray(deliveries.id, old))
      .returning({ id: deliveries.id });
    notices += deleted.length;
    if (deleted.length < BATCH_SIZE) break;
  }
  // A cooldown older than the retention is long over; its row only says when a contact was last written to.
  const cooldowns = await db
    .delete(sendCooldowns)
    .where(lt(sendCooldowns.lastSentAt, cutoff))
    .returning({ key: sendCooldowns.destinationKey });
  return { flows, notices, cooldowns: cooldowns.length };
}

export const MAINTENANCE_QUEUE = 'otp-maintenance';
const PURGE_EVERY_MS = 3600_000;

/**
 * Runs the purge hourly. A BullMQ job scheduler makes it once per hour however many workers run;
 * each worker can take the job.
 */
export async function scheduleRetention(deps: {
  db: Database;
  connection: Redis;
  prefix: string;
  retentionDays: number;
  logger: Logger;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());
  const queue = new Queue(MAINTENANCE_QUEUE, { connection: deps.connection, prefix: deps.prefix });
  await queue.upsertJobScheduler('retention', { every: PURGE_EVERY_MS }, { name: 'purge' });
  const worker = new Worker(
    MAINTENANCE_QUEUE,
    async () => {
      const cutoff = new Date(now().getTime() - deps.retentionDays * 86_400_000);
      const purged = await purgeExpired(deps.db, cutoff);
      deps.logger.info({ ...purged, cutoff: cutoff.toISOString() }, 'retention purge');
      return purged;
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: 1 },
  );
  worker.on('error', (error) => deps.logger.error({ error: error.message }, 'maintenance worker error'));
  return {
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
