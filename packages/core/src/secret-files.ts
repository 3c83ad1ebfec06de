import { readFileSync } from 'node:fs';

/**
 * The settings that may come from a file named by `<NAME>_FILE` (a mounted Kubernetes or Docker
 * secret) instead of the environment, where any process on the node could read them.
 * JWT_SIGNING_KEYS_FILE is not here: it is a setting of its own, read by readJwtSigningKeys.
 */
export const FILE_SECRET_SETTINGS = [
  'DATABASE_URL',
  'REDIS_URL',
  // Their entries may be URLs carrying the Redis password (redis-settings.ts).
  'REDIS_CLUSTER_NODES',
  'REDIS_SENTINELS',
  'JWT_SECRET',
  'OTP_PEPPER',
  'OTP_ENCRYPTION_KEY',
  'ADMIN_PASSWORD',
  'CAPTCHA_SECRET_KEY',
  'EMAIL_CLIENT_ID',
  'EMAIL_CLIENT_SECRET',
  'EMAIL_REFRESH_TOKEN',
  'SMTP_URL',
  'SMTP_BACKUP_URL',
  'TWILIO_AUTH_TOKEN',
  'WEBHOOK_SECRET',
] as const;

type Env = Record<string, string | undefined>;

export type ReadFile = (path: string) => string;

const readUtf8: ReadFile = (path) => readFileSync(path, 'utf8');

/**
 * The environment with each `<NAME>_FILE` read into `<NAME>`, before the schema parses it. Both
 * set is refused (which one wins would be a guess); one trailing newline, which `echo` and most
 * editors add, is dropped. An empty value counts as unset, as the schema parse does. Problems are
 * returned, each naming its variable, for the config loaders to report with their own.
 */
export function readSecretFiles(env: Env, readFile: ReadFile = readUtf8): { env: Env; problems: string[] } {
  const resolved: Env = { ...env };
  const problems: string[] = [];
  for (const name of FILE_SECRET_SETTINGS) {
    const fileVariable = `${name}_FILE`;
    const path = env[fileVariable];
    if (path === undefined || path === '') continue;
    if (env[name] !== undefined && env[name] !== '') {
      problems.push(`${name}, ${fileVariable}: set only one (the value, or the file holding it)`);
      continue;
    }
    let content: string;
    try {
      content = readFile(path);
    } catch (error) {
      // The code (ENOENT, EACCES) says what to fix; the path is the operator's own setting.
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      problems.push(`${fileVariable}: cannot read ${path} (${code})`);
      continue;
    }
    resolved[name] = content.replace(/\r?\n$/, '');
  }
  return { env: resolved, problems };
}
