/**
 * Fake CAPTCHA provider for integration tests: the `siteverify` endpoints of Cloudflare Turnstile
 * (`POST /turnstile/v0/siteverify`) and hCaptcha (`POST /siteverify`), speaking their wire format: a
 * form-encoded (or JSON) body of `secret`, `response`, `remoteip` and, for hCaptcha, `sitekey`; an
 * answer of `{success, error-codes, challenge_ts, hostname}` with each provider's error codes.
 *
 * Why: the API asks the provider whether a shopper solved the widget, and we want tests to run that
 * exact code path (form encoding, timeouts, refusals, fail-closed) without a browser, network or real
 * keys. Answers are minted with `issueAnswer()` (what a solved widget hands the page) and, like the
 * real ones, pass once. Point the API at `turnstileVerifyUrl` or `hcaptchaVerifyUrl` with CAPTCHA_VERIFY_URL.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ConnectionReset,
  createFailureQueue,
  createLatency,
  createRecorder,
  jsonSender,
  readBody,
  startHttpFake,
} from './fake-server-kit.js';

export type CaptchaProviderName = 'turnstile' | 'hcaptcha';

export interface FakeCaptchaOptions {
  /** The secret key the fake accepts (CAPTCHA_SECRET_KEY). */
  secret: string;
  /** The site key the secret belongs to; an hCaptcha call naming another gets `sitekey-secret-mismatch`. */
  siteKey?: string;
  /** The `hostname` successful answers report; default `localhost`. */
  hostname?: string;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default `0` (random free port). */
  port?: number;
}

export interface IssueAnswerOptions {
  /** The answer's text; default a random token shaped like the provider's. */
  answer?: string;
  /** Turnstile's `action`, echoed in the successful answer. */
  action?: string;
  /** The `hostname` the successful answer reports, instead of the fake's. */
  hostname?: string;
}

/** A siteverify call as it arrived, and what the fake answered. */
export interface SiteverifyCall {
  /** By path: `/turnstile/v0/siteverify` or `/siteverify`. */
  provider: CaptchaProviderName;
  /** How the body was encoded; `other` (answered 400 `bad-request`) for neither form nor JSON. */
  encoding: 'form' | 'json' | 'other';
  secret?: string;
  response?: string;
  remoteip?: string;
  sitekey?: string;
  /** Every field as received. */
  fields: Record<string, string>;
  /** The HTTP status answered, or `undefined` when the connection was dropped. */
  status: number | undefined;
  /** `success` of the answer; `false` for an injected failure. */
  success: boolean;
  /** `error-codes` of the answer. */
  errorCodes: string[];
  receivedAt: Date;
}

export type CaptchaFailure =
  /** Answer with this HTTP status and an HTML page, as a provider's edge does when it is down. */
  | { kind: 'status'; status: number }
  /** Answer 200 with an HTML page: a proxy or captive portal in the way. */
  | { kind: 'html' }
  /** Answer `{success: false}` with these error codes, e.g. Turnstile's `internal-error`. */
  | { kind: 'error-codes'; errorCodes: string[] }
  /** Destroy the socket without answering (the client sees a network error). */
  | { kind: 'reset' };

export interface WaitForCallsOptions {
  /** Only count calls that named this `remoteip`. */
  to?: string;
  /** Default 10 000 ms. */
  timeoutMs?: number;
}

export interface FakeCaptcha {
  /** `http://HOST:PORT`, no trailing slash. */
  readonly origin: string;
  /** Turnstile's siteverify on the fake, for CAPTCHA_VERIFY_URL with CAPTCHA_PROVIDER=turnstile. */
  readonly turnstileVerifyUrl: string;
  /** hCaptcha's siteverify on the fake, for CAPTCHA_VERIFY_URL with CAPTCHA_PROVIDER=hcaptcha. */
  readonly hcaptchaVerifyUrl: string;
  /** Every siteverify call, oldest first, failed ones included. */
  readonly calls: readonly SiteverifyCall[];
  /** A new answer that passes once, as a solved widget would hand the page. */
  issueAnswer(opts?: IssueAnswerOptions): string;
  /** Resolves with the first `count` matching calls once they have arrived. */
  waitForCalls(count: number, opts?: WaitForCallsOptions): Promise<SiteverifyCall[]>;
  /** Delay every answer by `ms`. The call is judged (and its answer spent) before the delay. */
  setLatency(ms: number): void;
  /** The next `count` calls fail this way, before the secret or answer is looked at. `Infinity` = always. */
  failVerifies(count: number, failure: CaptchaFailure): void;
  /** Forgets calls, answers, queued failures and latency. */
  reset(): void;
  /** Closes the server, dropping keep-alive sockets and in-flight requests. Idempotent. */
  close(): Promise<void>;
}

const PATHS: Readonly<Record<string, CaptchaProviderName>> = {
  '/turnstile/v0/siteverify': 'turnstile',
  '/siteverify': 'hcaptcha',
};

// A spent answer: each provider says it its own way.
const DUPLICATE: Readonly<Record<CaptchaProviderName, string>> = {
  turnstile: 'timeout-or-duplicate',
  hcaptcha: 'invalid-or-already-seen-response',
};

const sendJson = jsonSender(() => ({}));

function sendHtml(res: ServerResponse, status: number): void {
  const page = `<!doctype html><title>${status}</title><h1>Error ${status}</h1>`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(page),
  });
  res.end(page);
}

function validateFailure(failure: CaptchaFailure): void {
  if (failure.kind !== 'status') return;
  if (!(Number.isInteger(failure.status) && failure.status >= 400 && failure.status <= 599)) {
    throw new RangeError(`status must be an HTTP error status (400-599), got ${failure.status}`);
  }
}

/** The body's fields, or `undefined` when it is neither a form nor a JSON object of scalars. */
function parseFields(
  contentType: string,
  body: Buffer,
): { encoding: 'form' | 'json'; fields: Record<string, string> } | undefined {
  const text = body.toString('utf8');
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    return { encoding: 'form', fields: Object.fromEntries(new URLSearchParams(text)) };
  }
  if (!contentType.startsWith('application/json')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value === 'string' || typeof value === 'number') fields[key] = String(value);
  }
  return { encoding: 'json', fields };
}

interface IssuedAnswer {
  hostname: string;
  action: string;
  issuedAt: Date;
  spent: boolean;
}

export async function startFakeCaptcha(options: FakeCaptchaOptions): Promise<FakeCaptcha> {
  const calls = createRecorder<SiteverifyCall>({
    waiter: 'waitForCalls',
    fake: 'fake CAPTCHA',
    noun: 'siteverify call(s)',
    recipients: (call) => (call.remoteip ? [call.remoteip] : []),
    totals: (recorded) => `${recorded} call(s) in total`,
    summarize: (call) =>
      `{${call.provider}, success: ${call.success}, errors: [${call.errorCodes.join(', ')}]}`,
  });
  const latency = createLatency();
  const failures = createFailureQueue(validateFailure);
  let answers = new Map<string, IssuedAnswer>();

  /** What siteverify answers for these fields: the provider's checks, in its order. */
  function judge(provider: CaptchaProviderName, fields: Record<string, string>) {
    const refuse = (...errorCodes: string[]) => ({ success: false, 'error-codes': errorCodes });
    if (!fields.secret) return refuse('missing-input-secret');
    if (fields.secret !== options.secret) return refuse('invalid-input-secret');
    if (provider === 'hcaptcha' && fields.sitekey && options.siteKey && fields.sitekey !== options.siteKey) {
      return refuse('sitekey-secret-mismatch');
    }
    if (!fields.response) return refuse('missing-input-response');
    const issued = answers.get(fields.response);
    if (!issued) return refuse('invalid-input-response');
    if (issued.spent) return refuse(DUPLICATE[provider]);
    issued.spent = true;
    return {
      success: true,
      'error-codes': [],
      challenge_ts: issued.issuedAt.toISOString(),
      hostname: issued.hostname,
      ...(provider === 'turnstile' ? { action: issued.action, cdata: '' } : {}),
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://fake-captcha').pathname;
    const provider = PATHS[path];
    const body = await readBody(req);
    if (!provider) {
      sendJson(res, 404, { success: false, 'error-codes': ['not-found'] });
      return;
    }
    if (req.method !== 'POST') {
      sendJson(res, 405, { success: false, 'error-codes': ['method-not-allowed'] }, { allow: 'POST' });
      return;
    }
    const parsed = parseFields(req.headers['content-type'] ?? '', body);
    const fields = parsed?.fields ?? {};
    const call: SiteverifyCall = {
      provider,
      encoding: parsed?.encoding ?? 'other',
      ...(fields.secret === undefined ? {} : { secret: fields.secret }),
      ...(fields.response === undefined ? {} : { response: fields.response }),
      ...(fields.remoteip === undefined ? {} : { remoteip: fields.remoteip }),
      ...(fields.sitekey === undefined ? {} : { sitekey: fields.sitekey }),
      fields,
      status: undefined,
      success: false,
      errorCodes: [],
      receivedAt: new Date(),
    };

    const failure = failures.next();
    let answer: () => void;
    if (failure?.kind === 'reset') {
      calls.record(call);
      await latency.wait(signal);
      throw new ConnectionReset();
    } else if (failure?.kind === 'status' || failure?.kind === 'html') {
      const status = failure.kind === 'status' ? failure.status : 200;
      call.status = status;
      answer = () => sendHtml(res, status);
    } else if (failure?.kind === 'error-codes') {
      call.status = 200;
      call.errorCodes = [...failure.errorCodes];
      answer = () => sendJson(res, 200, { success: false, 'error-codes': failure.errorCodes });
    } else if (!parsed) {
      call.status = 400;
      call.errorCodes = ['bad-request'];
      answer = () => sendJson(res, 400, { success: false, 'error-codes': ['bad-request'] });
    } else {
      const verdict = judge(provider, fields);
      call.status = 200;
      call.success = verdict.success;
      call.errorCodes = verdict['error-codes'];
      answer = () => sendJson(res, 200, verdict);
    }
    calls.record(call);
    await latency.wait(signal);
    answer();
  }

  const http = await startHttpFake({
    host: options.host,
    port: options.port,
    handle,
    answerBug: (res, message) => sendJson(res, 500, { success: false, 'error-codes': ['fake-bug'], message }),
    onClose: () => calls.close(),
  });

  return {
    origin: http.origin,
    turnstileVerifyUrl: `${http.origin}/turnstile/v0/siteverify`,
    hcaptchaVerifyUrl: `${http.origin}/siteverify`,
    get calls() {
      return calls.items;
    },
    issueAnswer(opts = {}) {
      // Real answers are long opaque strings (Turnstile's start `0.`); the dot and dashes make a
      // client that forgets to encode the form visible.
      const answer =
        opts.answer ?? `0.${randomBytes(48).toString('base64url')}-.${randomBytes(8).toString('hex')}`;
      answers.set(answer, {
        hostname: opts.hostname ?? options.hostname ?? 'localhost',
        action: opts.action ?? '',
        issuedAt: new Date(),
        spent: false,
      });
      return answer;
    },
    waitForCalls: (count, opts) => calls.waitFor(count, opts),
    setLatency: (ms) => latency.set(ms),
    failVerifies: (count, failure) => failures.push(count, failure),
    reset() {
      calls.clear();
      answers = new Map();
      failures.reset();
      latency.reset();
    },
    close: () => http.close(),
  };
}
