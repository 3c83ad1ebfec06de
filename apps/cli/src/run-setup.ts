/**
 * `pnpm run setup`: writes the `.env` the services start with. The logic behind setup.ts, with its I/O
 * handed in so tests drive it without a terminal. Returns the exit code.
 */

import { parseArgs } from 'node:util';
import { asUsage, envPathFrom, integerFlag, scriptArgs, UsageError } from './cli-args.js';
import { validateEnv } from './config-check.js';
import { type EnvValues, readEnvFile, renderEnvFile, upsertEnvText, writeEnvFile } from './env-file.js';
import { DEFAULT_OAUTH_PORT, GmailConsentError, GOOGLE_TOKEN_URL, startGmailConsent } from './gmail-oauth.js';
import { DEFAULT_ENV_PATH, displayPath } from './paths.js';
import { isPromptCancelled, type Prompter } from './prompter.js';
import { answersFromFlags, askAnswers, type SetupAnswers } from './setup-answers.js';
import { chooseSecrets, envSections, flattenSections } from './setup-env.js';

export const SETUP_USAGE = `Usage: pnpm run setup [options]

Writes .env (at the repo root unless --env-path says otherwise): asks for the channels and
providers, generates JWT_SECRET, OTP_PEPPER and OTP_ENCRYPTION_KEY, gets a Gmail refresh token
through Google's consent page, and checks everything with the services' own config loaders.
(Use "pnpm run setup": pnpm's built-in "pnpm setup" takes setup's flags for its own.)

Modes
  --non-interactive            ask nothing; answers come from the flags below
  --gmail-only                 only get a new Gmail refresh token and store it in the existing
                               .env as EMAIL_REFRESH_TOKEN (e.g. after invalid_grant)
  --force                      replace an existing .env (the old one is kept as .env.bak)
  --rotate-secrets             generate new secrets instead of keeping the replaced file's
  --env-path <path>            the file to write (default: .env at the repo root);
                               --env-file <path> is an alias, but Node 20 refuses it for a
                               file that does not exist yet
Answers
  --node-env <development|production|test>           (default development)
  --email-provider <gmail|smtp|console>              (required with --non-interactive)
  --gmail-client-id <id> --gmail-client-secret <secret> --email-from <address>
                               (required with gmail; "Shop <no-reply@shop.example>"; with
                               smtp only --email-from, optional)
  --gmail-refresh-token <token> skip the consent page and use this token
  --whatsapp-provider <twilio|console|disabled>      (default disabled)
  --twilio-account-sid <AC…> --twilio-auth-token <token> --twilio-whatsapp-from <+E.164>
                               (required with twilio; the account's two also for SMS)
  --twilio-content-sid <HX…>   an approved authentication template (optional)
  --whatsapp-allowed-countries <US,GB|*>
                               countries WhatsApp codes may go to, * for any (required in
                               production with WhatsApp; any when unset elsewhere)
  --sms-provider <twilio|console|disabled>           (default disabled)
  --twilio-sms-from <+E.164> | --twilio-messaging-service-sid <MG…>
                               the SMS sender: a number of the account, or a Messaging Service
                               (one of them with twilio; the account flags above too)
  --sms-allowed-countries <US,CA|*>
                               countries SMS codes may go to, as for WhatsApp
  --smtp-url <smtps://…>       the mail server with smtp (required then); with gmail its backup
                               (optional). Production requires TLS: smtps://, or
                               smtp://…?requireTLS=true
  --cors-origins <origins>     comma-separated frontend origins (optional)
  --database-url <url> --redis-url <url>
                               written only when given (pnpm dev starts its own otherwise)
Gmail consent
  --oauth-port <port>          callback port (default 8000; 0 = any free port); the OAuth client
                               must allow http://localhost:<port>/oauth2callback
  --oauth-timeout <seconds>    how long to wait for the browser (default 300)
  --google-auth-url <url>      consent page (default Google's)
  --google-token-url <url>     token endpoint (default $GOOGLE_OAUTH_TOKEN_URL or Google's)
  --no-browser                 only print the consent URL
  -h, --help`;

const FLAGS = {
  help: { type: 'boolean', short: 'h' },
  'non-interactive': { type: 'boolean' },
  'gmail-only': { type: 'boolean' },
  force: { type: 'boolean' },
  'rotate-secrets': { type: 'boolean' },
  'env-path': { type: 'string' },
  'env-file': { type: 'string' },
  'node-env': { type: 'string' },
  'email-provider': { type: 'string' },
  'whatsapp-provider': { type: 'string' },
  'gmail-client-id': { type: 'string' },
  'gmail-client-secret': { type: 'string' },
  'gmail-refresh-token': { type: 'string' },
  'email-from': { type: 'string' },
  'twilio-account-sid': { type: 'string' },
  'twilio-auth-token': { type: 'string' },
  'twilio-whatsapp-from': { type: 'string' },
  'twilio-content-sid': { type: 'string' },
  'whatsapp-allowed-countries': { type: 'string' },
  'sms-provider': { type: 'string' },
  'twilio-sms-from': { type: 'string' },
  'twilio-messaging-service-sid': { type: 'string' },
  'sms-allowed-countries': { type: 'string' },
  'smtp-url': { type: 'string' },
  'cors-origins': { type: 'string' },
  'database-url': { type: 'string' },
  'redis-url': { type: 'string' },
  'oauth-port': { type: 'string' },
  'oauth-timeout': { type: 'string' },
  'google-auth-url': { type: 'string' },
  'google-token-url': { type: 'string' },
  'no-browser': { type: 'boolean' },
} as const;

type Flags = ReturnType<typeof parseSetupFlags>;

function parseSetupFlags(argv: readonly string[]) {
  return asUsage(
    () => parseArgs({ args: scriptArgs(argv), options: FLAGS, strict: true, allowPositionals: false }).values,
  );
}

export interface SetupIo {
  print(line: string): void;
  error(line: string): void;
  /** Asks the questions; `undefined` when there is no terminal to ask on. */
  prompter: Prompter | undefined;
  /** The process environment (read for GOOGLE_OAUTH_TOKEN_URL and, with --gmail-only, EMAIL_CLIENT_*). */
  env: Record<string, string | undefined>;
  /** Opens a URL in a browser; `true` if it tried. Only used when interactive. */
  openUrl?: (url: string) => boolean;
  now?: () => Date;
}

/** A refusal worded for the operator (exit code 1). */
class SetupError extends Error {}

export async function runSetup(argv: readonly string[], io: SetupIo): Promise<number> {
  try {
    const flags = parseSetupFlags(argv);
    if (flags.help) {
      io.print(SETUP_USAGE);
      return 0;
    }
    const prompter = flags['non-interactive'] ? undefined : io.prompter;
    if (!flags['non-interactive'] && !prompter) {
      throw new UsageError(
        'there is no terminal to ask questions on: pass --non-interactive and the answers as flags',
      );
    }
    const envPath = envPathFrom(flags, DEFAULT_ENV_PATH);
    if (flags['gmail-only']) await gmailOnly(flags, envPath, prompter, io);
    else await fullSetup(flags, envPath, prompter, io);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.error(`setup: ${error.message}`);
      io.error('Run `pnpm run setup --help` for the flags.');
      return 2;
    }
    if (isPromptCancelled(error)) {
      io.error('setup cancelled; nothing was written.');
      return 130;
    }
    if (error instanceof SetupError || error instanceof GmailConsentError) {
      io.error(`setup: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

function googleTokenUrl(flags: Flags, ...fallbacks: (string | undefined)[]): string {
  return flags['google-token-url'] || fallbacks.find((url) => url) || GOOGLE_TOKEN_URL;
}

async function fullSetup(flags: Flags, envPath: string, prompter: Prompter | undefined, io: SetupIo) {
  const shown = displayPath(envPath);
  const existing = await readEnvFile(envPath);
  if (existing && !flags.force) {
    const replace =
      prompter !== undefined &&
      (await prompter.confirm({
        message: `${shown} exists. Replace it? (the current one is kept as ${shown}.bak)`,
        default: false,
      }));
    if (!replace) {
      throw new SetupError(
        `${shown} already exists; left unchanged. Pass --force to replace it (the current one is kept as ${shown}.bak), ` +
          'or --gmail-only to only renew the Gmail token.',
      );
    }
  }

  const answers: SetupAnswers = prompter ? await askAnswers(flags, prompter) : answersFromFlags(flags);
  const { secrets, kept } = chooseSecrets(existing?.values, flags['rotate-secrets'] ?? false);
  const tokenUrl = googleTokenUrl(flags, io.env.GOOGLE_OAUTH_TOKEN_URL);

  // Check before the consent page: a token is not worth getting for a file that would be refused.
  const pendingConsent = answers.gmail !== undefined && answers.gmail.refreshToken === undefined;
  const preview =
    pendingConsent && answers.gmail
      ? { ...answers, gmail: { ...answers.gmail, refreshToken: 'pending-consent' } }
      : answers;
  const problems = validateEnv(flattenSections(envSections(preview, secrets, { googleTokenUrl: tokenUrl })));
  if (problems.length > 0) {
    throw new SetupError(
      `the services would refuse this configuration; nothing was written:\n${problems.map((p) => `  ✗ ${p}`).join('\n')}`,
    );
  }

  if (answers.gmail && pendingConsent) {
    answers.gmail.refreshToken = await obtainRefreshToken(
      { clientId: answers.gmail.clientId, clientSecret: answers.gmail.clientSecret, tokenUrl },
      flags,
      prompter !== undefined,
      io,
    );
  }

  const sections = envSections(answers, secrets, { googleTokenUrl: tokenUrl });
  const now = (io.now ?? (() => new Date()))();
  const text = renderEnvFile(
    [
      `otp-relay configuration, written by \`pnpm run setup\` on ${now.toISOString().slice(0, 10)}.`,
      'Every setting, with its default, is described in .env.example. pnpm dev loads this file;',
      'variables set in the environment win. Check the providers with `pnpm otp:check`.',
    ],
    sections,
  );
  const { backup } = await writeEnvFile(envPath, text);

  io.print(`✓ Wrote ${shown}${backup ? ` (the previous one is ${displayPath(backup)})` : ''}.`);
  io.print(
    kept.length > 0
      ? `  Kept ${kept.join(', ')} from the previous file (--rotate-secrets makes new ones).`
      : '  Generated JWT_SECRET, OTP_PEPPER and OTP_ENCRYPTION_KEY.',
  );
  if (existing) {
    const written = flattenSections(sections);
    const dropped = Object.keys(existing.values).filter((name) => !(name in written));
    if (dropped.length > 0) io.print(`  Not carried over (still in the backup): ${dropped.join(', ')}.`);
  }
  io.print('Next: `pnpm dev` to run it, `pnpm otp:check` to check the providers before going live.');
}

async function gmailOnly(flags: Flags, envPath: string, prompter: Prompter | undefined, io: SetupIo) {
  const shown = displayPath(envPath);
  const existing = await readEnvFile(envPath);
  const stored: EnvValues = existing?.values ?? {};
  const changed: EnvValues = {};

  const resolve = async (flag: 'gmail-client-id' | 'gmail-client-secret', name: string, secret: boolean) => {
    const given = flags[flag];
    if (given) {
      changed[name] = given;
      return given;
    }
    const known = stored[name] || io.env[name];
    if (known) {
      if (!stored[name]) changed[name] = known;
      return known;
    }
    if (!prompter) return undefined;
    const question = {
      message: `Google OAuth client ${secret ? 'secret' : 'ID'}:`,
      validate: (v: string) => v.trim() !== '' || `${name} is required`,
    };
    const answer = (secret ? await prompter.password(question) : await prompter.input(question)).trim();
    changed[name] = answer;
    return answer;
  };
  const clientId = await resolve('gmail-client-id', 'EMAIL_CLIENT_ID', false);
  const clientSecret = await resolve('gmail-client-secret', 'EMAIL_CLIENT_SECRET', true);
  if (!clientId || !clientSecret) {
    const missing = [
      clientId ? [] : ['--gmail-client-id'],
      clientSecret ? [] : ['--gmail-client-secret'],
    ].flat();
    throw new UsageError(
      `--gmail-only needs the OAuth client: ${missing.join(' and ')} (or EMAIL_CLIENT_ID/EMAIL_CLIENT_SECRET in ${shown})`,
    );
  }
  const tokenUrl = googleTokenUrl(flags, stored.GOOGLE_OAUTH_TOKEN_URL, io.env.GOOGLE_OAUTH_TOKEN_URL);
  if (tokenUrl !== GOOGLE_TOKEN_URL && tokenUrl !== stored.GOOGLE_OAUTH_TOKEN_URL) {
    changed.GOOGLE_OAUTH_TOKEN_URL = tokenUrl;
  }

  const refreshToken = await obtainRefreshToken(
    { clientId, clientSecret, tokenUrl },
    flags,
    prompter !== undefined,
    io,
  );
  changed.EMAIL_REFRESH_TOKEN = refreshToken;

  const text = existing
    ? upsertEnvText(existing.text, changed, 'Added by `pnpm run setup --gmail-only`')
    : renderEnvFile(
        ['Written by `pnpm run setup --gmail-only`; run `pnpm run setup` for the rest of the configuration.'],
        [{ comment: ['Gmail'], entries: [['EMAIL_PROVIDER', 'gmail'], ...Object.entries(changed)] }],
      );
  const { backup } = await writeEnvFile(envPath, text);
  io.print(
    `✓ Stored the new EMAIL_REFRESH_TOKEN in ${shown}${backup ? ` (the previous file is ${displayPath(backup)})` : ''}.`,
  );
  const provider = stored.EMAIL_PROVIDER ?? (existing ? 'gmail (the default)' : 'gmail');
  if (!provider.startsWith('gmail')) {
    io.print(
      `  Note: ${shown} has EMAIL_PROVIDER=${provider}; set EMAIL_PROVIDER=gmail to send with this token.`,
    );
  }
  io.print('  Restart the worker to use it; `pnpm otp:check` checks it.');
}

/** Runs the consent flow: prints the URL, waits for the browser, returns the refresh token. */
async function obtainRefreshToken(
  client: { clientId: string; clientSecret: string; tokenUrl: string },
  flags: Flags,
  interactive: boolean,
  io: SetupIo,
): Promise<string> {
  const consent = await startGmailConsent({
    ...client,
    port: integerFlag('oauth-port', flags['oauth-port'], DEFAULT_OAUTH_PORT),
    timeoutMs: integerFlag('oauth-timeout', flags['oauth-timeout'], 300, 1, 86_400) * 1000,
    ...(flags['google-auth-url'] ? { authUrl: flags['google-auth-url'] } : {}),
  });
  try {
    io.print('Open this URL in a browser signed in as the sending Gmail account, and allow sending email:');
    io.print(`  ${consent.url}`);
    if (interactive && !flags['no-browser'] && io.openUrl?.(consent.url))
      io.print('  (opening it in your browser)');
    io.print(
      `Waiting for Google to send the browser back to ${consent.redirectUri} ` +
        '(the OAuth client must allow this redirect URI: a "Desktop app" client does; for a "Web application" ' +
        'client add it under Authorized redirect URIs).',
    );
    const token = await consent.refreshToken;
    io.print('✓ Google granted a refresh token with the gmail.send scope.');
    return token;
  } finally {
    await consent.close();
  }
}
