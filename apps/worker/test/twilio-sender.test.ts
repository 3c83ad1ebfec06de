import { type FakeTwilio, startFakeTwilio } from '@otp-relay/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OtpMessage, RegistrationNoticeMessage } from '../src/delivery/message-sender.js';
import { createTwilioWhatsAppSender, templateOf } from '../src/whatsapp/twilio-sender.js';

const accountSid = `AC${'0'.repeat(32)}`;
const authToken = 'auth-token-0123456789';
const otpContentSid = `HX${'ab'.repeat(16)}`;
const noticeContentSid = `HX${'cd'.repeat(16)}`;

const notice: RegistrationNoticeMessage = { kind: 'registration-notice', to: '+14155552671' };
const otp: OtpMessage = {
  kind: 'otp',
  to: '+14155552671',
  code: '123456',
  validForMinutes: 10,
};

let twilio: FakeTwilio;

beforeAll(async () => {
  twilio = await startFakeTwilio({ accountSid, authToken });
});
afterEach(() => twilio.reset());
afterAll(() => twilio.close());

function senderWith(templates: { contentSid?: string; noticeContentSid?: string } = {}) {
  return createTwilioWhatsAppSender({
    accountSid,
    authToken,
    from: '+14155238886',
    apiBaseUrl: twilio.baseUrl,
    timeoutMs: 2000,
    ...templates,
  });
}

describe('the Twilio WhatsApp sender: registration notices', () => {
  it('sends a notice as free-form text when no notice template is set', async () => {
    // The code's template must not carry a notice: it would go out with no code in it.
    const result = await senderWith({ contentSid: otpContentSid }).send(notice);
    const [message] = await twilio.waitForMessages(1, { to: 'whatsapp:+14155552671' });
    expect(result).toEqual({ provider: 'twilio', providerMessageId: message?.sid });
    expect(message?.from).toBe('whatsapp:+14155238886');
    expect(message?.body).toMatch(/^Someone tried to create an account with this number/);
    expect(message?.body).toMatch(/already have one/);
    expect(message?.body).not.toMatch(/\d/);
    expect(message?.contentSid).toBeUndefined();
  });

  it('sends a notice as the notice template, with no variables, when one is set', async () => {
    await senderWith({ contentSid: otpContentSid, noticeContentSid }).send(notice);
    const [message] = await twilio.waitForMessages(1, { to: 'whatsapp:+14155552671' });
    expect(message?.contentSid).toBe(noticeContentSid);
    expect(message?.body).toBeUndefined();
    expect(message?.form).not.toHaveProperty('ContentVariables');
  });

  it('still sends a code as the code template when a notice template is set too', async () => {
    await senderWith({ contentSid: otpContentSid, noticeContentSid }).send(otp);
    const [message] = await twilio.waitForMessages(1, { to: 'whatsapp:+14155552671' });
    expect(message?.contentSid).toBe(otpContentSid);
    expect(message?.contentVariables).toEqual({ 1: '123456' });
  });

  it('still sends a code as free-form text when only a notice template is set', async () => {
    await senderWith({ noticeContentSid }).send(otp);
    const [message] = await twilio.waitForMessages(1, { to: 'whatsapp:+14155552671' });
    expect(message?.body).toMatch(/^123456 is your verification code/);
    expect(message?.contentSid).toBeUndefined();
  });
});

describe("templateOf: the template for the message's kind and language", () => {
  const arabic = `HX${'a1'.repeat(16)}`;
  const arabicNotice = `HX${'a2'.repeat(16)}`;
  const options = {
    contentSid: otpContentSid,
    noticeContentSid,
    contentSids: new Map([['ar', arabic]] as const),
    noticeContentSids: new Map([['ar', arabicNotice]] as const),
  };

  it("takes the locale's own template, else the one for every language, else none (free-form text)", () => {
    expect(templateOf({ ...otp, locale: 'ar' }, options)).toEqual({
      contentSid: arabic,
      contentVariables: JSON.stringify({ 1: '123456' }),
    });
    expect(templateOf({ ...notice, locale: 'ar' }, options)).toEqual({ contentSid: arabicNotice });
    expect(templateOf({ ...otp, locale: 'es' }, options)?.contentSid).toBe(otpContentSid);
    expect(templateOf(notice, options)).toEqual({ contentSid: noticeContentSid });
    expect(templateOf({ ...otp, locale: 'es' }, { contentSids: options.contentSids })).toBeUndefined();
  });

  it('sends a locale without a template as free-form text in its language', async () => {
    await senderWith().send({ ...otp, locale: 'de' });
    const [message] = await twilio.waitForMessages(1);
    expect(message?.body).toMatch(/^123456 ist dein Bestätigungscode/);
  });
});
