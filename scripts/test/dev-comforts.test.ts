import path from 'node:path';
import {
  canInstallWithApt,
  findRedisServer,
  type Machine,
  obtainRedisServer,
  RedisServerMissingError,
  type RedisServerSources,
  redisInstallHint,
} from '@otp-relay/local-services';
import { describe, expect, it } from 'vitest';
import { readyBanner } from '../dev-banner.js';

const base = { baseUrl: 'http://127.0.0.1:3000', adminUrl: 'http://127.0.0.1:3001' };

describe("pnpm dev's banner", () => {
  it('prints the generated board credentials and says the per-IP limits are relaxed', () => {
    const banner = readyBanner({
      ...base,
      env: { NODE_ENV: 'development', RATE_LIMIT_IP_MAX: '300', VERIFY_LIMIT_PER_IP: '200' },
      generatedAdmin: { user: 'admin', password: 'pw-from-dev-dir' },
      relaxedLimits: ['RATE_LIMIT_IP_MAX', 'VERIFY_LIMIT_PER_IP'],
    });
    expect(banner).toContain('http://127.0.0.1:3001/admin/queues · user admin · password pw-from-dev-dir');
    expect(banner).toContain(
      'Per-IP limits relaxed for trying by hand (RATE_LIMIT_IP_MAX=300, VERIFY_LIMIT_PER_IP=200)',
    );
    expect(banner).toMatch(/http:\/\/localhost:<any port>.*\(CORS\)/);
  });

  it('never prints a password the developer chose in .env, and says nothing of limits it did not relax', () => {
    const banner = readyBanner({
      ...base,
      env: {
        NODE_ENV: 'development',
        ADMIN_USER: 'ops',
        ADMIN_PASSWORD: 'chosen-in-dot-env',
        RATE_LIMIT_IP_MAX: '5',
      },
      relaxedLimits: [],
    });
    expect(banner).not.toContain('chosen-in-dot-env');
    expect(banner).toContain('/admin/queues (ADMIN_USER / ADMIN_PASSWORD)');
    expect(banner).not.toContain('relaxed');
  });
});

describe('finding a redis-server', () => {
  const only = (file: string) => (candidate: string) => candidate === file;

  it('takes the PATH first', () => {
    const onPath = path.join('/custom/bin', 'redis-server');
    expect(findRedisServer('/custom/bin', only(onPath))).toBe(onPath);
  });

  it("finds Homebrew's when the shell's PATH lacks it", () => {
    expect(findRedisServer('/usr/bin:/bin', only('/opt/homebrew/bin/redis-server'))).toBe(
      '/opt/homebrew/bin/redis-server',
    );
  });

  it('answers undefined when there is none', () => {
    expect(findRedisServer('/nowhere', () => false)).toBeUndefined();
  });

  it('installs only as root on a Debian-like Linux, and otherwise says how in one line', () => {
    expect(canInstallWithApt({ platform: 'linux', isRoot: true, hasApt: true })).toBe(true);
    expect(canInstallWithApt({ platform: 'linux', isRoot: false, hasApt: true })).toBe(false);
    expect(canInstallWithApt({ platform: 'darwin', isRoot: true, hasApt: false })).toBe(false);
    const mac = redisInstallHint({ platform: 'darwin', isRoot: false, hasApt: false });
    expect(mac).toContain('brew install redis');
    const debian = redisInstallHint({ platform: 'linux', isRoot: false, hasApt: true });
    expect(debian).toContain('sudo apt-get install -y redis-server');
    for (const hint of [mac, debian]) {
      expect(hint).not.toContain('\n');
      expect(hint).toContain('REDIS_URL');
    }
  });
});

describe('getting a redis-server the way the machine allows', () => {
  const rootOnDebian: Machine = { platform: 'linux', isRoot: true, hasApt: true };
  /** Records which ways were tried, in order; each answers as told. */
  function sources(machine: Machine, answers: { found?: string[]; built?: string; aptFails?: boolean }) {
    const tried: string[] = [];
    const found = [...(answers.found ?? [])];
    const ways: RedisServerSources = {
      machine,
      find: () => {
        tried.push('find');
        return found.shift() || undefined;
      },
      buildWithRedisMemoryServer: async () => {
        tried.push('redis-memory-server');
        return answers.built ? { binary: answers.built } : { skipped: 'source unreachable' };
      },
      installWithApt: async () => {
        tried.push('apt');
        if (answers.aptFails) throw new Error('apt-get install failed (code 100)');
      },
    };
    return { ways, tried };
  }

  it('uses the one it finds and tries nothing else', async () => {
    const { ways, tried } = sources(rootOnDebian, { found: ['/usr/bin/redis-server'] });
    expect(await obtainRedisServer({ install: true }, ways)).toBe('/usr/bin/redis-server');
    expect(tried).toEqual(['find']);
  });

  it('builds with redis-memory-server before installing anything', async () => {
    const { ways, tried } = sources(rootOnDebian, { built: '/cache/stable/redis-server' });
    expect(await obtainRedisServer({ install: true }, ways)).toBe('/cache/stable/redis-server');
    expect(tried).toEqual(['find', 'redis-memory-server']);
  });

  it('installs with apt as root on Debian when it cannot build, then finds the installed one', async () => {
    const { ways, tried } = sources(rootOnDebian, { found: ['', '/usr/bin/redis-server'] });
    expect(await obtainRedisServer({ install: true }, ways)).toBe('/usr/bin/redis-server');
    expect(tried).toEqual(['find', 'redis-memory-server', 'apt', 'find']);
  });

  it('never installs when the caller does not allow it (the tests), nor without root', async () => {
    for (const [machine, install] of [
      [rootOnDebian, false],
      [{ ...rootOnDebian, isRoot: false }, true],
    ] as const) {
      const { ways, tried } = sources(machine, {});
      const error = await obtainRedisServer({ install }, ways).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(RedisServerMissingError);
      expect((error as Error).message).not.toContain('\n');
      expect((error as Error).message).toContain('apt-get install -y redis-server');
      expect(tried).toEqual(['find', 'redis-memory-server']);
    }
  });

  it("says apt's error and the one-line hint when apt fails", async () => {
    const { ways } = sources(rootOnDebian, { aptFails: true });
    const error = await obtainRedisServer({ install: true }, ways).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RedisServerMissingError);
    expect((error as Error).message).toMatch(
      /apt-get install failed[\s\S]*\nredis-server not found: install it/,
    );
  });
});
