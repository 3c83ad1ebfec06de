import { isIP } from 'node:net';
import Type, { type Static, type TObject, type TProperties } from 'typebox';
import Value from 'typebox/value';
import { DEFAULT_DATABASE_SCHEMA, databaseSchemaProblem } from './database-schema.js';
import { readJwtSigningKeys } from './jwt-signing-keys.js';
import { redisSettingsProblems } from './redis-settings.js';
import { readSecretFiles } from './secret-files.js';
import { parseTrustProxy } from './trust-proxy.js';
import { webhookSecretProblems } from './webhook-settings.js';
import { parseLocaleContentSids } from './whatsapp-content-sids.js';

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
const Provider = () =>
  Type.Union([Type.Literal('twilio'), Type.Literal('console'), Type.Literal('disabled')], {
    default: 'disabled',
  });
// ISO 3166 alpha-2 codes, comma-separated, or `*` for any.
const CountryList = () =>
  Type.String({ pattern: '^(\\*|[A-Za-z]{2}(\\s*,\\s*[A-Za-z]{2})*)?$', default: '' });

const CommonProperties = {
  // Unset means production, so a deployment that forgets it fails closed; `pnpm dev` sets development.
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('test'), Type.Literal('production')], {
    default: 'production',
  }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info' },
  ),
  DATABASE_URL: Type.String({ pattern: '^postgres(ql)?://' }),
  // The Postgres schema of our tables (checked by databaseSchemaProblem): the migrations create
  // it and every connection searches only it.
  DATABASE_SCHEMA: Type.String({ default: DEFAULT_DATABASE_SCHEMA }),
  // Named prepared statements (parsed and planned once per connection). PgBouncer in transaction
  // mode before 1.21 cannot keep them, as a statement prepared in one transaction is gone in the
  // next (another server connection): false there.
  DATABASE_PREPARED_STATEMENTS: Type.Boolean({ default: true }),
  // Exactly one of: one server (REDIS_URL), a Redis Cluster's nodes, or Sentinel's (redis-settings.ts).
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  REDIS_CLUSTER_NODES: OptionalString(),
  REDIS_SENTINELS: OptionalString(),
  REDIS_SENTINEL_NAME: OptionalString(),
  // The account's auth token: the worker sends with it, the API checks Twilio's signed receipts with it.
  TWILIO_AUTH_TOKEN: OptionalString(),
  // Where providers reach this service (https://otp.shop.example): Twilio's status callbacks go to
  // PUBLIC_BASE_URL + /api/webhooks/twilio/message-status, and are asked for only when it is set.
  PUBLIC_BASE_URL: Type.Optional(Type.String({ pattern: '^https?://[^/?#]+(/[^?#]*)?$' })),
  // The countries SMS codes may go to (ISO alpha-2 list, or *): request-otp checks it, and so does
  // the worker before a code falls back to SMS.
  SMS_ALLOWED_COUNTRIES: CountryList(),
  // Lets several deployments (or test runs) share one Redis without seeing each other's queues.
  QUEUE_PREFIX: Type.String({ pattern: '^[A-Za-z0-9_-]+$', default: 'bull' }),
  OTP_ENCRYPTION_KEY: Secret('key material for the AES-256-GCM encryption of send payloads'),
  DELIVERY_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 50, default: 8 }),
  // Wrong codes a flow takes before it is locked. The worker's retention reads it too: an expired,
  // locked flow can never be used again, so its password hash goes.
  OTP_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 20, default: 5 }),
  // OpenTelemetry traces over OTLP/HTTP, off while both endpoints are unset (tracing.ts): the
  // collector's base URL (`/v1/traces` is added), or the full traces URL, which wins.
  OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(Type.String({ pattern: '^https?://' })),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: Type.Optional(Type.String({ pattern: '^https?://' })),
  // Unset: otp-relay-api or otp-relay-worker.
  OTEL_SERVICE_NAME: OptionalString(),
  // 'disabled' (the default) keeps shops that only verify by email free of Twilio settings.
  WHATSAPP_PROVIDER: Provider(),
  SMS_PROVIDER: Provider(),
  // Where signed events (Standard Webhooks) go; unset = no event is recorded at all. The API records
  // some events and the worker the rest and sends them all, so both need it.
  WEBHOOK_URL: Type.Optional(Type.String({ pattern: '^https?://[^/?#]+(/[^#]*)?$' })),
} satisfies TProperties;

const ApiProperties = {
  HOST: Type.String({ default: '127.0.0.1' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  JWT_SECRET: Secret('key material for signing access tokens'),
  JWT_EXPIRES_IN_SECONDS: Seconds(3600),
  JWT_ISSUER: Type.String({ default: 'otp-relay' }),
  JWT_AUDIENCE: Type.String({ default: 'otp-relay' }),
  // The ES256 signing keys, a JWK Set of P-256 private keys (the first signs, all verify and are
  // published at /.well-known/jwks.json), inline or in a file; neither: one derived from JWT_SECRET.
  JWT_SIGNING_KEYS: OptionalString(),
  JWT_SIGNING_KEYS_FILE: OptionalString(),
  OTP_PEPPER: Secret('key material for the HMAC that stores codes'),
  OTP_TTL_SECONDS: Type.Integer({ minimum: 30, maximum: 3600, default: 600 }),
  OTP_LENGTH: Type.Integer({ minimum: 4, maximum: 10, default: 6 }),
  OTP_RESEND_COOLDOWN_SECONDS: Seconds(60, 0),
  OTP_DEBUG_RESPONSE: Type.Boolean({ default: false }),
  // argon2id, OWASP's minimum: 19 MiB, 2 iterations, 1 lane.
  ARGON2_MEMORY_COST: Type.Integer({ minimum: 1024, default: 19456 }),
  ARGON2_TIME_COST: Type.Integer({ minimum: 1, default: 2 }),
  ARGON2_PARALLELISM: Type.Integer({ minimum: 1, default: 1 }),
  // Threads hashing passwords; 0 = one per core (set it to the CPU limit of a container).
  PASSWORD_HASH_THREADS: Type.Integer({ minimum: 0, maximum: 256, default: 0 }),
  // Hashes that may wait for a thread before request-otp answers 503 SERVICE_BUSY; 0 = twice the threads.
  PASSWORD_HASH_QUEUE_LIMIT: Type.Integer({ minimum: 0, maximum: 10_000, default: 0 }),
  // Behind a load balancer, so limits see shoppers' IPs: the number of proxies in front, or their
  // addresses/CIDRs (comma-separated); `true` (trust any peer) only outside production. See trust-proxy.ts.
  TRUST_PROXY: Type.String({ default: 'false' }),
  // The shop's frontends allowed to call the API from a browser (comma-separated origins); none by default.
  CORS_ORIGINS: Type.String({ default: '' }),
  // /readyz answers 503 while no worker consumes the delivery queue (codes would be accepted and
  // never sent); false where workers scale to zero on queue length (KEDA): readiness then says
  // `degraded` with 200, since a 503 would keep the traffic that scales them up away.
  READINESS_REQUIRES_WORKER: Type.Boolean({ default: true }),
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
  // SMS-pumping guard: countries WhatsApp codes may go to (ISO 3166 alpha-2, comma-separated, or `*`
  // for any). Production with WhatsApp on needs it set; elsewhere unset means any ...
  WHATSAPP_ALLOWED_COUNTRIES: CountryList(),
  // ... and WhatsApp sends per country calling code per hour, across all numbers.
  WHATSAPP_COUNTRY_HOURLY_CAP: Type.Integer({ minimum: 1, default: 100 }),
  // The same two for SMS, apart: text messages cost per country (and are what pumping targets),
  // so a shop may send WhatsApp codes where it would not pay for SMS. (The country list is common:
  // the worker checks it before a fallback to SMS.)
  SMS_COUNTRY_HOURLY_CAP: Type.Integer({ minimum: 1, default: 100 }),
  // Messages (codes and notices) the whole deployment may send per channel, per hour and per day,
  // counted in Redis across API instances; 0 = no cap. Email's are sized under one Gmail
  // Workspace sender's ~2,000 a day (lower them for a consumer account's ~500).
  SEND_BUDGET_EMAIL_HOURLY: Type.Integer({ minimum: 0, default: 300 }),
  SEND_BUDGET_EMAIL_DAILY: Type.Integer({ minimum: 0, default: 1500 }),
  SEND_BUDGET_WHATSAPP_HOURLY: Type.Integer({ minimum: 0, default: 300 }),
  SEND_BUDGET_WHATSAPP_DAILY: Type.Integer({ minimum: 0, default: 2000 }),
  SEND_BUDGET_SMS_HOURLY: Type.Integer({ minimum: 0, default: 300 }),
  SEND_BUDGET_SMS_DAILY: Type.Integer({ minimum: 0, default: 2000 }),
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
  // The demo signup page at `/` (for trying the service, not for shoppers); unset = on only when
  // NODE_ENV=development (demoPageEnabled).
  DEMO_PAGE: Type.Optional(Type.Boolean()),
  // false makes `username` optional on request-otp (accounts without one keep it null).
  USERNAME_REQUIRED: Type.Boolean({ default: true }),
} satisfies TProperties;

const WorkerProperties = {
  // Sends wait on the provider, not the CPU: at 300 ms a send, 50 in flight is ~160 deliveries/s per worker.
  WORKER_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  // The worker's /metrics and /healthz (0: any free port, printed at start).
  WORKER_METRICS_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9464 }),
  WORKER_METRICS_HOST: Type.String({ default: '127.0.0.1' }),
  // gmail (the Gmail API), smtp (SMTP_URL: any transactional service, or a local Mailpit), or
  // console (prints; refused in production).
  EMAIL_PROVIDER: Type.Union([Type.Literal('gmail'), Type.Literal('smtp'), Type.Literal('console')], {
    default: 'gmail',
  }),
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
  TWILIO_WHATSAPP_FROM: Type.Optional(Type.String({ pattern: '^(whatsapp:)?\\+[1-9][0-9]{6,14}$' })),
  TWILIO_API_BASE_URL: Type.String({ pattern: '^https?://', default: 'https://api.twilio.com' }),
  TWILIO_WHATSAPP_CONTENT_SID: OptionalContentSid(),
  // Registration notices on WhatsApp: an approved template without variables; unset = free-form text.
  TWILIO_WHATSAPP_NOTICE_CONTENT_SID: OptionalContentSid(),
  // One approved template per language, `es=HX…,ar=HX…` (whatsapp-content-sids.ts); a locale not
  // listed gets the single SID above, else free-form text in its language.
  TWILIO_WHATSAPP_CONTENT_SIDS: Type.String({ default: '' }),
  TWILIO_WHATSAPP_NOTICE_CONTENT_SIDS: Type.String({ default: '' }),
  // The shop's brand in every message (apps/worker/src/messages): unset name = neutral wording.
  BRAND_NAME: Type.Optional(Type.String({ minLength: 1, maxLength: 60, pattern: '^[^<>{}]+$' })),
  BRAND_LOGO_URL: Type.Optional(Type.String({ pattern: '^https?://[^\\s"<>]+$' })),
  BRAND_COLOR: Type.String({ pattern: '^#[0-9a-fA-F]{6}$', default: '#1f6feb' }),
  BRAND_SUPPORT_URL: Type.Optional(Type.String({ pattern: '^https?://[^\\s"<>]+$' })),
  // A folder whose <locale>.json entries and .mjml templates replace the shipped ones, read at start.
  TEMPLATES_DIR: OptionalString(),
  WHATSAPP_FALLBACK_TO_EMAIL: Type.Boolean({ default: true }),
  // Where a code goes when its delivery on a channel dies (or is reported undelivered): the next
  // channel after it in this list that is on and that the flow has a contact for.
  FALLBACK_CHAIN: Type.String({
    pattern: '^(email|whatsapp|sms)(\\s*,\\s*(email|whatsapp|sms))*$',
    default: 'whatsapp,sms,email',
  }),
  // SMS through Twilio Messaging: a sender number, or a Messaging Service (it picks the sender per
  // country from its pool); exactly one of them with SMS_PROVIDER=twilio.
  TWILIO_SMS_FROM: Type.Optional(Type.String({ pattern: '^\\+[1-9][0-9]{6,14}$' })),
  TWILIO_MESSAGING_SERVICE_SID: Type.Optional(Type.String({ pattern: '^MG[0-9a-fA-F]{32}$' })),
  // With EMAIL_PROVIDER=smtp the mail server; with gmail the backup that takes email when Gmail
  // fails a delivery for good or has run dry.
  SMTP_URL: Type.Optional(Type.String({ pattern: '^smtps?://' })),
  // The backup of an SMTP primary (EMAIL_PROVIDER=smtp only; with gmail, SMTP_URL is the backup).
  SMTP_BACKUP_URL: Type.Optional(Type.String({ pattern: '^smtps?://' })),
  PROVIDER_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10000 }),
  DELIVERY_BACKOFF_BASE_MS: Type.Integer({ minimum: 1, default: 2000 }),
  DELIVERY_BACKOFF_MAX_MS: Type.Integer({ minimum: 1, default: 300_000 }),
  // How long a worker's claim on a job lasts without renewal: a killed worker's job goes to another
  // worker within 1.5 × this (apps/worker/src/delivery/job-lock.ts).
  DELIVERY_LOCK_MS: Type.Integer({ minimum: 1000, default: 8000 }),
  // Challenges (with their deliveries) and notices are deleted this long after they expired or were sent.
  RETENTION_DAYS: Type.Integer({ minimum: 1, default: 30 }),
  // The outbox relay: how often it looks for deliveries with no job, and how old they must be.
  OUTBOX_RELAY_INTERVAL_MS: Type.Integer({ minimum: 100, default: 5000 }),
  OUTBOX_RELAY_GRACE_MS: Type.Integer({ minimum: 0, default: 10_000 }),
  // The Standard Webhooks signing secret(s), `whsec_<base64>`; during a rotation several,
  // comma-separated: every event is signed with each (webhook-secrets.ts). Required with WEBHOOK_URL.
  WEBHOOK_SECRET: OptionalString(),
  // One attempt's limit: a receiver that takes longer counts as failed, and is tried again.
  WEBHOOK_TIMEOUT_SECONDS: Type.Integer({ minimum: 1, maximum: 120, default: 10 }),
  // Seconds before each retry of an event its receiver did not take (after the first attempt):
  // Standard Webhooks' suggested schedule by default, ~27 hours in all; then it is dead.
  WEBHOOK_RETRY_SCHEDULE: Type.String({
    pattern: '^\\s*\\d+(\\s*,\\s*\\d+){0,49}\\s*$',
    default: '5,300,1800,7200,18000,36000,36000',
  }),
  // Events sent at once by one worker, on their own queue: slots apart from the deliveries'.
  WEBHOOK_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
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

/**
 * OWASP's argon2id minimums (Password Storage Cheat Sheet, all with parallelism 1): the memory in
 * KiB each time cost needs, for t = 1..5; more passes than 5 still need 7168 KiB.
 */
const ARGON2_MINIMUM_MEMORY_BY_TIME_COST = [47104, 19456, 12288, 9216, 7168] as const;

function argon2MinimumMemoryCost(timeCost: number): number {
  const index = Math.min(Math.max(timeCost, 1), ARGON2_MINIMUM_MEMORY_BY_TIME_COST.length) - 1;
  return ARGON2_MINIMUM_MEMORY_BY_TIME_COST[index] ?? 47104;
}

/** 127.0.0.0/8, ::1 and localhost: a proxy or relay on the same machine, where TLS adds nothing. */
function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** A provider URL production accepts: https, or http to a loopback host. */
function httpsProblem(name: string, value: string | undefined): string | undefined {
  const url = URL.parse(value ?? '');
  if (value === undefined || url?.protocol === 'https:' || (url && isLoopbackHost(url.hostname)))
    return undefined;
  return `${name}: must be an https:// URL in production (http:// only to a loopback host, e.g. a local proxy)`;
}

/** SMTP that cannot fall back to plain text: smtps://, or nodemailer's `requireTLS=true` (STARTTLS or fail). */
function smtpTlsProblem(name: string, value: string | undefined): string | undefined {
  const url = URL.parse(value ?? '');
  if (value === undefined || url?.protocol === 'smtps:' || url?.searchParams.get('requireTLS') === 'true') {
    return undefined;
  }
  if (url && isLoopbackHost(url.hostname)) return undefined;
  return `${name}: must require TLS in production: smtps://…, or smtp://…?requireTLS=true (plain SMTP only to a loopback relay)`;
}

/**
 * The weakest API settings production accepts: below these a code is too easy to guess, a stolen
 * password hash or token too cheap to use, or a shopper's IP or country no longer limits anything.
 */
function apiProductionProblems(config: ApiConfig): string[] {
  const problems: string[] = [];
  const refuseUnless = (ok: boolean, problem: string) => {
    if (!ok) problems.push(problem);
  };
  refuseUnless(
    !config.OTP_DEBUG_RESPONSE,
    'OTP_DEBUG_RESPONSE: must be false in production (it puts codes in responses)',
  );
  refuseUnless(
    config.OTP_LENGTH >= 6,
    `OTP_LENGTH: must be at least 6 digits in production (is ${config.OTP_LENGTH})`,
  );
  refuseUnless(
    config.OTP_TTL_SECONDS <= 600,
    `OTP_TTL_SECONDS: must be at most 600 (10 minutes) in production (is ${config.OTP_TTL_SECONDS})`,
  );
  refuseUnless(
    config.OTP_RESEND_COOLDOWN_SECONDS >= 30,
    `OTP_RESEND_COOLDOWN_SECONDS: must be at least 30 seconds in production (is ${config.OTP_RESEND_COOLDOWN_SECONDS})`,
  );
  refuseUnless(
    config.OTP_MAX_ATTEMPTS <= 5,
    `OTP_MAX_ATTEMPTS: must be at most 5 tries a code in production (is ${config.OTP_MAX_ATTEMPTS})`,
  );
  const minimumMemory = argon2MinimumMemoryCost(config.ARGON2_TIME_COST);
  refuseUnless(
    config.ARGON2_MEMORY_COST >= minimumMemory,
    `ARGON2_MEMORY_COST: must be at least ${minimumMemory} KiB with ARGON2_TIME_COST=${config.ARGON2_TIME_COST} ` +
      `in production (OWASP's argon2id minimum; is ${config.ARGON2_MEMORY_COST})`,
  );
  refuseUnless(
    config.JWT_EXPIRES_IN_SECONDS <= 86_400,
    `JWT_EXPIRES_IN_SECONDS: must be at most 86400 (24 hours) in production (is ${config.JWT_EXPIRES_IN_SECONDS})`,
  );
  for (const name of ['CAPTCHA_VERIFY_URL', 'PUBLIC_BASE_URL', 'WEBHOOK_URL'] as const) {
    const problem = httpsProblem(name, config[name]);
    if (problem) problems.push(problem);
  }
  const trustProxy = parseTrustProxy(config.TRUST_PROXY);
  refuseUnless(
    !('setting' in trustProxy && trustProxy.setting === true),
    'TRUST_PROXY: true lets every client name its own IP (no per-IP limit); in production give the number of ' +
      'proxies in front or their addresses/CIDRs',
  );
  refuseUnless(
    config.WHATSAPP_PROVIDER === 'disabled' || config.WHATSAPP_ALLOWED_COUNTRIES !== '',
    'WHATSAPP_ALLOWED_COUNTRIES: required in production when WhatsApp is on: the countries codes may go to ' +
      '(ISO codes, e.g. US,GB), or * for any',
  );
  refuseUnless(
    config.SMS_PROVIDER === 'disabled' || config.SMS_ALLOWED_COUNTRIES !== '',
    'SMS_ALLOWED_COUNTRIES: required in production when SMS is on: the countries codes may go to ' +
      '(ISO codes, e.g. US,GB), or * for any',
  );
  return problems;
}

function workerProductionProblems(config: WorkerConfig): string[] {
  const problems: string[] = [];
  // The worker sends SMS only as a fallback, to numbers request-otp took for WhatsApp.
  if (config.SMS_PROVIDER !== 'disabled' && config.SMS_ALLOWED_COUNTRIES === '') {
    problems.push(
      'SMS_ALLOWED_COUNTRIES: required in production when SMS is on: the countries codes may go to ' +
        '(ISO codes, e.g. US,GB), or * for any',
    );
  }
  for (const name of ['EMAIL_PROVIDER', 'WHATSAPP_PROVIDER', 'SMS_PROVIDER'] as const) {
    if (config[name] === 'console')
      problems.push(`${name}: console only prints messages; not allowed in production`);
  }
  for (const name of [
    'GMAIL_API_ROOT_URL',
    'GOOGLE_OAUTH_TOKEN_URL',
    'TWILIO_API_BASE_URL',
    'WEBHOOK_URL',
  ] as const) {
    const problem = httpsProblem(name, config[name]);
    if (problem) problems.push(problem);
  }
  for (const name of ['SMTP_URL', 'SMTP_BACKUP_URL'] as const) {
    const problem = smtpTlsProblem(name, config[name]);
    if (problem) problems.push(problem);
  }
  // Shown to shoppers in their mail clients, which block or warn on plain http.
  for (const name of ['BRAND_LOGO_URL', 'BRAND_SUPPORT_URL'] as const) {
    if (config[name]?.startsWith('http://')) problems.push(`${name}: must be an https:// URL in production`);
  }
  return problems;
}

/** Production's refusals, with a word on why production when NODE_ENV was left unset. */
function productionProblems<Config extends { NODE_ENV: string }>(
  config: Config,
  env: Env,
  rules: (config: Config) => string[],
): string[] {
  if (config.NODE_ENV !== 'production') return [];
  const problems = rules(config);
  if (problems.length > 0 && !env.NODE_ENV) {
    problems.push('NODE_ENV: not set, so production applies (set NODE_ENV=development to run locally)');
  }
  return problems;
}

/** `<NAME>_FILE` secrets read into the environment (secret-files.ts); a file problem stops here. */
function envWithSecretFiles(env: Env): Env {
  const { env: resolved, problems } = readSecretFiles(env);
  if (problems.length > 0) throw new ConfigError(problems);
  return resolved;
}

function schemaProblems(config: { DATABASE_SCHEMA: string }): string[] {
  const problem = databaseSchemaProblem(config.DATABASE_SCHEMA);
  return problem ? [problem] : [];
}

/** What the migrate command reads: the database and the schema our tables live in. */
export const MigrateConfigSchema = Type.Object({
  DATABASE_URL: CommonProperties.DATABASE_URL,
  DATABASE_SCHEMA: CommonProperties.DATABASE_SCHEMA,
});
export type MigrateConfig = Static<typeof MigrateConfigSchema>;

/** What the messages:render command reads: the worker's brand and template settings. */
export const MessagesConfigSchema = Type.Object({
  BRAND_NAME: WorkerProperties.BRAND_NAME,
  BRAND_LOGO_URL: WorkerProperties.BRAND_LOGO_URL,
  BRAND_COLOR: WorkerProperties.BRAND_COLOR,
  BRAND_SUPPORT_URL: WorkerProperties.BRAND_SUPPORT_URL,
  TEMPLATES_DIR: WorkerProperties.TEMPLATES_DIR,
});
export type MessagesConfig = Static<typeof MessagesConfigSchema>;

export function loadMessagesConfig(env: Env): MessagesConfig {
  return parse(MessagesConfigSchema, env);
}

export function loadMigrateConfig(rawEnv: Env): MigrateConfig {
  const env = envWithSecretFiles(rawEnv);
  const config = parse(MigrateConfigSchema, env);
  const problems = schemaProblems(config);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

export function loadApiConfig(rawEnv: Env): ApiConfig {
  const env = envWithSecretFiles(rawEnv);
  const config = parse(ApiConfigSchema, env);
  const problems: string[] = [];
  const signingKeys = readJwtSigningKeys(config);
  if ('problems' in signingKeys) problems.push(...signingKeys.problems);
  problems.push(...schemaProblems(config));
  problems.push(...redisSettingsProblems(config));
  if (Boolean(config.ADMIN_USER) !== Boolean(config.ADMIN_PASSWORD)) {
    problems.push('ADMIN_USER, ADMIN_PASSWORD: set both to enable /admin/queues, or neither');
  }
  const trustProxy = parseTrustProxy(config.TRUST_PROXY);
  if ('problem' in trustProxy) problems.push(`TRUST_PROXY: ${trustProxy.problem}`);
  if (config.CAPTCHA_PROVIDER && !config.CAPTCHA_SECRET_KEY) {
    problems.push(`CAPTCHA_SECRET_KEY: required when CAPTCHA_PROVIDER=${config.CAPTCHA_PROVIDER}`);
  }
  const twilioSends = config.WHATSAPP_PROVIDER === 'twilio' || config.SMS_PROVIDER === 'twilio';
  if (config.PUBLIC_BASE_URL && twilioSends && !config.TWILIO_AUTH_TOKEN) {
    problems.push(
      'TWILIO_AUTH_TOKEN: required with PUBLIC_BASE_URL, to check the signatures of Twilio receipts',
    );
  }
  problems.push(...productionProblems(config, env, apiProductionProblems));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Whether the API serves the demo page: DEMO_PAGE when set, else only in development. */
export function demoPageEnabled(config: Pick<ApiConfig, 'DEMO_PAGE' | 'NODE_ENV'>): boolean {
  return config.DEMO_PAGE ?? config.NODE_ENV === 'development';
}

/** A country list setting as upper-case ISO alpha-2 codes; empty means any country. */
function countryList(setting: string): ReadonlySet<string> {
  const value = setting.trim();
  if (value === '*') return new Set();
  return new Set(
    value
      .split(',')
      .map((code) => code.trim().toUpperCase())
      .filter(Boolean),
  );
}

/**
 * WHATSAPP_ALLOWED_COUNTRIES as upper-case ISO alpha-2 codes. Empty means any country: `*`, or
 * unset where loadApiConfig allows that (not production with WhatsApp on).
 */
export function allowedWhatsappCountries(
  config: Pick<ApiConfig, 'WHATSAPP_ALLOWED_COUNTRIES'>,
): ReadonlySet<string> {
  return countryList(config.WHATSAPP_ALLOWED_COUNTRIES);
}

/** SMS_ALLOWED_COUNTRIES, as allowedWhatsappCountries reads its list. */
export function allowedSmsCountries(
  config: Pick<ApiConfig | WorkerConfig, 'SMS_ALLOWED_COUNTRIES'>,
): ReadonlySet<string> {
  return countryList(config.SMS_ALLOWED_COUNTRIES);
}

/** What each email provider needs: Gmail's OAuth client and sender, SMTP's server. */
function emailProblems(config: WorkerConfig, env: Env): string[] {
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
  if (config.EMAIL_PROVIDER === 'smtp' && !config.SMTP_URL) {
    problems.push(
      'SMTP_URL: required when EMAIL_PROVIDER=smtp (the mail server, smtps://user:pass@host:465)',
    );
  }
  // Said, not ignored: an operator who set it believes there is a backup.
  if (config.SMTP_BACKUP_URL && config.EMAIL_PROVIDER !== 'smtp') {
    problems.push(
      `SMTP_BACKUP_URL: only used with EMAIL_PROVIDER=smtp (with ${config.EMAIL_PROVIDER}, ` +
        (config.EMAIL_PROVIDER === 'gmail' ? 'SMTP_URL is the backup)' : 'there is no backup)'),
    );
  }
  return problems;
}

/** The Twilio settings the channels on Twilio need: the account for either, and each one's sender. */
function twilioProblems(config: WorkerConfig, env: Env): string[] {
  const problems: string[] = [];
  const onTwilio = (['WHATSAPP_PROVIDER', 'SMS_PROVIDER'] as const).filter(
    (name) => config[name] === 'twilio',
  );
  if (onTwilio.length === 0) return problems;
  const why = `required when ${onTwilio.map((name) => `${name}=twilio`).join(' or ')}`;
  for (const name of ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN'] as const) {
    if (!env[name]) problems.push(`${name}: ${why}`);
  }
  if (config.WHATSAPP_PROVIDER === 'twilio' && !env.TWILIO_WHATSAPP_FROM) {
    problems.push('TWILIO_WHATSAPP_FROM: required when WHATSAPP_PROVIDER=twilio');
  }
  if (config.SMS_PROVIDER === 'twilio') {
    const senders = [config.TWILIO_SMS_FROM, config.TWILIO_MESSAGING_SERVICE_SID].filter(Boolean).length;
    if (senders !== 1) {
      problems.push(
        `TWILIO_SMS_FROM, TWILIO_MESSAGING_SERVICE_SID: ${senders === 0 ? 'one is required' : 'set only one'} ` +
          'when SMS_PROVIDER=twilio (a sender number, or a Messaging Service that picks one)',
      );
    }
  }
  return problems;
}

export function loadWorkerConfig(rawEnv: Env): WorkerConfig {
  const env = envWithSecretFiles(rawEnv);
  const config = parse(WorkerConfigSchema, env);
  const problems: string[] = [];
  problems.push(...schemaProblems(config));
  problems.push(...redisSettingsProblems(config));
  problems.push(...emailProblems(config, env));
  problems.push(...twilioProblems(config, env));
  problems.push(...webhookSecretProblems(config));
  for (const name of ['TWILIO_WHATSAPP_CONTENT_SIDS', 'TWILIO_WHATSAPP_NOTICE_CONTENT_SIDS'] as const) {
    for (const problem of parseLocaleContentSids(config[name]).problems) problems.push(`${name}: ${problem}`);
  }
  problems.push(...productionProblems(config, env, workerProductionProblems));
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
