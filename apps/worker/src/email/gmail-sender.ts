import { gmail } from '@googleapis/gmail';
import { OAuth2Client } from 'google-auth-library';
import {
  DeliveryError,
  type MessageSender,
  type OutgoingMessage,
  parseRetryAfter,
  type SendResult,
} from '../delivery/message-sender.js';
import { ProviderLimitError } from '../delivery/provider-exhaustion.js';
import { shippedMessages } from '../messages/load-messages.js';
import type { MessageRenderer } from '../messages/message-renderer.js';
import { composeMime } from './compose-mime.js';

export interface GmailSenderOptions {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  from: string;
  /** Google's own by default; set for proxies and tests. */
  apiRootUrl: string;
  tokenUrl: string;
  timeoutMs: number;
  /** What it says (loadMessages); the shipped messages, unbranded, by default. */
  messages?: Promise<MessageRenderer>;
}

/**
 * Sends through the Gmail API (`users.messages.send`) with an OAuth2 refresh token; the client
 * refreshes and caches the access token itself. The clients' own retries are off: the queue
 * owns retries, with backoff, so a failure is seen and counted once.
 */
export function createGmailSender(options: GmailSenderOptions): MessageSender {
  const auth = new OAuth2Client({
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    endpoints: { oauth2TokenUrl: options.tokenUrl },
    transporterOptions: { retryConfig: { retry: 0 }, timeout: options.timeoutMs },
  });
  auth.setCredentials({ refresh_token: options.refreshToken });
  const client = gmail({ version: 'v1', auth, rootUrl: options.apiRootUrl, retry: false });
  const messages = options.messages ?? shippedMessages();

  return {
    channel: 'email',
    provider: 'gmail',
    async send(message: OutgoingMessage): Promise<SendResult> {
      const email = (await messages).email(message);
      const raw = (await composeMime(options.from, message.to, email)).toString('base64url');
      try {
        const response = await client.users.messages.send(
          { userId: 'me', requestBody: { raw } },
          { timeout: options.timeoutMs },
        );
        return { provider: 'gmail', providerMessageId: response.data.id ?? '' };
      } catch (error) {
        throw classifyGmailError(error);
      }
    },
  };
}

interface GaxiosLikeError {
  status?: number;
  code?: string | number;
  message?: string;
  response?: { status?: number; data?: unknown; headers?: unknown };
}

/** gaxios hands headers over as a fetch `Headers` on errors and as a plain object elsewhere. */
function headerOf(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  if ('get' in headers && typeof headers.get === 'function') return headers.get(name) ?? undefined;
  const value = (headers as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

// Google's 403 reasons that mean "later", not "never" (quota and rate limits).
const RATE_LIMIT_403_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded']);

/**
 * The account's daily sending limit (2,000 a day on Workspace, 500 on a consumer account, rolling
 * 24 hours): reason dailyLimitExceeded, or Gmail's words for it, with either status; the send
 * pipeline's own answer is a 429 "User-rate limit exceeded … (Mail sending)".
 */
function isDailySendingLimit(reason: string | undefined, detail: string): boolean {
  return (
    reason === 'dailyLimitExceeded' ||
    /daily user sending limit exceeded/i.test(detail) ||
    /\(mail sending\)/i.test(detail)
  );
}

/** Gmail often gives its time to retry in the message only: "… Retry after 2024-05-20T21:03:09.123Z". */
function retryAfterInText(detail: string, now: number): number | undefined {
  const at = /retry after (\d{4}-\d{2}-\d{2}T[\d:.]+Z)/i.exec(detail)?.[1];
  const time = at === undefined ? Number.NaN : Date.parse(at);
  return Number.isNaN(time) ? undefined : Math.max(0, time - now);
}

/**
 * Gmail's failures, by what retrying can do about them (developers.google.com/gmail/api/guides/handle-errors):
 * | what                                          | retry? |
 * | no answer: network error, timeout             | yes    |
 * | 403/429 daily sending limit                   | after the reset: Gmail has run dry (`ProviderLimitError` daily) |
 * | 429, 403 rateLimitExceeded / userRateLimitExceeded / quotaExceeded | yes (`ProviderLimitError` rate) |
 * | 408, 5xx                                      | yes    |
 * | token endpoint invalid_grant / invalid_client | no: the refresh token or client is wrong or revoked |
 * | 401, other 403 (API disabled, scope), 400     | no     |
 * A time to retry comes from Retry-After, else from the message.
 */
export function classifyGmailError(error: unknown, now = Date.now()): DeliveryError {
  const failure = (error ?? {}) as GaxiosLikeError;
  const status = failure.status ?? failure.response?.status;
  const data = failure.response?.data as
    | { error?: string | { status?: string; message?: string; errors?: { reason?: string }[] } }
    | undefined;
  const oauthError = typeof data?.error === 'string' ? data.error : undefined;
  const apiError = typeof data?.error === 'object' ? data.error : undefined;
  const reason = apiError?.errors?.[0]?.reason;
  const detail = oauthError ?? apiError?.message ?? failure.message ?? 'unknown error';
  const describe = (what: string) => `gmail: ${what}${status ? ` (HTTP ${status})` : ''}: ${detail}`;
  const retryAfterMs =
    parseRetryAfter(headerOf(failure.response?.headers, 'retry-after'), now) ?? retryAfterInText(detail, now);
  const transient = (what: string) =>
    new DeliveryError(describe(what), {
      retryable: true,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  const permanent = (what: string) => new DeliveryError(describe(what), { retryable: false });

  if (status === undefined) return transient('no answer');
  if (oauthError) return permanent('OAuth token refresh refused');
  if ((status === 403 || status === 429) && isDailySendingLimit(reason, detail)) {
    return new ProviderLimitError(describe('daily sending limit reached'), 'daily', retryAfterMs);
  }
  if (status === 429 || (status === 403 && reason && RATE_LIMIT_403_REASONS.has(reason))) {
    return new ProviderLimitError(describe('rate limited'), 'rate', retryAfterMs);
  }
  if (status === 408 || status >= 500) return transient('temporarily unavailable');
  return permanent('rejected');
}
