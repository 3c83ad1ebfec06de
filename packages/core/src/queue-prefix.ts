import type { RedisSettings } from './redis-settings.js';

/**
 * The BullMQ prefix of every queue. On a Redis Cluster it is wrapped in a hash tag, `{QUEUE_PREFIX}`:
 * BullMQ's scripts touch several keys of a queue at once, and Redis Cluster runs a script only when
 * all its keys hash to one slot, which the tag makes so. Elsewhere it stays QUEUE_PREFIX as it
 * was, so existing deployments keep their queues (moving to a cluster starts with empty queues).
 */
export function queuePrefix(
  config: Pick<RedisSettings, 'REDIS_CLUSTER_NODES'> & { QUEUE_PREFIX: string },
): string {
  return config.REDIS_CLUSTER_NODES ? `{${config.QUEUE_PREFIX}}` : config.QUEUE_PREFIX;
}
