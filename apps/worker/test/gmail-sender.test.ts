import { type FakeGoogle, startFakeGoogle } from '@otp-relay/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryError, type MessageSender } from '../src/delivery/message-sender.js';
import { createGmailSender } from '../src/email/gmail-sender.js';

const credentials = { clientId: 'client', clientSecret: 'secret', refreshToken: 'refresh' };
const message = {
  kind: 'otp',
  to: 'ann@example.com',
  code: '123456',
  validForMinutes: 10,
} as const;

let google: FakeGoogle;
let sender: MessageSender;

beforeAll(async () => {
  google = await startFakeGoogle(credentials);
  sender = createGmailSender({
    ...credentials,
    from: 'Shop <no-reply@shop.test>',
    apiRootUrl: google.rootUrl,
    tokenUrl: google.tokenUrl,
    timeoutMs: 2000,
  });
});
afterEach(() => google.reset());
afterAll(() => google.close());

async function failure(): Promise<DeliveryError> {
  const error = await sender.send(message).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof DeliveryError)) throw new Error(`expected a DeliveryError, got ${String(error)}`);
  return error;
}

describe('the Gmail sender', () => {
  it('sends a multipart message through users.messages.send and returns Gmail’s id', async () => {
    const result = await sender.send(message);
    const [sent] = google.sent;
    expect(result).toEqual({ provider: 'gmail', providerMessageId: sent?.id });
    expect(sent).toMatchObject({ from: 'no-reply@shop.test', to: ['ann@example.com'] });
    expect(sent?.subject).toContain('123456');
    expect(sent?.text).toContain('Your verification code is: 123456');
    expect(sent?.html).toContain('123456');
    expect(sent?.raw).toMatch(/multipart\/alternative/);
  });

  it.each([
    ['a 503', { kind: 'status', status: 503 } as const, true],
    ['a 500', { kind: 'status', status: 500 } as const, true],
    ['a 429', { kind: 'status', status: 429, retryAfterSeconds: 3 } as const, true],
    ['a dropped connection', { kind: 'reset' } as const, true],
    ['a 400', { kind: 'status', status: 400 } as const, false],
    ['a 403 (API not enabled)', { kind: 'status', status: 403 } as const, false],
  ])('classifies %s (retryable: %s)', async (_name, sendFailure, retryable) => {
    google.failSends(1, sendFailure);
    const error = await failure();
    expect(error.retryable).toBe(retryable);
    expect(error.message).toMatch(/^gmail: /);
  });

  it('classifies a revoked refresh token as permanent, and says so', async () => {
    const fresh = createGmailSender({
      ...credentials,
      from: 'no-reply@shop.test',
      apiRootUrl: google.rootUrl,
      tokenUrl: google.tokenUrl,
      timeoutMs: 2000,
    });
    google.revokeRefreshToken();
    const error = await fresh.send(message).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).retryable).toBe(false);
    expect((error as DeliveryError).message).toMatch(/invalid_grant/);
  });

  it('gives up on a slow Gmail after the timeout, as a retryable failure', async () => {
    const impatient = createGmailSender({
      ...credentials,
      from: 'no-reply@shop.test',
      apiRootUrl: google.rootUrl,
      tokenUrl: google.tokenUrl,
      timeoutMs: 200,
    });
    google.setLatency(1000);
    const error = await impatient.send(message).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).retryable).toBe(true);
  });
});
