/**
 * SMTP sink for integration tests: a real SMTP server (`smtp-server`) on 127.0.0.1 that requires AUTH
 * PLAIN/LOGIN with one configured user, parses each message with mailparser and records it.
 *
 * Why: the worker's backup email transport is nodemailer over SMTP, and we want tests to exercise that exact
 * path (connection URL, auth, SMTP reply codes on rejection) without a mail provider. Plain text, no TLS:
 * hand `fake.url` to `nodemailer.createTransport()`.
 */
import { randomBytes } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { addressesOf, createFailureQueue, createRecorder, listen } from './fake-server-kit.js';

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
   * Reject the DATA of the next `count` mails with `responseCode` (default 451, transient; 550 is permanent)
   * and the reply text RFC 5321 gives it, or `message` (e.g. Gmail's `5.4.5 Daily user sending limit
   * exceeded.`); calls queue up. `Infinity` = always.
   */
  failNext(count: number, responseCode?: number, message?: string): void;
  /** Clears received mails, queued failures and the attempt counter. */
  reset(): void;
  /** Closes the server, telling connected clients 421 and dropping them. Idempotent. */
  close(): Promise<void>;
}

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

/** smtp-server turns an error's `responseCode` into the reply code. */
function smtpError(responseCode: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode });
}

function validateResponseCode(responseCode: number): void {
  if (!(Number.isInteger(responseCode) && responseCode >= 400 && responseCode <= 599)) {
    throw new RangeError(`responseCode must be a 4xx or 5xx SMTP reply code, got ${responseCode}`);
  }
}

function summarize(mail: ReceivedMail): string {
  return `{to: ${mail.envelope.to.join(',') || '-'}, subject: ${JSON.stringify(mail.subject)}}`;
}

export async function startFakeSmtp(options: FakeSmtpOptions): Promise<FakeSmtp> {
  let attempts = 0;
  const mails = createRecorder<ReceivedMail>({
    waiter: 'waitForMails',
    fake: 'fake SMTP',
    noun: 'mail(s)',
    recipients: (mail) => [...mail.to, ...mail.envelope.to],
    totals: (recorded) => `${recorded} received in total (${attempts} attempt(s))`,
    summarize,
  });
  // A queued failure: the reply DATA is rejected with.
  const failures = createFailureQueue<{ code: number; message: string | undefined }>(({ code }) =>
    validateResponseCode(code),
  );

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
      const failure = failures.next();
      if (failure !== undefined) {
        // smtp-server drains the unread stream before replying.
        callback(smtpError(failure.code, failure.message ?? REPLY_TEXT[failure.code] ?? 'Message rejected'));
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (parsed) => {
            const { mailFrom, rcptTo } = session.envelope;
            mails.record({
              from: addressesOf(parsed.from)[0] ?? '',
              to: addressesOf(parsed.to),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
              raw: raw.toString('utf8'),
              envelope: { from: mailFrom ? mailFrom.address : '', to: rcptTo.map((r) => r.address) },
              receivedAt: new Date(),
            });
            callback(null, `OK: queued as ${randomBytes(6).toString('hex')}`);
          },
          // A message mailparser cannot read is a bug in the sender or the fake: fail loudly but permanently.
          (e: unknown) => callback(smtpError(554, `Could not parse message: ${String(e)}`)),
        );
      });
    },
  });

  const authority = await listen(server.server, options);
  // A late socket error must not crash the test process; the client sees it anyway.
  server.on('error', () => {});
  const url = `smtp://${encodeURIComponent(options.user)}:${encodeURIComponent(options.password)}@${authority}`;

  let closing: Promise<void> | undefined;

  return {
    url,
    get received() {
      return mails.items;
    },
    get attempts() {
      return attempts;
    },

    waitForMails: (count, opts) => mails.waitFor(count, opts),
    failNext: (count, responseCode = DEFAULT_FAILURE_CODE, message?: string) =>
      failures.push(count, { code: responseCode, message }),
    reset() {
      mails.clear();
      attempts = 0;
      failures.reset();
    },

    close() {
      closing ??= new Promise<void>((resolve) => {
        mails.close();
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
