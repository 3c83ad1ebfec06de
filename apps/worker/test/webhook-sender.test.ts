import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type FakeWebhookReceiver, startFakeWebhookReceiver } from '@otp-relay/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { postWebhook, webhookTarget } from '../src/webhooks/webhook-sender.js';

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;
const [current, previous] = [secret(), secret()];

let receiver: FakeWebhookReceiver;
beforeAll(async () => {
  receiver = await startFakeWebhookReceiver({ secrets: [current, previous] });
});
afterAll(() => receiver?.close());
beforeEach(() => receiver.reset());

const event = () => ({
  id: randomUUID(),
  payload: { type: 'user.registered' as const, timestamp: new Date().toISOString(), data: {} as never },
});

describe('postWebhook', () => {
  it('signs with every secret: a receiver knowing either verifies it', async () => {
    const sent = event();
    expect(await postWebhook(webhookTarget(receiver.url, [current, previous], 2000), sent)).toEqual({
      delivered: true,
      status: 204,
    });
    const [received] = await receiver.waitForEvents(1);
    expect(received).toMatchObject({ id: sent.id, verifiedBy: [0, 1], body: JSON.stringify(sent.payload) });
  });

  it('reports a non-2xx answer, a dropped connection and a timeout, naming no URL', async () => {
    const target = webhookTarget(receiver.url, [current], 300);
    receiver.failNext(1, { kind: 'status', status: 410 });
    receiver.failNext(1, { kind: 'reset' });
    receiver.failNext(1, { kind: 'hang' });
    expect(await postWebhook(target, event())).toEqual({ delivered: false, error: 'http_410' });
    expect(await postWebhook(target, event())).toMatchObject({
      delivered: false,
      error: expect.stringMatching(/^network_/),
    });
    expect(await postWebhook(target, event())).toEqual({ delivered: false, error: 'timeout' });
  });

  it('does not follow a redirect: the event goes nowhere but WEBHOOK_URL', async () => {
    const redirecting = createServer((_request, response) => {
      response.writeHead(307, { location: receiver.url }).end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = redirecting.address() as AddressInfo;
      const target = webhookTarget(`http://127.0.0.1:${port}/hook`, [current], 2000);
      expect(await postWebhook(target, event())).toEqual({ delivered: false, error: 'http_307' });
      expect(receiver.requests).toEqual([]);
    } finally {
      redirecting.close();
    }
  });

  it('is refused by a receiver that knows none of its secrets', async () => {
    const stranger = webhookTarget(receiver.url, [secret()], 2000);
    expect(await postWebhook(stranger, event())).toEqual({ delivered: false, error: 'http_400' });
    expect(receiver.events).toEqual([]);
  });
});
