// Drives the SMTP sink with the real nodemailer SMTP transport, configured from the URL the fake hands out
// (the way the worker's backup transport is), so these tests also pin down nodemailer's error fields.
import type { NodemailerError, SendMailOptions } from 'nodemailer';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeSmtp } from '../src/fake-smtp.js';
import { startFakeSmtp } from '../src/fake-smtp.js';

// Characters that must survive URL encoding in `fake.url`.
const user = 'otp@shop.test';
const password = 'p@ss:w/rd %1';

let fake: FakeSmtp;

beforeAll(async () => {
  fake = await startFakeSmtp({ user, password });
});

afterAll(async () => {
  await fake?.close();
});

beforeEach(() => {
  fake.reset();
});

function mail(overrides: SendMailOptions = {}): SendMailOptions {
  return {
    from: '"Shop" <noreply@shop.test>',
    to: 'Ana <ana@customer.test>',
    subject: 'Your code is 123456',
    text: 'Your verification code is 123456.',
    html: '<p>Your verification code is <b>123456</b>.</p>',
    ...overrides,
  };
}

/** Awaits a rejection and returns nodemailer's error, failing the test if the send succeeded. */
async function smtpError(promise: Promise<unknown>): Promise<NodemailerError> {
  const err: unknown = await promise.then(
    () => {
      throw new Error('expected the send to reject');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as NodemailerError;
}

/** The fake's address with other credentials, for the failure cases. */
function urlWith(credentials: string): string {
  const url = new URL(fake.url);
  return `smtp://${credentials}${url.host}`;
}

describe('fake SMTP: accepting mail', () => {
  it('records a mail sent through createTransport(fake.url)', async () => {
    const transport = nodemailer.createTransport(fake.url);
    const waiting = fake.waitForMails(1, { to: 'ANA@customer.test' });

    const info = await transport.sendMail(mail());

    const [received] = await waiting;
    expect(received).toMatchObject({
      from: 'noreply@shop.test',
      to: ['ana@customer.test'],
      subject: 'Your code is 123456',
      text: 'Your verification code is 123456.',
      html: '<p>Your verification code is <b>123456</b>.</p>',
      envelope: { from: 'noreply@shop.test', to: ['ana@customer.test'] },
    });
    expect(received?.raw).toContain('Content-Type: multipart/alternative');
    expect(received?.raw).toContain(`Message-ID: ${info.messageId}`);
    expect(received?.receivedAt).toBeInstanceOf(Date);
    expect(info.accepted).toEqual(['ana@customer.test']);
    expect(info.response).toMatch(/^250 OK: queued as [0-9a-f]{12}$/);
    expect(fake.attempts).toBe(1);
  });

  it('accepts AUTH LOGIN as well as PLAIN', async () => {
    const { hostname, port } = new URL(fake.url);
    const transport = nodemailer.createTransport({
      host: hostname,
      port: Number(port),
      secure: false,
      auth: { user, pass: password },
      authMethod: 'LOGIN',
    });

    await transport.sendMail(mail());

    expect(fake.received).toHaveLength(1);
  });

  it('lists Bcc recipients in the envelope only, and waitForMails matches them there', async () => {
    const transport = nodemailer.createTransport(fake.url);
    const waiting = fake.waitForMails(1, { to: 'audit@shop.test' });

    await transport.sendMail(mail({ bcc: 'audit@shop.test' }));

    const [received] = await waiting;
    expect(received?.to).toEqual(['ana@customer.test']);
    expect(received?.envelope.to).toEqual(['ana@customer.test', 'audit@shop.test']);
    expect(received?.raw).not.toContain('audit@shop.test');
  });
});

describe('fake SMTP: rejecting', () => {
  it('rejects a wrong password with 535 (EAUTH) before any DATA', async () => {
    const transport = nodemailer.createTransport(urlWith(`${encodeURIComponent(user)}:wrong@`));

    const err = await smtpError(transport.sendMail(mail()));

    expect(err).toMatchObject({ code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN' });
    expect(err.response).toMatch(/^535 /);
    expect(fake.attempts).toBe(0);
    expect(fake.received).toHaveLength(0);
  });

  it('requires authentication (530) from a client without credentials', async () => {
    const transport = nodemailer.createTransport(urlWith(''));

    const err = await smtpError(transport.sendMail(mail()));

    expect(err).toMatchObject({ responseCode: 530, command: 'MAIL FROM' });
    expect(fake.attempts).toBe(0);
  });

  it('failNext(1, 451) fails one DATA transiently, and the next mail goes through', async () => {
    const transport = nodemailer.createTransport(fake.url);
    fake.failNext(1, 451);

    const err = await smtpError(transport.sendMail(mail({ subject: 'first' })));
    expect(err).toMatchObject({ code: 'EMESSAGE', responseCode: 451, permanent: false, command: 'DATA' });
    expect(err.response).toBe('451 Requested action aborted: local error in processing');
    expect(fake.received).toHaveLength(0);

    await transport.sendMail(mail({ subject: 'second' }));
    expect(fake.attempts).toBe(2);
    expect(fake.received.map((m) => m.subject)).toEqual(['second']);
  });

  it('defaults to 451, and 550 is reported as permanent', async () => {
    const transport = nodemailer.createTransport(fake.url);
    fake.failNext(1);
    fake.failNext(1, 550);

    expect(await smtpError(transport.sendMail(mail()))).toMatchObject({
      responseCode: 451,
      permanent: false,
    });
    expect(await smtpError(transport.sendMail(mail()))).toMatchObject({ responseCode: 550, permanent: true });
    await transport.sendMail(mail());
    expect(fake.received).toHaveLength(1);
  });

  it('queues failures: Infinity keeps failing until reset', async () => {
    const transport = nodemailer.createTransport(fake.url);
    fake.failNext(Number.POSITIVE_INFINITY, 452);

    for (let i = 0; i < 3; i++) {
      expect(await smtpError(transport.sendMail(mail()))).toMatchObject({ responseCode: 452 });
    }
    fake.reset();
    await transport.sendMail(mail());
    expect(fake.attempts).toBe(1);
    expect(fake.received).toHaveLength(1);
  });

  it('rejects failures it cannot express', () => {
    expect(() => fake.failNext(0)).toThrow(RangeError);
    expect(() => fake.failNext(1, 250)).toThrow(/4xx or 5xx/);
  });
});

describe('fake SMTP: waitForMails and close', () => {
  it('rejects on timeout and lists what did arrive', async () => {
    const transport = nodemailer.createTransport(fake.url);
    await transport.sendMail(mail({ subject: 'for ana' }));

    await expect(fake.waitForMails(1, { to: 'nobody@customer.test', timeoutMs: 50 })).rejects.toThrow(
      /timed out after 50 ms .* to nobody@customer\.test; 0 matched, 1 received in total \(1 attempt\(s\)\): .*ana@customer\.test.*for ana/,
    );
  });

  it('closes promptly with a pooled client still connected, and rejects pending waits', async () => {
    const own = await startFakeSmtp({ user, password });
    const transport = nodemailer.createTransport({ url: own.url, pool: true });
    await transport.sendMail(mail());
    const pending = expect(own.waitForMails(2)).rejects.toThrow('fake SMTP was closed');

    const started = performance.now();
    await own.close();

    // smtp-server's own close() would wait 30 s for the pooled connection.
    expect(performance.now() - started).toBeLessThan(2_000);
    await pending;
    await expect(own.close()).resolves.toBeUndefined();
    transport.close();
  });
});
