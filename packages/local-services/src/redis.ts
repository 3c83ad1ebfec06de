import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findRedisServer } from './find-redis-server.js';
import { freePort } from './ports.js';
import { type ServerProcess, spawnServer } from './server-process.js';

export interface LocalRedis {
  url: string;
  port: number;
  server: ServerProcess;
  stop(): Promise<void>;
}

export interface LocalRedisOptions {
  /** The redis-server to run (obtainRedisServer); default: the one findRedisServer finds. */
  binary?: string;
  port?: number;
  /** Extra arguments, e.g. the cluster's. */
  args?: string[];
  /** Its working directory (nodes.conf lives there); default: a temporary one, removed at stop. */
  dir?: string;
  onLine?: (line: string) => void;
}

/** A throwaway redis-server on loopback: no snapshots, no append-only file. */
export async function startLocalRedis(options: LocalRedisOptions = {}): Promise<LocalRedis> {
  const binary = options.binary ?? findRedisServer();
  if (!binary) throw new Error('redis-server not found (see obtainRedisServer)');
  const port = options.port ?? (await freePort());
  const ownDir = options.dir ? undefined : mkdtempSync(path.join(tmpdir(), 'otp-relay-redis-'));
  const dir = options.dir ?? ownDir ?? '.';
  const server = await spawnServer(`redis:${port}`, {
    command: binary,
    args: [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      ...(options.args ?? []),
    ],
    cwd: dir,
    ready: /Ready to accept connections/,
    ...(options.onLine ? { onLine: options.onLine } : {}),
  }).catch((error: unknown) => {
    if (ownDir) rmSync(ownDir, { recursive: true, force: true });
    throw error;
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    server,
    async stop() {
      await server.stop('SIGTERM', 5_000);
      if (ownDir) rmSync(ownDir, { recursive: true, force: true });
    },
  };
}
