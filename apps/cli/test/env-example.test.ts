// .env.example must list every variable the services read, show each default as the schema has it,
// and name nothing else: it is read against ApiConfigSchema and WorkerConfigSchema themselves.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { ApiConfigSchema, ConfigError, loadApiConfig, WorkerConfigSchema } from '@otp-relay/core';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/paths.js';

const example = readFileSync(path.join(REPO_ROOT, '.env.example'), 'utf8');
// TypeBox schemas are JSON Schema objects: a property's default is its `default` key.
const properties: Record<string, object> = {
  ...ApiConfigSchema.properties,
  ...WorkerConfigSchema.properties,
};
const defaultOf = (schema: object): unknown => ('default' in schema ? schema.default : undefined);

/** Each variable's first line, set (`NAME=…`) or commented out (`# NAME=…`), as written. */
const lines = new Map<string, string>();
for (const text of example.split('\n')) {
  const match = /^(?:#\s?)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(text);
  if (match?.[1] && !lines.has(match[1])) lines.set(match[1], match[2] ?? '');
}

describe('.env.example', () => {
  it('lists every configuration variable', () => {
    expect(Object.keys(properties).length).toBeGreaterThan(50);
    expect(Object.keys(properties).filter((name) => !lines.has(name))).toEqual([]);
  });

  it('lists nothing the services do not read', () => {
    expect([...lines.keys()].filter((name) => !(name in properties))).toEqual([]);
  });

  it('shows each default exactly as the schema has it', () => {
    const wrong = Object.entries(properties)
      .filter(([, schema]) => defaultOf(schema) !== undefined)
      .map(([name, schema]) => ({
        name,
        shown: parseEnv(`${name}=${lines.get(name)}`)[name],
        default: String(defaultOf(schema)),
      }))
      .filter((entry) => entry.shown !== entry.default);
    expect(wrong).toEqual([]);
  });

  it('has secret placeholders the services refuse, so it never runs as is', () => {
    const env: Record<string, string | undefined> = {
      ...parseEnv(example),
      DATABASE_URL: 'postgres://x@h/db',
      REDIS_URL: 'redis://h',
    };
    for (const name of ['JWT_SECRET', 'OTP_PEPPER', 'OTP_ENCRYPTION_KEY'])
      expect(env[name]).toMatch(/^change-me-/);
    expect(example).toContain('openssl rand -hex 32');
    let problems: string[] = [];
    try {
      loadApiConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) problems = error.problems;
    }
    expect(problems.join('\n')).toMatch(/JWT_SECRET: .*32/);
  });
});
