import { aptInstall, canInstallWithApt, type Machine, thisMachine } from './apt.js';
import { findRedisServer } from './find-redis-server.js';
import { type BuildResult, redisServerFromMemoryServer } from './redis-memory-server.js';

/**
 * A redis-server to run, got the way the machine allows: found (PATH, then where package managers
 * put it), else built by redis-memory-server where it can download Redis' source, else (when
 * `install` allows it) installed with apt as root on Debian/Ubuntu; otherwise an error whose
 * message is one line saying how to install it.
 */

export class RedisServerMissingError extends Error {}

/** One line saying how to get Redis on this machine, or how to do without it. */
export function redisInstallHint(machine: Machine): string {
  const install =
    machine.platform === 'darwin'
      ? '`brew install redis`'
      : machine.hasApt
        ? '`sudo apt-get install -y redis-server`'
        : "your distribution's redis package (e.g. `sudo dnf install redis`)";
  return `redis-server not found: install it with ${install}, or set REDIS_URL to a running Redis (e.g. \`docker run -p 6379:6379 redis:7\`).`;
}

/** The ways, replaceable in tests. */
export interface RedisServerSources {
  machine: Machine;
  find(): string | undefined;
  buildWithRedisMemoryServer(log: (line: string) => void): Promise<BuildResult>;
  installWithApt(): Promise<void>;
}

const realSources = (): RedisServerSources => ({
  machine: thisMachine(),
  find: () => findRedisServer(),
  buildWithRedisMemoryServer: redisServerFromMemoryServer,
  installWithApt: () => aptInstall(['redis-server']),
});

export async function obtainRedisServer(
  options: { install?: boolean; log?: (line: string) => void } = {},
  sources: RedisServerSources = realSources(),
): Promise<string> {
  const log = options.log ?? (() => {});
  const found = sources.find();
  if (found) return found;
  const hint = redisInstallHint(sources.machine);

  const built = await sources.buildWithRedisMemoryServer(log).catch((error: unknown) => ({
    skipped: `redis-memory-server failed: ${error instanceof Error ? error.message : String(error)}`,
  }));
  if ('binary' in built) return built.binary;
  log(`redis-server not found, and not built with redis-memory-server: ${built.skipped}.`);

  if (!options.install || !canInstallWithApt(sources.machine)) throw new RedisServerMissingError(hint);
  log('installing redis-server with apt-get (root on Debian/Ubuntu)…');
  try {
    await sources.installWithApt();
  } catch (error) {
    throw new RedisServerMissingError(`${error instanceof Error ? error.message : String(error)}\n${hint}`);
  }
  const installed = sources.find();
  if (!installed)
    throw new RedisServerMissingError(`apt-get installed redis-server but it is not found.\n${hint}`);
  return installed;
}
