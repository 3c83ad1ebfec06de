// `pnpm run setup` driven through runSetup with captured I/O: the non-interactive path, overwriting
// rules, flag errors, and the interactive path with scripted answers.
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { loadApiConfig, loadWorkerConfig } from '@otp-relay/core';
import { describe, expect, it } from 'vitest';
import { runSetup } from '../src/run-setup.js';
import { checkAnswer } from '../src/setup-answers.js';
import { captureIo, scriptedPrompter, tempDir } from './support/cli-io.js';

const CONNECTIONS = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db', REDIS_URL: 'redis://127.0.0.1:6379' };
const SECRET_NAMES = ['JWT_SECRET', 'OTP_PEPPER', 'OTP_ENCRYPTION_KEY'] as const;

async function readEnv(file: string): Promise<Record<string, string | undefined>> {
  return parseEnv(await readFile(file, 'utf8'));
}

function setup(argv: string[], io = captureIo(), prompter?: ReturnType<typeof scriptedPrompter>) {
  return runSetup(argv, { ...io, prompter, env: {} });
}

describe('pnpm run setup --non-interactive', () => {
  it('writes a .env both services start with, with three 64-hex secrets, readable by its owner only', async () => {
    const file = path.join(await tempDir(), '.env');
    const io = captureIo();
    const code = await setup(
      [
        '--non-interactive',
        '--email-provider',
        'console',
        '--whatsapp-provider',
        'console',
        '--env-path',
        file,
      ],
      io,
    );
    expect(io.err).toEqual([]);
    expect(code).toBe(0);

    const env = await readEnv(file);
    for (const name of SECRET_NAMES) expect(env[name]).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(SECRET_NAMES.map((name) => env[name])).size).toBe(3);
    expect(env).toMatchObject({
      NODE_ENV: 'development',
      EMAIL_PROVIDER: 'console',
      WHATSAPP_PROVIDER: 'console',
    });
    // pnpm dev starts its own servers when these are unset.
    expect(env.DATABASE_URL).toBeUndefined();
    expect(() => loadApiConfig({ ...env, ...CONNECTIONS })).not.toThrow();
    expect(loadWorkerConfig({ ...env, ...CONNECTIONS })).toMatchObject({ EMAIL_PROVIDER: 'console' });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(io.out.join('\n')).toMatch(/Generated JWT_SECRET, OTP_PEPPER and OTP_ENCRYPTION_KEY/);
  });

  it('writes every answer given as a flag, quoted so it reads back exactly', async () => {
    const file = path.join(await tempDir(), '.env');
    const code = await setup([
      '--non-interactive',
      '--env-file', // the alias
      file,
      '--node-env',
      'production',
      '--email-provider',
      'gmail',
      '--gmail-client-id',
      'id.apps.googleusercontent.com',
      '--gmail-client-secret',
      'GOCSPX-secret#1',
      '--gmail-refresh-token',
      '1//refresh',
      '--email-from',
      'Shop <no-reply@shop.example>',
      '--whatsapp-provider',
      'twilio',
      '--twilio-account-sid',
      `AC${'0'.repeat(32)}`,
      '--twilio-auth-token',
      'token',
      '--twilio-whatsapp-from',
      '+14155552671',
      '--twilio-content-sid',
      `HX${'a'.repeat(32)}`,
      '--whatsapp-allowed-countries',
      'US,GB',
      '--smtp-url',
      'smtp://u:p@mail.example:587?requireTLS=true',
      '--cors-origins',
      'https://shop.example,https://www.shop.example',
      '--database-url',
      CONNECTIONS.DATABASE_URL,
      '--redis-url',
      CONNECTIONS.REDIS_URL,
    ]);
    expect(code).toBe(0);
    const env = await readEnv(file);
    expect(env).toMatchObject({
      NODE_ENV: 'production',
      EMAIL_CLIENT_SECRET: 'GOCSPX-secret#1',
      EMAIL_FROM: 'Shop <no-reply@shop.example>',
      EMAIL_REFRESH_TOKEN: '1//refresh',
      TWILIO_WHATSAPP_CONTENT_SID: `HX${'a'.repeat(32)}`,
      WHATSAPP_ALLOWED_COUNTRIES: 'US,GB',
      SMTP_URL: 'smtp://u:p@mail.example:587?requireTLS=true',
      CORS_ORIGINS: 'https://shop.example,https://www.shop.example',
      ...CONNECTIONS,
    });
    expect(() => loadApiConfig(env)).not.toThrow();
    expect(() => loadWorkerConfig(env)).not.toThrow();
  });

  it('refuses to replace an existing .env without --force, and with it keeps a backup and the secrets', async () => {
    const file = path.join(await tempDir(), '.env');
    const base = ['--non-interactive', '--email-provider', 'console', '--env-path', file];
    expect(await setup(base)).toBe(0);
    await writeFile(file, `${await readFile(file, 'utf8')}MY_OWN_SETTING=1\n`);
    const original = await readFile(file, 'utf8');

    const refused = captureIo();
    expect(await setup(base, refused)).toBe(1);
    expect(refused.err.join('\n')).toMatch(/already exists; left unchanged\. Pass --force/);
    expect(await readFile(file, 'utf8')).toBe(original);

    const forced = captureIo();
    expect(await setup([...base, '--whatsapp-provider', 'console', '--force'], forced)).toBe(0);
    expect(await readFile(`${file}.bak`, 'utf8')).toBe(original);
    const before = parseEnv(original);
    const after = await readEnv(file);
    expect(after.WHATSAPP_PROVIDER).toBe('console');
    for (const name of SECRET_NAMES) expect(after[name]).toBe(before[name]);
    expect(forced.out.join('\n')).toMatch(/Not carried over \(still in the backup\): MY_OWN_SETTING/);

    expect(await setup([...base, '--force', '--rotate-secrets'])).toBe(0);
    const rotated = await readEnv(file);
    for (const name of SECRET_NAMES) {
      expect(rotated[name]).toMatch(/^[0-9a-f]{64}$/);
      expect(rotated[name]).not.toBe(before[name]);
    }
  });

  it('writes an SMTP mail server as the email provider, and names --smtp-url when it is missing', async () => {
    const file = path.join(await tempDir(), '.env');
    const argv = ['--non-interactive', '--email-provider', 'smtp', '--env-path', file];
    const missing = captureIo();
    expect(await setup(argv, missing)).toBe(2);
    expect(missing.err.join('\n')).toContain('--smtp-url (required with --email-provider smtp)');

    const smtp = ['--smtp-url', 'smtp://127.0.0.1:1025', '--email-from', 'Shop <no-reply@shop.example>'];
    expect(await setup([...argv, ...smtp])).toBe(0);
    const env = await readEnv(file);
    expect(env).toMatchObject({
      EMAIL_PROVIDER: 'smtp',
      SMTP_URL: 'smtp://127.0.0.1:1025',
      EMAIL_FROM: 'Shop <no-reply@shop.example>',
    });
    expect(env.EMAIL_CLIENT_ID).toBeUndefined();
    expect(loadWorkerConfig({ ...env, ...CONNECTIONS })).toMatchObject({ EMAIL_PROVIDER: 'smtp' });
  });

  it('names every missing flag, and writes nothing', async () => {
    const file = path.join(await tempDir(), '.env');
    const io = captureIo();
    expect(await setup(['--non-interactive', '--email-provider', 'gmail', '--env-path', file], io)).toBe(2);
    const said = io.err.join('\n');
    for (const flag of ['--gmail-client-id', '--gmail-client-secret', '--email-from'])
      expect(said).toContain(flag);

    const noProvider = captureIo();
    expect(await setup(['--non-interactive', '--env-path', file], noProvider)).toBe(2);
    expect(noProvider.err.join('\n')).toContain('--email-provider');

    const twilio = captureIo();
    const argv = ['--non-interactive', '--email-provider', 'console', '--whatsapp-provider', 'twilio'];
    expect(await setup([...argv, '--env-path', file], twilio)).toBe(2);
    for (const flag of ['--twilio-account-sid', '--twilio-auth-token', '--twilio-whatsapp-from']) {
      expect(twilio.err.join('\n')).toContain(flag);
    }
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a flag value the services would refuse, naming the flag', async () => {
    const file = path.join(await tempDir(), '.env');
    const io = captureIo();
    const argv = ['--non-interactive', '--email-provider', 'console', '--whatsapp-provider', 'twilio'];
    const code = await setup(
      [
        ...argv,
        '--twilio-account-sid',
        'AC123',
        '--twilio-auth-token',
        't',
        '--twilio-whatsapp-from',
        '+1415',
      ],
      io,
    );
    expect(code).toBe(2);
    expect(io.err.join('\n')).toMatch(/--twilio-account-sid: TWILIO_ACCOUNT_SID: .*AC followed by 32 hex/);
    expect(io.err.join('\n')).toMatch(/--twilio-whatsapp-from: TWILIO_WHATSAPP_FROM/);

    const choice = captureIo();
    const unknown = ['--non-interactive', '--email-provider', 'sendgrid', '--env-path', file];
    expect(await setup(unknown, choice)).toBe(2);
    expect(choice.err.join('\n')).toMatch(/--email-provider must be one of gmail, smtp, console/);
  });

  it('refuses what only the whole configuration shows: console providers in production', async () => {
    const file = path.join(await tempDir(), '.env');
    const io = captureIo();
    const argv = ['--non-interactive', '--node-env', 'production', '--email-provider', 'console'];
    expect(await setup([...argv, '--env-path', file], io)).toBe(1);
    expect(io.err.join('\n')).toMatch(
      /EMAIL_PROVIDER: console only prints messages; not allowed in production/,
    );
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it("holds production's answers to its rules: WhatsApp countries said, SMTP with TLS", async () => {
    const file = path.join(await tempDir(), '.env');
    const production = [
      '--non-interactive',
      '--node-env',
      'production',
      '--email-provider',
      'gmail',
      '--gmail-client-id',
      'id',
      '--gmail-client-secret',
      'secret',
      '--gmail-refresh-token',
      'refresh',
      '--email-from',
      'no-reply@shop.example',
      '--whatsapp-provider',
      'twilio',
      '--twilio-account-sid',
      `AC${'0'.repeat(32)}`,
      '--twilio-auth-token',
      'token',
      '--twilio-whatsapp-from',
      '+14155552671',
      '--env-path',
      file,
    ];
    const noCountries = captureIo();
    expect(await setup(production, noCountries)).toBe(2);
    expect(noCountries.err.join('\n')).toMatch(/--whatsapp-allowed-countries \(required in production/);

    const plainSmtp = captureIo();
    const smtp = ['--whatsapp-allowed-countries', '*', '--smtp-url', 'smtp://u:p@mail.example:587'];
    expect(await setup([...production, ...smtp], plainSmtp)).toBe(2);
    expect(plainSmtp.err.join('\n')).toMatch(/--smtp-url: SMTP_URL: must require TLS in production/);
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });

    expect(await setup([...production, '--whatsapp-allowed-countries', '*'])).toBe(0);
    const env = await readEnv(file);
    expect(env).toMatchObject({ NODE_ENV: 'production', WHATSAPP_ALLOWED_COUNTRIES: '*' });
    expect(() => loadApiConfig({ ...env, ...CONNECTIONS })).not.toThrow();
    expect(() => loadWorkerConfig({ ...env, ...CONNECTIONS })).not.toThrow();
  });

  it('writes SMS on Twilio from flags, and names what SMS still needs', async () => {
    const file = path.join(await tempDir(), '.env');
    const sms = [
      '--non-interactive',
      '--email-provider',
      'console',
      '--sms-provider',
      'twilio',
      '--env-path',
      file,
    ];
    const bare = captureIo();
    expect(await setup(sms, bare)).toBe(2);
    for (const flag of [
      '--twilio-account-sid',
      '--twilio-auth-token',
      '--twilio-sms-from or --twilio-messaging-service-sid',
    ]) {
      expect(bare.err.join('\n')).toContain(flag);
    }
    expect(bare.err.join('\n')).not.toContain('--twilio-whatsapp-from');

    const account = ['--twilio-account-sid', `AC${'0'.repeat(32)}`, '--twilio-auth-token', 'token'];
    const badFrom = captureIo();
    expect(await setup([...sms, ...account, '--twilio-sms-from', 'whatsapp:+15005550006'], badFrom)).toBe(2);
    expect(badFrom.err.join('\n')).toMatch(/--twilio-sms-from: TWILIO_SMS_FROM: .*E\.164/);

    const both = captureIo();
    const twoSenders = [
      '--twilio-sms-from',
      '+15005550006',
      '--twilio-messaging-service-sid',
      `MG${'0'.repeat(32)}`,
    ];
    expect(await setup([...sms, ...account, ...twoSenders], both)).toBe(1);
    expect(both.err.join('\n')).toMatch(/TWILIO_SMS_FROM, TWILIO_MESSAGING_SERVICE_SID: set only one/);
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });

    const production = ['--node-env', 'production', '--email-provider', 'gmail', '--gmail-client-id', 'id'];
    const gmail = [
      '--gmail-client-secret',
      'secret',
      '--gmail-refresh-token',
      'refresh',
      '--email-from',
      'no-reply@shop.example',
    ];
    const noCountries = captureIo();
    expect(
      await setup(
        [...sms, ...account, '--twilio-sms-from', '+15005550006', ...production, ...gmail],
        noCountries,
      ),
    ).toBe(2);
    expect(noCountries.err.join('\n')).toMatch(/--sms-allowed-countries \(required in production with SMS/);

    const written = [...sms, ...account, '--twilio-sms-from', '+15005550006', ...production, ...gmail];
    expect(await setup([...written, '--sms-allowed-countries', 'US'])).toBe(0);
    const env = await readEnv(file);
    expect(env).toMatchObject({
      SMS_PROVIDER: 'twilio',
      TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
      TWILIO_AUTH_TOKEN: 'token',
      TWILIO_SMS_FROM: '+15005550006',
      SMS_ALLOWED_COUNTRIES: 'US',
      WHATSAPP_PROVIDER: 'disabled',
    });
    expect(env.TWILIO_WHATSAPP_FROM).toBeUndefined();
    expect(() => loadApiConfig({ ...env, ...CONNECTIONS })).not.toThrow();
    expect(loadWorkerConfig({ ...env, ...CONNECTIONS })).toMatchObject({ SMS_PROVIDER: 'twilio' });
  });

  it('asks for --non-interactive when there is no terminal, and rejects unknown flags', async () => {
    const noTty = captureIo();
    expect(await setup([], noTty)).toBe(2);
    expect(noTty.err.join('\n')).toMatch(/no terminal.*--non-interactive/);
    const unknown = captureIo();
    expect(await setup(['--non-interactive', '--colour'], unknown)).toBe(2);
    expect(unknown.err.join('\n')).toMatch(/--colour/);
  });
});

describe('pnpm run setup, interactive', () => {
  it('asks what the flags do not answer and writes the result', async () => {
    const file = path.join(await tempDir(), '.env');
    const prompter = scriptedPrompter([
      [/Which environment/, 'development'],
      [/How should codes be emailed/, 'console'],
      [/Also send codes by WhatsApp/, true],
      [/Which WhatsApp provider/, 'twilio'],
      [/Account SID/, `AC${'1'.repeat(32)}`],
      [/auth token/, 'secret-token'],
      [/WhatsApp sender number/, ''], // takes the default: the sandbox
      [/template SID/, ''],
      [/Countries WhatsApp codes may go to .*empty for any/, ''],
      [/Also send codes by SMS/, false],
      [/frontend origins/, 'https://shop.example'],
      [/own Postgres and Redis/, false],
    ]);
    const io = captureIo();
    expect(await setup(['--env-path', file], io, prompter)).toBe(0);
    expect(io.err).toEqual([]);
    const env = await readEnv(file);
    expect(env).toMatchObject({
      EMAIL_PROVIDER: 'console',
      WHATSAPP_PROVIDER: 'twilio',
      TWILIO_WHATSAPP_FROM: '+14155238886',
      CORS_ORIGINS: 'https://shop.example',
    });
    expect(env.TWILIO_WHATSAPP_CONTENT_SID).toBeUndefined();
    expect(env.WHATSAPP_ALLOWED_COUNTRIES).toBeUndefined();
    expect(env.SMS_PROVIDER).toBe('disabled');
    expect(() => loadWorkerConfig({ ...env, ...CONNECTIONS })).not.toThrow();
  });

  it('in production, requires the WhatsApp countries and passes the production rules', async () => {
    const file = path.join(await tempDir(), '.env');
    const prompter = scriptedPrompter([
      [/Which environment/, 'production'],
      [/How should codes be emailed/, 'gmail'],
      [/client ID/, 'id.apps.googleusercontent.com'],
      [/client secret/, 'GOCSPX-secret'],
      [/From address/, ''],
      [/Gmail refresh token/, 'paste'],
      [/Refresh token/, '1//refresh'],
      [/Also send codes by WhatsApp/, true],
      [/Which WhatsApp provider/, 'twilio'],
      [/Account SID/, `AC${'1'.repeat(32)}`],
      [/auth token/, 'secret-token'],
      [/WhatsApp sender number/, '+14155552671'],
      [/template SID/, `HX${'b'.repeat(32)}`],
      [/Countries WhatsApp codes may go to .*\* for any\):$/, 'us, gb'],
      // The Twilio account was asked for WhatsApp: SMS asks only for its sender.
      [/Also send codes by SMS/, true],
      [/Which SMS provider/, 'twilio'],
      [/Send SMS from/, 'service'],
      [/Messaging Service SID/, `MG${'c'.repeat(32)}`],
      [/Countries SMS codes may go to .*\* for any\):$/, 'US,CA'],
      [/SMTP server as a backup/, true],
      [/SMTP URL/, 'smtps://u:p@mail.example:465'],
      [/frontend origins/, ''],
      [/own Postgres and Redis/, true],
      [/DATABASE_URL/, CONNECTIONS.DATABASE_URL],
      [/REDIS_URL/, CONNECTIONS.REDIS_URL],
    ]);
    const io = captureIo();
    expect(await setup(['--env-path', file], io, prompter)).toBe(0);
    expect(io.err).toEqual([]);
    const env = await readEnv(file);
    expect(env).toMatchObject({
      NODE_ENV: 'production',
      WHATSAPP_ALLOWED_COUNTRIES: 'us, gb',
      SMS_PROVIDER: 'twilio',
      TWILIO_MESSAGING_SERVICE_SID: `MG${'c'.repeat(32)}`,
      SMS_ALLOWED_COUNTRIES: 'US,CA',
    });
    expect(env.TWILIO_SMS_FROM).toBeUndefined();
    expect(() => loadApiConfig(env)).not.toThrow();
    expect(() => loadWorkerConfig(env)).not.toThrow();
  });

  it('asks before replacing an existing file, and leaves it alone when told no', async () => {
    const file = path.join(await tempDir(), '.env');
    await writeFile(file, 'KEEP=me\n');
    const prompter = scriptedPrompter([[/exists\. Replace it\?/, false]]);
    const io = captureIo();
    expect(await setup(['--env-path', file], io, prompter)).toBe(1);
    expect(await readFile(file, 'utf8')).toBe('KEEP=me\n');
  });

  it('checks each answer like the services do', () => {
    const check = (variable: string, value: string) => checkAnswer(variable, value, 'development');
    expect(check('CORS_ORIGINS', 'https://shop.example, http://localhost:5173')).toBe(true);
    expect(check('CORS_ORIGINS', 'https://shop.example/')).toMatch(
      /not an origin.*https:\/\/shop\.example\//,
    );
    expect(check('EMAIL_FROM', 'Shop <no-reply@shop.example>')).toBe(true);
    expect(check('EMAIL_FROM', 'Shop')).toMatch(/expected an address/);
    expect(check('TWILIO_WHATSAPP_CONTENT_SID', 'HX1')).toMatch(/HX followed by 32 hex/);
    expect(check('DATABASE_URL', 'mysql://x')).toMatch(/^DATABASE_URL: /);
    expect(check('SMTP_URL', 'smtps://u:p@mail.example:465')).toBe(true);
    expect(check('WHATSAPP_ALLOWED_COUNTRIES', '*')).toBe(true);
    expect(check('WHATSAPP_ALLOWED_COUNTRIES', 'USA')).toMatch(/ISO country codes.*\* for any/);
  });

  it("checks answers by the chosen environment's rules", () => {
    const plain = 'smtp://u:p@mail.example:587';
    expect(checkAnswer('SMTP_URL', plain, 'development')).toBe(true);
    expect(checkAnswer('SMTP_URL', plain, 'production')).toMatch(
      /^SMTP_URL: must require TLS.*requireTLS=true/,
    );
    expect(checkAnswer('SMTP_URL', `${plain}?requireTLS=true`, 'production')).toBe(true);
  });
});
