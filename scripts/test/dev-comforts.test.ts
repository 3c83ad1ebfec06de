import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readyBanner } from '../dev-banner.js';
import { canInstallWithApt, findRedisServer, redisInstallHint } from '../dev-redis-server.js';

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
  const only = (file: string) => async (candidate: string) => candidate === file;

  it('takes the PATH first', async () => {
    const onPath = path.join('/custom/bin', 'redis-server');
    expect(await findRedisServer('/custom/bin', only(onPath))).toBe(onPath);
  });

  it("finds Homebrew's when the shell's PATH lacks it", async () => {
    expect(await findRedisServer('/usr/bin:/bin', only('/opt/homebrew/bin/redis-server'))).toBe(
      '/opt/homebrew/bin/redis-server',
    );
  });

  it('answers undefined when there is none', async () => {
    expect(await findRedisServer('/nowhere', async () => false)).toBeUndefined();
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
