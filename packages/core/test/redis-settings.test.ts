import { QueueKeys } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { loadApiConfig, loadWorkerConfig } from '../src/config.js';
import { DEAD_LETTER_QUEUE, DELIVERY_QUEUE } from '../src/delivery-queue.js';
import { queuePrefix } from '../src/queue-prefix.js';
import { createRedisClient, type RedisClient } from '../src/redis.js';
import { parseRedisNodes } from '../src/redis-settings.js';
import { problemsOf } from './support/config-problems.js';

const base = {
  NODE_ENV: 'development',
  DATABASE_URL: 'postgres://u:p@localhost:5432/db',
  OTP_ENCRYPTION_KEY: 'e'.repeat(32),
};
const api = { ...base, JWT_SECRET: 'j'.repeat(32), OTP_PEPPER: 'p'.repeat(32) };
const worker = { ...base, EMAIL_PROVIDER: 'console' };
const cluster = { REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7000,redis-3.internal:7001' };
const sentinel = { REDIS_SENTINELS: '10.0.0.1:26379,10.0.0.2:26379', REDIS_SENTINEL_NAME: 'otp' };

describe('Redis settings', () => {
  it('takes exactly one of REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS', () => {
    for (const load of [loadApiConfig, loadWorkerConfig]) {
      const env = load === loadApiConfig ? api : worker;
      expect(problemsOf(() => load({ ...env, REDIS_URL: 'redis://localhost:6379' }))).toEqual([]);
      expect(problemsOf(() => load({ ...env, ...cluster }))).toEqual([]);
      expect(problemsOf(() => load({ ...env, ...sentinel }))).toEqual([]);
      expect(problemsOf(() => load(env))).toEqual([
        expect.stringMatching(/^REDIS_URL: required but not set \(or REDIS_CLUSTER_NODES .*REDIS_SENTINELS/),
      ]);
      expect(problemsOf(() => load({ ...env, REDIS_URL: 'redis://localhost:6379', ...cluster }))).toEqual([
        'REDIS_URL, REDIS_CLUSTER_NODES: set only one of them (one Redis, one way to reach it)',
      ]);
      expect(problemsOf(() => load({ ...env, ...cluster, ...sentinel }))).toEqual([
        'REDIS_CLUSTER_NODES, REDIS_SENTINELS: set only one of them (one Redis, one way to reach it)',
      ]);
    }
  });

  it('counts an empty variable as unset, as .env files leave them', () => {
    expect(
      problemsOf(() => loadApiConfig({ ...api, REDIS_URL: '', ...cluster, REDIS_SENTINELS: '' })),
    ).toEqual([]);
  });

  it('needs the monitored name with the sentinels, and the sentinels with the name', () => {
    expect(problemsOf(() => loadApiConfig({ ...api, REDIS_SENTINELS: '10.0.0.1:26379' }))).toEqual([
      'REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the name the sentinels monitor)',
    ]);
    expect(
      problemsOf(() =>
        loadApiConfig({ ...api, REDIS_URL: 'redis://localhost:6379', REDIS_SENTINEL_NAME: 'otp' }),
      ),
    ).toEqual(['REDIS_SENTINEL_NAME: only used with REDIS_SENTINELS']);
  });

  it('refuses a node list that is not host:port, without echoing it (it may hold a password)', () => {
    const problems = problemsOf(() =>
      loadWorkerConfig({ ...worker, REDIS_CLUSTER_NODES: '10.0.0.1:7000,rediss://u:hunter2@10.0.0.2' }),
    );
    expect(problems).toEqual([
      'REDIS_CLUSTER_NODES: entry 2 is not host:port (nor redis[s]://[user:password@]host:port)',
    ]);
    for (const value of ['10.0.0.1', '10.0.0.1:0', '10.0.0.1:70000', 'a b:1', ',']) {
      expect(parseRedisNodes(value)).toHaveProperty('problem');
    }
  });

  it('reads credentials and TLS from URL entries, which must agree', () => {
    expect(parseRedisNodes('rediss://otp:s%3Acret@10.0.0.1:7000,rediss://otp:s%3Acret@[::1]:7001')).toEqual({
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '::1', port: 7001 },
      ],
      username: 'otp',
      password: 's:cret',
      tls: true,
    });
    expect(parseRedisNodes('10.0.0.1:7000')).toEqual({
      nodes: [{ host: '10.0.0.1', port: 7000 }],
      tls: false,
    });
    expect(parseRedisNodes('rediss://:a@10.0.0.1:7000,redis://:a@10.0.0.2:7000')).toEqual({
      problem: 'entries differ in credentials or TLS (one client uses one set for every node)',
    });
  });
});

describe('queue key naming', () => {
  it('wraps the queue prefix in a hash tag on a cluster only, keeping existing queues elsewhere', () => {
    expect(queuePrefix({ QUEUE_PREFIX: 'bull' })).toBe('bull');
    expect(queuePrefix({ QUEUE_PREFIX: 'shop-a', REDIS_CLUSTER_NODES: '10.0.0.1:7000' })).toBe('{shop-a}');
  });

  /** The part of a key Redis Cluster hashes: the first non-empty {…}, else the whole key. */
  const hashedPart = (key: string) => /\{([^}]+)\}/.exec(key)?.[1] ?? key;

  it("puts every key of every queue in one slot on a cluster (BullMQ's scripts span several)", () => {
    const prefix = queuePrefix({ QUEUE_PREFIX: 'shop-a', REDIS_CLUSTER_NODES: '10.0.0.1:7000' });
    const keys = [DELIVERY_QUEUE, DEAD_LETTER_QUEUE].flatMap((name) =>
      Object.values(new QueueKeys(prefix).getKeys(name)),
    );
    expect(keys.length).toBeGreaterThan(10);
    expect(new Set(keys.map(hashedPart))).toEqual(new Set(['shop-a']));
    // Elsewhere the keys are today's: a deployment keeps its queues.
    expect(new QueueKeys(queuePrefix({ QUEUE_PREFIX: 'bull' })).toKey(DELIVERY_QUEUE, 'wait')).toBe(
      'bull:otp-delivery:wait',
    );
  });
});

describe('createRedisClient', () => {
  const clients: RedisClient[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.disconnect();
  });
  // Nothing listens on these: the clients are built, looked at, and dropped.
  const make = (...args: Parameters<typeof createRedisClient>) => {
    const client = createRedisClient(...args);
    client.on('error', () => {});
    clients.push(client);
    return client;
  };

  it('builds a Cluster client from REDIS_CLUSTER_NODES, with each profile', () => {
    const client = make(
      { REDIS_CLUSTER_NODES: 'rediss://otp:pw@127.0.0.1:1,rediss://otp:pw@127.0.0.1:2' },
      'worker',
    );
    expect(client).toBeInstanceOf(Cluster);
    if (!(client instanceof Cluster)) return;
    expect(client.options.enableOfflineQueue).toBe(true);
    expect(client.options.redisOptions).toMatchObject({
      maxRetriesPerRequest: null,
      username: 'otp',
      password: 'pw',
      tls: {},
    });
    const api = make({ REDIS_CLUSTER_NODES: '127.0.0.1:1' }, 'api');
    if (!(api instanceof Cluster)) throw new Error('not a cluster client');
    expect(api.options.enableOfflineQueue).toBe(false);
    expect(api.options.redisOptions).toMatchObject({ maxRetriesPerRequest: 1 });
    expect(api.options.redisOptions).not.toHaveProperty('tls');
  });

  it('builds a Sentinel client from REDIS_SENTINELS and REDIS_SENTINEL_NAME', () => {
    const client = make(
      { REDIS_SENTINELS: 'redis://:pw@127.0.0.1:1,redis://:pw@127.0.0.1:2', REDIS_SENTINEL_NAME: 'otp' },
      'api',
    );
    expect(client).toBeInstanceOf(Redis);
    if (!(client instanceof Redis)) return;
    expect(client.options).toMatchObject({
      sentinels: [
        { host: '127.0.0.1', port: 1 },
        { host: '127.0.0.1', port: 2 },
      ],
      name: 'otp',
      password: 'pw',
      sentinelPassword: 'pw',
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
    });
  });

  it('builds a plain client from REDIS_URL or a URL string', () => {
    const client = make({ REDIS_URL: 'redis://127.0.0.1:1/2' }, 'worker');
    if (!(client instanceof Redis)) throw new Error('not a plain client');
    expect(client.options).toMatchObject({
      port: 1,
      db: 2,
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
    });
    const fromUrl = createRedisClient('redis://127.0.0.1:1', 'api');
    clients.push(fromUrl);
    expect(fromUrl.options.maxRetriesPerRequest).toBe(1);
  });
});
