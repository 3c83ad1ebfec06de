// Drives the fake with the real `twilio` v6 client, wired the way the worker will be, so these tests also pin
// down how that client behaves (errors, retries, timeouts) against Twilio's wire format.

import type { IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeTwilio, PostedStatusCallback } from '../src/fake-twilio.js';
import { startFakeTwilio, TWILIO_ERRORS } from '../src/fake-twilio.js';

const accountSid = 'AC0123456789abcdef0123456789abcdef';
const authToken = 'auth-token-0123456789';
const sender = 'whatsapp:+14155238886';
const recipient = 'whatsapp:+14155552671';
const contentSid = 'HX0123456789abcdef0123456789abcdef';

let fake: FakeTwilio;

beforeAll(async () => {
  fake = await startFakeTwilio({ accountSid, authToken });
});

afterAll(async () => {
  await fake?.close();
});

beforeEach(() => {
  fake.reset();
});

/** The documented way to aim the client elsewhere: edge/region must stay unset or the host gets rewritten. */
function makeClient(opts: twilio.ClientOpts & { token?: string; sid?: string } = {}): twilio.Twilio {
  const { token = authToken, sid = accountSid, ...clientOpts } = opts;
  const client = twilio(sid, token, { timeout: 5_000, ...clientOpts });
  client.api.baseUrl = fake.baseUrl;
  return client;
}

function sendOtp(client: twilio.Twilio, to = recipient) {
  return client.messages.create({ from: sender, to, body: 'Your code is 123456' });
}

/** Awaits a rejection and returns it, failing the test if the call succeeded. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the call to reject');
    },
    (e: unknown) => e,
  );
}

/** Awaits a rejection and checks it is twilio's RestException, which is what the worker will catch. */
async function restException(promise: Promise<unknown>): Promise<twilio.RestException> {
  const err = await rejection(promise);
  expect(err).toBeInstanceOf(twilio.RestException);
  return err as twilio.RestException;
}

/** twilio's `Response` class; its module is CommonJS with `export default`, which an ESM type import can't name. */
type TwilioResponse<TData> = Awaited<ReturnType<typeof twilio.RequestClient.prototype.request<TData>>>;

/**
 * RestException drops the response headers, so a Retry-After is lost. This is the workaround the worker can
 * use: a RequestClient that throws a RestException of its own for error statuses, carrying the headers. It
 * also rewrites the URI, the alternative to `client.api.baseUrl` that covers every Twilio domain at once.
 */
class TwilioHttpError extends twilio.RestException {
  readonly headers: Record<string, string>;
  /** Seconds from a numeric Retry-After header, `undefined` without one. */
  readonly retryAfterSeconds: number | undefined;

  constructor(response: TwilioResponse<unknown>) {
    super(response);
    this.name = 'TwilioHttpError';
    this.headers = { ...(response.headers as Record<string, string>) };
    const retryAfter = Number.parseInt(this.headers['retry-after'] ?? '', 10);
    this.retryAfterSeconds = Number.isNaN(retryAfter) ? undefined : retryAfter;
  }
}

class FakeAwareRequestClient extends twilio.RequestClient {
  constructor(
    private readonly baseUrl: string,
    opts?: ConstructorParameters<typeof twilio.RequestClient>[0],
  ) {
    super(opts);
  }

  override async request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<TwilioResponse<TData>> {
    const { pathname, search } = new URL(opts.uri);
    const response = await super.request({ ...opts, uri: `${this.baseUrl}${pathname}${search}` });
    if (response.statusCode >= 400) throw new TwilioHttpError(response);
    return response;
  }
}

describe('fake Twilio: happy path', () => {
  it('records a WhatsApp text with Basic auth and the form, and answers a message resource', async () => {
    const client = makeClient();
    const waiting = fake.waitForMessages(1, { to: recipient.toUpperCase() });

    const message = await sendOtp(client);

    const [sent] = await waiting;
    expect(sent).toMatchObject({
      accountSid,
      to: recipient,
      from: sender,
      body: 'Your code is 123456',
      authorization: { username: accountSid, password: authToken },
      form: { To: recipient, From: sender, Body: 'Your code is 123456' },
    });
    expect(sent).not.toHaveProperty('contentSid');
    expect(sent?.receivedAt).toBeInstanceOf(Date);
    expect(sent?.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(message.sid).toBe(sent?.sid);
    expect(message).toMatchObject({
      accountSid,
      to: recipient,
      from: sender,
      body: 'Your code is 123456',
      status: 'queued',
      numSegments: '1',
      direction: 'outbound-api',
      apiVersion: '2010-04-01',
      price: null,
      errorCode: null,
      errorMessage: null,
      uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sent?.sid}.json`,
    });
    // The client parses date_created as RFC 2822; a wrong format would give an Invalid Date.
    expect(Math.abs(message.dateCreated.getTime() - Date.now())).toBeLessThan(60_000);
    expect(fake.requests).toBe(1);
  });

  it('records a content template send without a Body and with parsed ContentVariables', async () => {
    const client = makeClient();

    const message = await client.messages.create({
      from: sender,
      to: recipient,
      contentSid,
      contentVariables: JSON.stringify({ 1: '123456' }),
      statusCallback: 'https://otp.test/hooks/twilio',
    });

    const [sent] = fake.sent;
    expect(sent).toMatchObject({ contentSid, contentVariables: { 1: '123456' } });
    expect(sent).not.toHaveProperty('body');
    expect(sent?.form).toEqual({
      To: recipient,
      From: sender,
      ContentSid: contentSid,
      ContentVariables: '{"1":"123456"}',
      StatusCallback: 'https://otp.test/hooks/twilio',
    });
    expect(message.body).toBeNull();
  });

  it('accepts a MessagingServiceSid instead of From', async () => {
    const client = makeClient();

    const message = await client.messages.create({
      messagingServiceSid: 'MG0123456789abcdef0123456789abcdef',
      to: recipient,
      body: 'hi',
    });

    expect(fake.sent[0]).toMatchObject({
      from: '',
      form: { MessagingServiceSid: message.messagingServiceSid },
    });
    expect(message.from).toBeNull();
  });

  it('needs edge/region unset: the client rewrites the base URL host with them', () => {
    const client = makeClient();
    expect(client.edge).toBeUndefined();
    expect(client.region).toBeUndefined();
    // What a TWILIO_REGION=ie1 (or `region: 'ie1'`) would do to 127.0.0.1.
    expect(client.getHostname('127.0.0.1', undefined, undefined)).toBe('127.0.0.1');
    expect(client.getHostname('127.0.0.1', undefined, 'ie1')).toBe('127.ie1.0.1');
  });

  it('delays responses by the configured latency', async () => {
    const client = makeClient();
    fake.setLatency(120);
    const started = performance.now();

    await sendOtp(client);

    expect(performance.now() - started).toBeGreaterThanOrEqual(120 - 5);
  });
});

describe('fake Twilio: injected failures', () => {
  it('fails the next send with 503 and lets the one after succeed (the client does not retry)', async () => {
    const client = makeClient();
    fake.failSends(1, { kind: 'status', status: 503 });

    const err = await restException(sendOtp(client));
    expect(err).toMatchObject({
      status: 503,
      code: 20503,
      message: 'Service Unavailable',
      moreInfo: 'https://www.twilio.com/docs/errors/20503',
    });
    expect(fake.sent).toHaveLength(0);

    await sendOtp(client);
    expect(fake.requests).toBe(2);
    expect(fake.sent).toHaveLength(1);
  });

  it('a 429 surfaces as RestException 429/20429, without the Retry-After header', async () => {
    const client = makeClient();
    fake.failSends(1, { kind: 'status', status: 429, retryAfterSeconds: 7 });

    const err = await restException(sendOtp(client));

    expect(err).toMatchObject({ status: 429, code: 20429, message: 'Too Many Requests' });
    // RestException keeps status/code/message/moreInfo/details from the body and nothing from the headers.
    expect(Object.keys(err).sort()).toEqual(['code', 'details', 'moreInfo', 'status']);
    // autoRetry is off by default: exactly one request.
    expect(fake.requests).toBe(1);
    // The header is only reachable on the client's last response, which concurrent sends overwrite.
    expect(client.httpClient.lastResponse?.statusCode).toBe(429);
    expect(client.httpClient.lastResponse?.headers['retry-after']).toBe('7');
  });

  it('a custom RequestClient can route to the fake and expose Retry-After on the error', async () => {
    const client = twilio(accountSid, authToken, {
      httpClient: new FakeAwareRequestClient(fake.baseUrl, { timeout: 5_000 }),
    });
    fake.failSends(1, { kind: 'status', status: 429, retryAfterSeconds: 7 });

    const err = await restException(sendOtp(client));

    expect(err).toBeInstanceOf(TwilioHttpError);
    expect(err).toMatchObject({ status: 429, code: 20429, retryAfterSeconds: 7 });
    const message = await sendOtp(client);
    expect(message.sid).toBe(fake.sent[0]?.sid);
  });

  it('autoRetry: true retries a 429 by itself, with its own backoff (Retry-After is ignored)', async () => {
    const client = makeClient({ autoRetry: true, maxRetryDelay: 20 });
    fake.failSends(1, { kind: 'status', status: 429, retryAfterSeconds: 30 });

    await sendOtp(client);

    expect(fake.requests).toBe(2);
    const [first, second] = fake.requestTimes.map((d) => d.getTime());
    expect((second ?? Number.NaN) - (first ?? Number.NaN)).toBeLessThan(30_000);
    expect(fake.sent).toHaveLength(1);
  });

  it('injects a WhatsApp channel error by code, with its message from TWILIO_ERRORS', async () => {
    const client = makeClient();
    fake.failSends(1, { kind: 'status', status: 400, code: 63016 });

    const err = await restException(sendOtp(client));

    expect(err).toMatchObject({
      status: 400,
      code: 63016,
      message: TWILIO_ERRORS[63016].message,
      moreInfo: 'https://www.twilio.com/docs/errors/63016',
    });
  });

  it('defaults 400 to 21211 naming the To, and lets the message be overridden', async () => {
    const client = makeClient();
    fake.failSends(1, { kind: 'status', status: 400 });
    fake.failSends(1, { kind: 'status', status: 400, code: 21610, message: 'Unsubscribed' });

    expect(await restException(sendOtp(client))).toMatchObject({
      code: 21211,
      message: `Invalid 'To' Phone Number: ${recipient}`,
    });
    expect(await restException(sendOtp(client))).toMatchObject({ code: 21610, message: 'Unsubscribed' });
  });

  it('drops the connection for a reset failure: an axios network error, no retry', async () => {
    const client = makeClient();
    fake.failSends(1, { kind: 'reset' });

    const err = await rejection(sendOtp(client));

    expect(err).not.toBeInstanceOf(twilio.RestException);
    // AxiosError.from() copies the socket error's name, so test the flag and the code, not `name`.
    expect(err).toMatchObject({ isAxiosError: true, code: 'ECONNRESET', message: 'socket hang up' });
    expect((err as object).constructor.name).toBe('AxiosError');
    expect(err).toHaveProperty('cause.code', 'ECONNRESET');
    expect(err).not.toHaveProperty('status');
    expect((err as { response?: unknown }).response).toBeUndefined();
    // Its config carries the Basic auth header: log `code`/`message`, never the whole error.
    expect(err).toHaveProperty('config.headers.Authorization', expect.stringMatching(/^Basic /));
    expect(fake.requests).toBe(1);
    await sendOtp(client);
    expect(fake.sent).toHaveLength(1);
  });

  it('the client timeout aborts the call while the fake still records the message (duplicate risk)', async () => {
    const client = makeClient({ timeout: 100 });
    fake.setLatency(300);

    const err = await rejection(sendOtp(client));

    expect(err).not.toBeInstanceOf(twilio.RestException);
    expect(err).toMatchObject({
      name: 'AxiosError',
      code: 'ECONNABORTED',
      message: 'timeout of 100ms exceeded',
    });
    expect(fake.sent).toHaveLength(0);
    const [late] = await fake.waitForMessages(1, { timeoutMs: 5_000 });
    expect(late?.to).toBe(recipient);
  });

  it('queues failures: Infinity keeps failing until reset, and every attempt is timed', async () => {
    const client = makeClient();
    fake.failSends(Number.POSITIVE_INFINITY, { kind: 'status', status: 500 });

    for (let i = 0; i < 3; i++) {
      expect(await restException(sendOtp(client))).toMatchObject({ status: 500, code: 20500 });
    }
    expect(fake.requests).toBe(3);
    const times = fake.requestTimes.map((d) => d.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));

    fake.reset();
    expect(fake.requests).toBe(0);
    await sendOtp(client);
    expect(fake.sent).toHaveLength(1);
  });

  it('rejects failures it cannot express', () => {
    expect(() => fake.failSends(1, { kind: 'status', status: 418 })).toThrow(/pass a code/);
    expect(() => fake.failSends(1, { kind: 'status', status: 200, code: 20500 })).toThrow(RangeError);
    expect(() => fake.failSends(0, { kind: 'reset' })).toThrow(RangeError);
  });
});

describe('fake Twilio: validation and auth', () => {
  it('rejects a To that is not whatsapp:+E.164 with 21211', async () => {
    const client = makeClient();

    for (const to of ['whatsapp:14155552671', '+14155552671', 'whatsapp:+1 415 555 2671']) {
      expect(await restException(sendOtp(client, to))).toMatchObject({
        status: 400,
        code: 21211,
        message: `Invalid 'To' Phone Number: ${to}`,
        moreInfo: 'https://www.twilio.com/docs/errors/21211',
      });
    }
    expect(fake.requests).toBe(3);
    expect(fake.sent).toHaveLength(0);
  });

  it('rejects a missing From (21603), a missing Body/ContentSid (21619) and bad ContentVariables (21656)', async () => {
    const client = makeClient();

    expect(await restException(client.messages.create({ to: recipient, body: 'x' }))).toMatchObject({
      status: 400,
      code: 21603,
      message: "A 'From' phone number is required.",
    });
    expect(await restException(client.messages.create({ from: sender, to: recipient }))).toMatchObject({
      status: 400,
      code: 21619,
      message: 'A text message body or media url must be specified.',
    });
    expect(
      await restException(
        client.messages.create({ from: sender, to: recipient, contentSid, contentVariables: '{1: 123' }),
      ),
    ).toMatchObject({ status: 400, code: 21656 });
  });

  it('rejects a wrong auth token with 401/20003 Authenticate', async () => {
    const client = makeClient({ token: 'wrong' });

    const err = await restException(sendOtp(client));

    expect(err).toMatchObject({
      status: 401,
      code: 20003,
      message: 'Authenticate',
      moreInfo: 'https://www.twilio.com/docs/errors/20003',
    });
    expect(fake.requests).toBe(1);
    expect(fake.sent).toHaveLength(0);
  });

  it("rejects valid credentials used on another account's path with 401/20003", async () => {
    const client = makeClient();
    const otherAccount = 'AC'.padEnd(34, 'f');

    const err = await restException(
      client.api.v2010.accounts(otherAccount).messages.create({ from: sender, to: recipient, body: 'x' }),
    );

    expect(err).toMatchObject({ status: 401, code: 20003 });
  });

  it('speaks the raw wire format: missing To, missing auth, unknown path', async () => {
    const basic = Buffer.from(`${accountSid}:${authToken}`).toString('base64');
    const post = (path: string, body: string, authorization = `Basic ${basic}`) =>
      fetch(`${fake.baseUrl}${path}`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
    const messagesPath = `/2010-04-01/Accounts/${accountSid}/Messages.json`;

    const noTo = await post(messagesPath, new URLSearchParams({ From: sender, Body: 'x' }).toString());
    expect(noTo.status).toBe(400);
    expect(noTo.headers.get('content-type')).toMatch(/^application\/json/);
    expect(noTo.headers.get('twilio-request-id')).toMatch(/^RQ[0-9a-f]{32}$/);
    expect(await noTo.json()).toEqual({
      code: 21604,
      message: "A 'To' phone number is required.",
      more_info: 'https://www.twilio.com/docs/errors/21604',
      status: 400,
    });

    const noAuth = await post(messagesPath, 'To=x', '');
    expect(noAuth.status).toBe(401);
    expect(noAuth.headers.get('www-authenticate')).toBe('Basic realm="Twilio API"');
    expect(await noAuth.json()).toMatchObject({ code: 20003, message: 'Authenticate', status: 401 });

    const unknown = await post(`/2010-04-01/Accounts/${accountSid}/Calls.json`, '');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({
      code: 20404,
      message: `The requested resource /2010-04-01/Accounts/${accountSid}/Calls.json was not found`,
      more_info: 'https://www.twilio.com/docs/errors/20404',
      status: 404,
    });

    // Only Messages.json POSTs count as send requests.
    expect(fake.requests).toBe(2);
  });
});

describe('fake Twilio: waitForMessages', () => {
  it('resolves when enough matching messages are recorded', async () => {
    const client = makeClient();
    const bob = 'whatsapp:+447700900123';
    const waiting = fake.waitForMessages(2, { to: bob });

    await sendOtp(client, bob);
    await sendOtp(client, recipient);
    await sendOtp(client, bob);

    const messages = await waiting;
    expect(messages.map((m) => m.to)).toEqual([bob, bob]);
  });

  it('rejects on timeout and lists what did arrive', async () => {
    const client = makeClient();
    await sendOtp(client);

    await expect(fake.waitForMessages(1, { to: 'whatsapp:+15005550006', timeoutMs: 50 })).rejects.toThrow(
      /timed out after 50 ms .* to whatsapp:\+15005550006; 0 matched, 1 sent in total \(1 request\(s\)\): .*whatsapp:\+14155552671.*Your code is 123456/,
    );
  });
});

/** One status callback as the product's webhook route will see it. */
interface ReceivedCallback {
  /** The URL rebuilt the way the product will: its public base plus the request target. */
  url: string;
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
}

/** A stand-in for the product's status callback route: records what arrives, answers `status`. */
interface CallbackReceiver {
  readonly baseUrl: string;
  readonly received: ReceivedCallback[];
  /** Default 204. */
  status: number;
  /** Leave requests unanswered (the fake's POST stays in flight). */
  hold: boolean;
  /** Resolves when the next request has arrived, with a promise of its connection closing. */
  nextRequest(): Promise<{ closed: Promise<void> }>;
  close(): Promise<void>;
}

async function startReceiver(): Promise<CallbackReceiver> {
  let arrived: ((request: { closed: Promise<void> }) => void)[] = [];
  const server = createServer((req, res) => {
    const closed = new Promise<void>((resolve) => res.on('close', resolve));
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      receiver.received.push({
        url: `${receiver.baseUrl}${req.url ?? ''}`,
        params: Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))),
        headers: req.headers,
      });
      for (const resolve of arrived) resolve({ closed });
      arrived = [];
      if (!receiver.hold) res.writeHead(receiver.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const receiver: CallbackReceiver = {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: [],
    status: 204,
    hold: false,
    nextRequest: () => new Promise((resolve) => arrived.push(resolve)),
    close: () =>
      new Promise((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
  return receiver;
}

/** What the product's route will do with a callback: `twilio.validateRequest` over the URL and the form. */
function validSignature(callback: ReceivedCallback | undefined, token = authToken): boolean {
  if (!callback) throw new Error('no such callback');
  const signature = callback.headers['x-twilio-signature'];
  return twilio.validateRequest(token, String(signature), callback.url, callback.params);
}

const statuses = (posted: readonly PostedStatusCallback[]) => posted.map((c) => c.status);

describe('fake Twilio: status callbacks', () => {
  const smsSender = '+14155238886';
  const smsRecipient = '+14155550100';
  const serviceSid = 'MG0123456789abcdef0123456789abcdef';
  let receiver: CallbackReceiver;
  let callbackUrl: string;

  beforeAll(async () => {
    receiver = await startReceiver();
    // A query string, with an escape in it, is part of what Twilio signs.
    callbackUrl = `${receiver.baseUrl}/hooks/twilio/status?flow=f1&note=a%20b`;
  });

  afterAll(async () => {
    await receiver?.close();
  });

  beforeEach(() => {
    receiver.received.length = 0;
    receiver.status = 204;
    receiver.hold = false;
  });

  function sendWhatsApp(client: twilio.Twilio, to = recipient, statusCallback = callbackUrl) {
    return client.messages.create({ from: sender, to, body: 'Your code is 123456', statusCallback });
  }

  function sendSms(client: twilio.Twilio, to = smsRecipient) {
    return client.messages.create({
      from: smsSender,
      to,
      body: 'Your code is 123456',
      statusCallback: callbackUrl,
    });
  }

  it('posts queued, sent, delivered for a WhatsApp send, signed over the URL with its query string', async () => {
    const client = makeClient();

    const message = await sendWhatsApp(client);
    const posted = await fake.waitForCallbacks(3, { to: recipient.toUpperCase() });

    expect(statuses(posted)).toEqual(['queued', 'sent', 'delivered']);
    expect(posted.map((c) => c.responseStatus)).toEqual([204, 204, 204]);
    expect(posted.every((c) => c.url === callbackUrl && c.delivery === 1 && !c.badSignature)).toBe(true);
    expect(receiver.received.map((r) => r.params.MessageStatus)).toEqual(['queued', 'sent', 'delivered']);
    for (const callback of receiver.received) {
      expect(callback.url).toBe(callbackUrl);
      expect(validSignature(callback)).toBe(true);
      expect(validSignature(callback, 'another-token')).toBe(false);
      expect(callback.headers).toMatchObject({
        'content-type': 'application/x-www-form-urlencoded',
        'user-agent': 'TwilioProxy/1.1',
      });
    }
    expect(receiver.received[2]?.params).toEqual({
      ChannelPrefix: 'whatsapp',
      ChannelInstallSid: expect.stringMatching(/^XE[0-9a-f]{32}$/),
      ChannelToAddress: '+14155552671',
      ApiVersion: '2010-04-01',
      MessageStatus: 'delivered',
      SmsSid: message.sid,
      SmsStatus: 'delivered',
      To: recipient,
      From: sender,
      MessageSid: message.sid,
      AccountSid: accountSid,
    });
    // Each transition is its own event, so each has its own idempotency token.
    const tokens = receiver.received.map((r) => r.headers['i-twilio-idempotency-token']);
    expect(new Set(tokens).size).toBe(3);
    expect(posted.map((c) => c.idempotencyToken)).toEqual(tokens);
    expect(fake.pendingCallbacks).toBe(0);
  });

  it('adds read for WhatsApp when scripted; an SMS stops at delivered', async () => {
    const client = makeClient();
    fake.scriptOutcome({ outcome: 'read' });

    await sendWhatsApp(client);
    await sendSms(client);

    expect(statuses(await fake.waitForCallbacks(4, { to: recipient }))).toEqual([
      'queued',
      'sent',
      'delivered',
      'read',
    ]);
    expect(statuses(await fake.waitForCallbacks(3, { to: smsRecipient }))).toEqual([
      'queued',
      'sent',
      'delivered',
    ]);
  });

  it('a scripted 63016 for one number: queued then failed with ErrorCode; other numbers are delivered', async () => {
    const client = makeClient();
    const outsideWindow = 'whatsapp:+447700900123';
    fake.scriptOutcome({ to: outsideWindow, outcome: { failed: 63016 } });

    const failedMessage = await sendWhatsApp(client, outsideWindow);
    await sendWhatsApp(client, recipient);

    const failed = await fake.waitForCallbacks(2, { to: outsideWindow });
    expect(statuses(failed)).toEqual(['queued', 'failed']);
    expect(failed[1]?.params).toMatchObject({
      ChannelPrefix: 'whatsapp',
      MessageSid: failedMessage.sid,
      MessageStatus: 'failed',
      SmsStatus: 'failed',
      ErrorCode: '63016',
    });
    expect(failed[0]?.params).not.toHaveProperty('ErrorCode');
    expect(failed[1]?.params).not.toHaveProperty('ErrorMessage');
    expect(statuses(await fake.waitForCallbacks(3, { to: recipient }))).toEqual([
      'queued',
      'sent',
      'delivered',
    ]);
    expect(receiver.received.every((r) => validSignature(r))).toBe(true);
  });

  it('matches a pattern for count sends, with an ErrorMessage when given', async () => {
    const client = makeClient();
    const notOnWhatsApp = 'whatsapp:+447700900999';
    fake.scriptOutcome({
      to: /^whatsapp:\+44/g,
      outcome: { undelivered: 63003 },
      count: 2,
      errorMessage: 'Channel could not find To address',
    });

    await sendWhatsApp(client, notOnWhatsApp);
    await sendWhatsApp(client, notOnWhatsApp);
    await sendWhatsApp(client, notOnWhatsApp);

    const posted = await fake.waitForCallbacks(9, { to: notOnWhatsApp });
    const finals = posted.filter((c) => c.status !== 'queued' && c.status !== 'sent');
    expect(statuses(finals)).toEqual(['undelivered', 'undelivered', 'delivered']);
    expect(finals[0]?.params).toMatchObject({
      ErrorCode: '63003',
      ErrorMessage: 'Channel could not find To address',
    });
    expect(finals[2]?.params).not.toHaveProperty('ErrorCode');
  });

  it('an SMS undelivered with 30003 carries no WhatsApp fields', async () => {
    const client = makeClient();
    fake.scriptOutcome({ to: smsRecipient, outcome: { undelivered: 30003 } });

    const message = await sendSms(client);

    const posted = await fake.waitForCallbacks(3, { to: smsRecipient });
    expect(statuses(posted)).toEqual(['queued', 'sent', 'undelivered']);
    expect(posted[2]?.params).toEqual({
      ApiVersion: '2010-04-01',
      MessageStatus: 'undelivered',
      SmsSid: message.sid,
      SmsStatus: 'undelivered',
      To: smsRecipient,
      From: smsSender,
      MessageSid: message.sid,
      AccountSid: accountSid,
      ErrorCode: '30003',
    });
    expect(receiver.received.every((r) => validSignature(r))).toBe(true);
  });

  it('Messaging Service sends report the pool sender as From and the service sid, per channel', async () => {
    const client = makeClient();

    await client.messages.create({
      messagingServiceSid: serviceSid,
      to: recipient,
      body: 'hi',
      statusCallback: callbackUrl,
    });
    await client.messages.create({
      messagingServiceSid: serviceSid,
      to: smsRecipient,
      body: 'hi',
      statusCallback: callbackUrl,
    });

    const whatsapp = await fake.waitForCallbacks(3, { to: recipient });
    const sms = await fake.waitForCallbacks(3, { to: smsRecipient });
    expect(whatsapp[0]?.params).toMatchObject({
      ChannelPrefix: 'whatsapp',
      From: 'whatsapp:+15005550006',
      MessagingServiceSid: serviceSid,
    });
    expect(sms[0]?.params).toMatchObject({ From: '+15005550006', MessagingServiceSid: serviceSid });
    expect(sms[0]?.params).not.toHaveProperty('ChannelPrefix');
    expect(receiver.received).toHaveLength(6);
    expect(receiver.received.every((r) => validSignature(r))).toBe(true);
  });

  it('badSignature: validateRequest rejects those callbacks and accepts the others', async () => {
    const client = makeClient();
    const other = 'whatsapp:+447700900123';
    fake.scriptOutcome({ to: recipient, badSignature: true });

    await sendWhatsApp(client, recipient);
    await sendWhatsApp(client, other);

    const forged = await fake.waitForCallbacks(3, { to: recipient });
    await fake.waitForCallbacks(3, { to: other });
    expect(forged.every((c) => c.badSignature)).toBe(true);
    const byTo = (to: string) => receiver.received.filter((r) => r.params.To === to);
    expect(byTo(recipient).map((r) => validSignature(r))).toEqual([false, false, false]);
    expect(byTo(other).map((r) => validSignature(r))).toEqual([true, true, true]);
  });

  it('duplicate: posts the last callback twice, identical down to the idempotency token', async () => {
    const client = makeClient();
    fake.scriptOutcome({ outcome: { failed: 63016 }, duplicate: true });

    await sendWhatsApp(client);

    const posted = await fake.waitForCallbacks(3);
    expect(statuses(posted)).toEqual(['queued', 'failed', 'failed']);
    expect(posted.map((c) => c.delivery)).toEqual([1, 1, 2]);
    const [, first, second] = receiver.received;
    expect(second?.params).toEqual(first?.params);
    expect(second?.headers['x-twilio-signature']).toBe(first?.headers['x-twilio-signature']);
    expect(second?.headers['i-twilio-idempotency-token']).toBe(first?.headers['i-twilio-idempotency-token']);
    expect(validSignature(second)).toBe(true);
  });

  it('duplicate can name the status to repeat', async () => {
    const client = makeClient();
    fake.scriptOutcome({ duplicate: 'sent' });

    await sendWhatsApp(client);

    expect(statuses(await fake.waitForCallbacks(4))).toEqual(['queued', 'sent', 'sent', 'delivered']);
  });

  it('records what the receiver answered, and carries on after an error status as Twilio does', async () => {
    const client = makeClient();
    receiver.status = 500;

    await sendWhatsApp(client);

    const posted = await fake.waitForCallbacks(3);
    expect(posted.map((c) => c.responseStatus)).toEqual([500, 500, 500]);
    expect(posted.every((c) => c.error === undefined)).toBe(true);
    expect(receiver.received).toHaveLength(3);
  });

  it('records network errors and invalid URLs instead of throwing', async () => {
    const client = makeClient();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/hooks/twilio`;
    await new Promise((resolve) => closed.close(resolve));
    const other = 'whatsapp:+447700900123';

    await sendWhatsApp(client, recipient, deadUrl);
    await sendWhatsApp(client, other, 'not a url');

    const refused = await fake.waitForCallbacks(3, { to: recipient });
    expect(statuses(refused)).toEqual(['queued', 'sent', 'delivered']);
    for (const callback of refused) {
      expect(callback.responseStatus).toBeUndefined();
      expect(callback.error).toMatch(/ECONNREFUSED/);
    }
    const invalid = await fake.waitForCallbacks(3, { to: other });
    expect(invalid.every((c) => c.error === 'Invalid URL' && c.url === 'not a url')).toBe(true);
  });

  it('sends without a StatusCallback get none, but still use up a script', async () => {
    const client = makeClient();
    fake.scriptOutcome({ to: recipient, outcome: { failed: 63016 }, count: 1 });

    await sendOtp(client);
    await sendWhatsApp(client);

    const posted = await fake.waitForCallbacks(3);
    expect(statuses(posted)).toEqual(['queued', 'sent', 'delivered']);
    expect(posted.every((c) => c.messageSid === fake.sent[1]?.sid)).toBe(true);
  });

  it('reset cancels scheduled callbacks and scripts', async () => {
    const client = makeClient();
    fake.scriptOutcome({ stepDelayMs: 60_000, outcome: { failed: 63016 } });

    await sendWhatsApp(client);
    expect(fake.pendingCallbacks).toBe(2);
    fake.reset();
    expect(fake.pendingCallbacks).toBe(0);

    const next = await sendWhatsApp(client);
    const posted = await fake.waitForCallbacks(3);
    expect(statuses(posted)).toEqual(['queued', 'sent', 'delivered']);
    expect(new Set(receiver.received.map((r) => r.params.MessageSid))).toEqual(new Set([next.sid]));
  });

  it('reset aborts a callback in flight, which is then never recorded', async () => {
    const client = makeClient();
    receiver.hold = true;
    const arrived = receiver.nextRequest();

    await sendWhatsApp(client);
    const held = await arrived;
    expect(fake.pendingCallbacks).toBe(3);
    fake.reset();
    receiver.hold = false;
    // The fake hung up rather than waiting out its 15 s webhook timeout.
    await held.closed;

    const next = await sendWhatsApp(client);
    const posted = await fake.waitForCallbacks(3);
    expect(posted.every((c) => c.messageSid === next.sid)).toBe(true);
    expect(fake.callbacks).toHaveLength(3);
  });

  it('close cancels scheduled callbacks and rejects waits', async () => {
    const own = await startFakeTwilio({ accountSid, authToken, callbackStepDelayMs: 60_000 });
    const client = twilio(accountSid, authToken, { timeout: 5_000 });
    client.api.baseUrl = own.baseUrl;

    await client.messages.create({ from: sender, to: recipient, body: 'x', statusCallback: callbackUrl });
    expect(own.pendingCallbacks).toBe(3);
    const waiting = own.waitForCallbacks(1);
    await own.close();

    expect(own.pendingCallbacks).toBe(0);
    await expect(waiting).rejects.toThrow('waitForCallbacks: fake Twilio was closed');
    expect(own.callbacks).toHaveLength(0);
  });

  it('waitForCallbacks times out listing what was posted', async () => {
    await expect(fake.waitForCallbacks(1, { to: 'whatsapp:+15005550006', timeoutMs: 50 })).rejects.toThrow(
      /^waitForCallbacks: timed out after 50 ms waiting for 1 status callback\(s\) to whatsapp:\+15005550006; 0 matched, 0 posted in total \(0 pending\): none$/,
    );
  });

  it('rejects scripts and options it cannot play', async () => {
    expect(() => fake.scriptOutcome({ count: 0 })).toThrow(RangeError);
    expect(() => fake.scriptOutcome({ outcome: { failed: 0 } })).toThrow(RangeError);
    expect(() => fake.scriptOutcome({ outcome: { undelivered: 30003.5 } })).toThrow(RangeError);
    expect(() => fake.scriptOutcome({ to: '' })).toThrow(RangeError);
    expect(() => fake.scriptOutcome({ stepDelayMs: -1 })).toThrow(RangeError);
    expect(() => fake.scriptOutcome({ outcome: { failed: 63016 }, duplicate: 'delivered' })).toThrow(
      /never reports delivered/,
    );
    await expect(startFakeTwilio({ accountSid, authToken, callbackStepDelayMs: -1 })).rejects.toThrow(
      RangeError,
    );
  });
});
