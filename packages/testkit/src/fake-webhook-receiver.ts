/**
 * Fake webhook receiver for tests: the shop's backend endpoint that WEBHOOK_URL points at, doing
 * what a correct receiver of Standard Webhooks does. Every request is verified with the
 * `standardwebhooks` package's `Webhook.verify` (a bad or missing signature, or a stale
 * timestamp, is answered 400 and recorded as rejected); an event is recorded once per
 * `webhook-id`, a repeat (a retry of an event already taken) answered 200 and counted apart.
 *
 * Why: the worker's sender must be tested against the verification a shop will really run, and
 * against receivers that misbehave: slow, failing N times, hanging, dropping the connection, or
 * taking an event and dying before answering (`holdNext`), which is how a receiver ends up seeing
 * a webhook-id twice.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';
import {
  ConnectionReset,
  createFailureQueue,
  createLatency,
  createNotifier,
  createRecorder,
  DEFAULT_WAIT_TIMEOUT_MS,
  readBody,
  startHttpFake,
} from './fake-server-kit.js';

export interface FakeWebhookReceiverOptions {
  /**
   * The secrets (`whsec_…`) the receiver knows. An event is accepted when any one verifies; which
   * ones did is recorded (`verifiedBy`), so a rotation test can see that each signature verifies.
   */
  secrets: string[];
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default `0` (random free port). */
  port?: number;
}

/** An event as a receiver would process it: verified, first delivery of its webhook-id. */
export interface ReceivedWebhook {
  id: string;
  /** `webhook-timestamp`, in seconds. */
  timestamp: number;
  type: string;
  /** The parsed body: `{type, timestamp, data}`. */
  payload: { type: string; timestamp: string; data: Record<string, unknown> };
  /** The raw body, exactly as signed. */
  body: string;
  headers: Record<string, string>;
  /** Indexes into `secrets` of those whose signature verified. */
  verifiedBy: number[];
  receivedAt: Date;
}

/** Every request, including repeats and refusals. */
export interface WebhookRequest {
  id: string | undefined;
  /** What was answered; `undefined` when the connection was dropped or is held. */
  status: number | undefined;
  outcome: 'accepted' | 'duplicate' | 'rejected' | 'failed' | 'reset' | 'held' | 'hung';
  receivedAt: Date;
}

export type WebhookReceiverFailure =
  /** Answer with this status (after verifying the signature). */
  | { kind: 'status'; status: number }
  /** Drop the connection without answering. */
  | { kind: 'reset' }
  /** Never answer (until the fake closes): a receiver stuck on a lock, a black hole. */
  | { kind: 'hang' }
  /** Record the event as taken, then never answer: it dies between processing and replying. */
  | { kind: 'hold' };

export interface WaitForWebhooksOptions {
  /** Only count events of this type. */
  type?: string;
  timeoutMs?: number;
}

export interface FakeWebhookReceiver {
  /** The URL to set as WEBHOOK_URL. */
  readonly url: string;
  /** Events taken, one per webhook-id, oldest first. */
  readonly events: readonly ReceivedWebhook[];
  /** Every request so far. */
  readonly requests: readonly WebhookRequest[];
  /** Resolves with the first `count` events (of `type`) once taken. */
  waitForEvents(count: number, opts?: WaitForWebhooksOptions): Promise<ReceivedWebhook[]>;
  /** Resolves once `count` requests have arrived in all (any outcome). */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** The next `count` verified requests fail this way (`Infinity` = all). */
  failNext(count: number, failure: WebhookReceiverFailure): void;
  /** A delay before every answer. */
  setLatency(ms: number): void;
  /** Clears events, requests, failures and latency. */
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeWebhookReceiver(
  options: FakeWebhookReceiverOptions,
): Promise<FakeWebhookReceiver> {
  if (options.secrets.length === 0) throw new Error('the fake webhook receiver needs at least one secret');
  const verifiers = options.secrets.map((secret) => new Webhook(secret));
  const events = createRecorder<ReceivedWebhook>({
    waiter: 'waitForEvents',
    fake: 'fake webhook receiver',
    noun: 'webhook event(s)',
    recipients: (event) => [event.type],
    totals: (recorded) => `${recorded} taken in total`,
    summarize: (event) => `${event.type} ${event.id}`,
  });
  const arrivals = createNotifier();
  let requests: WebhookRequest[] = [];
  const failures = createFailureQueue<WebhookReceiverFailure>();
  const latency = createLatency();
  const seen = new Set<string>();

  function answer(res: ServerResponse, status: number, request: WebhookRequest, body?: unknown) {
    request.status = status;
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  /** Parks the request until the fake closes (its lifetime signal) or the client goes away. */
  function park(req: IncomingMessage, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      signal.addEventListener('abort', () => resolve(), { once: true });
      req.socket.once('close', () => resolve());
    }).then(() => {
      throw new ConnectionReset();
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const body = (await readBody(req)).toString('utf8');
    const headers = Object.fromEntries(
      Object.entries(req.headers).flatMap(([name, value]) =>
        typeof value === 'string' ? [[name, value]] : [],
      ),
    );
    const id = headers['webhook-id'];
    const request: WebhookRequest = { id, status: undefined, outcome: 'rejected', receivedAt: new Date() };
    requests.push(request);
    arrivals.notify();

    const verifiedBy = verifiers.flatMap((verifier, index) => {
      try {
        verifier.verify(body, headers);
        return [index];
      } catch {
        return [];
      }
    });
    if (req.method !== 'POST' || verifiedBy.length === 0 || id === undefined) {
      return answer(res, 400, request, { error: 'signature verification failed' });
    }
    await latency.wait(signal);

    const failure = failures.next();
    if (failure?.kind === 'status') {
      request.outcome = 'failed';
      return answer(res, failure.status, request, { error: 'scripted failure' });
    }
    if (failure?.kind === 'reset') {
      request.outcome = 'reset';
      throw new ConnectionReset();
    }
    if (failure?.kind === 'hang') {
      request.outcome = 'hung';
      return park(req, signal);
    }
    // A real receiver dedupes by webhook-id: an event it has taken is acknowledged, not processed again.
    if (seen.has(id)) {
      request.outcome = 'duplicate';
      return answer(res, 200, request, { duplicate: true });
    }
    seen.add(id);
    const payload = JSON.parse(body) as ReceivedWebhook['payload'];
    events.record({
      id,
      timestamp: Number(headers['webhook-timestamp']),
      type: payload.type,
      payload,
      body,
      headers,
      verifiedBy,
      receivedAt: new Date(),
    });
    if (failure?.kind === 'hold') {
      request.outcome = 'held';
      return park(req, signal);
    }
    request.outcome = 'accepted';
    answer(res, 204, request);
  }

  const http = await startHttpFake({
    host: options.host,
    port: options.port,
    handle,
    answerBug: (res, message) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(message);
    },
    onClose: () => {
      events.close();
      arrivals.close('waitForRequests: fake webhook receiver was closed');
    },
  });

  return {
    url: `${http.origin}/webhooks/otp-relay`,
    get events() {
      return events.items;
    },
    get requests() {
      return [...requests];
    },
    waitForEvents(count, opts = {}) {
      return events.waitFor(count, {
        ...(opts.type === undefined ? {} : { to: opts.type }),
        ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
      });
    },
    async waitForRequests(count, timeoutMs = DEFAULT_WAIT_TIMEOUT_MS) {
      await arrivals.waitUntil(
        () => requests.length >= count,
        timeoutMs,
        () =>
          `waitForRequests: timed out after ${timeoutMs} ms waiting for ${count} request(s); ${requests.length} arrived`,
      );
    },
    failNext: (count, failure) => failures.push(count, failure),
    setLatency: (ms) => latency.set(ms),
    reset() {
      events.clear();
      requests = [];
      seen.clear();
      failures.reset();
      latency.reset();
    },
    close: () => http.close(),
  };
}
