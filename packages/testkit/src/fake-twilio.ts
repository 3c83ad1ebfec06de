/**
 * Fake Twilio for integration tests: the Programmable Messaging "create message" endpoint
 * (`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`), speaking Twilio's real wire format (Basic auth,
 * form-encoded body, message resource JSON, `{code, message, more_info, status}` errors).
 *
 * Why: the worker sends WhatsApp messages with the real `twilio` client, and we want tests to exercise that
 * exact code path (serialization, RestException parsing, timeouts) without network or real credentials.
 * Point the client at it with `client.api.baseUrl = fake.baseUrl` (leave `edge`/`region` unset).
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export interface FakeTwilioOptions {
  accountSid: string;
  authToken: string;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default `0` (random free port). */
  port?: number;
}

export interface SentWhatsApp {
  /** Message sid (`SM` + 32 hex), also returned to the client. */
  sid: string;
  /** The account in the request path. */
  accountSid: string;
  to: string;
  /** `''` when the request named only a `MessagingServiceSid`. */
  from: string;
  body?: string;
  contentSid?: string;
  /** `ContentVariables` parsed from its JSON string. */
  contentVariables?: Record<string, string>;
  /** Every form field as received (`StatusCallback`, `MessagingServiceSid`, ...). */
  form: Record<string, string>;
  /** The decoded Basic auth credentials. */
  authorization: { username: string; password: string };
  receivedAt: Date;
}

export interface TwilioErrorInfo {
  status: number;
  message: string;
}

/**
 * The Twilio error codes the fake answers with, and the ones tests inject with `failSends`; the product can
 * import the same numbers. 63xxx channel errors usually arrive asynchronously (status callback) in real life,
 * but a synchronous answer is enough to exercise the handling.
 */
export const TWILIO_ERRORS = {
  20003: { status: 401, message: 'Authenticate' },
  20404: { status: 404, message: 'The requested resource was not found' },
  20429: { status: 429, message: 'Too Many Requests' },
  20500: { status: 500, message: 'Internal Server Error' },
  20503: { status: 503, message: 'Service Unavailable' },
  21211: { status: 400, message: "Invalid 'To' Phone Number" },
  21408: {
    status: 400,
    message: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
  },
  21603: { status: 400, message: "A 'From' phone number is required." },
  21604: { status: 400, message: "A 'To' phone number is required." },
  21610: { status: 400, message: 'Attempt to send to unsubscribed recipient' },
  21614: { status: 400, message: "'To' number is not a valid mobile number" },
  21619: { status: 400, message: 'A text message body or media url must be specified.' },
  21655: { status: 400, message: 'The ContentSid is Invalid.' },
  21656: { status: 400, message: 'The ContentVariables Parameter is invalid.' },
  63003: { status: 400, message: 'Channel could not find To address' },
  63007: { status: 400, message: 'Twilio could not find a Channel with the specified From address' },
  63016: {
    status: 400,
    message:
      'Failed to send freeform message because you are outside the allowed window. ' +
      'If you are using WhatsApp, please use a Message Template.',
  },
  63018: { status: 429, message: 'Rate limit exceeded for Channel' },
} as const satisfies Record<number, TwilioErrorInfo>;

export type TwilioErrorCode = keyof typeof TWILIO_ERRORS;

export type TwilioFailure =
  /**
   * Answer with this HTTP status. `code` defaults by status (400 -> 21211, 401 -> 20003, 404 -> 20404,
   * 429 -> 20429, 500 -> 20500, 503 -> 20503; other statuses need a `code`); `message` defaults to the code's
   * entry in `TWILIO_ERRORS`. `retryAfterSeconds` adds a `Retry-After` header.
   */
  | { kind: 'status'; status: number; code?: number; message?: string; retryAfterSeconds?: number }
  /** Destroy the socket without answering (the client sees a network error). */
  | { kind: 'reset' };

export interface WaitForMessagesOptions {
  /** Only count messages to this address, e.g. `whatsapp:+14155552671` (case-insensitive). */
  to?: string;
  /** Default 10 000 ms. */
  timeoutMs?: number;
}

export interface FakeTwilio {
  /** `http://127.0.0.1:PORT`, no trailing slash, for `client.api.baseUrl` or a URI-rewriting RequestClient. */
  readonly baseUrl: string;
  /** Snapshot of the accepted messages, oldest first. */
  readonly sent: readonly SentWhatsApp[];
  /** `Messages.json` POSTs that arrived, including failed ones (so client-side retries are visible). */
  readonly requests: number;
  /** Arrival time of each of those requests, to check that a client honoured a Retry-After. */
  readonly requestTimes: readonly Date[];
  /** Resolves with the first `count` matching messages once they have been recorded. */
  waitForMessages(count: number, opts?: WaitForMessagesOptions): Promise<SentWhatsApp[]>;
  /** Delay every response by `ms`. The message is still recorded after the delay, even if the client gave up. */
  setLatency(ms: number): void;
  /** The next `count` sends fail this way, before auth and validation; calls queue up. `Infinity` = always. */
  failSends(count: number, failure: TwilioFailure): void;
  /** Clears sent messages, queued failures, latency and counters. */
  reset(): void;
  /** Closes the server, dropping keep-alive sockets and in-flight requests. Idempotent. */
  close(): Promise<void>;
}

const API_VERSION = '2010-04-01';
const MESSAGES_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/;
const DEFAULT_WAIT_TIMEOUT_MS = 10_000;
// E.164: a plus, a non-zero country digit, at most 15 digits in total.
const E164 = /^\+[1-9]\d{1,14}$/;
const WHATSAPP_ADDRESS = /^whatsapp:\+[1-9]\d{1,14}$/;
const CONTENT_SID = /^HX[0-9a-f]{32}$/i;

const DEFAULT_CODE_BY_STATUS: Readonly<Record<number, number>> = {
  400: 21211,
  401: 20003,
  404: 20404,
  429: 20429,
  500: 20500,
  503: 20503,
};

interface QueuedFailure {
  remaining: number;
  failure: TwilioFailure;
}

interface TwilioApiError {
  status: number;
  body: { code: number; message: string; more_info: string; status: number; detail?: string };
  headers?: OutgoingHttpHeaders;
}

/** Thrown inside the handler to drop the connection instead of answering. */
class ConnectionReset extends Error {}

function knownError(code: number): TwilioErrorInfo | undefined {
  return (TWILIO_ERRORS as Record<number, TwilioErrorInfo | undefined>)[code];
}

function twilioError(status: number, code: number, message: string): TwilioApiError {
  return {
    status,
    body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  };
}

/** The error for a code from TWILIO_ERRORS, with its usual status and message. */
function errorFor(code: TwilioErrorCode, message: string = TWILIO_ERRORS[code].message): TwilioApiError {
  return twilioError(TWILIO_ERRORS[code].status, code, message);
}

function authError(): TwilioApiError {
  const err = errorFor(20003);
  // Real 401s carry both, and clients that log `detail` get the useful half.
  err.body.detail = 'Your AccountSid or AuthToken was incorrect.';
  err.headers = { 'www-authenticate': 'Basic realm="Twilio API"' };
  return err;
}

function invalidTo(to: string): TwilioApiError {
  return errorFor(21211, `${TWILIO_ERRORS[21211].message}: ${to}`);
}

function errorForFailure(
  failure: Extract<TwilioFailure, { kind: 'status' }>,
  form: URLSearchParams,
): TwilioApiError {
  const code = failure.code ?? DEFAULT_CODE_BY_STATUS[failure.status];
  // failSends validated this already; the check keeps the types honest.
  if (code === undefined) throw new Error(`no default Twilio error code for HTTP ${failure.status}`);
  const to = form.get('To');
  const message =
    failure.message ??
    (code === 21211 && to ? invalidTo(to).body.message : (knownError(code)?.message ?? `Error ${code}`));
  const err = twilioError(failure.status, code, message);
  if (failure.retryAfterSeconds !== undefined)
    err.headers = { 'retry-after': String(failure.retryAfterSeconds) };
  return err;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    // Twilio stamps every response; support tickets ask for it.
    'twilio-request-id': `RQ${randomBytes(16).toString('hex')}`,
    ...headers,
  });
  res.end(payload);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  }
  return Buffer.concat(chunks);
}

/** Twilio's Basic auth is plain `sid:token` (not form-encoded like OAuth2's). */
function parseBasicAuth(header: string | undefined): { username: string; password: string } | undefined {
  const match = header?.match(/^Basic\s+(\S+)$/i);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** `undefined` when the JSON is not an object of scalars (Twilio's 21656). */
function parseContentVariables(json: string): Record<string, string> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const variables: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
      return undefined;
    variables[key] = String(value);
  }
  return variables;
}

/** RFC 2822 as Twilio writes it: `Tue, 26 Nov 2024 18:38:00 +0000`. */
function rfc2822(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}

function takeFailure(queue: QueuedFailure[]): TwilioFailure | undefined {
  const head = queue[0];
  if (!head) return undefined;
  head.remaining -= 1;
  if (head.remaining <= 0) queue.shift();
  return head.failure;
}

function assertCount(count: number): void {
  if (!(count === Number.POSITIVE_INFINITY || (Number.isInteger(count) && count > 0))) {
    throw new RangeError(`count must be a positive integer or Infinity, got ${count}`);
  }
}

function summarize(message: SentWhatsApp): string {
  const what = message.body === undefined ? `content ${message.contentSid}` : JSON.stringify(message.body);
  return `{to: ${message.to}, ${what}}`;
}

export async function startFakeTwilio(options: FakeTwilioOptions): Promise<FakeTwilio> {
  const host = options.host ?? '127.0.0.1';
  const events = new EventEmitter();
  // Aborted on close so responses waiting out an artificial latency don't keep the process alive.
  const lifetime = new AbortController();

  let sent: SentWhatsApp[] = [];
  let requestTimes: Date[] = [];
  let latencyMs = 0;
  let failures: QueuedFailure[] = [];

  function handleSend(
    req: IncomingMessage,
    pathAccountSid: string,
    body: Buffer,
  ): TwilioApiError | SentWhatsApp {
    const form = new URLSearchParams(body.toString('utf8'));
    const failure = takeFailure(failures);
    if (failure?.kind === 'reset') throw new ConnectionReset();
    if (failure?.kind === 'status') return errorForFailure(failure, form);

    const authorization = parseBasicAuth(req.headers.authorization);
    if (
      !authorization ||
      authorization.username !== options.accountSid ||
      authorization.password !== options.authToken ||
      pathAccountSid !== options.accountSid
    ) {
      return authError();
    }

    const to = form.get('To');
    const from = form.get('From');
    const messagingServiceSid = form.get('MessagingServiceSid');
    const text = form.get('Body');
    const contentSid = form.get('ContentSid');
    const contentVariablesJson = form.get('ContentVariables');
    if (!to) return errorFor(21604);
    // A messaging service picks the sender itself.
    if (!from && !messagingServiceSid) return errorFor(21603);
    // A WhatsApp sender (or a messaging service sending to a WhatsApp address) needs whatsapp:+E.164.
    const whatsapp = from?.startsWith('whatsapp:') || to.startsWith('whatsapp:');
    if (!(whatsapp ? WHATSAPP_ADDRESS : E164).test(to)) return invalidTo(to);
    if (!text && !contentSid && !form.get('MediaUrl')) return errorFor(21619);
    if (contentSid && !CONTENT_SID.test(contentSid)) return errorFor(21655);
    let contentVariables: Record<string, string> | undefined;
    if (contentVariablesJson !== null) {
      contentVariables = parseContentVariables(contentVariablesJson);
      if (!contentVariables) return errorFor(21656);
    }

    return {
      sid: `SM${randomBytes(16).toString('hex')}`,
      accountSid: pathAccountSid,
      to,
      from: from ?? '',
      ...(text === null ? {} : { body: text }),
      ...(contentSid === null ? {} : { contentSid }),
      ...(contentVariables === undefined ? {} : { contentVariables }),
      form: Object.fromEntries(form),
      authorization,
      receivedAt: new Date(),
    };
  }

  /** The message resource Twilio answers a create with. */
  function resource(message: SentWhatsApp): Record<string, unknown> {
    const date = rfc2822(message.receivedAt);
    const uri = `/${API_VERSION}/Accounts/${message.accountSid}/Messages/${message.sid}.json`;
    return {
      account_sid: message.accountSid,
      api_version: API_VERSION,
      body: message.body ?? null,
      date_created: date,
      date_sent: null,
      date_updated: date,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: message.from || null,
      messaging_service_sid: message.form.MessagingServiceSid ?? null,
      num_media: '0',
      num_segments: '1',
      price: null,
      price_unit: 'USD',
      sid: message.sid,
      status: 'queued',
      subresource_uris: { media: uri.replace(/\.json$/, '/Media.json') },
      to: message.to,
      uri,
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://fake-twilio').pathname;
    const match = req.method === 'POST' ? MESSAGES_PATH.exec(path) : null;
    if (match) requestTimes.push(new Date());

    const body = await readBody(req);
    if (latencyMs > 0) await delay(latencyMs, undefined, { signal: lifetime.signal });

    if (match?.[1]) {
      const result = handleSend(req, decodeURIComponent(match[1]), body);
      if ('sid' in result) {
        sent.push(result);
        events.emit('message');
        sendJson(res, 201, resource(result));
      } else {
        sendJson(res, result.status, result.body, result.headers);
      }
      return;
    }
    const notFound = errorFor(20404, `The requested resource ${path} was not found`);
    sendJson(res, notFound.status, notFound.body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (e instanceof ConnectionReset || lifetime.signal.aborted) {
        req.socket.destroy();
        return;
      }
      // A bug in the fake should surface as a loud 500, not a hung test.
      const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
      if (!res.headersSent) sendJson(res, 500, twilioError(500, 20500, message).body);
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;

  return {
    baseUrl,
    get sent() {
      return [...sent];
    },
    get requests() {
      return requestTimes.length;
    },
    get requestTimes() {
      return [...requestTimes];
    },

    waitForMessages(count, opts = {}) {
      const timeoutMs = opts.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
      const wanted = opts.to?.toLowerCase();
      const matching = (): SentWhatsApp[] =>
        wanted === undefined ? sent : sent.filter((m) => m.to.toLowerCase() === wanted);

      return new Promise<SentWhatsApp[]>((resolve, reject) => {
        const check = (): void => {
          const found = matching();
          if (found.length >= count) {
            cleanup();
            resolve(found.slice(0, count));
          }
        };
        const onClose = (): void => {
          cleanup();
          reject(new Error('waitForMessages: fake Twilio was closed'));
        };
        const timer = setTimeout(() => {
          cleanup();
          const target = wanted === undefined ? '' : ` to ${wanted}`;
          const seen = sent.map(summarize).join(', ') || 'none';
          reject(
            new Error(
              `waitForMessages: timed out after ${timeoutMs} ms waiting for ${count} message(s)${target}; ` +
                `${matching().length} matched, ${sent.length} sent in total (${requestTimes.length} ` +
                `request(s)): ${seen}`,
            ),
          );
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          events.off('message', check);
          events.off('close', onClose);
        };
        events.on('message', check);
        events.on('close', onClose);
        check();
      });
    },

    setLatency(ms) {
      if (!(Number.isFinite(ms) && ms >= 0)) throw new RangeError(`latency must be >= 0 ms, got ${ms}`);
      latencyMs = ms;
    },
    failSends(count, failure) {
      assertCount(count);
      if (failure.kind === 'status') {
        if (!(Number.isInteger(failure.status) && failure.status >= 400 && failure.status <= 599)) {
          throw new RangeError(`status must be an HTTP error status (400-599), got ${failure.status}`);
        }
        if (failure.code === undefined && DEFAULT_CODE_BY_STATUS[failure.status] === undefined) {
          throw new RangeError(`no default Twilio error code for HTTP ${failure.status}; pass a code`);
        }
      }
      failures.push({ remaining: count, failure });
    },
    reset() {
      sent = [];
      requestTimes = [];
      failures = [];
      latencyMs = 0;
    },

    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        lifetime.abort();
        events.emit('close');
        server.close((err) => (err ? reject(err) : resolve()));
        // server.close() alone waits for keep-alive sockets (axios keeps them open) to time out.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
