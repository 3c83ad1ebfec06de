import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findExecutable } from './executables.js';

/**
 * redis-server built by redis-memory-server: it downloads Redis' source once, builds it with the
 * machine's make and C compiler and keeps the binary in node_modules/.cache, so later runs reuse it.
 * Only tried where that can work, and given up within seconds otherwise (no make or compiler, or
 * the source cannot be reached, e.g. a network that only reaches package registries).
 */

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DOWNLOAD_DIR = path.join(REPO_ROOT, 'node_modules', '.cache', 'redis-memory-server', 'redis-binaries');
/** How long the source's host may take to answer before we go on to the next way. */
const REACHABLE_TIMEOUT_MS = 5_000;

export type BuildResult = { binary: string } | { skipped: string };

export async function redisServerFromMemoryServer(log: (line: string) => void): Promise<BuildResult> {
  const version = process.env.REDISMS_VERSION || 'stable';
  const built = path.join(DOWNLOAD_DIR, version, 'redis-server');
  if (existsSync(built)) return { binary: built };
  if (!findExecutable('make')) return { skipped: 'no `make` to build Redis with' };
  if (!['cc', 'gcc', 'clang'].some((compiler) => findExecutable(compiler))) {
    return { skipped: 'no C compiler (cc, gcc or clang) to build Redis with' };
  }
  // Imported lazily: most runs find a redis-server and never load it.
  const { RedisBinary } = await import('redis-memory-server');
  // A CommonJS module, required as such: ESM interop differs between Node and tsx.
  const downloadUrlModule = createRequire(import.meta.url)(
    'redis-memory-server/lib/util/RedisBinaryDownloadUrl.js',
  ) as typeof import('redis-memory-server/lib/util/RedisBinaryDownloadUrl.js');
  const url = await new downloadUrlModule.default({ version }).getDownloadUrl();
  try {
    const response = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(REACHABLE_TIMEOUT_MS) });
    if (!response.ok) return { skipped: `Redis' source answered ${response.status}` };
  } catch {
    return { skipped: `Redis' source (${new URL(url).host}) cannot be reached from here` };
  }
  log('building Redis from source with redis-memory-server (first run only; a few minutes)…');
  return { binary: await RedisBinary.getPath({ version, downloadDir: DOWNLOAD_DIR }) };
}
