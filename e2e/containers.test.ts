import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiConfigSchema, loadApiConfig, loadWorkerConfig, WorkerConfigSchema } from '@otp-relay/core';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from './support/processes.js';

/**
 * No container engine runs where these tests run, so this checks what can be checked without
 * one: the compose file is valid, passes every setting through, and each image command points
 * at a file the build produces.
 */

interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  profiles?: string[];
  image?: string;
}
const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, ComposeService>;
  'x-app-env': Record<string, string>;
};
const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');

/** `docker compose` (v2 plugin) or Debian's `docker-compose` (v1), whichever is installed. */
function composeCommand(): string[] | undefined {
  if (spawnSync('docker', ['compose', 'version']).status === 0) return ['docker', 'compose'];
  if (spawnSync('docker-compose', ['version']).status === 0) return ['docker-compose'];
  return undefined;
}

/** Secrets as a user's .env would give them (compose refuses to start without). */
const COMPOSE_SECRETS = {
  JWT_SECRET: 'a'.repeat(64),
  OTP_PEPPER: 'b'.repeat(64),
  OTP_ENCRYPTION_KEY: 'c'.repeat(64),
};

/** `docker-compose config` for a profile (undefined: the default), as the engine would see it. */
function composeConfig(profile: string | undefined, quiet: boolean) {
  const [command, ...args] = composeCommand() ?? [];
  return spawnSync(
    command ?? 'docker-compose',
    [
      ...args,
      '-f',
      'docker-compose.yml',
      ...(profile ? ['--profile', profile] : []),
      'config',
      ...(quiet ? ['-q'] : []),
    ],
    { cwd: REPO_ROOT, env: { PATH: process.env.PATH, ...COMPOSE_SECRETS }, encoding: 'utf8' },
  );
}

const profiles = [...new Set(Object.values(compose.services).flatMap((service) => service.profiles ?? []))];

describe('containers', () => {
  it.runIf(composeCommand())(
    'docker-compose.yml is valid compose in the default profile and every other',
    () => {
      expect(profiles).toContain('providers');
      for (const profile of [undefined, ...profiles]) {
        const result = composeConfig(profile, true);
        expect(result.stderr, profile ?? 'default').toBe('');
        expect(result.status, profile ?? 'default').toBe(0);
      }
    },
  );

  it.runIf(composeCommand())(
    'the default profile needs no account: email to Mailpit, and production accepts its settings',
    () => {
      const result = composeConfig(undefined, false);
      expect(result.status).toBe(0);
      const resolved = parse(result.stdout) as { services: Record<string, ComposeService> };
      expect(Object.keys(resolved.services)).toContain('mailpit');
      // Every service the default profile starts belongs to no profile (`config` lists them all).
      expect(compose.services.mailpit?.profiles).toBeUndefined();
      expect(compose.services['provider-check']?.profiles).toEqual(['providers']);
      for (const name of ['api', 'worker'] as const) {
        const env = resolved.services[name]?.environment ?? {};
        expect(env, name).toMatchObject({ NODE_ENV: 'production', EMAIL_PROVIDER: 'smtp' });
        expect(env.SMTP_URL, name).toMatch(/^smtp:\/\/mailpit:1025\?.*requireTLS=true/);
        // Production's own rules, as the images apply them: a refusal here would stop the container.
        expect(() => (name === 'api' ? loadApiConfig(env) : loadWorkerConfig(env)), name).not.toThrow();
      }
    },
  );

  it("publishes Mailpit's web inbox on the host's loopback only, and requires STARTTLS", () => {
    const mailpit = compose.services.mailpit;
    expect(mailpit?.image).toMatch(/^axllent\/mailpit:v\d/);
    expect(mailpit?.ports).toEqual(['127.0.0.1:8025:8025']);
    expect(mailpit?.environment).toMatchObject({ MP_SMTP_REQUIRE_STARTTLS: 'true' });
  });

  it('passes every configuration variable through to the services', () => {
    const variables = new Set([
      ...Object.keys(ApiConfigSchema.properties),
      ...Object.keys(WorkerConfigSchema.properties),
    ]);
    // The listeners' addresses are the api service's own (the worker has no such listener).
    const passed = new Set([
      ...Object.keys(compose['x-app-env']),
      'HOST',
      'PORT',
      'ADMIN_HOST',
      'ADMIN_PORT',
    ]);
    expect([...variables].filter((name) => !passed.has(name))).toEqual([]);
  });

  it("publishes the API's operators' listener on the host's loopback only", () => {
    const api = compose.services.api;
    expect(api?.environment).toMatchObject({ ADMIN_HOST: '0.0.0.0', ADMIN_PORT: '3001' });
    const adminPorts = (api?.ports ?? []).filter((mapping) => mapping.endsWith(':3001'));
    expect(adminPorts).toEqual(['127.0.0.1:3001:3001']);
  });

  it('points every image command at a file the build produces', () => {
    const commands = Object.values(compose.services)
      .map((service) => service.command)
      .filter((command): command is string[] => Array.isArray(command) && command[0] === 'node');
    const defaultCommand = /^CMD \["node", "([^"]+)"\]/m.exec(dockerfile)?.[1];
    const scripts = [...commands.map((command) => command[1]), defaultCommand];
    expect(scripts).toContain('apps/api/dist/main.js');
    expect(scripts).toContain('apps/worker/dist/main.js');
    expect(scripts).toContain('packages/db/dist/migrate-cli.js');
    for (const script of scripts) expect(existsSync(join(REPO_ROOT, script ?? '')), script).toBe(true);
    expect(existsSync(join(REPO_ROOT, 'packages/db/migrations'))).toBe(true);
  });

  it("ships the demo page's build beside the API, which serves it when DEMO_PAGE is on", () => {
    const shipped = /for dir in ([^;]+); do/.exec(dockerfile)?.[1]?.split(/\s+/) ?? [];
    expect(shipped).toEqual(expect.arrayContaining(['apps/api', 'apps/demo']));
    expect(existsSync(join(REPO_ROOT, 'apps/demo/dist/index.html'))).toBe(true);
  });

  it('copies every workspace manifest before installing', () => {
    for (const group of ['apps', 'packages']) {
      for (const name of readdirSync(join(REPO_ROOT, group))) {
        if (!existsSync(join(REPO_ROOT, group, name, 'package.json'))) continue;
        expect(dockerfile).toContain(`COPY ${group}/${name}/package.json ${group}/${name}/`);
      }
    }
  });
});

describe('the image', () => {
  it('runs Node 24 LTS', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
  });

  it('installs the pnpm that package.json pins, as CI does', () => {
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      packageManager?: string;
      engines?: { pnpm?: string };
    };
    const pinned = /^pnpm@(\d+\.\d+\.\d+)(\+sha512\.[0-9a-f]{128})?$/.exec(
      manifest.packageManager ?? '',
    )?.[1];
    expect(pinned).toBeDefined();
    expect(/^ARG PNPM_VERSION=(\S+)$/m.exec(dockerfile)?.[1]).toBe(pinned);
    const ci = readFileSync(join(REPO_ROOT, '.ci/run'), 'utf8');
    expect(/npm i(?:nstall)? -g pnpm@(\S+)/.exec(ci)?.[1]).toBe(pinned);
    // engines.pnpm's floor is at or below the pin.
    const floor = /^>=(\d+)$/.exec(manifest.engines?.pnpm ?? '')?.[1];
    expect(Number(floor)).toBeLessThanOrEqual(Number(pinned?.split('.')[0]));
  });

  it('puts one otp-relay command on PATH that dispatches to built entry points the image ships', async () => {
    const { OTP_RELAY_COMMANDS } = await import('../apps/cli/src/otp-relay-commands.js');
    const wrapper = /exec node \/app\/(\S+) "\$@"/.exec(dockerfile)?.[1];
    expect(wrapper).toBe('apps/cli/dist/otp-relay.js');
    expect(dockerfile).toContain('/usr/local/bin/otp-relay');
    const shipped = /for dir in ([^;]+); do/.exec(dockerfile)?.[1]?.split(/\s+/) ?? [];
    expect(Object.keys(OTP_RELAY_COMMANDS)).toEqual(
      expect.arrayContaining(['migrate', 'check', 'lookup', 'dlq-replay', 'jwt-keygen', 'messages-render']),
    );
    for (const [name, { entry }] of Object.entries(OTP_RELAY_COMMANDS)) {
      expect(existsSync(join(REPO_ROOT, entry)), `${name}: ${entry}`).toBe(true);
      expect(
        shipped.some((dir) => entry.startsWith(`${dir}/dist/`)),
        `${name}: ${entry} is shipped`,
      ).toBe(true);
    }
  });

  it('otp-relay lists its commands, refuses an unknown one, and hands a command its own arguments', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['apps/cli/dist/otp-relay.js', ...args], {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH },
        encoding: 'utf8',
      });
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/migrate[\s\S]*lookup[\s\S]*dlq-replay/);
    const unknown = run('rm');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown command "rm"');
    // jwt-keygen's own --help: the argument reached the entry point, not otp-relay.
    const keygen = run('jwt-keygen', '--help');
    expect(keygen.status).toBe(0);
    expect(keygen.stdout).toContain('jwt-keygen');
    expect(keygen.stdout).not.toContain('Usage: otp-relay');
  });
});
