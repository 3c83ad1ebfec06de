/**
 * SMTP sink for integration tests: a real SMTP server (`smtp-server`) on 127.0.0.1 that requires AUTH
 * PLAIN/LOGIN with one configured user, parses each message with mailparser and records it.
 *
 * Why: the worker's backup email transport is nodemailer over SMTP, and we want tests to exercise that exact
 * path (connection URL, auth, SMTP reply codes on rejection) without a mail provider. Plain text, no TLS:
 * hand `fake.url` to `nodemailer.createTransport()`.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { AddressObject, EmailAddress } from 'mailparser';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface FakeSmtpOptions {
  user: string;
  password: string;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default `0` (random free port). */
  port?: number;
}

export interface ReceivedMail {
  /** Bare address from the From header, e.g. `noreply@shop.test`; `''` if the message has none. */
  from: string;
  /** Bare addresses from the To header (Cc/Bcc recipients are only in `envelope.to`). */
  to: string[];
  subject: string;
  /** `''` when the message has no text part (mailparser derives text from HTML if only HTML exists). */
  text: string;
  /** `''` when the message has no HTML part. */
  html: string;
  /** The message as received after DATA. */
  raw: string;
  /** MAIL FROM / RCPT TO; `from` is `''` for the null sender. */
  envelope: { from: string; to: string[] };
  receivedAt: Date;
}

export interface WaitForMailsOptions {
  /** Only count mails with this address in the To header or the envelope (case-insensitive). */
  to?: string;
  /** Default 10 000 ms. */
  timeoutMs?: number;
}

export interface FakeSmtp {
  /** `smtp://user:password@127.0.0.1:PORT` (user and password URL-encoded), for `createTransport(url)`. */
  readonly url: string;
  /** Snapshot of the accepted mails, oldest first. */
  readonly received: readonly ReceivedMail[];
  /** DATA transfers that arrived, including rejected ones (so client-side retries are visible). */
  readonly attempts: number;
  /** Resolves with the first `count` matching mails once they have been recorded. */
  waitForMails(count: number, opts?: WaitForMailsOptions): Promise<ReceivedMail[]>;
  /**
   * Reject the DATA of the next `count` mails with `responseCode` (default 451, transient; 550 is permanent);
   * calls queue up. `Infinity` = always.
   */
  failNext(count: number, responseCode?: number): void;
  /** Clears received mails, queued failures and the attempt counter. */
  reset(): void;
  /** Closes the server, telling connected clients 421 and dropping them. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_WAIT_TIMEOUT_MS = 10_000;
const DEFAULT_FAILURE_CODE = 451;

/** Reply texts from RFC 5321 §4.2.2, so client logs read like a real server's. */
const REPLY_TEXT: Readonly<Record<number, string>> = {
  421: 'Service not available, closing transmission channel',
  450: 'Requested mail action not taken: mailbox unavailable',
  451: 'Requested action aborted: local error in processing',
  452: 'Requested action not taken: insufficient system storage',
  550: 'Requested action not taken: mailbox unavailable',
  552: 'Requested mail action aborted: exceeded storage allocation',
  554: 'Transaction failed',
};

interface QueuedFailure {
  remaining: number;
  responseCode: number;
}

/** smtp-server turns an error's `responseCode` into the reply code. */
function smtpError(responseCode: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode });
}

function addressesOf(field: AddressObject | AddressObject[] | undefined): string[] {
  const objects = field === undefined ? [] : Array.isArray(field) ? field : [field];
  const flatten = (list: EmailAddress[]): string[] =>
    list.flatMap((a) => [...(a.address ? [a.address] : []), ...flatten(a.group ?? [])]);
  return objects.flatMap((o) => flatten(o.value));
}

function takeFailure(queue: QueuedFailure[]): number | undefined {
  const head = queue[0];
  if (!head) return undefined;
  head.remaining -= 1;
  if (head.remaining <= 0) queue.shift();
  return head.responseCode;
}

function assertCount(count: number): void {
  if (!(count === Number.POSITIVE_INFINITY || (Number.isInteger(count) && count > 0))) {
    throw new RangeError(`count must be a positive integer or Infinity, got ${count}`);
  }
}

function summarize(mail: ReceivedMail): string {
  return `{to: ${mail.envelope.to.join(',') || '-'}, subject: ${JSON.stringify(mail.subject)}}`;
}

export async function startFakeSmtp(options: FakeSmtpOptions): Promise<FakeSmtp> {
  const host = options.host ?? '127.0.0.1';
  const events = new EventEmitter();

  let received: ReceivedMail[] = [];
  let attempts = 0;
  let failures: QueuedFailure[] = [];

  const server = new SMTPServer({
    secure: false,
    // No TLS at all: clients must not try to upgrade, and AUTH in clear text is the point of a local sink.
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: false,
    authMethods: ['PLAIN', 'LOGIN'],
    name: 'fake-smtp.test',
    // Quiet, and no reverse DNS for 127.0.0.1 (it can stall a test for seconds).
    logger: false,
    disableReverseLookup: true,

    onAuth(auth, _session, callback) {
      if (auth.username === options.user && auth.password === options.password) {
        callback(null, { user: auth.username });
        return;
      }
      callback(smtpError(535, 'Authentication credentials invalid'));
    },

    onData(stream, session, callback) {
      attempts += 1;
      const failure = takeFailure(failures);
      if (failure !== undefined) {
        // smtp-server drains the unread stream before replying.
        callback(smtpError(failure, REPLY_TEXT[failure] ?? 'Message rejected'));
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (parsed) => {
            const { mailFrom, rcptTo } = session.envelope;
            received.push({
              from: addressesOf(parsed.from)[0] ?? '',
              to: addressesOf(parsed.to),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
              raw: raw.toString('utf8'),
              envelope: { from: mailFrom ? mailFrom.address : '', to: rcptTo.map((r) => r.address) },
              receivedAt: new Date(),
            });
            events.emit('mail');
            callback(null, `OK: queued as ${randomBytes(6).toString('hex')}`);
          },
          // A message mailparser cannot read is a bug in the sender or the fake: fail loudly but permanently.
          (e: unknown) => callback(smtpError(554, `Could not parse message: ${String(e)}`)),
        );
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  // A late socket error must not crash the test process; the client sees it anyway.
  server.on('error', () => {});
  const { port } = server.server.address() as AddressInfo;
  const url =
    `smtp://${encodeURIComponent(options.user)}:${encodeURIComponent(options.password)}` +
    `@${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;

  return {
    url,
    get received() {
      return [...received];
    },
    get attempts() {
      return attempts;
    },

    waitForMails(count, opts = {}) {
      const timeoutMs = opts.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
      const wanted = opts.to?.toLowerCase();
      const matching = (): ReceivedMail[] =>
        wanted === undefined
          ? received
          : received.filter((m) => [...m.to, ...m.envelope.to].some((a) => a.toLowerCase() === wanted));

      return new Promise<ReceivedMail[]>((resolve, reject) => {
        const check = (): void => {
          const found = matching();
          if (found.length >= count) {
            cleanup();
            resolve(found.slice(0, count));
          }
        };
        const onClose = (): void => {
          cleanup();
          reject(new Error('waitForMails: fake SMTP was closed'));
        };
        const timer = setTimeout(() => {
          cleanup();
          const target = wanted === undefined ? '' : ` to ${wanted}`;
          const seen = received.map(summarize).join(', ') || 'none';
          reject(
            new Error(
              `waitForMails: timed out after ${timeoutMs} ms waiting for ${count} mail(s)${target}; ` +
                `${matching().length} matched, ${received.length} received in total (${attempts} ` +
                `attempt(s)): ${seen}`,
            ),
          );
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          events.off('mail', check);
          events.off('close', onClose);
        };
        events.on('mail', check);
        events.on('close', onClose);
        check();
      });
    },

    failNext(count, responseCode = DEFAULT_FAILURE_CODE) {
      assertCount(count);
      if (!(Number.isInteger(responseCode) && responseCode >= 400 && responseCode <= 599)) {
        throw new RangeError(`responseCode must be a 4xx or 5xx SMTP reply code, got ${responseCode}`);
      }
      failures.push({ remaining: count, responseCode });
    },
    reset() {
      received = [];
      attempts = 0;
      failures = [];
    },

    close() {
      closing ??= new Promise<void>((resolve) => {
        events.emit('close');
        server.close(() => resolve());
        // close() alone gives connected clients (a nodemailer pool) 30 s before it drops them.
        for (const connection of [...server.connections]) {
          connection.send(421, 'Server shutting down');
          connection.close();
        }
      });
      return closing;
    },
  };
}
