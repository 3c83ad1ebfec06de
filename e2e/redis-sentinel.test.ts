import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createDeliveryQueue, createRedisClient, queuePrefix } from '@otp-relay/core';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, hasRedisServer, startRedisServer } from './support/processes.js';

/** A real Sentinel on loopback: the client from REDIS_SENTINELS finds the primary through it. */

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function startSentinel(primaryPort: number, name: string) {
  const dir = await mkdtemp(join(tmpdir(), 'otp-relay-sentinel-'));
  const port = await freePort();
  // Sentinel rewrites its configuration file, so it gets one of its own.
  const file = join(dir, 'sentinel.conf');
  await writeFile(
    file,
    `port ${port}\nbind 127.0.0.1\nsentinel monitor ${name} 127.0.0.1 ${primaryPort} 1\n`,
  );
  const child = spawn('redis-server', [file, '--sentinel'], { stdio: ['ignore', 'pipe', 'ignore'] });
  cleanups.push(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await rm(dir, { recursive: true, force: true });
  });
  if (!child.stdout) throw new Error('redis-server has no stdout pipe');
  const lines = createInterface({ input: child.stdout });
  await new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => {
      if (/\+monitor master/.test(line)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`sentinel exited (${code})`)));
  });
  return { address: `127.0.0.1:${port}` };
}

describe('Redis through Sentinel', () => {
  it.runIf(hasRedisServer)(
    'REDIS_SENTINELS and REDIS_SENTINEL_NAME reach the primary the sentinels monitor',
    async () => {
      const primaryPort = await freePort();
      const primary = await startRedisServer(primaryPort);
      cleanups.push(() => primary.stop());
      const sentinel = await startSentinel(primaryPort, 'otp');
      const settings = {
        REDIS_SENTINELS: `127.0.0.1:1,${sentinel.address}`,
        REDIS_SENTINEL_NAME: 'otp',
      };

      const client = createRedisClient(settings, 'worker');
      cleanups.push(async () => client.disconnect());
      await once(client, 'ready');
      await client.set('sentinel-probe', 'through sentinel');
      const direct = new Redis(primary.url);
      cleanups.push(async () => direct.disconnect());
      expect(await direct.get('sentinel-probe')).toBe('through sentinel');

      // Queues keep the plain prefix through Sentinel: one server, no slots.
      const prefix = queuePrefix({ QUEUE_PREFIX: 'sentinel-test', ...settings });
      expect(prefix).toBe('sentinel-test');
      const queue = createDeliveryQueue(client, prefix);
      cleanups.push(() => queue.close());
      await queue.add('deliver', { deliveryId: '4f7b2d1e-3c5a-4e8b-9d6f-1a2b3c4d5e6f' });
      expect(await direct.llen('sentinel-test:otp-delivery:wait')).toBe(1);
    },
  );
});
