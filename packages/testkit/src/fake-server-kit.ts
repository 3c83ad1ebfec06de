/**
 * What the fake provider servers (fake Google, fake Twilio, fake SMTP) have in common: recording what arrived
 * and waiting for it, queues of injected failures, artificial latency, small HTTP helpers, and listening on
 * and closing a server (open connections included).
 *
 * Why: the three fakes grew this machinery separately, and a fix to waiting or closing (a leaked timer, a
 * close that hangs on a keep-alive socket) should land once. Each fake keeps its own wire format. Internal
 * to the test kit: `index.ts` does not export it.
 */

import { setMaxListeners } from 'node:events';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { AddressObject, EmailAddress } from 'mailparser';

export const DEFAULT_WAIT_TIMEOUT_MS = 10_000;

/** Lets callers wait for a condition that can only change when `notify()` is called. */
export interface Notifier {
  /** Re-checks every pending wait. */
  notify(): void;
  /**
   * Resolves with what `ready()` returns once that is not `false`; checked now and on every `notify()`.
   * Rejects with `timeoutMessage()` after `timeoutMs`.
   */
  waitUntil<R>(ready: () => R | false, timeoutMs: number, timeoutMessage: () => string): Promise<R>;
  /** Rejects the pending waits with `message`. Waits begun later are unaffected. */
  close(message: string): void;
}

interface PendingWait {
  check(): void;
  fail(error: Error): void;
}

export function createNotifier(): Notifier {
  // A set rather than an EventEmitter: no listener-count warning when many tests wait at once.
  const pending = new Set<PendingWait>();
  return {
    notify() {
      for (const wait of [...pending]) wait.check();
    },
    waitUntil(ready, timeoutMs, timeoutMessage) {
      return new Promise((resolve, reject) => {
        const wait: PendingWait = {
          check() {
            const value = ready();
            if (value === false) return;
            settle();
            resolve(value);
          },
          fail(error) {
            settle();
            reject(error);
          },
        };
        const timer = setTimeout(() => wait.fail(new Error(timeoutMessage())), timeoutMs);
        const settle = (): void => {
          clearTimeout(timer);
          pending.delete(wait);
        };
        pending.add(wait);
        wait.check();
      });
    },
    close(message) {
      for (const wait of [...pending]) wait.fail(new Error(message));
    },
  };
}

export interface RecorderOptions<T> {
  /** The fake's wait method, prefixing its errors, e.g. `waitForEmails`. */
  waiter: string;
  /** The fake in the error of a wait cut short by `close()`, e.g. `fake Google`. */
  fake: string;
  /** What is waited for in the timeout message, e.g. `email(s)`. */
  noun: string;
  /** The addresses a `to` filter is compared with (case-insensitively). */
  recipients(item: T): readonly string[];
  /** The totals in the timeout message, e.g. `3 sent in total`, given how many items were recorded. */
  totals(recorded: number): string;
  /** One item in the timeout message, so a failing test shows what did arrive. */
  summarize(item: T): string;
}

export interface RecorderWaitOptions {
  /** Only count items with this address among their `recipients` (case-insensitive). */
  to?: string;
  /** Default `DEFAULT_WAIT_TIMEOUT_MS`. */
  timeoutMs?: number;
}

/** The list of what a fake accepted, and waiting for it. */
export interface Recorder<T> {
  /** Snapshot, oldest first. */
  readonly items: readonly T[];
  record(item: T): void;
  /** Resolves with the first `count` matching items once they have been recorded. */
  waitFor(count: number, opts?: RecorderWaitOptions): Promise<T[]>;
  clear(): void;
  /** Rejects the pending waits: a closed fake records nothing more. */
  close(): void;
}

export function createRecorder<T>(options: RecorderOptions<T>): Recorder<T> {
  const arrivals = createNotifier();
  let items: T[] = [];
  return {
    get items() {
      return [...items];
    },
    record(item) {
      items.push(item);
      arrivals.notify();
    },
    waitFor(count, opts = {}) {
      const timeoutMs = opts.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
      const wanted = opts.to?.toLowerCase();
      const matching = (): T[] =>
        wanted === undefined
          ? items
          : items.filter((item) => options.recipients(item).some((a) => a.toLowerCase() === wanted));
      return arrivals.waitUntil(
        () => {
          const found = matching();
          return found.length >= count ? found.slice(0, count) : false;
        },
        timeoutMs,
        () => {
          const target = wanted === undefined ? '' : ` to ${wanted}`;
          const seen = items.map(options.summarize).join(', ') || 'none';
          return (
            `${options.waiter}: timed out after ${timeoutMs} ms waiting for ${count} ${options.noun}${target}; ` +
            `${matching().length} matched, ${options.totals(items.length)}: ${seen}`
          );
        },
      );
    },
    clear() {
      items = [];
    },
    close() {
      arrivals.close(`${options.waiter}: ${options.fake} was closed`);
    },
  };
}

/** Failures tests inject, each for the next `count` calls, in the order they were queued. */
export interface FailureQueue<F> {
  /** The next `count` calls (after those already queued) fail with `failure`. `Infinity` = always. */
  push(count: number, failure: F): void;
  /** The failure for this call, or `undefined` to answer normally. */
  next(): F | undefined;
  reset(): void;
}

/** `validate` runs after the count check and throws for a failure the fake cannot produce. */
export function createFailureQueue<F>(validate: (failure: F) => void = () => {}): FailureQueue<F> {
  let queue: { remaining: number; failure: F }[] = [];
  return {
    push(count, failure) {
      if (!(count === Number.POSITIVE_INFINITY || (Number.isInteger(count) && count > 0))) {
        throw new RangeError(`count must be a positive integer or Infinity, got ${count}`);
      }
      validate(failure);
      queue.push({ remaining: count, failure });
    },
    next() {
      const head = queue[0];
      if (!head) return undefined;
      head.remaining -= 1;
      if (head.remaining <= 0) queue.shift();
      return head.failure;
    },
    reset() {
      queue = [];
    },
  };
}

/** An artificial delay before each response. */
export interface Latency {
  set(ms: number): void;
  reset(): void;
  /** Waits out the latency; rejects once `signal` aborts, so a closing fake is not kept alive by it. */
  wait(signal: AbortSignal): Promise<void>;
}

export function createLatency(): Latency {
  let latencyMs = 0;
  return {
    set(ms) {
      if (!(Number.isFinite(ms) && ms >= 0)) throw new RangeError(`latency must be >= 0 ms, got ${ms}`);
      latencyMs = ms;
    },
    reset() {
      latencyMs = 0;
    },
    async wait(signal) {
      if (latencyMs > 0) await delay(latencyMs, undefined, { signal });
    },
  };
}

/**
 * Listens on `host:port` (defaults `127.0.0.1` and `0`, a random free port) and resolves with the
 * address as a URL authority, e.g. `127.0.0.1:41234` or `[::1]:41234`.
 */
export async function listen(server: Server, options: { host?: string; port?: number }): Promise<string> {
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Thrown inside an HTTP fake's handler to drop the connection instead of answering. */
export class ConnectionReset extends Error {}

export interface HttpFakeOptions {
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default `0` (random free port). */
  port?: number;
  /** Answers one request; `signal` aborts when the fake closes. Throw `ConnectionReset` to drop the socket. */
  handle(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void>;
  /** Answers a request whose handler threw: a bug in the fake should surface as a loud 500, not a hung test. */
  answerBug(res: ServerResponse, message: string): void;
  /** Runs as the fake closes, before the server does, e.g. to reject pending waits. */
  onClose(): void;
}

export interface HttpFake {
  /** `http://HOST:PORT`, no trailing slash. */
  readonly origin: string;
  /** Closes the server, dropping keep-alive sockets and in-flight requests. Idempotent. */
  close(): Promise<void>;
}

export async function startHttpFake(options: HttpFakeOptions): Promise<HttpFake> {
  // Aborted on close so responses waiting out an artificial latency don't keep the process alive.
  // Every such wait listens on it until its timer fires: no cap, a slow fake has many at once.
  const lifetime = new AbortController();
  setMaxListeners(0, lifetime.signal);
  const server = createServer((req, res) => {
    options.handle(req, res, lifetime.signal).catch((e: unknown) => {
      if (e instanceof ConnectionReset || lifetime.signal.aborted) {
        req.socket.destroy();
        return;
      }
      const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
      if (!res.headersSent) options.answerBug(res, message);
      else res.destroy();
    });
  });
  const origin = `http://${await listen(server, options)}`;

  let closing: Promise<void> | undefined;
  return {
    origin,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        lifetime.abort();
        options.onClose();
        server.close((err) => (err ? reject(err) : resolve()));
        // server.close() alone waits for keep-alive sockets (undici and axios keep them open) to time out.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  }
  return Buffer.concat(chunks);
}

export type SendJson = (
  res: ServerResponse,
  status: number,
  body: unknown,
  headers?: OutgoingHttpHeaders,
) => void;

/**
 * A provider's JSON answer. `providerHeaders()` runs for every response, for what the provider adds to all of
 * them; it and `headers` may override the content type (providers spell the charset differently).
 */
export function jsonSender(providerHeaders: () => OutgoingHttpHeaders): SendJson {
  return (res, status, body, headers = {}) => {
    const payload = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(payload),
      ...providerHeaders(),
      ...headers,
    });
    res.end(payload);
  };
}

/** The raw `user:password` of a Basic `Authorization` header, split at the first colon; no other decoding. */
export function parseBasicAuth(
  header: string | undefined,
): { username: string; password: string } | undefined {
  const match = header?.match(/^Basic\s+(\S+)$/i);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The bare addresses of a parsed header (To, From, ...), groups flattened. */
export function addressesOf(field: AddressObject | AddressObject[] | undefined): string[] {
  const objects = field === undefined ? [] : Array.isArray(field) ? field : [field];
  const flatten = (list: EmailAddress[]): string[] =>
    list.flatMap((a) => [...(a.address ? [a.address] : []), ...flatten(a.group ?? [])]);
  return objects.flatMap((o) => flatten(o.value));
}
