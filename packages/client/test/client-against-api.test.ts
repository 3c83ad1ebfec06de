import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeIn, type Stack, shopper, startStack } from '../../../apps/api/test/support/stack.js';
import {
  createOtpRelayClient,
  type OtpRelayClient,
  OtpRelayError,
  type RequestOtpBody,
} from '../src/index.js';

/**
 * The client against the real API (the test stack: Postgres, Redis, a worker, the fake Google),
 * over HTTP with Node's own fetch, as a shop's backend or a browser would call it.
 */

let stack: Stack;
let baseUrl = '';
let client: OtpRelayClient;

beforeAll(async () => {
  stack = await startStack();
  stack.startWorker();
  baseUrl = await stack.app.listen({ host: '127.0.0.1', port: 0 });
  client = createOtpRelayClient({ baseUrl });
});

afterAll(async () => {
  await stack?.close();
});

/** What a call rejected with; fails the test when it resolved. */
async function refusal(call: Promise<unknown>): Promise<OtpRelayError> {
  const outcome = await call.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a refusal, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(OtpRelayError);
  return outcome.error as OtpRelayError;
}

const newShopper = () => shopper() as RequestOtpBody;

describe('the client against the API', () => {
  it('registers: request-otp, status, verify-otp and /me, each answer typed', async () => {
    const body = newShopper();
    const issued = await client.requestOtp(body);
    expect(issued.verification_id).toMatch(/^vf_/);
    expect(issued.resend_after).toBeGreaterThan(0);

    const [email] = await stack.google.waitForEmails(1, { to: body.email });
    const pending = await client.verificationStatus(issued.verification_id);
    expect(pending.verification).toMatchObject({ status: 'pending', channel: 'email' });

    const verified = await client.verifyOtp({
      email: body.email,
      otp: codeIn(email),
      verification_id: issued.verification_id,
    });
    expect(verified.user).toMatchObject({ email: body.email, email_verified: true });
    const { user } = await client.me(verified.token);
    expect(user.id).toBe(verified.user.id);
    expect((await client.verificationStatus(issued.verification_id)).verification.status).toBe('approved');
  });

  it('says which fields a refused request got wrong, with the API’s code and status', async () => {
    const error = await refusal(
      client.requestOtp({ ...newShopper(), email: 'not-an-email', password: 'short' }),
    );
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', status: 400, retryAfter: undefined });
    expect(Object.keys(error.fieldErrors).sort()).toEqual(['email', 'password']);
    // A code and its parameters to translate, beside the English message.
    expect(error.fieldErrors.password).toEqual({
      code: 'too_short',
      params: { min: 8 },
      message: 'must be 8 to 128 characters',
    });
    expect(error.fieldErrors.email).toMatchObject({ code: 'invalid_format', params: { format: 'email' } });
    expect(error.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives the seconds of Retry-After with a 429: a second code inside the cooldown', async () => {
    const body = newShopper();
    await client.requestOtp(body);
    const error = await refusal(client.requestOtp(body));
    expect(error).toMatchObject({ code: 'RESEND_TOO_SOON', status: 429 });
    expect(error.retryAfter).toBeGreaterThan(0);
    expect(error.retryAfter).toBeLessThanOrEqual(stack.config.OTP_RESEND_COOLDOWN_SECONDS);
  });

  it('resends and cancels; a cancelled flow takes no code', async () => {
    const body = newShopper();
    const issued = await client.requestOtp(body);
    const flow = { email: body.email, verification_id: issued.verification_id };
    const resendRefused = await refusal(client.resendOtp({ ...flow, otp_method: 'email' }));
    expect(resendRefused.code).toBe('RESEND_TOO_SOON');

    const cancelled = await client.cancelVerification(issued.verification_id);
    expect(cancelled.verification.status).toBe('canceled');
    // Idempotent: a second cancel answers the same.
    expect((await client.cancelVerification(issued.verification_id)).verification.status).toBe('canceled');
    const [email] = await stack.google.waitForEmails(1, { to: body.email });
    const refused = await refusal(client.verifyOtp({ ...flow, otp: codeIn(email) }));
    expect(refused.status).toBe(400);
  });

  it('answers 404 VERIFICATION_NOT_FOUND for a flow id nobody was given', async () => {
    const error = await refusal(client.verificationStatus('vf_nobody_was_given_this_id'));
    expect(error).toMatchObject({ code: 'VERIFICATION_NOT_FOUND', status: 404 });
  });

  it('refuses /me with a token that is not one of ours', async () => {
    const error = await refusal(client.me('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'));
    expect(error).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
  });

  it('lets a page on an allowed origin read Retry-After and X-Request-Id (CORS)', async () => {
    const other = await stack.anotherApi({ config: { CORS_ORIGINS: 'https://shop.example' } });
    try {
      const response = await other.app.inject({
        method: 'POST',
        url: '/api/accounts/request-otp/',
        headers: { origin: 'https://shop.example', 'content-type': 'application/json' },
        payload: '{}',
      });
      expect(response.headers['access-control-allow-origin']).toBe('https://shop.example');
      expect(String(response.headers['access-control-expose-headers']).split(/,\s*/)).toEqual(
        expect.arrayContaining(['retry-after', 'x-request-id']),
      );
    } finally {
      await other.close();
    }
  });
});

describe('the client when there is no API answer', () => {
  it('rejects with NETWORK_ERROR (status 0) when nothing listens', async () => {
    const nowhere = createOtpRelayClient({ baseUrl: 'http://127.0.0.1:9' });
    const error = await refusal(nowhere.verificationStatus('vf_0123456789abcdef'));
    expect(error).toMatchObject({ code: 'NETWORK_ERROR', status: 0 });
  });

  it("rejects with UNEXPECTED_RESPONSE for something else's answer, keeping its status and Retry-After", async () => {
    const proxy = createOtpRelayClient({
      baseUrl: 'https://otp.shop.example',
      fetch: async () =>
        new Response('<html>Bad gateway</html>', {
          status: 502,
          headers: { 'content-type': 'text/html', 'retry-after': '7' },
        }),
    });
    const error = await refusal(proxy.requestOtp(newShopper()));
    expect(error).toMatchObject({ code: 'UNEXPECTED_RESPONSE', status: 502, retryAfter: 7 });
  });

  it('sends the request a custom fetch receives: the path, JSON body and bearer token', async () => {
    const seen: Request[] = [];
    const spy = createOtpRelayClient({
      baseUrl: 'https://otp.shop.example/',
      fetch: async (request) => {
        seen.push(request.clone());
        return Response.json({ success: false, code: 'UNAUTHORIZED', message: 'no' }, { status: 401 });
      },
    });
    await refusal(spy.me('a-token'));
    expect(seen[0]?.url).toBe('https://otp.shop.example/api/accounts/me');
    expect(seen[0]?.headers.get('authorization')).toBe('Bearer a-token');
    // The token goes with /me only.
    await refusal(spy.verificationStatus('vf_0123456789abcdef'));
    expect(seen[1]?.url).toBe('https://otp.shop.example/api/accounts/verifications/vf_0123456789abcdef');
    expect(seen[1]?.headers.get('authorization')).toBeNull();
  });

  it('rejects with the abort reason, not an OtpRelayError, when the caller aborts', async () => {
    const controller = new AbortController();
    controller.abort(new Error('left the page'));
    const outcome = await client
      .verificationStatus('vf_0123456789abcdef', { signal: controller.signal })
      .catch((error: unknown) => error);
    expect(outcome).not.toBeInstanceOf(OtpRelayError);
  });
});
