/**
 * Fake Google for integration tests: the OAuth2 token endpoint (refresh_token grant, and the
 * authorization_code grant for codes a test issues with `issueAuthorizationCode()`) and Gmail's
 * `users.messages.send`, speaking Google's real wire formats (status codes, JSON error bodies, headers).
 *
 * Why: the worker uses the real `@googleapis/gmail` + `google-auth-library` clients, and we want tests to
 * exercise that exact code path (token refresh/caching, error parsing, retries) without network or real
 * credentials. Point the clients at it with `rootUrl` and `endpoints.oauth2TokenUrl`.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { simpleParser } from 'mailparser';
import {
  addressesOf,
  ConnectionReset,
  createFailureQueue,
  createLatency,
  createNotifier,
  createRecorder,
  DEFAULT_WAIT_TIMEOUT_MS,
  jsonSender,
  parseBasicAuth,
  readBody,
  startHttpFake,
} from './fake-server-kit.js';

export interface FakeGoogleOptions {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default `0` (random free port). */
  port?: number;
  /**
   * Hands each accepted email here instead of keeping it: `sent` stays empty and `waitForEmails`
   * waits for nothing. For a long-running fake (the bench, the `fake:google` command), whose
   * memory would otherwise grow with every email.
   */
  onEmail?: (email: SentEmail) => void;
}

export interface SentEmail {
  /** Gmail message id (16 hex chars), also returned to the client. */
  id: string;
  /** The decoded RFC 5322 message. */
  raw: string;
  /** Bare address, e.g. `noreply@shop.test`; `''` if the message has no From. */
  from: string;
  /** Decoded From header as mailparser formats it, e.g. `"Shop" <noreply@shop.test>`. */
  fromHeader: string;
  /** Bare addresses from the To header (Cc/Bcc count as recipients but are not listed here). */
  to: string[];
  subject: string;
  /** `''` when the message has no text part (mailparser derives text from HTML if only HTML exists). */
  text: string;
  /** `''` when the message has no HTML part. */
  html: string;
  /** The bearer token the send call authenticated with. */
  accessToken: string;
  receivedAt: Date;
}

export type SendFailure =
  | {
      kind: 'status';
      status: number;
      retryAfterSeconds?: number;
      /**
       * Gmail's own error `reason` and message instead of the status's usual one, e.g. the daily
       * sending limit: `{ status: 403, reason: 'dailyLimitExceeded', message: 'Daily user sending
       * limit exceeded.' }` (domain `usageLimits` for 403 and 429, as Gmail answers them).
       */
      reason?: string;
      message?: string;
    }
  /** Destroy the socket without answering (the client sees a network error). */
  | { kind: 'reset' };

export type TokenFailure =
  | { kind: 'invalid_grant' }
  | { kind: 'invalid_client' }
  | { kind: 'status'; status: number }
  | { kind: 'reset' };

export interface WaitForEmailsOptions {
  /** Only count emails whose To contains this address (case-insensitive). */
  to?: string;
  /** Default 10 000 ms. */
  timeoutMs?: number;
}

export interface FakeGoogle {
  /** `http://127.0.0.1:PORT/`; the trailing slash matters, googleapis appends `gmail/v1/...`. */
  readonly rootUrl: string;
  /** `http://127.0.0.1:PORT/token`, for `new OAuth2Client({ endpoints: { oauth2TokenUrl } })`. */
  readonly tokenUrl: string;
  /** Snapshot of the accepted messages, oldest first. */
  readonly sent: readonly SentEmail[];
  /** Token requests that arrived, including failed ones (so client-side retries are visible). */
  readonly tokenRequests: number;
  /** Send requests that arrived, including failed ones. */
  readonly sendRequests: number;
  /** Resolves once `count` send calls have arrived (answered or not): e.g. to kill a client mid-send. */
  waitForSendRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves with the first `count` matching emails once they have been recorded. */
  waitForEmails(count: number, opts?: WaitForEmailsOptions): Promise<SentEmail[]>;
  /** Delay every response (token and send) by `ms`. */
  setLatency(ms: number): void;
  /** The next `count` send calls fail this way; calls queue up. `Infinity` = always. */
  failSends(count: number, failure: SendFailure): void;
  /** The next `count` token calls fail this way; calls queue up. `Infinity` = always. */
  failTokens(count: number, failure: TokenFailure): void;
  /** Subsequent refreshes answer `invalid_grant`. Already issued access tokens stay valid. */
  revokeRefreshToken(): void;
  /**
   * A one-time authorization code, as Google's consent page hands it to the browser's redirect. `/token`
   * exchanges it once (`grant_type=authorization_code` with `code` and `redirect_uri`) for an access token and
   * the configured refresh token; an unknown or used code answers `invalid_grant`. Until a test issues its
   * first code the fake answers that grant `unsupported_grant_type`, as it always did. Issued codes survive
   * `reset()`, like access tokens.
   */
  issueAuthorizationCode(): string;
  /**
   * Clears sent emails, queued failures, latency, counters and the revocation. Issued access tokens stay
   * valid, so a client that cached one keeps working across tests.
   */
  reset(): void;
  /** Closes the server, dropping keep-alive sockets and in-flight requests. Idempotent. */
  close(): Promise<void>;
}

const SEND_PATH = /^\/gmail\/v1\/users\/[^/]+\/messages\/send$/;
const GMAIL_SEND_SCOPE = 'https://www.googleapis.com/auth/gmail.send';
// Google rejects anything that is not (url-safe or standard) base64.
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

// Google spells the charset in capitals.
const sendJson = jsonSender(() => ({ 'content-type': 'application/json; charset=UTF-8' }));

interface GoogleApiError {
  status: number;
  body: unknown;
  headers?: OutgoingHttpHeaders;
}

/** Google's JSON error envelope (https://cloud.google.com/apis/design/errors#http_mapping). */
function googleError(
  code: number,
  status: string,
  message: string,
  reason: string,
  extra: { domain?: string; detailMessage?: string; location?: string; locationType?: string } = {},
): GoogleApiError {
  const { domain = 'global', detailMessage = message, ...location } = extra;
  return {
    status: code,
    body: {
      error: { code, message, errors: [{ message: detailMessage, domain, reason, ...location }], status },
    },
  };
}

function authError(): GoogleApiError {
  return {
    ...googleError(
      401,
      'UNAUTHENTICATED',
      'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other ' +
        'valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
      'authError',
      { detailMessage: 'Invalid Credentials', location: 'Authorization', locationType: 'header' },
    ),
    headers: { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
  };
}

function badRequest(message: string, reason = 'invalidArgument'): GoogleApiError {
  return googleError(400, 'INVALID_ARGUMENT', message, reason);
}

// The `status` Google's envelope names for an HTTP status (google.rpc.Code).
const RPC_STATUS: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** The error Gmail answers for an injected `{ kind: 'status' }` failure. */
function gmailErrorForStatus(
  status: number,
  retryAfterSeconds?: number,
  own: { reason?: string; message?: string } = {},
): GoogleApiError {
  const err =
    own.reason === undefined ? usualGmailError(status, retryAfterSeconds) : ownGmailError(status, own);
  if (retryAfterSeconds !== undefined) {
    err.headers = { ...err.headers, 'retry-after': String(retryAfterSeconds) };
  }
  return err;
}

/** A test's own reason and message, in Google's envelope for `status`. */
function ownGmailError(status: number, own: { reason?: string; message?: string }): GoogleApiError {
  const reason = own.reason ?? 'failedPrecondition';
  return googleError(
    status,
    RPC_STATUS[status] ?? (status >= 500 ? 'UNKNOWN' : 'FAILED_PRECONDITION'),
    own.message ?? `Request failed: ${reason}`,
    reason,
    { domain: status === 403 || status === 429 ? 'usageLimits' : 'global' },
  );
}

/** What Gmail usually answers with `status`. */
function usualGmailError(status: number, retryAfterSeconds: number | undefined): GoogleApiError {
  let err: GoogleApiError;
  switch (status) {
    case 400:
      err = badRequest('Request contains an invalid argument.');
      break;
    case 401:
      err = authError();
      break;
    case 403:
      err = googleError(
        403,
        'PERMISSION_DENIED',
        'Gmail API has not been used in project 123 before or it is disabled. Enable it by visiting ' +
          'https://console.developers.google.com/apis/api/gmail.googleapis.com/overview?project=123 then retry. ' +
          'If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.',
        'accessNotConfigured',
        { domain: 'usageLimits' },
      );
      break;
    case 429: {
      // Gmail appends the retry time to the message when it has one.
      const until =
        retryAfterSeconds === undefined
          ? ''
          : ` Retry after ${new Date(Date.now() + retryAfterSeconds * 1000).toISOString()}`;
      err = googleError(429, 'RESOURCE_EXHAUSTED', `User-rate limit exceeded.${until}`, 'rateLimitExceeded', {
        domain: 'usageLimits',
      });
      break;
    }
    case 500:
      err = googleError(500, 'INTERNAL', 'Backend Error', 'backendError');
      break;
    case 503:
      err = googleError(503, 'UNAVAILABLE', 'The service is currently unavailable.', 'backendError');
      break;
    default:
      err =
        status >= 500
          ? googleError(status, 'UNKNOWN', 'Backend Error', 'backendError')
          : googleError(status, 'FAILED_PRECONDITION', 'Precondition check failed.', 'failedPrecondition');
  }
  return err;
}

/** OAuth2 token endpoint errors are flat `{ error, error_description }` (RFC 6749 §5.2), not the API envelope. */
function oauthError(status: number, error: string, description: string): GoogleApiError {
  return { status, body: { error, error_description: description } };
}

function tokenErrorForStatus(status: number): GoogleApiError {
  if (status >= 500) {
    return oauthError(status, status === 503 ? 'temporarily_unavailable' : 'server_error', 'Backend Error');
  }
  return oauthError(status, 'invalid_request', 'Bad Request');
}

/** Client credentials from a Basic header; RFC 6749 §2.3.1 form-urlencodes both parts before base64. */
function parseClientAuth(header: string | undefined): { id: string; secret: string } | undefined {
  const basic = parseBasicAuth(header);
  if (!basic) return undefined;
  const formDecode = (s: string): string => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
  };
  return { id: formDecode(basic.username), secret: formDecode(basic.password) };
}

function summarize(email: SentEmail): string {
  return `{to: ${email.to.join(',') || '-'}, subject: ${JSON.stringify(email.subject)}}`;
}

export async function startFakeGoogle(options: FakeGoogleOptions): Promise<FakeGoogle> {
  const issuedTokens = new Set<string>();
  // Authorization codes not yet exchanged; `undefined` until the first one is issued (see issueAuthorizationCode).
  let authorizationCodes: Set<string> | undefined;
  const emails = createRecorder<SentEmail>({
    waiter: 'waitForEmails',
    fake: 'fake Google',
    noun: 'email(s)',
    recipients: (email) => email.to,
    totals: (recorded) => `${recorded} sent in total`,
    summarize,
  });
  // Wakes waitForSendRequests. Not closed with the fake (it never was): such a wait times out instead.
  const sendArrivals = createNotifier();
  const latency = createLatency();
  const sendFailures = createFailureQueue<SendFailure>();
  const tokenFailures = createFailureQueue<TokenFailure>();

  let tokenRequests = 0;
  let sendRequests = 0;
  let refreshTokenRevoked = false;

  function issueAccessToken(): string {
    const token = `ya29.fake-${randomBytes(24).toString('base64url')}`;
    issuedTokens.add(token);
    return token;
  }

  /** The authorization_code grant (RFC 6749 §4.1.3): a code is good for one exchange. */
  function handleAuthorizationCode(
    form: URLSearchParams,
    codes: Set<string>,
  ): GoogleApiError | { token: string; refreshToken: string } {
    const code = form.get('code');
    if (!code) return oauthError(400, 'invalid_request', 'Missing required parameter: code');
    if (!form.get('redirect_uri')) {
      return oauthError(400, 'invalid_request', 'Missing required parameter: redirect_uri');
    }
    if (!codes.delete(code)) return oauthError(400, 'invalid_grant', 'Malformed auth code.');
    return { token: issueAccessToken(), refreshToken: options.refreshToken };
  }

  function handleToken(
    req: IncomingMessage,
    body: Buffer,
  ): GoogleApiError | { token: string; refreshToken?: string } {
    const failure = tokenFailures.next();
    if (failure?.kind === 'reset') throw new ConnectionReset();
    if (failure?.kind === 'status') return tokenErrorForStatus(failure.status);
    if (failure?.kind === 'invalid_client') return oauthError(401, 'invalid_client', 'Unauthorized');
    if (failure?.kind === 'invalid_grant') {
      return oauthError(400, 'invalid_grant', 'Token has been expired or revoked.');
    }

    const form = new URLSearchParams(body.toString('utf8'));
    // google-auth-library posts the secret in the body by default, but ClientSecretBasic uses the header.
    const basic = parseClientAuth(req.headers.authorization);
    const clientId = basic?.id ?? form.get('client_id');
    const clientSecret = basic?.secret ?? form.get('client_secret');
    if (!clientId) return oauthError(400, 'invalid_request', 'Could not determine client ID from request.');
    if (clientId !== options.clientId) {
      return oauthError(401, 'invalid_client', 'The OAuth client was not found.');
    }
    if (clientSecret !== options.clientSecret) return oauthError(401, 'invalid_client', 'Unauthorized');

    const grantType = form.get('grant_type') ?? '';
    if (grantType === 'authorization_code' && authorizationCodes) {
      return handleAuthorizationCode(form, authorizationCodes);
    }
    if (grantType !== 'refresh_token') {
      return oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grantType}`);
    }
    const refreshToken = form.get('refresh_token');
    if (!refreshToken) return oauthError(400, 'invalid_request', 'Missing required parameter: refresh_token');
    if (refreshToken !== options.refreshToken || refreshTokenRevoked) {
      return oauthError(400, 'invalid_grant', 'Token has been expired or revoked.');
    }

    return { token: issueAccessToken() };
  }

  async function handleSend(req: IncomingMessage, body: Buffer): Promise<GoogleApiError | SentEmail> {
    const failure = sendFailures.next();
    if (failure?.kind === 'reset') throw new ConnectionReset();
    if (failure?.kind === 'status') {
      return gmailErrorForStatus(failure.status, failure.retryAfterSeconds, failure);
    }

    const accessToken = req.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!accessToken || !issuedTokens.has(accessToken)) return authError();

    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch (e) {
      const detail = e instanceof Error ? e.message : String(e);
      return badRequest(`Invalid JSON payload received. ${detail}`, 'parseError');
    }
    const raw = typeof payload === 'object' && payload !== null && 'raw' in payload ? payload.raw : undefined;
    if (raw === undefined || raw === '') {
      return badRequest(
        "'raw' RFC822 payload message string or uploading message via /upload/* URL required",
      );
    }
    if (typeof raw !== 'string' || !BASE64.test(raw)) {
      return badRequest(`Invalid value for ByteString: ${String(raw).slice(0, 64)}`, 'invalid');
    }

    const bytes = Buffer.from(raw.replace(/\+/g, '-').replace(/\//g, '_'), 'base64url');
    const parsed = await simpleParser(bytes);
    const to = addressesOf(parsed.to);
    if (to.length + addressesOf(parsed.cc).length + addressesOf(parsed.bcc).length === 0) {
      return badRequest('Recipient address required');
    }

    const id = randomBytes(8).toString('hex');
    return {
      id,
      raw: bytes.toString('utf8'),
      from: addressesOf(parsed.from)[0] ?? '',
      fromHeader: parsed.from?.text ?? '',
      to,
      subject: parsed.subject ?? '',
      text: parsed.text ?? '',
      html: typeof parsed.html === 'string' ? parsed.html : '',
      accessToken,
      receivedAt: new Date(),
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://fake-google').pathname;
    const isToken = req.method === 'POST' && path === '/token';
    const isSend = req.method === 'POST' && SEND_PATH.test(path);
    if (isToken) tokenRequests += 1;
    if (isSend) {
      sendRequests += 1;
      sendArrivals.notify();
    }

    const body = await readBody(req);
    await latency.wait(signal);

    if (isToken) {
      const result = handleToken(req, body);
      if ('token' in result) {
        sendJson(res, 200, {
          access_token: result.token,
          // Only the authorization_code grant hands out a refresh token.
          ...(result.refreshToken === undefined ? {} : { refresh_token: result.refreshToken }),
          expires_in: 3599,
          scope: GMAIL_SEND_SCOPE,
          token_type: 'Bearer',
        });
      } else {
        sendJson(res, result.status, result.body, result.headers);
      }
      return;
    }
    if (isSend) {
      const result = await handleSend(req, body);
      if ('id' in result) {
        if (options.onEmail) options.onEmail(result);
        else emails.record(result);
        sendJson(res, 200, { id: result.id, threadId: result.id, labelIds: ['SENT'] });
      } else {
        sendJson(res, result.status, result.body, result.headers);
      }
      return;
    }
    const notFound = googleError(404, 'NOT_FOUND', `No fake for ${req.method} ${path}`, 'notFound');
    sendJson(res, notFound.status, notFound.body);
  }

  const http = await startHttpFake({
    host: options.host,
    port: options.port,
    handle,
    answerBug: (res, message) => sendJson(res, 500, { error: { code: 500, message, status: 'INTERNAL' } }),
    onClose: () => emails.close(),
  });

  return {
    rootUrl: `${http.origin}/`,
    tokenUrl: `${http.origin}/token`,
    get sent() {
      return emails.items;
    },
    get tokenRequests() {
      return tokenRequests;
    },
    get sendRequests() {
      return sendRequests;
    },

    waitForSendRequests(count, timeoutMs = DEFAULT_WAIT_TIMEOUT_MS) {
      return sendArrivals.waitUntil(
        () => (sendRequests >= count ? undefined : false),
        timeoutMs,
        () => `waitForSendRequests: ${sendRequests} of ${count} arrived in ${timeoutMs} ms`,
      );
    },
    waitForEmails: (count, opts) => emails.waitFor(count, opts),

    setLatency: (ms) => latency.set(ms),
    failSends: (count, failure) => sendFailures.push(count, failure),
    failTokens: (count, failure) => tokenFailures.push(count, failure),
    revokeRefreshToken() {
      refreshTokenRevoked = true;
    },
    issueAuthorizationCode() {
      // Google's codes look like `4/0A…`; the slash makes callers URL-encode it, as a browser does.
      const code = `4/0${randomBytes(24).toString('base64url')}`;
      authorizationCodes ??= new Set();
      authorizationCodes.add(code);
      return code;
    },
    reset() {
      emails.clear();
      sendFailures.reset();
      tokenFailures.reset();
      latency.reset();
      tokenRequests = 0;
      sendRequests = 0;
      refreshTokenRevoked = false;
    },
    close: () => http.close(),
  };
}
