/**
 * Gmail, checked without sending anything: (1) the refresh token exchanges for an access token at
 * GOOGLE_OAUTH_TOKEN_URL; (2) `users.messages.send` with a message that has no recipient. Gmail refuses
 * that one with 400 "Recipient address required" only after the project's API switch and the token's
 * scope have been checked, so that 400 is the all-clear; a 403 says which of the two is wrong.
 */
import { gmail } from '@googleapis/gmail';
import type { WorkerConfig } from '@otp-relay/core';
import { OAuth2Client } from 'google-auth-library';
import { consoleUrlIn, describeTokenFailure, googleFailureOf } from '../google-errors.js';
import { type CheckResult, fail, pass } from './check-result.js';

// No To, Cc or Bcc: Gmail cannot deliver it, whatever else happens.
const PROBE = Buffer.from(
  'Subject: otp-relay otp:check probe\r\n\r\nThis message has no recipient; Gmail refuses it.\r\n',
).toString('base64url');

const TOKEN = 'Gmail token';
const API = 'Gmail API';

export async function checkGmail(config: WorkerConfig): Promise<CheckResult[]> {
  const timeout = config.PROVIDER_TIMEOUT_MS;
  const auth = new OAuth2Client({
    clientId: config.EMAIL_CLIENT_ID,
    clientSecret: config.EMAIL_CLIENT_SECRET,
    endpoints: { oauth2TokenUrl: config.GOOGLE_OAUTH_TOKEN_URL },
    // One attempt, as the worker makes: the answer itself is the diagnosis.
    transporterOptions: { retryConfig: { retry: 0 }, timeout },
  });
  auth.setCredentials({ refresh_token: config.EMAIL_REFRESH_TOKEN ?? null });
  try {
    await auth.getAccessToken();
  } catch (error) {
    return [fail(TOKEN, describeTokenFailure(error, config.GOOGLE_OAUTH_TOKEN_URL))];
  }
  const token = pass(TOKEN, 'the refresh token exchanges for an access token');

  const client = gmail({ version: 'v1', auth, rootUrl: config.GMAIL_API_ROOT_URL, retry: false });
  try {
    const sent = await client.users.messages.send({ userId: 'me', requestBody: { raw: PROBE } }, { timeout });
    // Gmail never does this; a proxy in between might.
    return [
      token,
      pass(API, `accepted a probe without recipient (message id ${sent.data.id ?? '?'}); it is in Sent`),
    ];
  } catch (error) {
    return [token, describeProbeAnswer(error, config.GMAIL_API_ROOT_URL)];
  }
}

export function describeProbeAnswer(error: unknown, apiRootUrl: string): CheckResult {
  const { status, reason, message, networkCode } = googleFailureOf(error);
  if (status === 400 && /recipient address required/i.test(message)) {
    return pass(
      API,
      'enabled, and the token may send (a probe without recipient was refused as expected; nothing was sent)',
    );
  }
  if (
    status === 403 &&
    (reason === 'accessNotConfigured' || /has not been used|is disabled/i.test(message))
  ) {
    const url = consoleUrlIn(message);
    return fail(
      API,
      "not enabled for the OAuth client's project: enable the Gmail API in the Cloud console for this project " +
        `(${url ?? 'APIs & Services → Library → Gmail API → Enable'}); it takes a few minutes to apply`,
    );
  }
  if (status === 403 && (reason === 'insufficientPermissions' || /insufficient .*scope/i.test(message))) {
    return fail(
      API,
      'the token lacks the gmail.send scope: redo the consent with `pnpm run setup --gmail-only` and allow sending email',
    );
  }
  if (status === 400 && /mail service not enabled/i.test(message)) {
    return fail(API, 'the account has no Gmail mailbox (Google Workspace: turn Gmail on for this user)');
  }
  if (status === undefined) {
    return fail(API, `could not reach ${apiRootUrl} (${networkCode ?? 'no answer'}): ${message}`);
  }
  if (status === 401) return fail(API, `Gmail refused the access token (HTTP 401): ${message}`);
  if (status === 429 || status >= 500) {
    return fail(
      API,
      `Gmail is limiting or unavailable right now (HTTP ${status}): ${message}; try again later`,
    );
  }
  return fail(
    API,
    `unexpected answer to the probe (HTTP ${status}${reason ? ` ${reason}` : ''}): ${message}`,
  );
}
