import type { WorkerConfig } from './config.js';

/**
 * The webhook settings as the worker uses them: WEBHOOK_SECRET as a list of keys, and
 * WEBHOOK_RETRY_SCHEDULE as delays. Checked by loadWorkerConfig, read by the sender.
 */

const SECRET_PREFIX = 'whsec_';
/** Standard Webhooks: a secret is 24 to 64 random bytes (Svix makes 24; `openssl rand -base64 32` is fine). */
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;

/** WEBHOOK_SECRET split at commas: the current secret and, during a rotation, the others. */
export function webhookSecrets(config: Pick<WorkerConfig, 'WEBHOOK_SECRET'>): string[] {
  return (config.WEBHOOK_SECRET ?? '')
    .split(',')
    .map((secret) => secret.trim())
    .filter(Boolean);
}

/** Why one secret is not of the `whsec_<base64>` form, or undefined. Never quotes the secret. */
function secretProblem(secret: string, position: number): string | undefined {
  const which = `secret ${position}`;
  if (!secret.startsWith(SECRET_PREFIX)) return `${which} does not start with ${SECRET_PREFIX}`;
  const encoded = secret.slice(SECRET_PREFIX.length);
  const bytes = Buffer.from(encoded, 'base64');
  // Buffer skips characters that are not base64: encoding back tells a clean value from a mangled one.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || bytes.toString('base64') !== encoded) {
    return `${which} is not base64 after ${SECRET_PREFIX}`;
  }
  if (bytes.length < MIN_SECRET_BYTES || bytes.length > MAX_SECRET_BYTES) {
    return `${which} is ${bytes.length} bytes; it must be ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES}`;
  }
  return undefined;
}

export function webhookSecretProblems(
  config: Pick<WorkerConfig, 'WEBHOOK_URL' | 'WEBHOOK_SECRET'>,
): string[] {
  const secrets = webhookSecrets(config);
  if (config.WEBHOOK_URL && secrets.length === 0) {
    return [
      'WEBHOOK_SECRET: required when WEBHOOK_URL is set (whsec_ followed by base64 of 24 to 64 random bytes, ' +
        'e.g. whsec_$(openssl rand -base64 32))',
    ];
  }
  return secrets.flatMap((secret, index) => {
    const problem = secretProblem(secret, index + 1);
    return problem
      ? [`WEBHOOK_SECRET: ${problem} (the form is whsec_<base64>; several are comma-separated)`]
      : [];
  });
}

/** The wait before each retry, in milliseconds; an event gets one attempt more than it has entries. */
export function webhookRetryDelaysMs(config: Pick<WorkerConfig, 'WEBHOOK_RETRY_SCHEDULE'>): number[] {
  return config.WEBHOOK_RETRY_SCHEDULE.split(',').map((seconds) => Number(seconds.trim()) * 1000);
}
