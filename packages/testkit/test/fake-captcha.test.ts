// Drives the fake with plain `fetch`, the way the API's human check calls a provider's siteverify.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeCaptcha } from '../src/fake-captcha.js';
import { startFakeCaptcha } from '../src/fake-captcha.js';

const secret = 'captcha-secret-0123456789';
const siteKey = 'captcha-site-key';

let fake: FakeCaptcha;

beforeAll(async () => {
  fake = await startFakeCaptcha({ secret, siteKey, hostname: 'shop.test' });
});

afterAll(async () => {
  await fake?.close();
});

beforeEach(() => {
  fake.reset();
});

async function siteverify(
  url: string,
  fields: Record<string, string>,
  encoding: 'form' | 'json' = 'form',
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': encoding === 'form' ? 'application/x-www-form-urlencoded' : 'application/json',
    },
    body: encoding === 'form' ? new URLSearchParams(fields) : JSON.stringify(fields),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('fake CAPTCHA: answers', () => {
  it('passes an issued answer once, reporting the hostname and when it was solved (Turnstile)', async () => {
    const answer = fake.issueAnswer({ action: 'signup' });
    const fields = { secret, response: answer, remoteip: '203.0.113.9' };

    const first = await siteverify(fake.turnstileVerifyUrl, fields);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      success: true,
      'error-codes': [],
      hostname: 'shop.test',
      action: 'signup',
    });
    expect(Date.parse(String(first.body.challenge_ts))).not.toBeNaN();

    const second = await siteverify(fake.turnstileVerifyUrl, fields);
    expect(second.body).toEqual({ success: false, 'error-codes': ['timeout-or-duplicate'] });
  });

  it('speaks hCaptcha on /siteverify: its duplicate code, no action, and the sitekey check', async () => {
    const answer = fake.issueAnswer();
    const ok = await siteverify(fake.hcaptchaVerifyUrl, { secret, response: answer, sitekey: siteKey });
    expect(ok.body).toMatchObject({ success: true, hostname: 'shop.test' });
    expect(ok.body).not.toHaveProperty('action');

    const again = await siteverify(fake.hcaptchaVerifyUrl, { secret, response: answer });
    expect(again.body['error-codes']).toEqual(['invalid-or-already-seen-response']);

    const mismatch = await siteverify(fake.hcaptchaVerifyUrl, {
      secret,
      response: fake.issueAnswer(),
      sitekey: 'another-site',
    });
    expect(mismatch.body['error-codes']).toEqual(['sitekey-secret-mismatch']);
  });

  it('refuses a missing or wrong secret, and a missing or unknown answer', async () => {
    const url = fake.turnstileVerifyUrl;
    const response = fake.issueAnswer();
    const codes = async (fields: Record<string, string>) =>
      (await siteverify(url, fields)).body['error-codes'];
    expect(await codes({ response })).toEqual(['missing-input-secret']);
    expect(await codes({ secret: 'wrong', response })).toEqual(['invalid-input-secret']);
    expect(await codes({ secret })).toEqual(['missing-input-response']);
    expect(await codes({ secret, response: 'made-up' })).toEqual(['invalid-input-response']);
    // None of those spent the answer.
    expect((await siteverify(url, { secret, response })).body.success).toBe(true);
  });

  it('takes a JSON body as well as a form, and answers 400 bad-request to anything else', async () => {
    const answer = fake.issueAnswer();
    const ok = await siteverify(fake.turnstileVerifyUrl, { secret, response: answer }, 'json');
    expect(ok.body.success).toBe(true);
    expect(fake.calls[0]?.encoding).toBe('json');

    const text = await fetch(fake.turnstileVerifyUrl, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: `secret=${secret}`,
    });
    expect(text.status).toBe(400);
    expect(fake.calls[1]?.encoding).toBe('other');
    expect(await text.json()).toEqual({ success: false, 'error-codes': ['bad-request'] });
  });

  it('answers a custom answer text, and forgets issued answers on reset', async () => {
    const answer = fake.issueAnswer({ answer: 'XXXX.DUMMY.TOKEN' });
    expect(answer).toBe('XXXX.DUMMY.TOKEN');
    fake.reset();
    const after = await siteverify(fake.turnstileVerifyUrl, { secret, response: answer });
    expect(after.body['error-codes']).toEqual(['invalid-input-response']);
  });
});

describe('fake CAPTCHA: calls', () => {
  it('records every call with its fields and what was answered, and waits for them', async () => {
    const waiting = fake.waitForCalls(1, { to: '198.51.100.4' });
    const answer = fake.issueAnswer();
    await siteverify(fake.turnstileVerifyUrl, { secret, response: 'nope', remoteip: '192.0.2.1' });
    await siteverify(fake.turnstileVerifyUrl, { secret, response: answer, remoteip: '198.51.100.4' });

    const [call] = await waiting;
    expect(call).toMatchObject({
      provider: 'turnstile',
      encoding: 'form',
      secret,
      response: answer,
      remoteip: '198.51.100.4',
      status: 200,
      success: true,
      errorCodes: [],
      fields: { secret, response: answer, remoteip: '198.51.100.4' },
    });
    expect(call?.receivedAt).toBeInstanceOf(Date);
    expect(fake.calls.map((c) => c.success)).toEqual([false, true]);
  });

  it('times out a wait with what did arrive', async () => {
    await siteverify(fake.turnstileVerifyUrl, { secret, response: 'nope' });
    await expect(fake.waitForCalls(2, { timeoutMs: 50 })).rejects.toThrow(
      /waitForCalls: timed out after 50 ms waiting for 2 siteverify call\(s\); 1 matched.*invalid-input-response/,
    );
  });
});

describe('fake CAPTCHA: failures and latency', () => {
  it('fails the next calls as told, in order, without spending the answer', async () => {
    fake.failVerifies(1, { kind: 'status', status: 503 });
    fake.failVerifies(1, { kind: 'html' });
    fake.failVerifies(1, { kind: 'error-codes', errorCodes: ['internal-error'] });
    const answer = fake.issueAnswer();
    const post = () =>
      fetch(fake.turnstileVerifyUrl, {
        method: 'POST',
        body: new URLSearchParams({ secret, response: answer }),
      });

    const down = await post();
    expect(down.status).toBe(503);
    expect(down.headers.get('content-type')).toMatch(/^text\/html/);
    const proxy = await post();
    expect(proxy.status).toBe(200);
    await expect(proxy.json()).rejects.toThrow();
    expect(await (await post()).json()).toEqual({ success: false, 'error-codes': ['internal-error'] });
    expect(await (await post()).json()).toMatchObject({ success: true });
    expect(fake.calls.map((c) => c.status)).toEqual([503, 200, 200, 200]);
  });

  it('drops the connection for a reset, and records the call', async () => {
    fake.failVerifies(1, { kind: 'reset' });
    await expect(fetch(fake.turnstileVerifyUrl, { method: 'POST', body: 'secret=x' })).rejects.toThrow();
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]?.status).toBeUndefined();
  });

  it('delays answers, so a client timeout can be tested; the answer is spent all the same', async () => {
    fake.setLatency(300);
    const answer = fake.issueAnswer();
    const body = new URLSearchParams({ secret, response: answer });
    await expect(
      fetch(fake.turnstileVerifyUrl, { method: 'POST', body, signal: AbortSignal.timeout(50) }),
    ).rejects.toThrow(/abort|timeout/i);
    fake.setLatency(0);
    const again = await siteverify(fake.turnstileVerifyUrl, { secret, response: answer });
    expect(again.body['error-codes']).toEqual(['timeout-or-duplicate']);
  });

  it('rejects a failure it could not give', () => {
    expect(() => fake.failVerifies(1, { kind: 'status', status: 200 })).toThrow(RangeError);
    expect(() => fake.failVerifies(0, { kind: 'reset' })).toThrow(RangeError);
  });

  it('answers 404 off the two paths and 405 to other methods', async () => {
    expect((await fetch(`${fake.origin}/recaptcha/api/siteverify`, { method: 'POST' })).status).toBe(404);
    const get = await fetch(fake.hcaptchaVerifyUrl);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });
});
