// Drives the fake with plain `fetch` and the `standardwebhooks` package's signing, as a sender
// following the specification would.
import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeWebhookReceiver, startFakeWebhookReceiver } from '../src/fake-webhook-receiver.js';

const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;
const current = newSecret();
const previous = newSecret();

let receiver: FakeWebhookReceiver;

beforeAll(async () => {
  receiver = await startFakeWebhookReceiver({ secrets: [current, previous] });
});
afterAll(() => receiver?.close());
beforeEach(() => receiver.reset());

function payload(type = 'user.registered') {
  return JSON.stringify({ type, timestamp: new Date().toISOString(), data: { user_id: randomUUID() } });
}

/** POSTs `body` signed with `secrets` (each a `v1,` signature), as the worker does. */
async function post(body: string, secrets: string[], options: { id?: string; sentAt?: Date } = {}) {
  const id = options.id ?? `msg_${randomUUID()}`;
  const sentAt = options.sentAt ?? new Date();
  const response = await fetch(receiver.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(id, sentAt, body)).join(' '),
    },
    body,
  });
  return { id, status: response.status };
}

describe('fake webhook receiver: verification', () => {
  it('takes a signed event, recording which of its secrets verified', async () => {
    const body = payload();
    const sent = await post(body, [current, previous]);
    expect(sent.status).toBe(204);
    const [event] = await receiver.waitForEvents(1);
    expect(event).toMatchObject({ id: sent.id, type: 'user.registered', body, verifiedBy: [0, 1] });
  });

  it('takes an event signed with one known secret only (one side of a rotation)', async () => {
    expect((await post(payload(), [previous])).status).toBe(204);
    expect(receiver.events[0]?.verifiedBy).toEqual([1]);
  });

  it('refuses with 400 a wrong secret, a changed body, a missing signature and a stale timestamp', async () => {
    expect((await post(payload(), [newSecret()])).status).toBe(400);
    const id = `msg_${randomUUID()}`;
    const sentAt = new Date();
    const signature = new Webhook(current).sign(id, sentAt, payload('a'));
    const tampered = await fetch(receiver.url, {
      method: 'POST',
      headers: {
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body: payload('b'),
    });
    expect(tampered.status).toBe(400);
    expect((await post(payload(), [])).status).toBe(400);
    expect((await post(payload(), [current], { sentAt: new Date(Date.now() - 600_000) })).status).toBe(400);
    expect(receiver.events).toEqual([]);
    expect(receiver.requests.map((request) => request.outcome)).toEqual([
      'rejected',
      'rejected',
      'rejected',
      'rejected',
    ]);
  });
});

describe('fake webhook receiver: one event per webhook-id', () => {
  it('acknowledges a repeat of a webhook-id without recording it again', async () => {
    const body = payload();
    const first = await post(body, [current]);
    const again = await post(body, [current], { id: first.id });
    expect([first.status, again.status]).toEqual([204, 200]);
    expect(receiver.events).toHaveLength(1);
    expect(receiver.requests.map((request) => request.outcome)).toEqual(['accepted', 'duplicate']);
  });
});

describe('fake webhook receiver: scripted failures', () => {
  it('fails the next N verified requests with a status, then takes the event', async () => {
    receiver.failNext(2, { kind: 'status', status: 503 });
    const body = payload();
    const first = await post(body, [current]);
    const second = await post(body, [current], { id: first.id });
    const third = await post(body, [current], { id: first.id });
    expect([first.status, second.status, third.status]).toEqual([503, 503, 204]);
    expect(receiver.events).toHaveLength(1);
  });

  it('drops the connection when told to', async () => {
    receiver.failNext(1, { kind: 'reset' });
    await expect(post(payload(), [current])).rejects.toThrow();
    expect(receiver.requests[0]?.outcome).toBe('reset');
  });

  it('hangs until the sender gives up, recording nothing', async () => {
    receiver.failNext(1, { kind: 'hang' });
    const id = `msg_${randomUUID()}`;
    const sentAt = new Date();
    const body = payload();
    const request = fetch(receiver.url, {
      method: 'POST',
      headers: {
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
        'webhook-signature': new Webhook(current).sign(id, sentAt, body),
      },
      body,
      signal: AbortSignal.timeout(300),
    });
    await expect(request).rejects.toThrow();
    expect(receiver.events).toEqual([]);
    expect(receiver.requests[0]?.outcome).toBe('hung');
  });

  it('holds: takes the event, never answers; the retry is a duplicate', async () => {
    receiver.failNext(1, { kind: 'hold' });
    const body = payload();
    const id = `msg_${randomUUID()}`;
    const controller = new AbortController();
    const sentAt = new Date();
    const held = fetch(receiver.url, {
      method: 'POST',
      headers: {
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
        'webhook-signature': new Webhook(current).sign(id, sentAt, body),
      },
      body,
      signal: controller.signal,
    });
    await receiver.waitForEvents(1);
    controller.abort();
    await expect(held).rejects.toThrow();
    expect((await post(body, [current], { id })).status).toBe(200);
    expect(receiver.events).toHaveLength(1);
    expect(receiver.requests.map((request) => request.outcome)).toEqual(['held', 'duplicate']);
  });
});
