/**
 * The setup's questions and their answers. Each answer comes from its flag when given, else from a
 * prompt; with `--non-interactive` nothing is asked and every missing required answer is a usage error
 * naming its flag. Answers are checked by the services' own config loaders (see config-check.ts).
 */
import { oneOf, UsageError } from './cli-args.js';
import { problemWith } from './config-check.js';
import type { Choice, Prompter, Validate } from './prompter.js';

export const NODE_ENVS = ['development', 'production', 'test'] as const;
export const EMAIL_PROVIDERS = ['gmail', 'smtp', 'console'] as const;
export const WHATSAPP_PROVIDERS = ['twilio', 'console', 'disabled'] as const;
export const SMS_PROVIDERS = ['twilio', 'console', 'disabled'] as const;
export const TWILIO_SANDBOX_NUMBER = '+14155238886';

export type NodeEnv = (typeof NODE_ENVS)[number];
export type EmailProvider = (typeof EMAIL_PROVIDERS)[number];
export type WhatsAppProvider = (typeof WHATSAPP_PROVIDERS)[number];
export type SmsProvider = (typeof SMS_PROVIDERS)[number];

export interface GmailAnswers {
  clientId: string;
  clientSecret: string;
  from: string;
  /** Given by flag or pasted; `undefined` = get one through Google's consent page. */
  refreshToken: string | undefined;
}

/** The Twilio account (shared by WhatsApp and SMS) and each channel's sender on it. */
export interface TwilioAnswers {
  accountSid: string;
  authToken: string;
  /** With WHATSAPP_PROVIDER=twilio. */
  whatsappFrom: string | undefined;
  contentSid: string | undefined;
  /** With SMS_PROVIDER=twilio: a number, or a Messaging Service (exactly one of the two). */
  smsFrom: string | undefined;
  messagingServiceSid: string | undefined;
}

export interface SetupAnswers {
  nodeEnv: NodeEnv;
  emailProvider: EmailProvider;
  gmail: GmailAnswers | undefined;
  whatsappProvider: WhatsAppProvider;
  twilio: TwilioAnswers | undefined;
  /** WHATSAPP_ALLOWED_COUNTRIES: ISO codes or `*`; production with WhatsApp on needs it. */
  whatsappAllowedCountries: string | undefined;
  smsProvider: SmsProvider;
  /** SMS_ALLOWED_COUNTRIES, as WhatsApp's. */
  smsAllowedCountries: string | undefined;
  /** The mail server with EMAIL_PROVIDER=smtp; with gmail, its optional backup. */
  smtpUrl: string | undefined;
  /** EMAIL_FROM with EMAIL_PROVIDER=smtp (Gmail's is in `gmail`); unset keeps the default. */
  emailFrom: string | undefined;
  corsOrigins: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
}

/** The answer flags, as parsed (all optional strings). */
export interface AnswerFlags {
  'node-env'?: string | undefined;
  'email-provider'?: string | undefined;
  'whatsapp-provider'?: string | undefined;
  'gmail-client-id'?: string | undefined;
  'gmail-client-secret'?: string | undefined;
  'gmail-refresh-token'?: string | undefined;
  'email-from'?: string | undefined;
  'twilio-account-sid'?: string | undefined;
  'twilio-auth-token'?: string | undefined;
  'twilio-whatsapp-from'?: string | undefined;
  'twilio-content-sid'?: string | undefined;
  'whatsapp-allowed-countries'?: string | undefined;
  'sms-provider'?: string | undefined;
  'twilio-sms-from'?: string | undefined;
  'twilio-messaging-service-sid'?: string | undefined;
  'sms-allowed-countries'?: string | undefined;
  'smtp-url'?: string | undefined;
  'cors-origins'?: string | undefined;
  'database-url'?: string | undefined;
  'redis-url'?: string | undefined;
}

type AnswerFlag = keyof AnswerFlags;

/** The variable each flag sets, so its value can be checked by the config loaders. */
export const FLAG_VARIABLES: Readonly<Record<AnswerFlag, string>> = {
  'node-env': 'NODE_ENV',
  'email-provider': 'EMAIL_PROVIDER',
  'whatsapp-provider': 'WHATSAPP_PROVIDER',
  'gmail-client-id': 'EMAIL_CLIENT_ID',
  'gmail-client-secret': 'EMAIL_CLIENT_SECRET',
  'gmail-refresh-token': 'EMAIL_REFRESH_TOKEN',
  'email-from': 'EMAIL_FROM',
  'twilio-account-sid': 'TWILIO_ACCOUNT_SID',
  'twilio-auth-token': 'TWILIO_AUTH_TOKEN',
  'twilio-whatsapp-from': 'TWILIO_WHATSAPP_FROM',
  'twilio-content-sid': 'TWILIO_WHATSAPP_CONTENT_SID',
  'whatsapp-allowed-countries': 'WHATSAPP_ALLOWED_COUNTRIES',
  'sms-provider': 'SMS_PROVIDER',
  'twilio-sms-from': 'TWILIO_SMS_FROM',
  'twilio-messaging-service-sid': 'TWILIO_MESSAGING_SERVICE_SID',
  'sms-allowed-countries': 'SMS_ALLOWED_COUNTRIES',
  'smtp-url': 'SMTP_URL',
  'cors-origins': 'CORS_ORIGINS',
  'database-url': 'DATABASE_URL',
  'redis-url': 'REDIS_URL',
};

// What the loaders' pattern messages mean, in the operator's terms.
const HINTS: Readonly<Record<string, string>> = {
  TWILIO_ACCOUNT_SID: 'AC followed by 32 hex characters (Twilio console → Account info)',
  TWILIO_WHATSAPP_FROM: 'a number in E.164 form, e.g. +14155238886 (optionally prefixed whatsapp:)',
  TWILIO_WHATSAPP_CONTENT_SID: 'HX followed by 32 hex characters (Content Template Builder)',
  TWILIO_SMS_FROM: 'a number of the Twilio account in E.164 form, e.g. +15005550006',
  TWILIO_MESSAGING_SERVICE_SID: 'MG followed by 32 hex characters (Messaging → Services)',
  SMTP_URL:
    'smtps://user:pass@host:465, or smtp://user:pass@host:587?requireTLS=true (production requires TLS)',
  WHATSAPP_ALLOWED_COUNTRIES: 'ISO country codes, comma-separated (e.g. US,GB,DE), or * for any country',
  SMS_ALLOWED_COUNTRIES: 'ISO country codes, comma-separated (e.g. US,CA), or * for any country',
  DATABASE_URL: 'postgres://user:pass@host:5432/db',
  REDIS_URL: 'redis://host:6379 or rediss://…',
};

/**
 * `true`, or what the services (or the extra rules below) find wrong with `value` as `variable` in
 * a `nodeEnv` deployment.
 */
export function checkAnswer(variable: string, value: string, nodeEnv: NodeEnv): true | string {
  const extra = EXTRA_RULES[variable]?.(value);
  if (extra !== undefined && extra !== true) return extra;
  const problem = problemWith(variable, value, nodeEnv);
  if (problem === undefined) return true;
  const hint = HINTS[variable];
  return hint ? `${problem}; expected ${hint}` : problem;
}

/** `Shop <no-reply@shop.example>` or a bare address. */
const EMAIL_FROM = /^(?:[^<>]*<[^<>@\s]+@[^<>@\s]+>|[^<>@\s]+@[^<>@\s]+)$/;

/** Rules the config schema leaves loose but the services depend on. */
const EXTRA_RULES: Readonly<Record<string, Validate>> = {
  EMAIL_FROM: (value) =>
    EMAIL_FROM.test(value.trim()) || 'EMAIL_FROM: expected an address, e.g. Shop <no-reply@shop.example>',
  CORS_ORIGINS: (value) => {
    const bad = value
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean)
      .filter((origin) => {
        try {
          return new URL(origin).origin !== origin;
        } catch {
          return true;
        }
      });
    return (
      bad.length === 0 ||
      `CORS_ORIGINS: not an origin (scheme://host[:port], no path or trailing slash): ${bad.join(', ')}`
    );
  },
};

const nonEmpty =
  (what: string): Validate =>
  (value) =>
    value.trim() !== '' || `${what} is required`;

// Checked by oneOf, which lists the choices (the loaders only say "must be equal to constant").
const CHOICE_FLAGS = new Set<AnswerFlag>(['node-env', 'email-provider', 'whatsapp-provider', 'sms-provider']);

/** The environment the answers are for: production's rules are stricter. */
const nodeEnvFlag = (flags: AnswerFlags): NodeEnv | undefined =>
  oneOf('node-env', flags['node-env'], NODE_ENVS);

/** Every given answer flag, checked like its variable; the first problem of each is reported. */
function checkFlags(flags: AnswerFlags): void {
  const nodeEnv = nodeEnvFlag(flags) ?? 'development';
  const problems: string[] = [];
  for (const [flag, variable] of Object.entries(FLAG_VARIABLES) as [AnswerFlag, string][]) {
    const value = flags[flag];
    if (value === undefined || value === '' || CHOICE_FLAGS.has(flag)) continue;
    const verdict = checkAnswer(variable, value, nodeEnv);
    if (verdict !== true) problems.push(`--${flag}: ${verdict}`);
  }
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
}

/** With `--non-interactive`: everything from flags, every missing required one named. */
export function answersFromFlags(flags: AnswerFlags): SetupAnswers {
  checkFlags(flags);
  const nodeEnv = nodeEnvFlag(flags) ?? 'development';
  const missing: string[] = [];
  const need = (flag: AnswerFlag, why: string): string => {
    const value = flags[flag];
    if (value) return value;
    missing.push(`--${flag} (${why})`);
    return '';
  };
  const emailProvider = oneOf('email-provider', flags['email-provider'], EMAIL_PROVIDERS);
  if (!emailProvider) missing.push('--email-provider (gmail, smtp or console)');
  const smtpUrl =
    emailProvider === 'smtp'
      ? need('smtp-url', 'required with --email-provider smtp')
      : flags['smtp-url'] || undefined;
  const whatsappProvider =
    oneOf('whatsapp-provider', flags['whatsapp-provider'], WHATSAPP_PROVIDERS) ?? 'disabled';
  const smsProvider = oneOf('sms-provider', flags['sms-provider'], SMS_PROVIDERS) ?? 'disabled';
  const gmail: GmailAnswers | undefined =
    emailProvider === 'gmail'
      ? {
          clientId: need('gmail-client-id', 'required with --email-provider gmail'),
          clientSecret: need('gmail-client-secret', 'required with --email-provider gmail'),
          from: need('email-from', 'required with --email-provider gmail'),
          refreshToken: flags['gmail-refresh-token'] || undefined,
        }
      : undefined;
  const onTwilio = [
    ...(whatsappProvider === 'twilio' ? ['--whatsapp-provider twilio'] : []),
    ...(smsProvider === 'twilio' ? ['--sms-provider twilio'] : []),
  ];
  const forAccount = `required with ${onTwilio.join(' or ')}`;
  const smsSender = (): Pick<TwilioAnswers, 'smsFrom' | 'messagingServiceSid'> => {
    const smsFrom = flags['twilio-sms-from'] || undefined;
    const messagingServiceSid = flags['twilio-messaging-service-sid'] || undefined;
    // Both given is left to the services' own check, which names both.
    if (!smsFrom && !messagingServiceSid) {
      missing.push(
        '--twilio-sms-from or --twilio-messaging-service-sid (one is required with --sms-provider twilio)',
      );
    }
    return { smsFrom, messagingServiceSid };
  };
  const twilio: TwilioAnswers | undefined =
    onTwilio.length > 0
      ? {
          accountSid: need('twilio-account-sid', forAccount),
          authToken: need('twilio-auth-token', forAccount),
          whatsappFrom:
            whatsappProvider === 'twilio'
              ? need('twilio-whatsapp-from', 'required with --whatsapp-provider twilio')
              : undefined,
          contentSid: (whatsappProvider === 'twilio' && flags['twilio-content-sid']) || undefined,
          ...(smsProvider === 'twilio'
            ? smsSender()
            : { smsFrom: undefined, messagingServiceSid: undefined }),
        }
      : undefined;
  const countries = (on: boolean, flag: AnswerFlag, channel: string, example: string) =>
    on && nodeEnv === 'production'
      ? need(flag, `required in production with ${channel}: e.g. ${example}, or * for any`)
      : (on && flags[flag]) || undefined;
  const whatsappAllowedCountries = countries(
    whatsappProvider !== 'disabled',
    'whatsapp-allowed-countries',
    'WhatsApp',
    'US,GB',
  );
  const smsAllowedCountries = countries(smsProvider !== 'disabled', 'sms-allowed-countries', 'SMS', 'US,CA');
  if (missing.length > 0) {
    throw new UsageError(`--non-interactive needs these answers as flags:\n  ${missing.join('\n  ')}`);
  }
  return {
    nodeEnv,
    // Checked above: missing would have thrown.
    emailProvider: emailProvider ?? 'console',
    gmail,
    whatsappProvider,
    twilio,
    whatsappAllowedCountries,
    smsProvider,
    smsAllowedCountries,
    smtpUrl,
    emailFrom: (emailProvider === 'smtp' && flags['email-from']) || undefined,
    corsOrigins: flags['cors-origins'] ?? '',
    databaseUrl: flags['database-url'] || undefined,
    redisUrl: flags['redis-url'] || undefined,
  };
}

/** Interactive: flags answer their questions; the rest is asked. */
export async function askAnswers(flags: AnswerFlags, prompter: Prompter): Promise<SetupAnswers> {
  checkFlags(flags);
  const secret = async (flag: AnswerFlag, message: string) =>
    flags[flag] ?? (await prompter.password({ message, validate: nonEmpty(FLAG_VARIABLES[flag]) })).trim();
  const choose = async <T extends string>(
    flag: AnswerFlag,
    allowed: readonly T[],
    message: string,
    choices: Choice<T>[],
    fallback: T,
  ): Promise<T> =>
    oneOf(flag, flags[flag], allowed) ?? (await prompter.select({ message, choices, default: fallback }));

  const nodeEnv = await choose(
    'node-env',
    NODE_ENVS,
    'Which environment is this .env for?',
    [
      { name: 'development', value: 'development', description: 'your machine: pnpm dev' },
      { name: 'production', value: 'production', description: 'real shoppers: real providers only' },
      { name: 'test', value: 'test', description: 'automated test runs' },
    ],
    'development',
  );
  // Typed answers are checked by the chosen environment's rules (production's are stricter).
  const validated =
    (variable: string, required = true): Validate =>
    (value) => {
      if (value.trim() === '') return required ? `${variable} is required` : true;
      return checkAnswer(variable, value.trim(), nodeEnv);
    };
  const text = async (
    flag: AnswerFlag,
    message: string,
    extra: { default?: string; optional?: boolean } = {},
  ) => {
    const given = flags[flag];
    if (given !== undefined) return given;
    const answer = await prompter.input({
      message,
      ...(extra.default === undefined ? {} : { default: extra.default }),
      validate: validated(FLAG_VARIABLES[flag], !extra.optional),
    });
    return answer.trim();
  };
  const production = nodeEnv === 'production';
  const consoleNotInProduction = production ? 'not allowed in production' : false;

  const emailProvider = await choose(
    'email-provider',
    EMAIL_PROVIDERS,
    'How should codes be emailed?',
    [
      { name: 'Gmail API', value: 'gmail', description: 'sends from your Gmail or Google Workspace account' },
      {
        name: 'SMTP server',
        value: 'smtp',
        description: 'any transactional mail service, or a local Mailpit (SMTP_URL)',
      },
      {
        name: 'Console',
        value: 'console',
        description: "prints each message in the worker's log; nothing is sent",
        disabled: consoleNotInProduction,
      },
    ],
    production ? 'gmail' : 'console',
  );

  let gmail: GmailAnswers | undefined;
  if (emailProvider === 'gmail') {
    const clientId = await text('gmail-client-id', 'Google OAuth client ID (…apps.googleusercontent.com):');
    const clientSecret = await secret('gmail-client-secret', 'Google OAuth client secret:');
    const from = await text('email-from', 'From address (the Gmail account or one of its aliases):', {
      default: 'Shop <no-reply@shop.example>',
    });
    let refreshToken = flags['gmail-refresh-token'] || undefined;
    if (refreshToken === undefined) {
      const how = await prompter.select({
        message: 'Gmail refresh token:',
        choices: [
          { name: 'Sign in with Google now (opens the consent page)', value: 'consent' },
          { name: 'Paste one I already have', value: 'paste' },
        ],
        default: 'consent',
      });
      if (how === 'paste') {
        refreshToken = (
          await prompter.password({ message: 'Refresh token:', validate: nonEmpty('EMAIL_REFRESH_TOKEN') })
        ).trim();
      }
    }
    gmail = { clientId, clientSecret, from, refreshToken };
  }
  let smtpUrl = flags['smtp-url'] || undefined;
  let emailFrom: string | undefined;
  if (emailProvider === 'smtp') {
    smtpUrl = await text(
      'smtp-url',
      'SMTP URL of the mail service (smtps://user:pass@host:465, or smtp://user:pass@host:587?requireTLS=true):',
    );
    emailFrom = await text('email-from', 'From address (one the mail service accepts for you):', {
      default: 'Shop <no-reply@shop.example>',
    });
  }

  const whatsappProvider =
    oneOf('whatsapp-provider', flags['whatsapp-provider'], WHATSAPP_PROVIDERS) ??
    ((await prompter.confirm({ message: 'Also send codes by WhatsApp?', default: false }))
      ? await prompter.select<WhatsAppProvider>({
          message: 'Which WhatsApp provider?',
          choices: [
            {
              name: 'Twilio',
              value: 'twilio',
              description: 'the WhatsApp sandbox or your own WhatsApp sender',
            },
            {
              name: 'Console',
              value: 'console',
              description: "prints each message in the worker's log; nothing is sent",
              disabled: consoleNotInProduction,
            },
          ],
          default: production ? 'twilio' : 'console',
        })
      : 'disabled');

  // Asked once, for whichever channel needs it first: WhatsApp and SMS share the account.
  let account: Pick<TwilioAnswers, 'accountSid' | 'authToken'> | undefined;
  const twilioAccount = async () => {
    if (!account) {
      const accountSid = await text('twilio-account-sid', 'Twilio Account SID (AC…):');
      account = { accountSid, authToken: await secret('twilio-auth-token', 'Twilio auth token:') };
    }
    return account;
  };

  let whatsappTwilio: Pick<TwilioAnswers, 'whatsappFrom' | 'contentSid'> = {
    whatsappFrom: undefined,
    contentSid: undefined,
  };
  if (whatsappProvider === 'twilio') {
    await twilioAccount();
    const whatsappFrom = await text(
      'twilio-whatsapp-from',
      'WhatsApp sender number (the sandbox is +14155238886):',
      {
        default: TWILIO_SANDBOX_NUMBER,
      },
    );
    const contentSid = await text(
      'twilio-content-sid',
      'Approved authentication template SID (HX…; empty for free-form text, which only the sandbox allows):',
      { optional: true },
    );
    whatsappTwilio = { whatsappFrom, contentSid: contentSid || undefined };
  }

  const whatsappAllowedCountries =
    whatsappProvider === 'disabled'
      ? undefined
      : (await text(
          'whatsapp-allowed-countries',
          production
            ? 'Countries WhatsApp codes may go to (ISO codes, comma-separated, e.g. US,GB; * for any):'
            : 'Countries WhatsApp codes may go to (ISO codes, comma-separated, e.g. US,GB; * or empty for any):',
          { optional: !production },
        )) || undefined;

  const smsProvider =
    oneOf('sms-provider', flags['sms-provider'], SMS_PROVIDERS) ??
    ((await prompter.confirm({ message: 'Also send codes by SMS?', default: false }))
      ? await prompter.select<SmsProvider>({
          message: 'Which SMS provider?',
          choices: [
            {
              name: 'Twilio',
              value: 'twilio',
              description: 'Programmable Messaging: a number of your account, or a Messaging Service',
            },
            {
              name: 'Console',
              value: 'console',
              description: "prints each message in the worker's log; nothing is sent",
              disabled: consoleNotInProduction,
            },
          ],
          default: production ? 'twilio' : 'console',
        })
      : 'disabled');

  let smsTwilio: Pick<TwilioAnswers, 'smsFrom' | 'messagingServiceSid'> = {
    smsFrom: undefined,
    messagingServiceSid: undefined,
  };
  if (smsProvider === 'twilio') {
    await twilioAccount();
    const given = flags['twilio-sms-from'] || flags['twilio-messaging-service-sid'];
    const how = given
      ? undefined
      : await prompter.select({
          message: 'Send SMS from:',
          choices: [
            { name: 'A number of the Twilio account', value: 'number' },
            {
              name: 'A Messaging Service',
              value: 'service',
              description: "picks the sender per country from the service's pool",
            },
          ],
          default: 'number',
        });
    smsTwilio = {
      smsFrom:
        flags['twilio-sms-from'] ||
        (how === 'number'
          ? await text('twilio-sms-from', 'SMS sender number (E.164, e.g. +15005550006):')
          : undefined),
      messagingServiceSid:
        flags['twilio-messaging-service-sid'] ||
        (how === 'service'
          ? await text('twilio-messaging-service-sid', 'Messaging Service SID (MG…):')
          : undefined),
    };
  }

  const smsAllowedCountries =
    smsProvider === 'disabled'
      ? undefined
      : (await text(
          'sms-allowed-countries',
          production
            ? 'Countries SMS codes may go to (ISO codes, comma-separated, e.g. US,CA; * for any):'
            : 'Countries SMS codes may go to (ISO codes, comma-separated, e.g. US,CA; * or empty for any):',
          { optional: !production },
        )) || undefined;
  const twilio: TwilioAnswers | undefined = account && { ...account, ...whatsappTwilio, ...smsTwilio };

  if (flags['smtp-url'] === undefined && emailProvider === 'gmail') {
    const wanted = await prompter.confirm({
      message: 'Add an SMTP server as a backup for when Gmail fails a delivery for good?',
      default: false,
    });
    if (wanted) {
      smtpUrl = await text(
        'smtp-url',
        'SMTP URL (smtps://user:pass@host:465, or smtp://user:pass@host:587?requireTLS=true):',
      );
    }
  }

  const corsOrigins = await text(
    'cors-origins',
    "Your shop's frontend origins allowed to call the API from a browser (comma-separated, e.g. https://shop.example; empty for none):",
    { optional: true },
  );

  let databaseUrl = flags['database-url'] || undefined;
  let redisUrl = flags['redis-url'] || undefined;
  if (flags['database-url'] === undefined && flags['redis-url'] === undefined) {
    const own = await prompter.confirm({
      message: 'Use your own Postgres and Redis? (No: pnpm dev starts local ones)',
      default: production,
    });
    if (own) {
      databaseUrl = await text('database-url', 'DATABASE_URL (postgres://user:pass@host:5432/db):');
      redisUrl = await text('redis-url', 'REDIS_URL (redis://host:6379):');
    }
  }

  return {
    nodeEnv,
    emailProvider,
    gmail,
    whatsappProvider,
    twilio,
    whatsappAllowedCountries,
    smsProvider,
    smsAllowedCountries,
    smtpUrl,
    emailFrom,
    corsOrigins,
    databaseUrl,
    redisUrl,
  };
}
