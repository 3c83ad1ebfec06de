// The test kit's additions these tools rely on, on the wire: fake Google's authorization_code grant
// and fake Twilio's fetch-account endpoint (driven with the real twilio client).
import { type FakeGoogle, type FakeTwilio, startFakeGoogle, startFakeTwilio } from '@otp-relay/testkit';
import twilio from 'twilio';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const credentials = { clientId: 'client', clientSecret: 'secret', refreshToken: '1//refresh' };
const accountSid = `AC${'0123456789abcdef'.repeat(2)}`;
const authToken = 'auth-token';

let google: FakeGoogle;
let fakeTwilio: FakeTwilio;
beforeAll(async () => {
  [google, fakeTwilio] = await Promise.all([
    startFakeGoogle(credentials),
    startFakeTwilio({ accountSid, authToken }),
  ]);
});
beforeEach(() => {
  google.reset();
  fakeTwilio.reset();
});
afterAll(() => Promise.all([google.close(), fakeTwilio.close()]));

function exchange(fields: Record<string, string>) {
  return fetch(google.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
      redirect_uri: 'http://localhost:8000/oauth2callback',
      ...fields,
    }),
  });
}

describe('fake Google: authorization_code grant', () => {
  it('exchanges an issued code once for an access token and the refresh token', async () => {
    const code = google.issueAuthorizationCode();
    const first = await exchange({ code });
    expect(first.status).toBe(200);
    const tokens = (await first.json()) as Record<string, unknown>;
    expect(tokens).toMatchObject({
      refresh_token: credentials.refreshToken,
      expires_in: 3599,
      scope: 'https://www.googleapis.com/auth/gmail.send',
      token_type: 'Bearer',
    });
    // The access token is good for Gmail.
    const raw = Buffer.from('To: ann@example.com\r\nSubject: hi\r\n\r\nhello\r\n').toString('base64url');
    const send = await fetch(`${google.rootUrl}gmail/v1/users/me/messages/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${String(tokens.access_token)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ raw }),
    });
    expect(send.status).toBe(200);

    const again = await exchange({ code });
    expect(again.status).toBe(400);
    expect(await again.json()).toEqual({ error: 'invalid_grant', error_description: 'Malformed auth code.' });
  });

  it('refuses unknown codes, a missing redirect_uri and a wrong client', async () => {
    google.issueAuthorizationCode();
    const unknown = await exchange({ code: '4/0unknown' });
    expect([unknown.status, await unknown.json()]).toEqual([
      400,
      { error: 'invalid_grant', error_description: 'Malformed auth code.' },
    ]);
    const noRedirect = await exchange({ code: google.issueAuthorizationCode(), redirect_uri: '' });
    expect(await noRedirect.json()).toMatchObject({ error: 'invalid_request' });
    const wrongClient = await exchange({ code: google.issueAuthorizationCode(), client_secret: 'nope' });
    expect([wrongClient.status, ((await wrongClient.json()) as { error: string }).error]).toEqual([
      401,
      'invalid_client',
    ]);
  });
});

describe('fake Twilio: fetch account', () => {
  const client = (token = authToken) => {
    const made = twilio(accountSid, token, { autoRetry: false });
    made.api.baseUrl = fakeTwilio.baseUrl;
    return made;
  };

  it('answers the account resource, with the status a test sets', async () => {
    const account = await client().api.v2010.accounts(accountSid).fetch();
    expect(account).toMatchObject({
      sid: accountSid,
      status: 'active',
      type: 'Full',
      friendlyName: 'otp-relay fake account',
    });
    fakeTwilio.setAccountStatus('suspended');
    expect((await client().api.v2010.accounts(accountSid).fetch()).status).toBe('suspended');
    fakeTwilio.reset();
    expect((await client().api.v2010.accounts(accountSid).fetch()).status).toBe('active');
    // Not a send: the Messages counter is untouched.
    expect(fakeTwilio.requests).toBe(0);
  });

  it('answers 401 20003 to a wrong token and 404 20404 for another account', async () => {
    await expect(client('wrong').api.v2010.accounts(accountSid).fetch()).rejects.toMatchObject({
      status: 401,
      code: 20003,
    });
    const other = `AC${'f'.repeat(32)}`;
    await expect(client().api.v2010.accounts(other).fetch()).rejects.toMatchObject({
      status: 404,
      code: 20404,
    });
  });
});
