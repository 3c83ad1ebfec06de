/**
 * From setup answers to the variables of `.env`, grouped and commented like `.env.example`, with the
 * three secrets generated (or kept from the file being replaced: changing them signs everyone out and
 * makes pending codes and queued deliveries unusable).
 */
import { randomBytes } from 'node:crypto';
import type { EnvSection, EnvValues } from './env-file.js';
import { GOOGLE_TOKEN_URL } from './gmail-oauth.js';
import type { SetupAnswers } from './setup-answers.js';

export const SECRET_NAMES = ['JWT_SECRET', 'OTP_PEPPER', 'OTP_ENCRYPTION_KEY'] as const;
export type Secrets = Record<(typeof SECRET_NAMES)[number], string>;

export function generateSecret(): string {
  return randomBytes(32).toString('hex');
}

/**
 * The secrets for the new file: each kept from `previous` when it is long enough for the services
 * (unless `rotate`), else generated. `kept` names the ones carried over.
 */
export function chooseSecrets(
  previous: EnvValues | undefined,
  rotate: boolean,
): { secrets: Secrets; kept: string[] } {
  const kept: string[] = [];
  const pick = (name: (typeof SECRET_NAMES)[number]): string => {
    const old = previous?.[name];
    if (!rotate && old !== undefined && old.length >= 32) {
      kept.push(name);
      return old;
    }
    return generateSecret();
  };
  return {
    secrets: {
      JWT_SECRET: pick('JWT_SECRET'),
      OTP_PEPPER: pick('OTP_PEPPER'),
      OTP_ENCRYPTION_KEY: pick('OTP_ENCRYPTION_KEY'),
    },
    kept,
  };
}

export interface EnvExtras {
  /** Written only when it is not Google's own. */
  googleTokenUrl: string;
}

export function envSections(answers: SetupAnswers, secrets: Secrets, extras: EnvExtras): EnvSection[] {
  const ownServers = answers.databaseUrl !== undefined || answers.redisUrl !== undefined;
  const core: [string, string][] = [['NODE_ENV', answers.nodeEnv]];
  if (answers.databaseUrl) core.push(['DATABASE_URL', answers.databaseUrl]);
  if (answers.redisUrl) core.push(['REDIS_URL', answers.redisUrl]);

  const email: [string, string][] = [['EMAIL_PROVIDER', answers.emailProvider]];
  if (answers.gmail) {
    email.push(
      ['EMAIL_FROM', answers.gmail.from],
      ['EMAIL_CLIENT_ID', answers.gmail.clientId],
      ['EMAIL_CLIENT_SECRET', answers.gmail.clientSecret],
      ['EMAIL_REFRESH_TOKEN', answers.gmail.refreshToken ?? ''],
    );
    if (extras.googleTokenUrl !== GOOGLE_TOKEN_URL)
      email.push(['GOOGLE_OAUTH_TOKEN_URL', extras.googleTokenUrl]);
  }
  if (answers.emailFrom) email.push(['EMAIL_FROM', answers.emailFrom]);
  if (answers.smtpUrl) email.push(['SMTP_URL', answers.smtpUrl]);

  const twilio = answers.twilio;
  // The account goes with WhatsApp's settings when WhatsApp is on Twilio, else with SMS's.
  const accountEntries: [string, string][] = twilio
    ? [
        ['TWILIO_ACCOUNT_SID', twilio.accountSid],
        ['TWILIO_AUTH_TOKEN', twilio.authToken],
      ]
    : [];
  const accountWithWhatsApp = answers.whatsappProvider === 'twilio';

  const whatsapp: [string, string][] = [['WHATSAPP_PROVIDER', answers.whatsappProvider]];
  if (accountWithWhatsApp) whatsapp.push(...accountEntries);
  if (twilio?.whatsappFrom) whatsapp.push(['TWILIO_WHATSAPP_FROM', twilio.whatsappFrom]);
  if (twilio?.contentSid) whatsapp.push(['TWILIO_WHATSAPP_CONTENT_SID', twilio.contentSid]);
  if (answers.whatsappAllowedCountries) {
    whatsapp.push(['WHATSAPP_ALLOWED_COUNTRIES', answers.whatsappAllowedCountries]);
  }

  const sms: [string, string][] = [['SMS_PROVIDER', answers.smsProvider]];
  if (!accountWithWhatsApp) sms.push(...accountEntries);
  if (twilio?.smsFrom) sms.push(['TWILIO_SMS_FROM', twilio.smsFrom]);
  if (twilio?.messagingServiceSid) sms.push(['TWILIO_MESSAGING_SERVICE_SID', twilio.messagingServiceSid]);
  if (answers.smsAllowedCountries) sms.push(['SMS_ALLOWED_COUNTRIES', answers.smsAllowedCountries]);

  return [
    {
      comment: ownServers
        ? ['Core']
        : ['Core. DATABASE_URL and REDIS_URL are unset: pnpm dev starts its own Postgres and Redis.'],
      entries: core,
    },
    {
      comment: [
        'Secrets (each openssl rand -hex 32). Changing OTP_PEPPER invalidates pending codes, changing',
        'OTP_ENCRYPTION_KEY makes queued deliveries unsendable, changing JWT_SECRET signs everyone out.',
      ],
      entries: SECRET_NAMES.map((name) => [name, secrets[name]]),
    },
    {
      comment: ["API: the shop's frontends allowed to call it from a browser (comma-separated origins)."],
      entries: [['CORS_ORIGINS', answers.corsOrigins]],
    },
    { comment: ['Email'], entries: email },
    { comment: ['WhatsApp'], entries: whatsapp },
    { comment: ['SMS'], entries: sms },
  ];
}

export function flattenSections(sections: EnvSection[]): EnvValues {
  return Object.fromEntries(sections.flatMap((section) => section.entries));
}
