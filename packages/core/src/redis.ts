import { Redis } from 'ioredis';

/**
 * Two profiles: the worker waits for Redis to come back (BullMQ requires
 * `maxRetriesPerRequest: null` for blocking connections); the API fails fast so a request
 * is answered instead of hanging while Redis is away.
 */
export type RedisProfile = 'worker' | 'api';

export function createRedisClient(url: string, profile: RedisProfile): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: profile === 'worker' ? null : 1,
    enableOfflineQueue: profile === 'worker',
    connectTimeout: 5000,
    lazyConnect: false,
  });
}
