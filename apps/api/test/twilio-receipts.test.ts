import { deliveries, deliveryReceipts, registrationFlows } from '@otp-relay/db';
import { eq } from 'drizzle-orm';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, type Stack, shopper, startStack } from './support/stack.js';

/**
 * Twilio's status callbacks, as the route receives them: signed form posts, each applied once, to
 * the delivery Twilio accepted. (The fake Twilio posts them by itself in the end-to-end tests.)
 */

const PUBLIC_BASE_URL = 'https://otp.shop.test/base';
const RECEIPT_URL = `${PUBLIC_BASE_URL}/api/webhooks/twilio/message-status`;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { PUBLIC_BASE_URL } });
  stack.startWorker();
});
afterAll(() => stack.close());

/** A WhatsApp registration whose code Twilio has accepted: its delivery row. */
async function acceptedWhatsAppDelivery(mobile: string) {
  const body = shopper({ otp_method: 'whatsapp', mobile });
  expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
  const [message] = await stack.twilio.waitForMessages(1, { to: `whatsapp:${mobile}` });
  return deliveryOfMessage(body.email, message?.sid ?? '');
}

/** The delivery of a shopper's flow that Twilio accepted as `sid`, once its job has finished. */
async function deliveryOfMessage(email: string, sid: string) {
  const [queued] = await stack.db.db
    .select({ id: deliveries.id })
    .from(deliveries)
    .innerJoin(registrationFlows, eq(registrationFlows.id, deliveries.flowId))
    .where(eq(registrationFlows.email, email));
  if (!queued) throw new Error(`no delivery for ${email}`);
  await stack.settled(queued.id);
  const delivery = await deliveryRow(queued.id);
  expect(delivery?.providerMessageId).toBe(sid);
  return delivery as NonNullable<typeof delivery>;
}

function receipt(
  form: Record<string, string>,
  signature = getExpectedTwilioSignature(stack.twilioCredentials.authToken, RECEIPT_URL, form),
) {
  return stack.app.inject({
    method: 'POST',
    url: '/api/webhooks/twilio/message-status',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    payload: new URLSearchParams(form).toString(),
  });
}

const statusForm = (sid: string, status: string, extra: Record<string, string> = {}) => ({
  MessageSid: sid,
  SmsSid: sid,
  AccountSid: stack.twilioCredentials.accountSid,
  MessageStatus: status,
  SmsStatus: status,
  ApiVersion: '2010-04-01',
  ...extra,
});

async function deliveryRow(id: string) {
  const [row] = await stack.db.db.select().from(deliveries).where(eq(deliveries.id, id));
  return row;
}

describe('Twilio status callbacks', () => {
  it('record the delivery state Twilio reports, and a late report does not undo a later one', async () => {
    const delivery = await acceptedWhatsAppDelivery('+14155550141');
    const sid = delivery.providerMessageId ?? '';
    expect((await receipt(statusForm(sid, 'delivered'))).statusCode).toBe(204);
    expect(await deliveryRow(delivery.id)).toMatchObject({ providerStatus: 'delivered', status: 'sent' });
    // `sent` arriving after `delivered` changes nothing; `read` moves it on.
    expect((await receipt(statusForm(sid, 'sent'))).statusCode).toBe(204);
    expect((await deliveryRow(delivery.id))?.providerStatus).toBe('delivered');
    expect((await receipt(statusForm(sid, 'read'))).statusCode).toBe(204);
    expect((await deliveryRow(delivery.id))?.providerStatus).toBe('read');
  });

  it('refuses a callback with a bad signature with 403, and changes nothing', async () => {
    const delivery = await acceptedWhatsAppDelivery('+14155550142');
    const form = statusForm(delivery.providerMessageId ?? '', 'delivered');
    const forged = await receipt(form, getExpectedTwilioSignature('not-the-auth-token', RECEIPT_URL, form));
    expect(forged.statusCode).toBe(403);
    expect(forged.json()).toMatchObject({ success: false, code: 'SIGNATURE_INVALID' });
    // Signed for another URL, or with a field changed after signing: refused alike.
    const elsewhere = getExpectedTwilioSignature(
      stack.twilioCredentials.authToken,
      'https://evil.test/cb',
      form,
    );
    expect((await receipt(form, elsewhere)).statusCode).toBe(403);
    const signed = getExpectedTwilioSignature(stack.twilioCredentials.authToken, RECEIPT_URL, form);
    expect((await receipt({ ...form, MessageStatus: 'read' }, signed)).statusCode).toBe(403);
    expect((await receipt(form, '')).statusCode).toBe(403);
    expect((await deliveryRow(delivery.id))?.providerStatus).toBeNull();
    expect(
      await stack.db.db
        .select()
        .from(deliveryReceipts)
        .where(eq(deliveryReceipts.providerMessageId, delivery.providerMessageId ?? '')),
    ).toEqual([]);
  });

  it('applies a callback delivered twice once', async () => {
    const delivery = await acceptedWhatsAppDelivery('+14155550143');
    const form = statusForm(delivery.providerMessageId ?? '', 'undelivered', { ErrorCode: '63016' });
    const [first, second] = await Promise.all([receipt(form), receipt(form)]);
    expect([first.statusCode, second.statusCode]).toEqual([204, 204]);
    const receipts = await stack.db.db
      .select()
      .from(deliveryReceipts)
      .where(eq(deliveryReceipts.providerMessageId, delivery.providerMessageId ?? ''));
    expect(receipts).toHaveLength(1);
    expect(await deliveryRow(delivery.id)).toMatchObject({
      providerStatus: 'undelivered',
      providerErrorCode: '63016',
    });
  });

  it('ignores reports for messages it never sent, and states it does not keep', async () => {
    expect((await receipt(statusForm(`SM${'0'.repeat(32)}`, 'delivered'))).statusCode).toBe(204);
    const delivery = await acceptedWhatsAppDelivery('+14155550144');
    expect((await receipt(statusForm(delivery.providerMessageId ?? '', 'queued'))).statusCode).toBe(204);
    expect((await deliveryRow(delivery.id))?.providerStatus).toBeNull();
  });

  it('answers 400 naming the field when a signed form lacks one', async () => {
    const form = { AccountSid: stack.twilioCredentials.accountSid, MessageStatus: 'delivered' };
    const response = await receipt(form);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      code: 'VALIDATION_ERROR',
      errors: { MessageSid: { code: 'required', message: expect.any(String) } },
    });
  });

  it('a 63003 report (no WhatsApp at that number) moves the code to SMS at once; it still proves the phone', async () => {
    const mobile = '+14155550145';
    const body = shopper({ otp_method: 'whatsapp', mobile });
    const opened = await post(stack.app, 'request-otp/', body);
    const [message] = await stack.twilio.waitForMessages(1, { to: `whatsapp:${mobile}` });
    const delivery = await deliveryOfMessage(body.email, message?.sid ?? '');
    const form = statusForm(delivery.providerMessageId ?? '', 'failed', { ErrorCode: '63003' });
    expect((await receipt(form)).statusCode).toBe(204);

    const [text] = await stack.twilio.waitForMessages(1, { to: mobile });
    const code = /(\d{6}) is your verification code/.exec(text?.body ?? '')?.[1];
    expect(code).toBe(/(\d{6}) is your verification code/.exec(message?.body ?? '')?.[1]);
    expect(await deliveryRow(delivery.id)).toMatchObject({
      status: 'dead',
      providerStatus: 'failed',
      providerErrorCode: '63003',
    });
    const verified = await post(stack.app, 'verify-otp/', {
      email: body.email,
      otp: code,
      verification_id: opened.json().verification_id,
    });
    expect(verified.json().user).toMatchObject({ email_verified: false, phone_verified: true });
  });

  it('a report that condemns the number itself (30006, a landline) skips SMS and goes by email', async () => {
    const mobile = '+14155550146';
    const body = shopper({ otp_method: 'whatsapp', mobile });
    expect((await post(stack.app, 'request-otp/', body)).statusCode).toBe(200);
    const [message] = await stack.twilio.waitForMessages(1, { to: `whatsapp:${mobile}` });
    const delivery = await deliveryOfMessage(body.email, message?.sid ?? '');
    const form = statusForm(delivery.providerMessageId ?? '', 'undelivered', { ErrorCode: '30006' });
    expect((await receipt(form)).statusCode).toBe(204);
    const [email] = await stack.google.waitForEmails(1, { to: body.email });
    expect(/code is: (\d{6})/.exec(email?.text ?? '')?.[1]).toBe(
      /(\d{6}) is your verification code/.exec(message?.body ?? '')?.[1],
    );
    expect(stack.twilio.sent.filter((sent) => sent.to === mobile)).toEqual([]);
  });
});
