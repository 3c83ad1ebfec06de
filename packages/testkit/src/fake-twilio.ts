/**
 * Fake Twilio for integration tests: the Programmable Messaging "create message" endpoint
 * (`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`) and "fetch account"
 * (`GET /2010-04-01/Accounts/{AccountSid}.json`), speaking Twilio's real wire format (Basic auth,
 * form-encoded body, message and account resource JSON, `{code, message, more_info, status}` errors).
 *
 * Why: the worker sends WhatsApp messages with the real `twilio` client, and we want tests to exercise that
 * exact code path (serialization, RestException parsing, timeouts) without network or real credentials.
 * Point the client at it with `client.api.baseUrl = fake.baseUrl` (leave `edge`/`region` unset).
 *
 * A create that carries `StatusCallback` is followed by Twilio's signed status callbacks to that URL, one POST
 * per status transition (`queued`, `sent`, `delivered`, or the failure a test scripted with `scriptOutcome`):
 * in real life a WhatsApp send is only "accepted" by the 201, and 63016/63003/300xx arrive this way.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as delay } from 'node:timers/promises';
// The product checks callbacks with `twilio.validateRequest`; signing with the same library's function makes
// the fake and the product agree by construction.
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import {
  ConnectionReset,
  createFailureQueue,
  createLatency,
  createRecorder,
  jsonSender,
  parseBasicAuth,
  readBody,
  startHttpFake,
} from './fake-server-kit.js';

export interface FakeTwilioOptions {
  accountSid: string;
  authToken: string;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default `0` (random free port). */
  port?: number;
  /** Delay before each status callback of a message (the first one counts from the 201). Default 50 ms. */
  callbackStepDelayMs?: number;
  /**
   * The sender a `MessagingServiceSid` send reports as `From` in its callbacks (Twilio picks one from the
   * service's pool), as E.164; `whatsapp:` is prefixed for WhatsApp recipients. Default `+15005550006`.
   */
  messagingServiceSender?: string;
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

/** An account's `status` in the fetch-account answer. */
export type TwilioAccountStatus = 'active' | 'suspended' | 'closed';

export interface WaitForMessagesOptions {
  /** Only count messages to this address, e.g. `whatsapp:+14155552671` (case-insensitive). */
  to?: string;
  /** Default 10 000 ms. */
  timeoutMs?: number;
}

/** A message status as status callbacks report it in `MessageStatus` (and `SmsStatus`). */
export type TwilioMessageStatus = 'queued' | 'sent' | 'delivered' | 'read' | 'failed' | 'undelivered';

/**
 * How an accepted message ends, as its status callbacks tell it:
 * - `'delivered'`: `queued`, `sent`, `delivered`.
 * - `'read'`: `queued`, `sent`, `delivered`, `read` for WhatsApp; an SMS stops at `delivered` (no read receipts).
 * - `{ failed: code }`: `queued`, `failed` with `ErrorCode` (Twilio could not send it, e.g. 63016 outside the
 *   24-hour window).
 * - `{ undelivered: code }`: `queued`, `sent`, `undelivered` with `ErrorCode` (e.g. 63003, 30003-30008).
 */
export type TwilioDeliveryOutcome = 'delivered' | 'read' | { failed: number } | { undelivered: number };

export interface ScriptedOutcome {
  /**
   * Which sends this applies to: an address compared with `To` case-insensitively (e.g.
   * `whatsapp:+14155552671` or `+14155552671` for SMS), or a pattern tested against `To`. Default: every send.
   */
  to?: string | RegExp;
  /** Default `'delivered'` (useful with `badSignature`/`duplicate` alone). */
  outcome?: TwilioDeliveryOutcome;
  /** How many matching accepted sends (with or without a `StatusCallback`) get it. Default `Infinity`. */
  count?: number;
  /** Adds `ErrorMessage` to the failed/undelivered callback; Twilio omits it more often than not. */
  errorMessage?: string;
  /** Sign every callback of the message with a wrong token, so `validateRequest` fails. */
  badSignature?: boolean;
  /**
   * Post one callback twice, identical (body, signature, `I-Twilio-Idempotency-Token`), the second right after
   * the first was answered: `true` for the last status, or the status to repeat.
   */
  duplicate?: boolean | TwilioMessageStatus;
  /** Overrides `callbackStepDelayMs` for these messages, e.g. a long one to test `reset()`. */
  stepDelayMs?: number;
}

/** One status callback POST the fake made, recorded once it was answered or failed. */
export interface PostedStatusCallback {
  /** The `StatusCallback` URL exactly as given on create; it is also what was signed. */
  url: string;
  messageSid: string;
  /** The message's `To`, e.g. `whatsapp:+14155552671`. */
  to: string;
  status: TwilioMessageStatus;
  /** Every form field posted. */
  params: Record<string, string>;
  /** The `X-Twilio-Signature` sent. */
  signature: string;
  /** `true` when signed wrongly on purpose (`badSignature`). */
  badSignature: boolean;
  /** `I-Twilio-Idempotency-Token`: the same on both deliveries of a duplicate. */
  idempotencyToken: string;
  /** 1, or 2 for the repeated delivery of a `duplicate`. */
  delivery: 1 | 2;
  postedAt: Date;
  /** The receiver's HTTP status; absent when the POST failed. */
  responseStatus?: number;
  /** Why the POST failed (connection refused, timeout, invalid URL); absent when it was answered. */
  error?: string;
}

export interface WaitForCallbacksOptions {
  /** Only count callbacks for messages to this address (case-insensitive). */
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
  /** The `status` the account resource reports (`active` until set). */
  setAccountStatus(status: TwilioAccountStatus): void;
  /**
   * Scripts the status callbacks of the next matching sends; scripts are tried in the order they were added
   * and the first that matches a send's `To` applies. Unscripted sends end `'delivered'`. Throws a RangeError
   * for a script the fake cannot play.
   */
  scriptOutcome(script: ScriptedOutcome): void;
  /** Snapshot of the status callbacks posted (answered or failed), oldest first; duplicates appear twice. */
  readonly callbacks: readonly PostedStatusCallback[];
  /** Status callbacks scheduled or in flight, not yet recorded in `callbacks`. */
  readonly pendingCallbacks: number;
  /** Resolves with the first `count` matching callbacks once they have been posted and answered (or failed). */
  waitForCallbacks(count: number, opts?: WaitForCallbacksOptions): Promise<PostedStatusCallback[]>;
  /**
   * Clears sent messages, queued failures, latency, counters, the account status, scripted outcomes and
   * posted callbacks, and cancels pending callbacks (in-flight ones are aborted and not recorded).
   */
  reset(): void;
  /**
   * Closes the server, dropping keep-alive sockets and in-flight requests, and cancels pending callbacks.
   * Idempotent.
   */
  close(): Promise<void>;
}

const API_VERSION = '2010-04-01';
const MESSAGES_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/;
const ACCOUNT_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\.json$/;
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

interface TwilioApiError {
  status: number;
  body: { code: number; message: string; more_info: string; status: number; detail?: string };
  headers?: OutgoingHttpHeaders;
}

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

// Twilio stamps every response; support tickets ask for it.
const sendJson = jsonSender(() => ({ 'twilio-request-id': `RQ${randomBytes(16).toString('hex')}` }));

/** Throws for a failure Twilio could not answer with, so the mistake shows in the test that queued it. */
function validateFailure(failure: TwilioFailure): void {
  if (failure.kind !== 'status') return;
  if (!(Number.isInteger(failure.status) && failure.status >= 400 && failure.status <= 599)) {
    throw new RangeError(`status must be an HTTP error status (400-599), got ${failure.status}`);
  }
  if (failure.code === undefined && DEFAULT_CODE_BY_STATUS[failure.status] === undefined) {
    throw new RangeError(`no default Twilio error code for HTTP ${failure.status}; pass a code`);
  }
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

function summarize(message: SentWhatsApp): string {
  const what = message.body === undefined ? `content ${message.contentSid}` : JSON.stringify(message.body);
  return `{to: ${message.to}, ${what}}`;
}

const DEFAULT_CALLBACK_STEP_DELAY_MS = 50;
// Twilio gives a webhook 15 s to answer.
const CALLBACK_TIMEOUT_MS = 15_000;
// Twilio's magic test number: obviously not a real sender.
const DEFAULT_MESSAGING_SERVICE_SENDER = '+15005550006';
const WHATSAPP_PREFIX = 'whatsapp:';

function assertDelay(name: string, ms: number): void {
  if (!(Number.isFinite(ms) && ms >= 0)) throw new RangeError(`${name} must be >= 0 ms, got ${ms}`);
}

/** The statuses a message reports, in order, for an outcome. */
function statusesFor(outcome: TwilioDeliveryOutcome, whatsapp: boolean): TwilioMessageStatus[] {
  if (outcome === 'delivered') return ['queued', 'sent', 'delivered'];
  if (outcome === 'read') return ['queued', 'sent', 'delivered', ...(whatsapp ? (['read'] as const) : [])];
  if ('failed' in outcome) return ['queued', 'failed'];
  return ['queued', 'sent', 'undelivered'];
}

function errorCodeOf(outcome: TwilioDeliveryOutcome): number | undefined {
  if (typeof outcome === 'string') return undefined;
  return 'failed' in outcome ? outcome.failed : outcome.undelivered;
}

/** Throws for a script the fake cannot play, so the mistake shows in the test that added it. */
function validateScript(script: ScriptedOutcome): void {
  const { count = Number.POSITIVE_INFINITY, outcome = 'delivered', to, duplicate, stepDelayMs } = script;
  if (!(count === Number.POSITIVE_INFINITY || (Number.isInteger(count) && count > 0))) {
    throw new RangeError(`count must be a positive integer or Infinity, got ${count}`);
  }
  if (typeof outcome === 'string') {
    if (outcome !== 'delivered' && outcome !== 'read') throw new RangeError(`unknown outcome ${outcome}`);
  } else {
    const code = errorCodeOf(outcome);
    if (!(Number.isInteger(code) && (code ?? 0) > 0)) {
      throw new RangeError(`the error code must be a positive integer, got ${code}`);
    }
  }
  if (to === '') throw new RangeError('to must not be empty');
  if (stepDelayMs !== undefined) assertDelay('stepDelayMs', stepDelayMs);
  if (typeof duplicate === 'string' && !statusesFor(outcome, true).includes(duplicate)) {
    throw new RangeError(
      `duplicate: a message with outcome ${JSON.stringify(outcome)} never reports ${duplicate}`,
    );
  }
}

function matchesTo(to: string | RegExp | undefined, address: string): boolean {
  if (to === undefined) return true;
  if (typeof to === 'string') return to.toLowerCase() === address.toLowerCase();
  // A /g or /y pattern would carry its position over from the previous send.
  to.lastIndex = 0;
  return to.test(address);
}

function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  // Node's AggregateError (a host with several addresses, all refused) has an empty message but a code.
  const code = (e as NodeJS.ErrnoException).code;
  return e.message || code || e.name;
}

/** POSTs a form and resolves with the answer's status once its body has been read. */
function postForm(
  url: URL,
  body: string,
  headers: OutgoingHttpHeaders,
  signal: AbortSignal,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        // No pooled keep-alive socket: it would outlive a test's receiver and hold the process open.
        agent: false,
        signal,
      },
      (res) => {
        res.on('error', reject);
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.resume();
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

export async function startFakeTwilio(options: FakeTwilioOptions): Promise<FakeTwilio> {
  let requestTimes: Date[] = [];
  const messages = createRecorder<SentWhatsApp>({
    waiter: 'waitForMessages',
    fake: 'fake Twilio',
    noun: 'message(s)',
    recipients: (message) => [message.to],
    totals: (recorded) => `${recorded} sent in total (${requestTimes.length} request(s))`,
    summarize,
  });
  const latency = createLatency();
  const failures = createFailureQueue(validateFailure);
  let accountStatus: TwilioAccountStatus = 'active';
  const accountCreated = new Date();

  const defaultStepDelayMs = options.callbackStepDelayMs ?? DEFAULT_CALLBACK_STEP_DELAY_MS;
  assertDelay('callbackStepDelayMs', defaultStepDelayMs);
  const serviceSender = options.messagingServiceSender ?? DEFAULT_MESSAGING_SERVICE_SENDER;
  // One per fake, as a real account has one per WhatsApp sender.
  const channelInstallSid = `XE${randomBytes(16).toString('hex')}`;
  let scripts: { script: ScriptedOutcome; remaining: number }[] = [];
  /** One message's callbacks still to post; aborting it cancels its timer and its in-flight POST. */
  interface CallbackRun {
    controller: AbortController;
    remaining: number;
  }
  const runs = new Set<CallbackRun>();
  const pendingCallbacks = (): number => [...runs].reduce((sum, run) => sum + run.remaining, 0);
  const callbacks = createRecorder<PostedStatusCallback>({
    waiter: 'waitForCallbacks',
    fake: 'fake Twilio',
    noun: 'status callback(s)',
    recipients: (callback) => [callback.to],
    totals: (recorded) => `${recorded} posted in total (${pendingCallbacks()} pending)`,
    summarize: (c) =>
      `{to: ${c.to}, ${c.status}${c.delivery === 2 ? ' again' : ''}: ${c.error ?? `HTTP ${c.responseStatus}`}}`,
  });

  function cancelCallbacks(): void {
    for (const run of runs) run.controller.abort();
    runs.clear();
  }

  /** The first script matching `to`, counted down; `undefined` when none does. */
  function takeScript(to: string): ScriptedOutcome | undefined {
    const index = scripts.findIndex((entry) => matchesTo(entry.script.to, to));
    const entry = scripts[index];
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) scripts.splice(index, 1);
    return entry.script;
  }

  function callbackParams(
    message: SentWhatsApp,
    status: TwilioMessageStatus,
    script: ScriptedOutcome | undefined,
  ): Record<string, string> {
    const whatsapp = message.to.startsWith(WHATSAPP_PREFIX);
    const serviceSid = message.form.MessagingServiceSid;
    const from = message.from || `${whatsapp ? WHATSAPP_PREFIX : ''}${serviceSender}`;
    const failing = status === 'failed' || status === 'undelivered';
    const errorCode = failing ? errorCodeOf(script?.outcome ?? 'delivered') : undefined;
    return {
      ...(whatsapp
        ? {
            ChannelPrefix: 'whatsapp',
            ChannelInstallSid: channelInstallSid,
            ChannelToAddress: message.to.slice(WHATSAPP_PREFIX.length),
          }
        : {}),
      ApiVersion: API_VERSION,
      MessageStatus: status,
      SmsSid: message.sid,
      SmsStatus: status,
      To: message.to,
      From: from,
      MessageSid: message.sid,
      AccountSid: message.accountSid,
      ...(serviceSid ? { MessagingServiceSid: serviceSid } : {}),
      ...(errorCode === undefined ? {} : { ErrorCode: String(errorCode) }),
      ...(errorCode !== undefined && script?.errorMessage ? { ErrorMessage: script.errorMessage } : {}),
    };
  }

  /** Posts one callback and records how it went; throws only once `run` was cancelled (nothing recorded). */
  async function deliver(
    run: CallbackRun,
    callback: Omit<PostedStatusCallback, 'postedAt' | 'responseStatus' | 'error'>,
  ): Promise<void> {
    const postedAt = new Date();
    let result: { responseStatus: number } | { error: string };
    try {
      const target = new URL(callback.url);
      if (target.protocol !== 'http:' && target.protocol !== 'https:') {
        throw new Error(`unsupported protocol ${target.protocol}`);
      }
      const timeout = AbortSignal.timeout(CALLBACK_TIMEOUT_MS);
      try {
        const headers = {
          'content-type': 'application/x-www-form-urlencoded',
          'user-agent': 'TwilioProxy/1.1',
          'x-twilio-signature': callback.signature,
          'i-twilio-idempotency-token': callback.idempotencyToken,
        };
        const body = new URLSearchParams(callback.params).toString();
        const signal = AbortSignal.any([run.controller.signal, timeout]);
        result = { responseStatus: await postForm(target, body, headers, signal) };
      } catch (e) {
        if (timeout.aborted && !run.controller.signal.aborted) {
          throw new Error(`no answer within ${CALLBACK_TIMEOUT_MS} ms`);
        }
        throw e;
      }
    } catch (e) {
      run.controller.signal.throwIfAborted();
      result = { error: errorText(e) };
    }
    // A reset while the answer was being read: the callback belongs to the previous test.
    run.controller.signal.throwIfAborted();
    run.remaining -= 1;
    callbacks.record({ ...callback, postedAt, ...result });
  }

  function scheduleCallbacks(message: SentWhatsApp, url: string, script: ScriptedOutcome | undefined): void {
    const statuses = statusesFor(script?.outcome ?? 'delivered', message.to.startsWith(WHATSAPP_PREFIX));
    const repeated = script?.duplicate === true ? statuses.at(-1) : script?.duplicate || undefined;
    const stepDelayMs = script?.stepDelayMs ?? defaultStepDelayMs;
    const run: CallbackRun = {
      controller: new AbortController(),
      remaining: statuses.length + (repeated !== undefined && statuses.includes(repeated) ? 1 : 0),
    };
    runs.add(run);
    const badSignature = script?.badSignature ?? false;
    const signingToken = badSignature ? `${options.authToken}-wrong` : options.authToken;
    const play = async (): Promise<void> => {
      // One after the other, as Twilio reports a message's transitions in order.
      for (const status of statuses) {
        await delay(stepDelayMs, undefined, { signal: run.controller.signal });
        const params = callbackParams(message, status, script);
        const callback = {
          url,
          messageSid: message.sid,
          to: message.to,
          status,
          params,
          signature: getExpectedTwilioSignature(signingToken, url, params),
          badSignature,
          idempotencyToken: randomUUID(),
        };
        await deliver(run, { ...callback, delivery: 1 });
        if (status === repeated) await deliver(run, { ...callback, delivery: 2 });
      }
    };
    play()
      .catch((e: unknown) => {
        // Cancelled by reset() or close(); anything else is a bug in the fake and should fail the run loudly.
        if (!run.controller.signal.aborted) throw e;
      })
      .finally(() => runs.delete(run));
  }

  /** Fetch account: Basic auth as for a send; another account than the caller's own is not found. */
  function handleFetchAccount(req: IncomingMessage, pathAccountSid: string, path: string) {
    const authorization = parseBasicAuth(req.headers.authorization);
    if (
      !authorization ||
      authorization.username !== options.accountSid ||
      authorization.password !== options.authToken
    ) {
      return authError();
    }
    if (pathAccountSid !== options.accountSid) {
      return errorFor(20404, `The requested resource ${path} was not found`);
    }
    const uri = `/${API_VERSION}/Accounts/${pathAccountSid}`;
    return {
      auth_token: options.authToken,
      date_created: rfc2822(accountCreated),
      date_updated: rfc2822(accountCreated),
      friendly_name: 'otp-relay fake account',
      owner_account_sid: pathAccountSid,
      sid: pathAccountSid,
      status: accountStatus,
      subresource_uris: { messages: `${uri}/Messages.json` },
      type: 'Full',
      uri: `${uri}.json`,
    };
  }

  function handleSend(
    req: IncomingMessage,
    pathAccountSid: string,
    body: Buffer,
  ): TwilioApiError | SentWhatsApp {
    const form = new URLSearchParams(body.toString('utf8'));
    const failure = failures.next();
    if (failure?.kind === 'reset') throw new ConnectionReset();
    if (failure?.kind === 'status') return errorForFailure(failure, form);

    // Twilio's Basic auth is plain `sid:token` (not form-encoded like OAuth2's).
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

  async function handle(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://fake-twilio').pathname;
    const match = req.method === 'POST' ? MESSAGES_PATH.exec(path) : null;
    if (match) requestTimes.push(new Date());

    const body = await readBody(req);
    await latency.wait(signal);

    const account = req.method === 'GET' ? ACCOUNT_PATH.exec(path) : null;
    if (account?.[1]) {
      const result = handleFetchAccount(req, decodeURIComponent(account[1]), path);
      if ('sid' in result) sendJson(res, 200, result);
      else sendJson(res, result.status, result.body, result.headers);
      return;
    }
    if (match?.[1]) {
      const result = handleSend(req, decodeURIComponent(match[1]), body);
      if ('sid' in result) {
        messages.record(result);
        sendJson(res, 201, resource(result));
        // A script counts every accepted send, so "this number fails" holds whether or not a callback was asked for.
        const script = takeScript(result.to);
        const callbackUrl = result.form.StatusCallback;
        if (callbackUrl && !signal.aborted) scheduleCallbacks(result, callbackUrl, script);
      } else {
        sendJson(res, result.status, result.body, result.headers);
      }
      return;
    }
    const notFound = errorFor(20404, `The requested resource ${path} was not found`);
    sendJson(res, notFound.status, notFound.body);
  }

  const http = await startHttpFake({
    host: options.host,
    port: options.port,
    handle,
    answerBug: (res, message) => sendJson(res, 500, twilioError(500, 20500, message).body),
    onClose: () => {
      cancelCallbacks();
      messages.close();
      callbacks.close();
    },
  });

  return {
    baseUrl: http.origin,
    get sent() {
      return messages.items;
    },
    get requests() {
      return requestTimes.length;
    },
    get requestTimes() {
      return [...requestTimes];
    },
    get callbacks() {
      return callbacks.items;
    },
    get pendingCallbacks() {
      return pendingCallbacks();
    },

    waitForMessages: (count, opts) => messages.waitFor(count, opts),
    setLatency: (ms) => latency.set(ms),
    failSends: (count, failure) => failures.push(count, failure),
    setAccountStatus(status) {
      accountStatus = status;
    },
    scriptOutcome(script) {
      validateScript(script);
      scripts.push({ script: { ...script }, remaining: script.count ?? Number.POSITIVE_INFINITY });
    },
    waitForCallbacks: (count, opts) => callbacks.waitFor(count, opts),
    reset() {
      cancelCallbacks();
      scripts = [];
      callbacks.clear();
      messages.clear();
      requestTimes = [];
      failures.reset();
      latency.reset();
      accountStatus = 'active';
    },
    close: () => http.close(),
  };
}
