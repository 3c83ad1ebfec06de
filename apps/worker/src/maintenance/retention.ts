import type { RedisClient } from '@otp-relay/core';
import { createDeadLetterQueue, type DeadLetterQueue, type Logger } from '@otp-relay/core';
import {
  createWebhookEventRepository,
  type Database,
  deliveries,
  deliveryReceipts,
  registrationFlows,
  sendCooldowns,
} from '@otp-relay/db';
import { Queue, Worker } from 'bullmq';
import { and, eq, gte, inArray, isNotNull, isNull, lt, lte, ne, or } from 'drizzle-orm';
import { sweepExpiredVerifications } from '../webhooks/expiry-sweep.js';
import type { WebhookOutbox } from '../webhooks/webhook-outbox.js';

/**
 * Retention: flows whose last code expired more than `RETENTION_DAYS` ago go, with their
 * deliveries (by cascade), and so do registration notices of that age that belong to no flow
 * (they were sent before flows existed), cooldown rows and dead-letter jobs of that age. Users
 * stay. Before that, secrets nothing can use any more are dropped: sealed codes that can no longer
 * be sent, and the password hashes of flows that can no longer make an account. Deleting in
 * batches keeps each transaction short, so the purge never holds up registrations.
 */

const BATCH_SIZE = 5000;

/**
 * A flow's password hash is dropped this long after its code expired, not at once: a verify that
 * judged the code just before it expired may still be completing with it.
 */
const EXPIRED_FLOW_GRACE_MS = 60_000;

/** Dead-letter jobs in every state but 'active' (a copy being retried from Bull Board right now). */
const DEAD_LETTER_STATES = ['wait', 'paused', 'prioritized', 'delayed', 'completed', 'failed'] as const;

export interface RetentionDeps {
  db: Database;
  deadLetterQueue: DeadLetterQueue;
  retentionDays: number;
  /**
   * OTP_MAX_ATTEMPTS, as the API has it. An expired flow whose id holder used them all can no
   * longer be resent or verified, so its password hash goes; any other expired flow can still be
   * revived by a resend, and keeps it until it is purged.
   */
  maxAttempts: number;
}

export interface RetentionReport {
  flows: number;
  notices: number;
  cooldowns: number;
  receipts: number;
  deadLetters: number;
  /** Webhook events delivered or dead before the cutoff. */
  webhookEvents: number;
  /** Deliveries whose sealed code was dropped. */
  sealedCodes: number;
  /** Flows whose password hash was dropped. */
  passwordHashes: number;
}

/** Runs `update` on batches of at most BATCH_SIZE rows until a batch comes back short; the rows it changed. */
async function inBatches(update: () => Promise<unknown[]>): Promise<number> {
  let changed = 0;
  for (;;) {
    const rows = await update();
    changed += rows.length;
    if (rows.length < BATCH_SIZE) return changed;
  }
}

/** Sealed codes that can no longer be sent: their flow ended, or the code expired or was replaced. */
function dropUnusableSealedCodes(db: Database, at: Date): Promise<number> {
  return inBatches(() => {
    const unusable = db
      .select({ id: deliveries.id })
      .from(deliveries)
      .innerJoin(registrationFlows, eq(registrationFlows.id, deliveries.flowId))
      .where(
        and(
          isNotNull(deliveries.payloadCiphertext),
          or(
            isNotNull(registrationFlows.verifiedAt),
            isNotNull(registrationFlows.closedAt),
            lte(registrationFlows.expiresAt, at),
            ne(deliveries.codeSequence, registrationFlows.codeSequence),
          ),
        ),
      )
      .limit(BATCH_SIZE);
    return db
      .update(deliveries)
      .set({ payloadCiphertext: null })
      .where(inArray(deliveries.id, unusable))
      .returning({ id: deliveries.id });
  });
}

/**
 * Password hashes no flow can use: of flows that ended (verify drops them itself; this catches
 * flows that ended before it did) and of dead ones, expired and locked (see RetentionDeps).
 */
function dropUnusablePasswordHashes(db: Database, at: Date, maxAttempts: number): Promise<number> {
  const expiredBy = new Date(at.getTime() - EXPIRED_FLOW_GRACE_MS);
  return inBatches(() => {
    const unusable = db
      .select({ id: registrationFlows.id })
      .from(registrationFlows)
      .where(
        and(
          isNotNull(registrationFlows.passwordHash),
          or(
            isNotNull(registrationFlows.verifiedAt),
            isNotNull(registrationFlows.closedAt),
            and(
              lt(registrationFlows.expiresAt, expiredBy),
              gte(registrationFlows.failedAttempts, maxAttempts),
            ),
          ),
        ),
      )
      .limit(BATCH_SIZE);
    return db
      .update(registrationFlows)
      .set({ passwordHash: null })
      .where(inArray(registrationFlows.id, unusable))
      .returning({ id: registrationFlows.id });
  });
}

/** Dead-letter jobs that died (or were last retried) before the cutoff; how many went. */
async function purgeDeadLetters(queue: DeadLetterQueue, cutoff: Date): Promise<number> {
  // BullMQ ages jobs against its own clock: the grace is how long before now the cutoff lies.
  const graceMs = Math.max(0, Date.now() - cutoff.getTime());
  let removed = 0;
  for (const state of DEAD_LETTER_STATES) {
    // Limit 0: every job of that age.
    removed += (await queue.clean(graceMs, 0, state)).length;
  }
  return removed;
}

const retentionCutoff = (at: Date, retentionDays: number) =>
  new Date(at.getTime() - retentionDays * 86_400_000);

/** One retention pass at `at` (see the top of this file); what it removed. */
export async function purgeExpired(deps: RetentionDeps, at: Date): Promise<RetentionReport> {
  const { db } = deps;
  const cutoff = retentionCutoff(at, deps.retentionDays);
  const flows = await inBatches(() => {
    const old = db
      .select({ id: registrationFlows.id })
      .from(registrationFlows)
      .where(lt(registrationFlows.expiresAt, cutoff))
      .limit(BATCH_SIZE);
    return db
      .delete(registrationFlows)
      .where(inArray(registrationFlows.id, old))
      .returning({ id: registrationFlows.id });
  });
  const notices = await inBatches(() => {
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
    return db.delete(deliveries).where(inArray(deliveries.id, old)).returning({ id: deliveries.id });
  });
  // A cooldown older than the retention is long over; its row only says when a contact was last written to.
  const cooldowns = await db
    .delete(sendCooldowns)
    .where(lt(sendCooldowns.lastSentAt, cutoff))
    .returning({ key: sendCooldowns.destinationKey });
  // A receipt only has to outlive the provider's retries of the same report.
  const receipts = await db
    .delete(deliveryReceipts)
    .where(lt(deliveryReceipts.receivedAt, cutoff))
    .returning({ id: deliveryReceipts.providerMessageId });
  const events = createWebhookEventRepository(db);
  const webhookEvents = await inBatches(async () => {
    const purged = await events.purgeFinished(cutoff, BATCH_SIZE);
    return Array.from({ length: purged });
  });
  // After the purge: what it deleted needs no scrubbing.
  const sealedCodes = await dropUnusableSealedCodes(db, at);
  const passwordHashes = await dropUnusablePasswordHashes(db, at, deps.maxAttempts);
  const deadLetters = await purgeDeadLetters(deps.deadLetterQueue, cutoff);
  return {
    flows,
    notices,
    cooldowns: cooldowns.length,
    receipts: receipts.length,
    deadLetters,
    webhookEvents,
    sealedCodes,
    passwordHashes,
  };
}

export const MAINTENANCE_QUEUE = 'otp-maintenance';
const PURGE_EVERY_MS = 3600_000;
/** verification.expired goes out within about this long of the expiry. */
const EXPIRY_SWEEP_EVERY_MS = 60_000;

/**
 * Runs the purge hourly, and (with webhooks on) the sweep that announces expired verifications
 * every minute. A BullMQ job scheduler makes each once per period however many workers run; each
 * worker can take the job.
 */
export async function scheduleRetention(deps: {
  db: Database;
  connection: RedisClient;
  prefix: string;
  retentionDays: number;
  /** See RetentionDeps. */
  maxAttempts: number;
  logger: Logger;
  /** The webhook outbox, when WEBHOOK_URL is set: the expiry sweep records into it. */
  webhooks?: WebhookOutbox | undefined;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());
  const queue = new Queue(MAINTENANCE_QUEUE, { connection: deps.connection, prefix: deps.prefix });
  const deadLetterQueue = createDeadLetterQueue(deps.connection, deps.prefix);
  await queue.upsertJobScheduler('retention', { every: PURGE_EVERY_MS }, { name: 'purge' });
  const { webhooks } = deps;
  if (webhooks) {
    await queue.upsertJobScheduler(
      'expiry-sweep',
      { every: EXPIRY_SWEEP_EVERY_MS },
      { name: 'expiry-sweep' },
    );
  }
  const worker = new Worker(
    MAINTENANCE_QUEUE,
    async (job) => {
      const at = now();
      if (job.name === 'expiry-sweep') {
        // A worker without WEBHOOK_URL takes the job too, and has nothing to announce.
        return webhooks ? { expired: await sweepExpiredVerifications({ db: deps.db, webhooks, at }) } : {};
      }
      const purged = await purgeExpired(
        {
          db: deps.db,
          deadLetterQueue,
          retentionDays: deps.retentionDays,
          maxAttempts: deps.maxAttempts,
        },
        at,
      );
      const cutoff = retentionCutoff(at, deps.retentionDays).toISOString();
      deps.logger.info({ ...purged, cutoff }, 'retention purge');
      return purged;
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: 1 },
  );
  worker.on('error', (error) => deps.logger.error({ error: error.message }, 'maintenance worker error'));
  return {
    async close() {
      await worker.close();
      await Promise.all([queue.close(), deadLetterQueue.close()]);
    },
  };
}
