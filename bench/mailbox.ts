/**
 * The bench's side of the fake Google child: starts it, and turns its stream of accepted emails
 * into "wait for the code sent to this address" (event-based, no polling) and arrival counts.
 */
import type { FakeGoogleCommand, FakeGoogleMessage } from './helpers/fake-google-child.js';
import { type BenchProcess, GOOGLE_CREDENTIALS, HELPERS, nextMessage, startHelper } from './processes.js';

export interface Mail {
  code: string;
  /** Epoch ms at which the fake accepted the send (the provider's acceptance). */
  receivedAt: number;
}

export interface Mailbox {
  proc: BenchProcess;
  rootUrl: string;
  tokenUrl: string;
  /** Emails accepted so far, with the first and last acceptance times. */
  readonly received: { count: number; first: number; last: number };
  /** The code sent to `to`; call before the request that sends it. Rejects after `timeoutMs`. */
  expect(to: string, timeoutMs: number): Promise<Mail>;
  /** Stops waiting for `to` (its request failed); the pending `expect` never settles. */
  forget(to: string): void;
  /** Resolves once `count` emails have been accepted in all, or after `timeoutMs` (check `received`). */
  waitForCount(count: number, timeoutMs: number): Promise<void>;
  /** How many emails the provider accepted in [from, to) (epoch ms), since the last `resetCount`. */
  acceptedBetween(from: number, to: number): number;
  /** Starts counting `received` afresh. */
  resetCount(): void;
  setLatency(ms: number): void;
  failEvery(n: number): void;
  close(): Promise<void>;
}

const CODE = /^(\d{4,10}) is your verification code/;

export async function startMailbox(): Promise<Mailbox> {
  const proc = startHelper('fake-google', HELPERS.fakeGoogle, {
    FAKE_CLIENT_ID: GOOGLE_CREDENTIALS.clientId,
    FAKE_CLIENT_SECRET: GOOGLE_CREDENTIALS.clientSecret,
    FAKE_REFRESH_TOKEN: GOOGLE_CREDENTIALS.refreshToken,
  });
  const ready = await nextMessage(proc, (message) => {
    const m = message as FakeGoogleMessage;
    return m.type === 'ready' ? m : undefined;
  });

  const waiters = new Map<string, { resolve(mail: Mail): void; timer: NodeJS.Timeout }>();
  const received = { count: 0, first: 0, last: 0 };
  // Acceptance times since the last resetCount (numbers only: a few per registration).
  let acceptedAt: number[] = [];
  let countWaiter: { count: number; resolve(): void } | undefined;

  proc.child.on('message', (message: FakeGoogleMessage) => {
    if (message.type !== 'email') return;
    received.count += 1;
    if (received.first === 0) received.first = message.receivedAt;
    received.last = message.receivedAt;
    acceptedAt.push(message.receivedAt);
    if (countWaiter && received.count >= countWaiter.count) {
      countWaiter.resolve();
      countWaiter = undefined;
    }
    const code = CODE.exec(message.subject)?.[1];
    if (!code) return;
    for (const to of message.to) {
      const waiter = waiters.get(to.toLowerCase());
      if (!waiter) continue;
      waiters.delete(to.toLowerCase());
      clearTimeout(waiter.timer);
      waiter.resolve({ code, receivedAt: message.receivedAt });
    }
  });

  const command = (c: FakeGoogleCommand) => proc.child.send(c);

  return {
    proc,
    rootUrl: ready.rootUrl,
    tokenUrl: ready.tokenUrl,
    received,
    expect(to, timeoutMs) {
      const key = to.toLowerCase();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(key);
          reject(new Error(`no email to ${to} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.set(key, { resolve, timer });
      });
    },
    forget(to) {
      const waiter = waiters.get(to.toLowerCase());
      if (waiter) clearTimeout(waiter.timer);
      waiters.delete(to.toLowerCase());
    },
    waitForCount(count, timeoutMs) {
      if (received.count >= count) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          countWaiter = undefined;
          resolve();
        }, timeoutMs);
        countWaiter = {
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      });
    },
    acceptedBetween(from, to) {
      return acceptedAt.filter((at) => at >= from && at < to).length;
    },
    resetCount() {
      acceptedAt = [];
      received.count = 0;
      received.first = 0;
      received.last = 0;
    },
    setLatency: (ms) => command({ type: 'latency', ms }),
    failEvery: (n) => command({ type: 'fail-every', n }),
    async close() {
      for (const waiter of waiters.values()) clearTimeout(waiter.timer);
      waiters.clear();
      if (proc.child.connected) command({ type: 'close' });
      await proc.stop(5_000);
    },
  };
}
