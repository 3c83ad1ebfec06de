import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findExecutable } from './executables.js';
import { freePort } from './ports.js';
import { isRoot, postgresUser } from './postgres-user.js';
import { spawnServer } from './server-process.js';

export interface LocalPgBouncer {
  /** postgres://postgres@127.0.0.1:<port>/postgres: the same databases, through the pool. */
  url: string;
  stop(): Promise<void>;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * PgBouncer in transaction mode in front of a local Postgres (trust authentication), with a
 * small pool so transactions really move between server connections. It drops the search_path
 * startup parameter instead of refusing the connection (the schema is set on the server).
 */
export async function startPgBouncer(options: {
  postgresPort: number;
  poolSize?: number;
}): Promise<LocalPgBouncer> {
  const binary = findExecutable('pgbouncer', [
    '/usr/sbin',
    '/usr/bin',
    '/opt/homebrew/bin',
    '/usr/local/bin',
  ]);
  if (!binary) throw new Error('pgbouncer not found: install it (e.g. `sudo apt-get install -y pgbouncer`).');
  const work = mkdtempSync(path.join(tmpdir(), 'otp-relay-pgbouncer-'));
  chmodSync(work, 0o755);
  const port = await freePort();
  writeFileSync(path.join(work, 'userlist.txt'), '"postgres" ""\n');
  writeFileSync(
    path.join(work, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=127.0.0.1 port=${options.postgresPort}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${path.join(work, 'userlist.txt')}`,
      'pool_mode = transaction',
      `default_pool_size = ${options.poolSize ?? 3}`,
      'max_client_conn = 1000',
      'ignore_startup_parameters = search_path',
      '',
    ].join('\n'),
  );
  // PgBouncer will not run as root.
  const user = isRoot() ? postgresUser() : undefined;
  if (user) {
    for (const file of ['', 'userlist.txt', 'pgbouncer.ini'])
      chownSync(path.join(work, file), user.uid, user.gid);
  }
  try {
    const server = await spawnServer(`pgbouncer:${port}`, {
      command: binary,
      args: [path.join(work, 'pgbouncer.ini')],
      cwd: work,
      ...(user ? { user } : {}),
      ready: () => listening(port),
    });
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      async stop() {
        await server.stop('SIGINT', 5_000);
        rmSync(work, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(work, { recursive: true, force: true });
    throw error;
  }
}
