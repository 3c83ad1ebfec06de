import Type, { type Static, type TObject, type TProperties } from 'typebox';
import Value from 'typebox/value';

/**
 * Configuration comes from the environment only, parsed once in each app's `main.ts`
 * (never at import time) so tests build apps from plain objects.
 */

const Secret = (description: string) =>
  Type.String({
    minLength: 32,
    description: `${description} (at least 32 characters, e.g. openssl rand -hex 32)`,
  });
const Seconds = (defaultValue: number, minimum = 1) => Type.Integer({ minimum, default: defaultValue });
const OptionalString = () => Type.Optional(Type.String({ minLength: 1 }));
// A Twilio Content Template Builder SID.
const OptionalContentSid = () => Type.Optional(Type.String({ pattern: '^HX[0-9a-fA-F]{32}$' }));

const CommonProperties = {
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('test'), Type.Literal('production')], {
    default: 'development',
  }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info' },
  ),
  DATABASE_URL: Type.String({ pattern: '^postgres(ql)?://' }),
  REDIS_URL: Type.String({ pattern: '^rediss?://' }),
  // Lets several deployments (or test runs) share one Redis without seeing each other's queues.
  QUEUE_PREFIX: Type.String({ pattern: '^[A-Za-z0-9_-]+$', default: 'bull' }),
  OTP_ENCRYPTION_KEY: Secret('key material for the AES-256-GCM encryption of send payloads'),
  DELIVERY_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 50, default: 8 }),
  // 'disabled' (the default) keeps shops that only verify by email free of Twilio settings.
  WHATSAPP_PROVIDER: Type.Union([Type.Literal('twilio'), Type.Literal('console'), Type.Literal('disabled')], {
    default: 'disabled',
  }),
} satisfies TProperties;

const ApiProperties = {
  HOST: Type.String({ default: '127.0.0.1' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  JWT_SECRET: Secret('key material for signing access tokens'),
  JWT_EXPIRES_IN_SECONDS: Seconds(3600),
  JWT_ISSUER: Type.String({ default: 'otp-relay' }),
  JWT_AUDIENCE: Type.String({ default: 'otp-relay' }),
  OTP_PEPPER: Secret('key material for the HMAC that stores codes'),
  OTP_TTL_SECONDS: Type.Integer({ minimum: 30, maximum: 3600, default: 600 }),
  OTP_LENGTH: Type.Integer({ minimum: 4, maximum: 10, default: 6 }),
  OTP_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 20, default: 5 }),
  OTP_RESEND_COOLDOWN_SECONDS: Seconds(60, 0),
  OTP_DEBUG_RESPONSE: Type.Boolean({ default: false }),
  // argon2id, OWASP's minimum: 19 MiB, 2 iterations, 1 lane.
  ARGON2_MEMORY_COST: Type.Integer({ minimum: 1024, default: 19456 }),
  ARGON2_TIME_COST: Type.Integer({ minimum: 1, default: 2 }),
  ARGON2_PARALLELISM: Type.Integer({ minimum: 1, default: 1 }),
  // Behind a load balancer: `true`, or the proxies' addresses/CIDRs (comma-separated), so limits see shoppers' IPs.
  TRUST_PROXY: Type.String({ default: 'false' }),
  // The shop's frontends allowed to call the API from a browser (comma-separated origins); none by default.
  CORS_ORIGINS: Type.String({ default: '' }),
  // The operators' listener: Bull Board, /metrics and /docs, never on the shop-facing port.
  ADMIN_HOST: Type.String({ default: '127.0.0.1' }),
  ADMIN_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3001 }),
  // Bull Board at /admin/queues on the operators' listener, behind HTTP Basic auth; off unless both are set.
  ADMIN_USER: OptionalString(),
  ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 12 })),
  // Per client IP, per endpoint.
  RATE_LIMIT_IP_MAX: Type.Integer({ minimum: 1, default: 20 }),
  RATE_LIMIT_IP_WINDOW_SECONDS: Type.Integer({ minimum: 1, default: 60 }),
  // Codes and notices sent to one email address or phone number (Twilio Verify's default: 5 per 10 minutes).
  SEND_LIMIT_PER_DESTINATION: Type.Integer({ minimum: 1, default: 5 }),
  SEND_LIMIT_WINDOW_SECONDS: Type.Integer({ minimum: 1, default: 600 }),
  // Wrong codes per client IP, on top of OTP_MAX_ATTEMPTS per flow; a verify naming no open flow counts here only.
  VERIFY_LIMIT_PER_IP: Type.Integer({ minimum: 1, default: 20 }),
  // Wrong codes against one mailbox's open flows, from all IPs: a backstop well above one IP's share.
  VERIFY_LIMIT_PER_DESTINATION: Type.Integer({ minimum: 1, default: 60 }),
  VERIFY_LIMIT_WINDOW_SECONDS: Type.Integer({ minimum: 1, default: 3600 }),
  // SMS-pumping guard: countries WhatsApp codes may go to (ISO 3166 alpha-2, comma-separated; empty = any) ...
  WHATSAPP_ALLOWED_COUNTRIES: Type.String({
    pattern: '^([A-Za-z]{2}(\\s*,\\s*[A-Za-z]{2})*)?$',
    default: '',
  }),
  // ... and WhatsApp sends per country calling code per hour, across all numbers.
  WHATSAPP_COUNTRY_HOURLY_CAP: Type.Integer({ minimum: 1, default: 100 }),
  // Messages (codes and notices) the whole deployment may send per channel, per hour and per day,
  // counted in Redis across API instances; 0 = no cap. Email's are sized under one Gmail
  // Workspace sender's ~2,000 a day (lower them for a consumer account's ~500).
  SEND_BUDGET_EMAIL_HOURLY: Type.Integer({ minimum: 0, default: 300 }),
  SEND_BUDGET_EMAIL_DAILY: Type.Integer({ minimum: 0, default: 1500 }),
  SEND_BUDGET_WHATSAPP_HOURLY: Type.Integer({ minimum: 0, default: 300 }),
  SEND_BUDGET_WHATSAPP_DAILY: Type.Integer({ minimum: 0, default: 2000 }),
  // Emails per receiving domain (gmail.com, a company's domain) per hour; 0 = no cap.
  SEND_BUDGET_EMAIL_DOMAIN_HOURLY: Type.Integer({ minimum: 0, default: 150 }),
  // The share of a budget at which a warning is logged and the metric says so, in percent.
  SEND_BUDGET_WARN_PERCENT: Type.Integer({ minimum: 1, maximum: 100, default: 80 }),
  // A human check on request-otp and resend-otp (the answer travels as `captcha_token`); unset = off.
  CAPTCHA_PROVIDER: Type.Optional(Type.Union([Type.Literal('turnstile'), Type.Literal('hcaptcha')])),
  CAPTCHA_SECRET_KEY: OptionalString(),
  // The widget's public key, for pages that render it (the demo page).
  CAPTCHA_SITE_KEY: OptionalString(),
  // The provider's siteverify by default; set for proxies and tests.
  CAPTCHA_VERIFY_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
} satisfies TProperties;

const WorkerProperties = {
  // Sends wait on the provider, not the CPU: at 300 ms a send, 50 in flight is ~160 deliveries/s per worker.
  WORKER_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  // The worker's /metrics and /healthz (0: any free port, printed at start).
  WORKER_METRICS_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9464 }),
  WORKER_METRICS_HOST: Type.String({ default: '127.0.0.1' }),
  EMAIL_PROVIDER: Type.Union([Type.Literal('gmail'), Type.Literal('console')], { default: 'gmail' }),
  EMAIL_FROM: Type.String({ minLength: 3, default: 'otp-relay <no-reply@localhost>' }),
  EMAIL_CLIENT_ID: OptionalString(),
  EMAIL_CLIENT_SECRET: OptionalString(),
  EMAIL_REFRESH_TOKEN: OptionalString(),
  GMAIL_API_ROOT_URL: Type.String({ pattern: '^https?://', default: 'https://gmail.googleapis.com/' }),
  GOOGLE_OAUTH_TOKEN_URL: Type.String({
    pattern: '^https?://',
    default: 'https://oauth2.googleapis.com/token',
  }),
  TWILIO_ACCOUNT_SID: Type.Optional(Type.String({ pattern: '^AC[0-9a-fA-F]{32}$' })),
  TWILIO_AUTH_TOKEN: OptionalString(),
  TWILIO_WHATSAPP_FROM: Type.Optional(Type.String({ pattern: '^(whatsapp:)?\\+[1-9][0-9]{6,14}$' })),
  TWILIO_API_BASE_URL: Type.String({ pattern: '^https?://', default: 'https://api.twilio.com' }),
  TWILIO_WHATSAPP_CONTENT_SID: OptionalContentSid(),
  // Registration notices on WhatsApp: an approved template without variables; unset = free-form text.
  TWILIO_WHATSAPP_NOTICE_CONTENT_SID: OptionalContentSid(),
  WHATSAPP_FALLBACK_TO_EMAIL: Type.Boolean({ default: true }),
  SMTP_URL: Type.Optional(Type.String({ pattern: '^smtps?://' })),
  PROVIDER_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10000 }),
  DELIVERY_BACKOFF_BASE_MS: Type.Integer({ minimum: 1, default: 2000 }),
  DELIVERY_BACKOFF_MAX_MS: Type.Integer({ minimum: 1, default: 300_000 }),
  // How long a worker's claim on a job lasts without renewal; a killed worker's job is retried after it.
  DELIVERY_LOCK_MS: Type.Integer({ minimum: 1000, default: 30_000 }),
  // Challenges (with their deliveries) and notices are deleted this long after they expired or were sent.
  RETENTION_DAYS: Type.Integer({ minimum: 1, default: 30 }),
  // The outbox relay: how often it looks for deliveries with no job, and how old they must be.
  OUTBOX_RELAY_INTERVAL_MS: Type.Integer({ minimum: 100, default: 5000 }),
  OUTBOX_RELAY_GRACE_MS: Type.Integer({ minimum: 0, default: 10_000 }),
} satisfies TProperties;

export const ApiConfigSchema = Type.Object({ ...CommonProperties, ...ApiProperties });
export const WorkerConfigSchema = Type.Object({ ...CommonProperties, ...WorkerProperties });
export type ApiConfig = Static<typeof ApiConfigSchema>;
export type WorkerConfig = Static<typeof WorkerConfigSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function parse<Schema extends TObject>(schema: Schema, env: Env): Static<Schema> {
  // Empty strings count as unset, as in most .env tooling.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const value = Value.Clean(schema, Value.Convert(schema, Value.Default(schema, present)));
  const problems = Value.Errors(schema, value).map((error) => {
    if (error.keyword === 'required') {
      const missing = (error.params as { requiredProperties?: string[] }).requiredProperties ?? [];
      return `${missing.join(', ')}: required but not set`;
    }
    const name = error.instancePath.replace(/^\//, '');
    return `${name}: ${error.message}${name in present ? '' : ' (not set)'}`;
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return value as Static<Schema>;
}

export function loadApiConfig(env: Env): ApiConfig {
  const config = parse(ApiConfigSchema, env);
  if (Boolean(config.ADMIN_USER) !== Boolean(config.ADMIN_PASSWORD)) {
    throw new ConfigError(['ADMIN_USER, ADMIN_PASSWORD: set both to enable /admin/queues, or neither']);
  }
  if (config.NODE_ENV === 'production' && config.OTP_DEBUG_RESPONSE) {
    throw new ConfigError(['OTP_DEBUG_RESPONSE: must be false in production (it puts codes in responses)']);
  }
  return config;
}

export function loadWorkerConfig(env: Env): WorkerConfig {
  const config = parse(WorkerConfigSchema, env);
  const problems: string[] = [];
  if (config.EMAIL_PROVIDER === 'gmail') {
    for (const name of [
      'EMAIL_CLIENT_ID',
      'EMAIL_CLIENT_SECRET',
      'EMAIL_REFRESH_TOKEN',
      'EMAIL_FROM',
    ] as const) {
      if (!env[name]) problems.push(`${name}: required when EMAIL_PROVIDER=gmail`);
    }
  }
  if (config.WHATSAPP_PROVIDER === 'twilio') {
    for (const name of ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_WHATSAPP_FROM'] as const) {
      if (!env[name]) problems.push(`${name}: required when WHATSAPP_PROVIDER=twilio`);
    }
  }
  if (config.NODE_ENV === 'production') {
    for (const name of ['EMAIL_PROVIDER', 'WHATSAPP_PROVIDER'] as const) {
      if (config[name] === 'console')
        problems.push(`${name}: console only prints messages; not allowed in production`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** For entry points: a configuration problem is a message to the operator, not a stack trace. */
export function loadConfigOrExit<Config>(load: (env: Env) => Config, env: Env): Config {
  try {
    return load(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
}
