import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findExecutable } from '@otp-relay/local-services';
import { createTestDatabase } from '@otp-relay/testkit';
import { describe, expect, inject, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// Hiding redis-server needs a mount namespace of our own (root, unshare) and the apt install that
// `pnpm dev` then does needs Debian/Ubuntu; elsewhere the test says why it did not run.
const cannotHide =
  process.getuid?.() !== 0
    ? 'needs root (a mount namespace hides redis-server)'
    : !findExecutable('unshare')
      ? 'needs unshare (util-linux)'
      : !existsSync('/etc/debian_version') || !findExecutable('apt-get')
        ? 'needs Debian/Ubuntu, where pnpm dev installs redis-server with apt as root'
        : undefined;

describe('pnpm dev on a machine without redis-server', () => {
  it.skipIf(cannotHide)(
    `gets one the way the machine allows and serves a registration${cannotHide ? ` (skipped: ${cannotHide})` : ''}`,
    async () => {
      // Postgres is the run's (dev's own embedded one is exercised by .ci/run's smoke); Redis is dev's.
      const database = await createTestDatabase(inject('testServices'), { migrated: false });
      try {
        const child = spawn(
          'unshare',
          [
            '--mount',
            '--propagation',
            'private',
            'bash',
            'scripts/test/without-redis-server.sh',
            path.join(ROOT, 'node_modules', '.bin', 'tsx'),
            '--conditions=@otp-relay/source',
            'scripts/dev-smoke.ts',
          ],
          {
            cwd: ROOT,
            env: { ...process.env, DATABASE_URL: database.url, DEV_SMOKE_VERBOSE: '1' },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
        child.stderr.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
        const [code] = await once(child, 'exit');
        expect(output, output).toContain('dev smoke passed');
        expect(code).toBe(0);
        // It really had none: not found, not built here (no route to Redis' source), installed with apt.
        expect(output).toContain('redis-server not found, and not built with redis-memory-server');
        expect(output).toContain('installing redis-server with apt-get');
      } finally {
        await database.drop();
      }
    },
    360_000,
  );
});
