import { createLogger, loadWorkerConfig, loggerOptions, SUPPORTED_LOCALES } from '@otp-relay/core';
import { type FakeTwilio, startFakeTwilio } from '@otp-relay/testkit';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleSender } from '../src/delivery/console-sender.js';
import {
  DeliveryError,
  type MessageSender,
  type OtpMessage,
  type OutgoingMessage,
} from '../src/delivery/message-sender.js';
import { createSenders, senderOf, sendersOf } from '../src/delivery/senders.js';
import { shippedMessages } from '../src/messages/load-messages.js';
import { createTwilioSmsSender } from '../src/sms/twilio-sms-sender.js';

const accountSid = `AC${'0'.repeat(32)}`;
const authToken = 'auth-token-0123456789';
const messagingServiceSid = `MG${'ab'.repeat(16)}`;
const smsFrom = '+15005550006';

const otp: OtpMessage = { kind: 'otp', to: '+14155552671', code: '123456', validForMinutes: 10 };
const notice: OutgoingMessage = { kind: 'registration-notice', to: '+14155552671' };

let twilio: FakeTwilio;

beforeAll(async () => {
  twilio = await startFakeTwilio({ accountSid, authToken });
});
afterEach(() => twilio.reset());
afterAll(() => twilio.close());

const account = () => ({ accountSid, authToken, apiBaseUrl: twilio.baseUrl, timeoutMs: 2000 });
const fromNumber = () => createTwilioSmsSender({ ...account(), from: smsFrom });

/** What the send fails with: the sender's DeliveryError. */
async function failureOf(send: Promise<unknown>): Promise<DeliveryError> {
  const error = await send.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof DeliveryError)) throw new Error(`expected a DeliveryError, got ${String(error)}`);
  return error;
}

describe('the Twilio SMS sender', () => {
  it('texts the code to the bare E.164 number from the sender number', async () => {
    const sender = fromNumber();
    expect(sender).toMatchObject({ channel: 'sms', provider: 'twilio' });
    const result = await sender.send(otp);
    const [message] = await twilio.waitForMessages(1, { to: '+14155552671' });
    expect(result).toEqual({ provider: 'twilio', providerMessageId: message?.sid });
    expect(message).toMatchObject({ to: '+14155552671', from: smsFrom });
    expect(message?.body).toBe(
      '123456 is your verification code. It expires in 10 minutes. Never share it with anyone.',
    );
    expect(message?.form).not.toHaveProperty('MessagingServiceSid');
    expect(message?.form).not.toHaveProperty('ContentSid');
  });

  it('sends through the Messaging Service, with no From, when that is the sender', async () => {
    await createTwilioSmsSender({ ...account(), messagingServiceSid }).send(otp);
    const [message] = await twilio.waitForMessages(1, { to: '+14155552671' });
    expect(message?.form).toMatchObject({ MessagingServiceSid: messagingServiceSid });
    expect(message?.form).not.toHaveProperty('From');
  });

  it('texts a registration notice without any code', async () => {
    await fromNumber().send(notice);
    const [message] = await twilio.waitForMessages(1, { to: '+14155552671' });
    expect(message?.body).toMatch(/^Someone tried to create an account with this number/);
    expect(message?.body).not.toMatch(/\d/);
  });

  it.each([
    [21211, 'an invalid To'],
    [21408, 'a region without SMS permission'],
    [21610, 'a recipient who replied STOP'],
    [21612, 'a number this sender cannot reach'],
    [21614, 'a number that is not a mobile'],
  ])('gives up at once on %i (%s)', async (code) => {
    twilio.failSends(1, { kind: 'status', status: 400, code });
    const failure = await failureOf(fromNumber().send(otp));
    expect(failure.retryable).toBe(false);
    expect(failure.message).toMatch(new RegExp(`^twilio: ${code} \\(HTTP 400\\)`));
  });

  it("retries Twilio's rate limit after its Retry-After, a 5xx, and no answer at all", async () => {
    twilio.failSends(1, { kind: 'status', status: 429, retryAfterSeconds: 7 });
    expect(await failureOf(fromNumber().send(otp))).toMatchObject({ retryable: true, retryAfterMs: 7000 });
    twilio.failSends(1, { kind: 'status', status: 503 });
    expect(await failureOf(fromNumber().send(otp))).toMatchObject({ retryable: true });
    twilio.failSends(1, { kind: 'reset' });
    expect(await failureOf(fromNumber().send(otp))).toMatchObject({
      retryable: true,
      message: expect.stringMatching(/^twilio: no answer/),
    });
  });
});

describe('the SMS texts', () => {
  // GSM 03.38's basic set: a text of these alone, 160 at most, is one segment; any other
  // character makes it UCS-2, 70 at most (Arabic, Japanese, Chinese, Polish or Turkish letters).
  const GSM7 = /^[A-Za-z0-9 @£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!"#¤%&'()*+,\-./:;<=>?¡ÄÖÑÜ§¿äöñüà]*$/;
  const segmentLimit = (text: string) => (GSM7.test(text) ? 160 : 70);

  it('fit one segment in every locale, for every code length and lifetime the API allows', async () => {
    const messages = await shippedMessages();
    for (const locale of SUPPORTED_LOCALES) {
      for (let length = 4; length <= 10; length += 1) {
        for (const validForMinutes of [1, 10, 60]) {
          const text = messages.sms({ ...otp, code: '9'.repeat(length), validForMinutes, locale });
          expect(text.length, `${locale}: ${text}`).toBeLessThanOrEqual(segmentLimit(text));
        }
      }
      const noticeText = messages.sms({ ...notice, locale });
      expect(noticeText.length, `${locale}: ${noticeText}`).toBeLessThanOrEqual(segmentLimit(noticeText));
    }
    // English stays GSM-7, and its plural is right.
    expect(messages.sms(otp)).toMatch(GSM7);
    expect(messages.sms({ ...otp, validForMinutes: 1 })).toContain('expires in 1 minute.');
  });

  it('are what the console sender logs for SMS', async () => {
    const messages = await shippedMessages();
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino(loggerOptions('info', 'test'), {
      write: (line: string) => lines.push(JSON.parse(line)),
    });
    const sender = createConsoleSender('sms', logger);
    await sender.send(otp);
    await sender.send(notice);
    expect(lines.map((line) => [line.channel, line.body])).toEqual([
      ['sms', messages.sms(otp)],
      ['sms', messages.sms(notice)],
    ]);
  });
});

describe('createSenders and senderOf', () => {
  const base = {
    NODE_ENV: 'test',
    DATABASE_URL: 'postgres://u:p@localhost:5432/db',
    REDIS_URL: 'redis://localhost:6379',
    OTP_ENCRYPTION_KEY: 'e'.repeat(32),
    EMAIL_PROVIDER: 'console',
  };
  const logger = createLogger('silent', 'test');

  it('wires SMS by SMS_PROVIDER: none while disabled, console, or Twilio with its sender', async () => {
    expect(createSenders(loadWorkerConfig(base), logger).primary.sms).toBeUndefined();
    const printing = createSenders(loadWorkerConfig({ ...base, SMS_PROVIDER: 'console' }), logger).primary
      .sms;
    expect(printing).toMatchObject({ channel: 'sms', provider: 'console' });

    const config = loadWorkerConfig({
      ...base,
      SMS_PROVIDER: 'twilio',
      TWILIO_ACCOUNT_SID: accountSid,
      TWILIO_AUTH_TOKEN: authToken,
      TWILIO_MESSAGING_SERVICE_SID: messagingServiceSid,
      TWILIO_API_BASE_URL: twilio.baseUrl,
    });
    const sms = createSenders(config, logger).primary.sms;
    expect(sms).toMatchObject({ channel: 'sms', provider: 'twilio' });
    await sms?.send(otp);
    const [message] = await twilio.waitForMessages(1, { to: '+14155552671' });
    expect(message?.form).toMatchObject({ MessagingServiceSid: messagingServiceSid });
  });

  it('finds each channel its own sender when one provider serves several', () => {
    const config = loadWorkerConfig({
      ...base,
      WHATSAPP_PROVIDER: 'twilio',
      SMS_PROVIDER: 'twilio',
      TWILIO_ACCOUNT_SID: accountSid,
      TWILIO_AUTH_TOKEN: authToken,
      TWILIO_WHATSAPP_FROM: '+14155238886',
      TWILIO_SMS_FROM: smsFrom,
      TWILIO_API_BASE_URL: twilio.baseUrl,
    });
    const senders = createSenders(config, logger);
    // A retried delivery names the provider its failed attempt recorded: `twilio` for both.
    expect(senderOf(senders, 'sms', 'twilio')?.channel).toBe('sms');
    expect(senderOf(senders, 'whatsapp', 'twilio')?.channel).toBe('whatsapp');
    expect(senderOf(senders, 'sms', null)?.channel).toBe('sms');
    expect(senderOf(senders, 'email', 'console')?.channel).toBe('email');
    // Not configured, or a provider that does not send on this channel: none.
    expect(senderOf(senders, 'email', 'smtp')).toBeUndefined();
    expect(senderOf(senders, 'email', 'twilio')).toBeUndefined();
  });

  it('finds a backup provider (a fallback preset) on its channel', () => {
    const sender = (channel: MessageSender['channel'], provider: string): MessageSender => ({
      channel,
      provider,
      send: () => Promise.reject(new Error('not sent in this test')),
    });
    const smtp = sender('email', 'smtp');
    const senders = sendersOf({ email: sender('email', 'gmail'), sms: sender('sms', 'twilio') }, [smtp]);
    expect(senderOf(senders, 'email', 'smtp')).toBe(smtp);
    expect(senderOf(senders, 'sms', 'smtp')).toBeUndefined();
  });
});
