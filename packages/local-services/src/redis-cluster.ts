import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freeClusterPort } from './ports.js';
import { type LocalRedis, startLocalRedis } from './redis.js';

const SLOTS = 16_384;

export interface LocalRedisCluster {
  /** `host:port,host:port,…`, as REDIS_CLUSTER_NODES takes them. */
  nodes: string;
  stop(): Promise<void>;
}

/**
 * A Redis Cluster of `primaries` primaries (no replicas) on loopback: the slots split evenly,
 * the nodes introduced to each other, ready once every node says cluster_state:ok.
 */
export async function startRedisCluster(
  options: { binary?: string; primaries?: number } = {},
): Promise<LocalRedisCluster> {
  const primaries = options.primaries ?? 3;
  const work = mkdtempSync(path.join(tmpdir(), 'otp-relay-redis-cluster-'));
  const started: LocalRedis[] = [];
  const stop = async () => {
    await Promise.all(started.map((node) => node.stop()));
    rmSync(work, { recursive: true, force: true });
  };
  try {
    for (let n = 0; n < primaries; n += 1) {
      const dir = path.join(work, String(n + 1));
      mkdirSync(dir);
      started.push(
        await startLocalRedis({
          ...(options.binary ? { binary: options.binary } : {}),
          port: await freeClusterPort(),
          dir,
          args: ['--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, 'nodes.conf')],
        }),
      );
    }
    const clients = started.map((node) => new Redis(node.port, '127.0.0.1', { lazyConnect: true }));
    try {
      await Promise.all(clients.map((client) => client.connect()));
      // Slots as `redis-cli --cluster create` splits them.
      await Promise.all(
        clients.map((client, n) => {
          const first = Math.floor((SLOTS * n) / primaries);
          const last = Math.floor((SLOTS * (n + 1)) / primaries) - 1;
          const slots = Array.from({ length: last - first + 1 }, (_, i) => first + i);
          return client.call('CLUSTER', 'ADDSLOTS', ...slots);
        }),
      );
      const [first] = clients;
      for (const node of started.slice(1))
        await first?.call('CLUSTER', 'MEET', '127.0.0.1', String(node.port));
      const deadline = Date.now() + 30_000;
      for (;;) {
        const infos = await Promise.all(
          clients.map((client) => client.call('CLUSTER', 'INFO') as Promise<string>),
        );
        const ready = infos.every(
          (info) => info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${primaries}`),
        );
        if (ready) break;
        if (Date.now() > deadline) throw new Error(`the Redis Cluster did not form:\n${infos.join('\n')}`);
        await sleep(100);
      }
    } finally {
      for (const client of clients) client.disconnect();
    }
    return { nodes: started.map((node) => `127.0.0.1:${node.port}`).join(','), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
