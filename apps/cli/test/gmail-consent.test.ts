// The Gmail OAuth helper end to end against the fake Google: the consent URL setup prints, the
// browser's redirect simulated with fetch, the code exchanged at the fake's token endpoint, and the
// refresh token written to the env file.
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { loadWorkerConfig } from '@otp-relay/core';
import { type FakeGoogle, startFakeGoogle } from '@otp-relay/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GmailConsentError, startGmailConsent } from '../src/gmail-oauth.js';
import { runOtpCheck } from '../src/run-otp-check.js';
import { runSetup } from '../src/run-setup.js';
import { captureIo, tempDir } from './support/cli-io.js';

const client = { clientId: 'client-1.apps.googleusercontent.com', clientSecret: 'GOCSPX-secret' };
const REFRESH_TOKEN = '1//0fake-refresh-token';
const URL_LINE = /^\s+https?:\/\/\S+$/;

let google: FakeGoogle;
beforeAll(async () => {
  google = await startFakeGoogle({ ...client, refreshToken: REFRESH_TOKEN });
});
afterEach(() => google.reset());
afterAll(() => google.close());

/** What the consent URL carries, and where its redirect goes. */
function consentOf(line: string) {
  const url = new URL(line.trim());
  const redirect = new URL(url.searchParams.get('redirect_uri') ?? '');
  return {
    url,
    state: url.searchParams.get('state') ?? '',
    // The browser goes to localhost; the helper listens on 127.0.0.1.
    callback: (query: Record<string, string>) =>
      fetch(`http://127.0.0.1:${redirect.port}${redirect.pathname}?${new URLSearchParams(query)}`),
  };
}

function gmailSetupArgs(file: string): string[] {
  return [
    '--non-interactive',
    '--email-provider',
    'gmail',
    '--gmail-client-id',
    client.clientId,
    '--gmail-client-secret',
    client.clientSecret,
    '--email-from',
    'Shop <no-reply@shop.test>',
    '--oauth-port',
    '0',
    '--google-token-url',
    google.tokenUrl,
    '--env-path',
    file,
  ];
}

describe('the Gmail OAuth helper', () => {
  it('prints Google’s consent URL, refuses a wrong state, and stores the refresh token it gets', async () => {
    const file = path.join(await tempDir(), '.env');
    const io = captureIo();
    const running = runSetup(gmailSetupArgs(file), { ...io, prompter: undefined, env: {} });

    const consent = consentOf(await io.printed(URL_LINE));
    expect(`${consent.url.origin}${consent.url.pathname}`).toBe(
      'https://accounts.google.com/o/oauth2/v2/auth',
    );
    expect(Object.fromEntries(consent.url.searchParams)).toMatchObject({
      client_id: client.clientId,
      scope: 'https://www.googleapis.com/auth/gmail.send',
      access_type: 'offline',
      prompt: 'consent',
      response_type: 'code',
      code_challenge_method: 'S256',
    });
    expect(consent.url.searchParams.get('redirect_uri')).toMatch(/^http:\/\/localhost:\d+\/oauth2callback$/);
    expect(consent.state.length).toBeGreaterThanOrEqual(32);

    const forged = await consent.callback({ code: google.issueAuthorizationCode(), state: 'not-the-state' });
    expect(forged.status).toBe(400);
    expect(await forged.text()).toMatch(/state mismatch/);

    const back = await consent.callback({ code: google.issueAuthorizationCode(), state: consent.state });
    expect(back.status).toBe(200);
    expect(await back.text()).toMatch(/You can close this tab/);
    expect(await running).toBe(0);

    const env = parseEnv(await readFile(file, 'utf8'));
    expect(env).toMatchObject({
      EMAIL_PROVIDER: 'gmail',
      EMAIL_CLIENT_ID: client.clientId,
      EMAIL_REFRESH_TOKEN: REFRESH_TOKEN,
      // Not Google's own endpoint, so the worker must use it too.
      GOOGLE_OAUTH_TOKEN_URL: google.tokenUrl,
    });
    expect(
      loadWorkerConfig({ ...env, DATABASE_URL: 'postgres://x@h/db', REDIS_URL: 'redis://h' }),
    ).toMatchObject({
      EMAIL_REFRESH_TOKEN: REFRESH_TOKEN,
    });

    // And the token works: otp:check on the written file passes against the same fake.
    const check = captureIo();
    const code = await runOtpCheck(['--env-path', file], {
      ...check,
      env: { GMAIL_API_ROOT_URL: google.rootUrl },
    });
    expect(check.out.join('\n')).toMatch(/✓ Gmail API: enabled, and the token may send/);
    expect(code).toBe(0);
  });

  it('--gmail-only renews EMAIL_REFRESH_TOKEN in place and keeps every other line', async () => {
    const file = path.join(await tempDir(), '.env');
    const original = [
      '# my settings',
      'EMAIL_PROVIDER=gmail',
      `EMAIL_CLIENT_ID=${client.clientId}`,
      `EMAIL_CLIENT_SECRET=${client.clientSecret}`,
      'EMAIL_REFRESH_TOKEN=1//expired',
      `GOOGLE_OAUTH_TOKEN_URL=${google.tokenUrl}`,
      "EMAIL_FROM='Shop <no-reply@shop.test>' # inline comment",
      'MY_OWN_SETTING=kept',
      '',
    ].join('\n');
    await writeFile(file, original);
    const io = captureIo();
    // Client and token endpoint come from the file: no flags needed for them.
    const running = runSetup(['--gmail-only', '--non-interactive', '--oauth-port', '0', '--env-path', file], {
      ...io,
      prompter: undefined,
      env: {},
    });
    const consent = consentOf(await io.printed(URL_LINE));
    expect(
      (await consent.callback({ code: google.issueAuthorizationCode(), state: consent.state })).status,
    ).toBe(200);
    expect(await running).toBe(0);

    const updated = await readFile(file, 'utf8');
    expect(updated).toBe(
      original.replace('EMAIL_REFRESH_TOKEN=1//expired', `EMAIL_REFRESH_TOKEN=${REFRESH_TOKEN}`),
    );
    expect(await readFile(`${file}.bak`, 'utf8')).toBe(original);
  });

  it('--gmail-only without a client to use names the flags', async () => {
    const file = path.join(await tempDir(), '.env');
    const io = captureIo();
    expect(
      await runSetup(['--gmail-only', '--non-interactive', '--env-path', file], {
        ...io,
        prompter: undefined,
        env: {},
      }),
    ).toBe(2);
    expect(io.err.join('\n')).toMatch(/--gmail-client-id and --gmail-client-secret/);
  });

  it('reports a refused consent and writes nothing', async () => {
    const file = path.join(await tempDir(), '.env');
    const io = captureIo();
    const running = runSetup(gmailSetupArgs(file), { ...io, prompter: undefined, env: {} });
    const consent = consentOf(await io.printed(URL_LINE));
    expect((await consent.callback({ error: 'access_denied', state: consent.state })).status).toBe(400);
    expect(await running).toBe(1);
    expect(io.err.join('\n')).toMatch(/access_denied/);
    await expect(readFile(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reports a code the token endpoint refuses', async () => {
    const consent = await startGmailConsent({
      ...client,
      port: 0,
      tokenUrl: google.tokenUrl,
      timeoutMs: 10_000,
    });
    try {
      const { state, callback } = consentOf(consent.url);
      const answer = await callback({ code: '4/0never-issued', state });
      expect(answer.status).toBe(502);
      await expect(consent.refreshToken).rejects.toThrow(/exchanging the code failed: invalid_grant/);
    } finally {
      await consent.close();
    }
  });

  it('explains a token answer without refresh_token', async () => {
    // A token endpoint like Google's when it reuses an earlier grant: an access token only.
    const tokenServer: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          access_token: 'ya29.x',
          expires_in: 3599,
          scope: 'https://www.googleapis.com/auth/gmail.send',
          token_type: 'Bearer',
        }),
      );
    });
    await new Promise<void>((resolve) => tokenServer.listen(0, '127.0.0.1', resolve));
    const { port } = tokenServer.address() as AddressInfo;
    const consent = await startGmailConsent({
      ...client,
      port: 0,
      tokenUrl: `http://127.0.0.1:${port}/token`,
      timeoutMs: 10_000,
    });
    try {
      const { state, callback } = consentOf(consent.url);
      expect((await callback({ code: 'any', state })).status).toBe(502);
      await expect(consent.refreshToken).rejects.toThrow(
        /without a refresh token.*prompt=consent.*myaccount\.google\.com\/permissions.*testing mode/s,
      );
    } finally {
      await consent.close();
      await new Promise((resolve) => tokenServer.close(resolve));
    }
  });

  it('says which flag to use when the port is taken, and gives up when the browser never comes back', async () => {
    const first = await startGmailConsent({ ...client, port: 0, timeoutMs: 10_000 });
    const port = Number(new URL(first.redirectUri).port);
    try {
      await expect(startGmailConsent({ ...client, port, timeoutMs: 10_000 })).rejects.toThrow(
        GmailConsentError,
      );
      await expect(startGmailConsent({ ...client, port, timeoutMs: 10_000 })).rejects.toThrow(/--oauth-port/);
    } finally {
      await first.close();
    }
    const waiting = await startGmailConsent({ ...client, port: 0, timeoutMs: 20 });
    await expect(waiting.refreshToken).rejects.toThrow(/no answer from the browser/);
    await waiting.close();
  });
});
