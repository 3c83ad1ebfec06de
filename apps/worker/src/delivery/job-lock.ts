/**
 * How a job whose worker died (SIGKILL, OOM, a lost node) gets to another worker. BullMQ only
 * learns of the death when the job's lock lapses unrenewed and a stalled-job check then finds it:
 * after at most `lockDuration` + `stalledInterval`. A live worker renews its locks every
 * `lockDuration / 2`, so a long send keeps its job; a dead one's job waits out at most
 * DELIVERY_LOCK_MS × 1.5 (12 s by default), and a code it was sending still reaches its shopper
 * within 15 s.
 */
export interface JobLockSettings {
  lockDuration: number;
  stalledInterval: number;
  /** A job found stalled more often than this fails instead (a job that kills its workers). */
  maxStalledCount: number;
}

export function jobLockSettings(lockMs: number): JobLockSettings {
  return { lockDuration: lockMs, stalledInterval: Math.ceil(lockMs / 2), maxStalledCount: 2 };
}

/** The longest a dead worker's job waits before another worker may take it. */
export function takeoverBoundMs(settings: JobLockSettings): number {
  return settings.lockDuration + settings.stalledInterval;
}
