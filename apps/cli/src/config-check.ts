/**
 * Answers are checked the way the services will check them: by running them through the apps' own
 * loaders (`loadApiConfig`, `loadWorkerConfig`), so setup can never accept what the API or the worker
 * would refuse at start-up.
 */
import { ConfigError, loadApiConfig, loadWorkerConfig } from '@otp-relay/core';

type Env = Record<string, string | undefined>;

/**
 * Stand-ins for what is legitimately missing while validating: `pnpm dev` starts its own Postgres and
 * Redis when DATABASE_URL/REDIS_URL are unset.
 */
export const CONNECTION_PLACEHOLDERS = {
  DATABASE_URL: 'postgres://placeholder@127.0.0.1:5432/placeholder',
  REDIS_URL: 'redis://127.0.0.1:6379',
} as const;

/** No way to Redis is set (no URL, cluster or sentinels): `pnpm dev` would start its own. */
export function redisUnset(env: Env): boolean {
  return !env.REDIS_URL && !env.REDIS_CLUSTER_NODES && !env.REDIS_SENTINELS;
}

function problemsOf(load: (env: Env) => unknown, env: Env): string[] {
  try {
    load(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

/** Every problem either service would report for `env` (connection URLs filled in when unset). */
export function validateEnv(env: Env): string[] {
  const complete = {
    ...env,
    DATABASE_URL: env.DATABASE_URL || CONNECTION_PLACEHOLDERS.DATABASE_URL,
    ...(redisUnset(env) ? { REDIS_URL: CONNECTION_PLACEHOLDERS.REDIS_URL } : {}),
  };
  return [...new Set([...problemsOf(loadApiConfig, complete), ...problemsOf(loadWorkerConfig, complete)])];
}

// A valid environment apart from the one answer under test.
const BASE_ENV: Env = {
  ...CONNECTION_PLACEHOLDERS,
  JWT_SECRET: 'x'.repeat(32),
  OTP_PEPPER: 'x'.repeat(32),
  OTP_ENCRYPTION_KEY: 'x'.repeat(32),
  EMAIL_PROVIDER: 'console',
};

/**
 * What the services would say about `value` as `name` under `nodeEnv` (production's rules are
 * stricter), or `undefined` when they accept it.
 */
export function problemWith(name: string, value: string, nodeEnv: string): string | undefined {
  const mine = (problem: string) => problem.split(':')[0]?.split(', ').includes(name) ?? false;
  return validateEnv({ ...BASE_ENV, NODE_ENV: nodeEnv, [name]: value }).find(mine);
}
