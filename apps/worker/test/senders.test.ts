import { createLogger, loadWorkerConfig } from '@otp-relay/core';
import { type FakeTwilio, startFakeTwilio } from '@otp-relay/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSenders } from '../src/delivery/senders.js';

const accountSid = `AC${'0'.repeat(32)}`;
const authToken = 'auth-token-0123456789';
const noticeContentSid = `HX${'cd'.repeat(16)}`;

let twilio: FakeTwilio;

beforeAll(async () => {
  twilio = await startFakeTwilio({ accountSid, authToken });
});
afterAll(() => twilio.close());

describe('createSenders', () => {
  it('gives the Twilio sender TWILIO_WHATSAPP_NOTICE_CONTENT_SID for notices', async () => {
    const config = loadWorkerConfig({
      NODE_ENV: 'test',
      DATABASE_URL: 'postgres://u:p@localhost:5432/db',
      REDIS_URL: 'redis://localhost:6379',
      OTP_ENCRYPTION_KEY: 'e'.repeat(32),
      EMAIL_PROVIDER: 'console',
      WHATSAPP_PROVIDER: 'twilio',
      TWILIO_ACCOUNT_SID: accountSid,
      TWILIO_AUTH_TOKEN: authToken,
      TWILIO_WHATSAPP_FROM: '+14155238886',
      TWILIO_API_BASE_URL: twilio.baseUrl,
      TWILIO_WHATSAPP_NOTICE_CONTENT_SID: noticeContentSid,
    });
    const whatsapp = createSenders(config, createLogger('silent', 'test')).primary.whatsapp;
    expect(whatsapp?.provider).toBe('twilio');
    await whatsapp?.send({ kind: 'registration-notice', to: '+14155552671' });
    const [message] = await twilio.waitForMessages(1, { to: 'whatsapp:+14155552671' });
    expect(message?.contentSid).toBe(noticeContentSid);
  });
});
