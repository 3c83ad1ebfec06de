import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { parseRedisNodes, type RedisNodeList, type RedisSettings } from './redis-settings.js';

/**
 * Two profiles: the worker waits for Redis to come back (BullMQ requires
 * `maxRetriesPerRequest: null` for blocking connections); the API fails fast so a request
 * is answered instead of hanging while Redis is away.
 */
export type RedisProfile = 'worker' | 'api';

/** A connection to one server (directly or through Sentinel) or to a Redis Cluster. */
export type RedisClient = Redis | Cluster;

function profileOptions(profile: RedisProfile): RedisOptions {
  return {
    maxRetriesPerRequest: profile === 'worker' ? null : 1,
    enableOfflineQueue: profile === 'worker',
    connectTimeout: 5000,
    lazyConnect: false,
  };
}

function accessOptions(list: RedisNodeList): RedisOptions {
  return {
    ...(list.username ? { username: list.username } : {}),
    ...(list.password ? { password: list.password } : {}),
    ...(list.tls ? { tls: {} } : {}),
  };
}

function nodeList(name: string, value: string): RedisNodeList {
  const list = parseRedisNodes(value);
  // loadApiConfig/loadWorkerConfig said so already; this is for callers that skipped them.
  if ('problem' in list) throw new Error(`${name}: ${list.problem}`);
  return list;
}

/** The client for the configured Redis: REDIS_CLUSTER_NODES, REDIS_SENTINELS, or REDIS_URL. */
export function createRedisClient(url: string, profile: RedisProfile): Redis;
export function createRedisClient(settings: RedisSettings, profile: RedisProfile): RedisClient;
export function createRedisClient(settings: string | RedisSettings, profile: RedisProfile): RedisClient {
  const options = profileOptions(profile);
  if (typeof settings === 'string') return new Redis(settings, options);
  if (settings.REDIS_CLUSTER_NODES) {
    const list = nodeList('REDIS_CLUSTER_NODES', settings.REDIS_CLUSTER_NODES);
    const { enableOfflineQueue, lazyConnect, ...nodeOptions } = options;
    const clusterOptions: ClusterOptions = {
      enableOfflineQueue,
      lazyConnect,
      redisOptions: { ...nodeOptions, ...accessOptions(list) },
      // TLS names the host the client asked for, not the address a node announces for itself.
      ...(list.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
    };
    return new Cluster(list.nodes, clusterOptions);
  }
  if (settings.REDIS_SENTINELS) {
    const list = nodeList('REDIS_SENTINELS', settings.REDIS_SENTINELS);
    const access = accessOptions(list);
    return new Redis({
      ...options,
      sentinels: list.nodes,
      name: settings.REDIS_SENTINEL_NAME ?? '',
      ...access,
      ...(access.password ? { sentinelPassword: access.password } : {}),
      ...(access.username ? { sentinelUsername: access.username } : {}),
      ...(list.tls ? { sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
    });
  }
  if (!settings.REDIS_URL) {
    throw new Error(
      'REDIS_URL: required (or REDIS_CLUSTER_NODES, or REDIS_SENTINELS with REDIS_SENTINEL_NAME)',
    );
  }
  return new Redis(settings.REDIS_URL, options);
}

/** Whether BullMQ's connection option is a client of ours (rather than options it would connect with). */
export function isRedisClient(connection: unknown): connection is RedisClient {
  return connection instanceof Redis || connection instanceof Cluster;
}
