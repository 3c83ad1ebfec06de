/**
 * The Gmail OAuth helper: gets a refresh token that may only send mail (`gmail.send`) the way Google
 * intends for installed tools (the "loopback" flow): print Google's consent URL, receive the browser's
 * redirect on a small local HTTP server, check `state`, exchange the code (with PKCE) for tokens.
 *
 * The OAuth client must allow the redirect URI `http://localhost:<port>/oauth2callback`: a "Desktop app"
 * client allows any loopback port; a "Web application" client needs it listed under Authorized redirect
 * URIs.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CodeChallengeMethod, type Credentials, OAuth2Client } from 'google-auth-library';
import { describeTokenFailure, GMAIL_SEND_SCOPE } from './google-errors.js';

export const GOOGLE_AUTH_URL = 'https://accounts.google.com/o/oauth2/v2/auth';
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
export const DEFAULT_OAUTH_PORT = 8000;
export const CALLBACK_PATH = '/oauth2callback';

export interface GmailConsentOptions {
  clientId: string;
  clientSecret: string;
  /** Where the callback server listens; `0` picks a free port (the redirect URI follows it). */
  port: number;
  /** Default `127.0.0.1`: only this machine's browser can reach the callback. */
  host?: string;
  /** Google's consent page by default; set for tests. */
  authUrl?: string;
  /** Google's token endpoint by default; set for proxies and tests. */
  tokenUrl?: string;
  /** How long to wait for the browser before giving up. */
  timeoutMs: number;
}

export interface GmailConsent {
  /** Google's consent page, to open in a browser signed in as the sending account. */
  readonly url: string;
  readonly redirectUri: string;
  /** Resolves with the refresh token once the browser came back and the code was exchanged. */
  readonly refreshToken: Promise<string>;
  /** Stops the callback server (idempotent); a pending `refreshToken` rejects. */
  close(): Promise<void>;
}

/** A failure of the consent flow, worded for the operator. */
export class GmailConsentError extends Error {
  override name = 'GmailConsentError';
}

export const NO_REFRESH_TOKEN_HELP =
  'Google answered without a refresh token. Google hands one out only when the consent screen is ' +
  'shown: this helper asks for it every time (access_type=offline, prompt=consent), so if it is still ' +
  'missing, the account had granted access before through another flow that Google reused: remove the ' +
  "app under https://myaccount.google.com/permissions and run this again. If the OAuth consent screen's " +
  'app is External and in testing mode, the account must be listed as a test user (and its tokens ' +
  'expire after 7 days: publish the app, or use an Internal Workspace app, for a lasting token).';

function page(title: string, text: string): string {
  const html = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>otp-relay: ${html(title)}</title>` +
    '<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5}</style>' +
    `</head><body><h1>${html(title)}</h1><p>${html(text)}</p></body></html>`
  );
}

function answer(res: ServerResponse, status: number, title: string, text: string): void {
  const body = page(title, text);
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    // The page is ours alone: nothing from it may be framed or sent on.
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'referrer-policy': 'no-referrer',
  });
  res.end(body);
}

async function listen(server: ReturnType<typeof createServer>, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((error: unknown) => {
    if ((error as { code?: string }).code === 'EADDRINUSE') {
      throw new GmailConsentError(
        `port ${port} on ${host} is in use: pass --oauth-port <port> and allow ` +
          `http://localhost:<port>${CALLBACK_PATH} as a redirect URI of the OAuth client`,
      );
    }
    throw error;
  });
  return (server.address() as AddressInfo).port;
}

/** Starts the callback server and builds the consent URL; the caller shows the URL and awaits the token. */
export async function startGmailConsent(options: GmailConsentOptions): Promise<GmailConsent> {
  const host = options.host ?? '127.0.0.1';
  const tokenUrl = options.tokenUrl ?? GOOGLE_TOKEN_URL;
  const server = createServer();
  const port = await listen(server, host, options.port);
  // Google's loopback flow: the browser is sent to localhost, which this server answers on 127.0.0.1.
  const redirectUri = `http://localhost:${port}${CALLBACK_PATH}`;
  const client = new OAuth2Client({
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    redirectUri,
    endpoints: { oauth2AuthBaseUrl: options.authUrl ?? GOOGLE_AUTH_URL, oauth2TokenUrl: tokenUrl },
    transporterOptions: { timeout: 30_000 },
  });
  // state ties the redirect to this run (no forged or stale callbacks); PKCE ties the code to it too.
  const state = randomBytes(24).toString('base64url');
  const { codeVerifier, codeChallenge } = await client.generateCodeVerifierAsync();
  const url = client.generateAuthUrl({
    scope: [GMAIL_SEND_SCOPE],
    access_type: 'offline',
    prompt: 'consent',
    state,
    code_challenge: codeChallenge,
    code_challenge_method: CodeChallengeMethod.S256,
  });

  let settled = false;
  let exchanging = false;
  let resolveToken: (token: string) => void = () => {};
  let rejectToken: (error: Error) => void = () => {};
  const refreshToken = new Promise<string>((resolve, reject) => {
    resolveToken = resolve;
    rejectToken = reject;
  });
  // Rejections are the caller's to handle; this only keeps an unawaited one from crashing the process.
  refreshToken.catch(() => {});
  const settle = (outcome: { token: string } | { error: Error }): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    if ('token' in outcome) resolveToken(outcome.token);
    else rejectToken(outcome.error);
  };
  const timer = setTimeout(() => {
    settle({
      error: new GmailConsentError(
        `no answer from the browser within ${Math.round(options.timeoutMs / 1000)} s: open the URL, sign in as the sending account and allow access`,
      ),
    });
  }, options.timeoutMs);

  async function exchange(code: string): Promise<string> {
    let tokens: Credentials;
    try {
      ({ tokens } = await client.getToken({ code, codeVerifier, redirect_uri: redirectUri }));
    } catch (error) {
      throw new GmailConsentError(`exchanging the code failed: ${describeTokenFailure(error, tokenUrl)}`);
    }
    if (tokens.scope && !tokens.scope.split(' ').includes(GMAIL_SEND_SCOPE)) {
      throw new GmailConsentError(
        `the permission to send email was not granted (granted: ${tokens.scope}): run this again and tick "Send email on your behalf"`,
      );
    }
    if (!tokens.refresh_token) throw new GmailConsentError(NO_REFRESH_TOKEN_HELP);
    return tokens.refresh_token;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requested = new URL(req.url ?? '/', redirectUri);
    if (req.method !== 'GET' || requested.pathname !== CALLBACK_PATH) {
      answer(res, 404, 'Not found', 'This server only receives the answer of Google’s consent page.');
      return;
    }
    const params = requested.searchParams;
    if (params.get('state') !== state) {
      // A stale tab or a forged link: refuse it, and keep waiting for the real answer.
      answer(
        res,
        400,
        'Not this sign-in',
        'This answer does not belong to the setup running now (state mismatch). Use the link it printed last.',
      );
      return;
    }
    if (settled || exchanging) {
      answer(res, 409, 'Already done', 'This sign-in has been handled already. You can close this tab.');
      return;
    }
    const denied = params.get('error');
    const code = params.get('code');
    if (denied || !code) {
      const reason = denied ?? 'no code in the answer';
      answer(res, 400, 'Access not granted', `Google answered: ${reason}. Run the setup again to retry.`);
      settle({ error: new GmailConsentError(`Google's consent page answered: ${reason}`) });
      return;
    }
    exchanging = true;
    try {
      const token = await exchange(code);
      answer(res, 200, 'otp-relay can send as you', 'The Gmail token is stored. You can close this tab.');
      settle({ token });
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      answer(res, 502, 'Something went wrong', `${failure.message} You can close this tab.`);
      settle({ error: failure });
    }
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) answer(res, 500, 'Something went wrong', String(error));
      settle({ error: error instanceof Error ? error : new Error(String(error)) });
    });
  });

  let closing: Promise<void> | undefined;
  return {
    url,
    redirectUri,
    refreshToken,
    close() {
      closing ??= new Promise<void>((resolve) => {
        settle({ error: new GmailConsentError('the consent helper was stopped') });
        server.close(() => resolve());
        // Browsers keep the connection open; without this close() waits for them to let go.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
