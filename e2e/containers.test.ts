import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiConfigSchema, WorkerConfigSchema } from '@otp-relay/core';
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

describe('containers', () => {
  it.runIf(composeCommand())('docker-compose.yml is valid compose', () => {
    const [command, ...args] = composeCommand() ?? [];
    const result = spawnSync(
      command ?? 'docker-compose',
      [...args, '-f', 'docker-compose.yml', 'config', '-q'],
      {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH, JWT_SECRET: 'x', OTP_PEPPER: 'y', OTP_ENCRYPTION_KEY: 'z' },
        encoding: 'utf8',
      },
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
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
