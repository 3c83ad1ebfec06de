// `pnpm otp:check` against the fake Google, fake Twilio and the SMTP sink: each check's ✓ and its ✗
// diagnoses, `--send-to`, and the command's exit code.
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer, type Server } from 'node:net';
import { createLogger, loadWorkerConfig, type WorkerConfig } from '@otp-relay/core';
import {
  type FakeGoogle,
  type FakeSmtp,
  type FakeTwilio,
  startFakeGoogle,
  startFakeSmtp,
  startFakeTwilio,
} from '@otp-relay/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatCheck } from '../src/checks/check-result.js';
import { runChecks } from '../src/checks/run-checks.js';
import { runOtpCheck } from '../src/run-otp-check.js';
import { captureIo } from './support/cli-io.js';

const google_ = {
  clientId: 'client-1.apps.googleusercontent.com',
  clientSecret: 'GOCSPX-secret',
  refreshToken: '1//refresh',
};
const twilio_ = { accountSid: `AC${'0123456789abcdef'.repeat(2)}`, authToken: 'twilio-auth-token' };
const logger = createLogger('silent', 'otp-check-test');

let google: FakeGoogle;
let twilio: FakeTwilio;
let smtp: FakeSmtp;
beforeAll(async () => {
  [google, twilio, smtp] = await Promise.all([
    startFakeGoogle(google_),
    startFakeTwilio(twilio_),
    startFakeSmtp({ user: 'mailer', password: 'mail-password' }),
  ]);
});
afterEach(() => {
  google.reset();
  twilio.reset();
  smtp.reset();
});
afterAll(() => Promise.all([google.close(), twilio.close(), smtp.close()]));

/** The worker's environment, pointed at the fakes. */
function env(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    // Development: the sender is Twilio's sandbox, which production refuses (its own test says so).
    NODE_ENV: 'development',
    DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db',
    REDIS_URL: 'redis://127.0.0.1:6379',
    OTP_ENCRYPTION_KEY: 'k'.repeat(64),
    EMAIL_PROVIDER: 'gmail',
    EMAIL_CLIENT_ID: google_.clientId,
    EMAIL_CLIENT_SECRET: google_.clientSecret,
    EMAIL_REFRESH_TOKEN: google_.refreshToken,
    EMAIL_FROM: 'Shop <no-reply@shop.test>',
    GMAIL_API_ROOT_URL: google.rootUrl,
    GOOGLE_OAUTH_TOKEN_URL: google.tokenUrl,
    WHATSAPP_PROVIDER: 'twilio',
    TWILIO_ACCOUNT_SID: twilio_.accountSid,
    TWILIO_AUTH_TOKEN: twilio_.authToken,
    TWILIO_WHATSAPP_FROM: '+14155238886',
    TWILIO_API_BASE_URL: twilio.baseUrl,
    PROVIDER_TIMEOUT_MS: '5000',
    ...overrides,
  };
}

const config = (overrides: Record<string, string | undefined> = {}): WorkerConfig =>
  loadWorkerConfig(env(overrides));

/** The report lines, as otp:check prints them. */
async function report(
  overrides: Record<string, string | undefined> = {},
  sendTo?: string,
): Promise<string[]> {
  const results = await runChecks(config(overrides), { logger, sendTo });
  return results.map(formatCheck);
}

function line(lines: string[], name: string): string {
  const found = lines.find((l) => l.slice(2).startsWith(`${name}:`));
  if (!found) throw new Error(`no "${name}" line in:\n${lines.join('\n')}`);
  return found;
}

describe('otp:check against the providers', () => {
  it('passes every check of a good configuration, and sends nothing', async () => {
    const lines = await report();
    expect(
      lines.every((l) => l.startsWith('✓')),
      lines.join('\n'),
    ).toBe(true);
    expect(line(lines, 'Gmail token')).toBe('✓ Gmail token: the refresh token exchanges for an access token');
    expect(line(lines, 'Gmail API')).toMatch(/^✓ Gmail API: enabled, and the token may send/);
    expect(line(lines, 'Twilio credentials')).toMatch(
      /^✓ Twilio credentials: accepted for "otp-relay fake account"/,
    );
    expect(line(lines, 'Twilio account')).toBe('✓ Twilio account: active');
    expect(line(lines, 'WhatsApp sender')).toMatch(/sandbox.*join phrase.*63015/);
    expect(line(lines, 'WhatsApp template')).toMatch(/^✓ .*free-form text, which the sandbox allows/);
    // The probe reached Gmail (and was refused for want of a recipient); no message went anywhere.
    expect(google.sendRequests).toBe(1);
    expect(google.sent).toEqual([]);
    expect(twilio.requests).toBe(0);
  });

  it('diagnoses a revoked refresh token (invalid_grant)', async () => {
    google.revokeRefreshToken();
    const lines = await report();
    expect(line(lines, 'Gmail token')).toMatch(
      /^✗ Gmail token: invalid_grant: the refresh token was revoked or expired: External apps in testing mode expire tokens after 7 days.*pnpm run setup --gmail-only/,
    );
    expect(lines.some((l) => l.includes('Gmail API'))).toBe(false);
  });

  it('diagnoses a wrong client secret (invalid_client)', async () => {
    const lines = await report({ EMAIL_CLIENT_SECRET: 'wrong' });
    expect(line(lines, 'Gmail token')).toMatch(/^✗ Gmail token: invalid_client: client id\/secret wrong/);
  });

  it('diagnoses a Gmail API that is not enabled, with Google’s link', async () => {
    google.failSends(1, { kind: 'status', status: 403 });
    const lines = await report();
    expect(line(lines, 'Gmail token')).toMatch(/^✓/);
    expect(line(lines, 'Gmail API')).toMatch(
      /^✗ Gmail API: .*enable the Gmail API in the Cloud console for this project \(https:\/\/console\.developers\.google\.com\/apis\/api\/gmail\.googleapis\.com\/overview\?project=123\)/,
    );
  });

  it('diagnoses a token without the gmail.send scope', async () => {
    // Google's answer for a token that may not send, as the real API words it.
    const gmail = createHttpServer((_req, res) => {
      const body = JSON.stringify({
        error: {
          code: 403,
          message: 'Request had insufficient authentication scopes.',
          errors: [
            { message: 'Insufficient Permission', domain: 'global', reason: 'insufficientPermissions' },
          ],
          status: 'PERMISSION_DENIED',
        },
      });
      res.writeHead(403, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(body);
    });
    await new Promise<void>((resolve) => gmail.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = gmail.address() as AddressInfo;
      const lines = await report({ GMAIL_API_ROOT_URL: `http://127.0.0.1:${port}/` });
      expect(line(lines, 'Gmail API')).toMatch(
        /^✗ Gmail API: the token lacks the gmail\.send scope: redo the consent/,
      );
    } finally {
      gmail.closeAllConnections();
      await new Promise((resolve) => gmail.close(resolve));
    }
  });

  it('diagnoses wrong Twilio credentials (20003)', async () => {
    const lines = await report({ TWILIO_AUTH_TOKEN: 'wrong-token' });
    expect(line(lines, 'Twilio credentials')).toMatch(
      /^✗ Twilio credentials: Account SID or auth token wrong \(Twilio 20003/,
    );
    expect(lines.some((l) => l.includes('Twilio account:'))).toBe(false);
  });

  it('diagnoses a suspended Twilio account', async () => {
    twilio.setAccountStatus('suspended');
    expect(line(await report(), 'Twilio account')).toMatch(
      /^✗ Twilio account: suspended: Twilio sends nothing/,
    );
  });

  it('wants an approved template outside the sandbox, and no sandbox in production', async () => {
    const own = await report({ TWILIO_WHATSAPP_FROM: 'whatsapp:+14155552671' });
    expect(line(own, 'WhatsApp sender')).toMatch(/^✓ WhatsApp sender: \+14155552671/);
    expect(line(own, 'WhatsApp template')).toMatch(
      /^✗ WhatsApp template: TWILIO_WHATSAPP_CONTENT_SID is not set.*63016/,
    );
    const templated = await report({
      TWILIO_WHATSAPP_FROM: '+14155552671',
      TWILIO_WHATSAPP_CONTENT_SID: `HX${'ab'.repeat(16)}`,
    });
    expect(line(templated, 'WhatsApp template')).toMatch(/^✓ WhatsApp template: HX/);
    const production = await report({ NODE_ENV: 'production' });
    expect(line(production, 'WhatsApp sender')).toMatch(/^✗ WhatsApp sender: .*Not for production/);
  });

  it('--send-to an email address sends a real message through Gmail', async () => {
    const lines = await report({}, 'ann@example.com');
    const [email] = await google.waitForEmails(1, { to: 'ann@example.com' });
    expect(email?.text).toContain('123456');
    expect(line(lines, 'Test message')).toBe(
      `✓ Test message: gmail accepted it for ann@example.com: message id ${email?.id}`,
    );
  });

  it('--send-to a phone number sends through Twilio, and reports the classified error when it fails', async () => {
    const lines = await report({}, '+14155552671');
    const [message] = await twilio.waitForMessages(1, { to: 'whatsapp:+14155552671' });
    expect(message?.body).toContain('123456');
    expect(line(lines, 'Test message')).toBe(
      `✓ Test message: twilio accepted it for +14155552671: message id ${message?.sid}`,
    );

    twilio.failSends(1, { kind: 'status', status: 400, code: 63003 });
    const failed = await report({}, '+14155552671');
    expect(line(failed, 'Test message')).toMatch(
      /^✗ Test message: twilio refused it: twilio: 63003 \(HTTP 400\): Channel could not find To address$/,
    );
    expect(line(await report({ WHATSAPP_PROVIDER: 'disabled' }, '+14155552671'), 'Test message')).toMatch(
      /WHATSAPP_PROVIDER=disabled/,
    );
  });

  it('checks the SMTP backup’s greeting: 220, refused, silent', async () => {
    expect(line(await report({ SMTP_URL: smtp.url }), 'SMTP backup')).toMatch(
      /^✓ SMTP backup: 127\.0\.0\.1:\d+ greets "220 /,
    );

    // A port nothing listens on: take a free one and let it go.
    const closed = createTcpServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    expect(line(await report({ SMTP_URL: `smtp://u:p@127.0.0.1:${port}` }), 'SMTP backup')).toMatch(
      /^✗ SMTP backup: 127\.0\.0\.1:\d+: connection refused/,
    );

    // Accepts the connection and never greets.
    const silent: Server = createTcpServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const silentPort = (silent.address() as AddressInfo).port;
      const lines = await report({
        SMTP_URL: `smtp://u:p@127.0.0.1:${silentPort}`,
        PROVIDER_TIMEOUT_MS: '100',
      });
      expect(line(lines, 'SMTP backup')).toMatch(/^✗ SMTP backup: .*no greeting within 100 ms/);
      expect(lines.join('\n')).not.toContain(':p@');
    } finally {
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('otp:check with EMAIL_PROVIDER=smtp', () => {
  it('checks SMTP_URL as the mail server and SMTP_BACKUP_URL as its backup, and sends a test by SMTP', async () => {
    const lines = await report(
      { EMAIL_PROVIDER: 'smtp', SMTP_URL: smtp.url, SMTP_BACKUP_URL: smtp.url },
      'ann@example.com',
    );
    expect(line(lines, 'SMTP')).toMatch(/^✓ SMTP: 127\.0\.0\.1:\d+ greets "220 /);
    expect(line(lines, 'SMTP backup')).toMatch(/^✓ SMTP backup: 127\.0\.0\.1:\d+ greets "220 /);
    expect(lines.some((l) => l.includes('Gmail'))).toBe(false);
    expect(line(lines, 'Test message')).toMatch(/^✓ Test message: smtp accepted it for ann@example\.com/);
    await smtp.waitForMails(1, { to: 'ann@example.com' });
  });
});

describe('otp:check with SMS on Twilio', () => {
  const sms = { SMS_PROVIDER: 'twilio', TWILIO_SMS_FROM: '+15005550006' };

  it('checks the shared account once, and the SMS sender beside WhatsApp’s', async () => {
    const lines = await report(sms);
    expect(lines.filter((l) => l.includes('Twilio credentials:'))).toHaveLength(1);
    expect(line(lines, 'Twilio account')).toBe('✓ Twilio account: active');
    expect(line(lines, 'WhatsApp sender')).toMatch(/^✓/);
    expect(line(lines, 'SMS sender')).toMatch(/^✓ SMS sender: \+15005550006 \(must be an SMS-capable number/);
    expect(twilio.requests).toBe(0);
  });

  it('checks the account for SMS alone, and names a Messaging Service as the sender', async () => {
    const lines = await report({
      WHATSAPP_PROVIDER: 'disabled',
      SMS_PROVIDER: 'twilio',
      TWILIO_MESSAGING_SERVICE_SID: `MG${'ab'.repeat(16)}`,
    });
    expect(line(lines, 'Twilio credentials')).toMatch(/^✓/);
    expect(line(lines, 'SMS sender')).toMatch(/^✓ SMS sender: Messaging Service MGab/);
    expect(line(lines, 'WhatsApp')).toMatch(/^✓ WhatsApp: WHATSAPP_PROVIDER=disabled/);
    expect(lines.some((l) => l.includes('WhatsApp sender'))).toBe(false);
  });

  it('says so when SMS is off', async () => {
    expect(line(await report(), 'SMS')).toBe(
      '✓ SMS: SMS_PROVIDER=disabled: the API refuses otp_method "sms"',
    );
  });

  it('--send-to sms:+E.164 texts it, and a bare number goes by SMS while WhatsApp is off', async () => {
    const lines = await report(sms, 'sms:+14155552671');
    const [message] = await twilio.waitForMessages(1, { to: '+14155552671' });
    expect(message).toMatchObject({ from: '+15005550006' });
    expect(message?.body).toMatch(/^123456 is your verification code/);
    expect(line(lines, 'Test message')).toBe(
      `✓ Test message: twilio accepted it for +14155552671: message id ${message?.sid}`,
    );

    await report({ ...sms, WHATSAPP_PROVIDER: 'disabled' }, '+14155552672');
    await twilio.waitForMessages(1, { to: '+14155552672' });
    expect(twilio.sent.filter((sent) => sent.to.startsWith('whatsapp:'))).toEqual([]);

    expect(line(await report({}, 'sms:+14155552673'), 'Test message')).toMatch(
      /^✗ Test message: SMS_PROVIDER=disabled: there is no sender to try/,
    );
  });
});

describe('pnpm otp:check', () => {
  it('exits 0 when every check passes, 1 when one fails, and says how many', async () => {
    const ok = captureIo();
    expect(await runOtpCheck(['--env-path', '/nonexistent/.env'], { ...ok, env: env(), logger })).toBe(0);
    expect(ok.out.at(-1)).toMatch(/^All \d+ checks passed\.$/);

    google.revokeRefreshToken();
    const bad = captureIo();
    expect(await runOtpCheck(['--env-path', '/nonexistent/.env'], { ...bad, env: env(), logger })).toBe(1);
    expect(bad.out.join('\n')).toMatch(/✗ Gmail token: invalid_grant/);
    expect(bad.out.at(-1)).toMatch(/^1 of \d+ checks failed\.$/);
  });

  it('reports a configuration the worker would refuse, variable by variable', async () => {
    const io = captureIo();
    const code = await runOtpCheck(['--env-path', '/nonexistent/.env'], {
      ...io,
      env: env({ EMAIL_REFRESH_TOKEN: undefined, TWILIO_ACCOUNT_SID: 'AC1' }),
      logger,
    });
    expect(code).toBe(1);
    expect(io.out.join('\n')).toMatch(/✗ Configuration: TWILIO_ACCOUNT_SID/);
  });

  it('works without DATABASE_URL and REDIS_URL, as under pnpm dev', async () => {
    const io = captureIo();
    const code = await runOtpCheck(['--env-path', '/nonexistent/.env'], {
      ...io,
      env: env({
        DATABASE_URL: undefined,
        REDIS_URL: undefined,
        EMAIL_PROVIDER: 'console',
        WHATSAPP_PROVIDER: 'disabled',
      }),
      logger,
    });
    expect(io.out.join('\n')).toMatch(
      /✓ Configuration: the worker accepts it \(DATABASE_URL and REDIS_URL unset/,
    );
    expect(code).toBe(0);
  });

  it('takes a Redis Cluster or Sentinel in place of REDIS_URL', async () => {
    for (const redis of [
      { REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7000' },
      { REDIS_SENTINELS: '10.0.0.1:26379', REDIS_SENTINEL_NAME: 'otp' },
    ]) {
      const io = captureIo();
      const code = await runOtpCheck(['--env-path', '/nonexistent/.env'], {
        ...io,
        env: env({
          REDIS_URL: undefined,
          ...redis,
          EMAIL_PROVIDER: 'console',
          WHATSAPP_PROVIDER: 'disabled',
        }),
        logger,
      });
      expect(io.out.join('\n')).toMatch(/✓ Configuration: the worker accepts it/);
      expect(io.out.join('\n')).not.toMatch(/REDIS_URL/);
      expect(code).toBe(0);
    }
  });
});
