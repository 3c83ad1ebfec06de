import { gmail } from '@googleapis/gmail';
import { OAuth2Client } from 'google-auth-library';
import {
  DeliveryError,
  type MessageSender,
  type OutgoingMessage,
  parseRetryAfter,
  type SendResult,
} from '../delivery/message-sender.js';
import { composeMime } from './compose-mime.js';
import { renderEmail } from './email-templates.js';

export interface GmailSenderOptions {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  from: string;
  /** Google's own by default; set for proxies and tests. */
  apiRootUrl: string;
  tokenUrl: string;
  timeoutMs: number;
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

  return {
    channel: 'email',
    provider: 'gmail',
    async send(message: OutgoingMessage): Promise<SendResult> {
      const raw = (await composeMime(options.from, message.to, renderEmail(message))).toString('base64url');
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
const RETRYABLE_403_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded']);

/**
 * Gmail's failures, by what retrying can do about them (developers.google.com/gmail/api/guides/handle-errors):
 * | what                                          | retry? |
 * | no answer: network error, timeout             | yes    |
 * | 429, 408, 5xx                                 | yes    |
 * | 403 rateLimitExceeded / userRateLimitExceeded | yes    |
 * | token endpoint invalid_grant / invalid_client | no: the refresh token or client is wrong or revoked |
 * | 401, other 403 (API disabled, scope), 400     | no     |
 */
export function classifyGmailError(error: unknown): DeliveryError {
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
  const retryAfterMs = parseRetryAfter(headerOf(failure.response?.headers, 'retry-after'));
  const transient = (what: string) =>
    new DeliveryError(describe(what), {
      retryable: true,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  const permanent = (what: string) => new DeliveryError(describe(what), { retryable: false });

  if (status === undefined) return transient('no answer');
  if (oauthError) return permanent('OAuth token refresh refused');
  if (status === 429 || status === 408 || status >= 500) return transient('temporarily unavailable');
  if (status === 403 && reason && RETRYABLE_403_REASONS.has(reason)) return transient('rate limited');
  return permanent('rejected');
}
