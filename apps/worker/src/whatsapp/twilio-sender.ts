import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import {
  DeliveryError,
  type MessageSender,
  type OutgoingMessage,
  parseRetryAfter,
  type SendResult,
} from '../delivery/message-sender.js';
import { renderWhatsAppBody } from './otp-whatsapp-message.js';

export interface TwilioWhatsAppSenderOptions {
  accountSid: string;
  authToken: string;
  /** The WhatsApp sender, `+14155238886` or `whatsapp:+14155238886`. */
  from: string;
  /** Twilio's own by default; set for proxies and tests. */
  apiBaseUrl: string;
  /** An approved authentication template; without it the message is free-form text (sandbox only). */
  contentSid?: string | undefined;
  /** An approved template without variables for registration notices; without it they are free-form text. */
  noticeContentSid?: string | undefined;
  timeoutMs: number;
}

type TwilioResponse<TData> = Awaited<ReturnType<typeof twilio.RequestClient.prototype.request<TData>>>;

/** An error answer from Twilio, with what RestException drops: the Retry-After header. */
class TwilioHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: number | undefined,
    message: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
    this.name = 'TwilioHttpError';
  }
}

/**
 * Sends every request to the configured base URL, and turns error answers into TwilioHttpError
 * (twilio's RestException forgets the headers, and with them Retry-After).
 */
class OtpRelayRequestClient extends twilio.RequestClient {
  constructor(
    private readonly baseUrl: string,
    options: ConstructorParameters<typeof twilio.RequestClient>[0],
  ) {
    super(options);
  }

  override async request<TData>(
    options: RequestClient.RequestOptions<TData>,
  ): Promise<TwilioResponse<TData>> {
    const { pathname, search } = new URL(options.uri);
    const response = await super.request({ ...options, uri: `${this.baseUrl}${pathname}${search}` });
    if (response.statusCode < 400) return response;
    const body = (typeof response.body === 'string' ? safeJson(response.body) : response.body) as
      | { code?: number; message?: string }
      | undefined;
    const headers = response.headers as Record<string, string | undefined>;
    throw new TwilioHttpError(
      response.statusCode,
      body?.code,
      body?.message ?? `HTTP ${response.statusCode}`,
      parseRetryAfter(headers['retry-after']),
    );
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const withPrefix = (number: string) => (number.startsWith('whatsapp:') ? number : `whatsapp:${number}`);

/** WhatsApp through Twilio's Messages API (`messages.create`, `whatsapp:` addresses). */
export function createTwilioWhatsAppSender(options: TwilioWhatsAppSenderOptions): MessageSender {
  const client = twilio(options.accountSid, options.authToken, {
    // Retries are the queue's, with backoff and Retry-After: the client's own stay off.
    autoRetry: false,
    httpClient: new OtpRelayRequestClient(options.apiBaseUrl.replace(/\/+$/, ''), {
      timeout: options.timeoutMs,
    }),
  });
  const from = withPrefix(options.from);

  return {
    channel: 'whatsapp',
    provider: 'twilio',
    async send(message: OutgoingMessage): Promise<SendResult> {
      const content = contentOf(message, options);
      try {
        const created = await client.messages.create({ from, to: withPrefix(message.to), ...content });
        return { provider: 'twilio', providerMessageId: created.sid };
      } catch (error) {
        throw classifyTwilioError(error);
      }
    },
  };
}

/** What Twilio sends: the approved template configured for the message's kind, else free-form text. */
function contentOf(
  message: OutgoingMessage,
  { contentSid, noticeContentSid }: Pick<TwilioWhatsAppSenderOptions, 'contentSid' | 'noticeContentSid'>,
): { body: string } | { contentSid: string; contentVariables?: string } {
  if (message.kind === 'otp' && contentSid) {
    // Authentication templates take the code as their one variable.
    return { contentSid, contentVariables: JSON.stringify({ 1: message.code }) };
  }
  // The notice says the same to everyone, so its template has no variables.
  if (message.kind === 'registration-notice' && noticeContentSid) return { contentSid: noticeContentSid };
  return { body: renderWhatsAppBody(message) };
}

/**
 * Twilio's failures, by what retrying can do about them (twilio.com/docs/api/errors):
 * | what                                                   | retry? |
 * | no answer: network error, timeout                      | yes    |
 * | HTTP 429, 20429, 63018 (channel rate limit)            | yes, after Retry-After |
 * | HTTP 5xx (20500, 20503)                                | yes    |
 * | 20003 (bad credentials)                                | no     |
 * | 21211, 21614 (invalid or non-mobile To), 21408 (region | no     |
 * |   not enabled), 21610 (unsubscribed), 63003 (no        |        |
 * |   WhatsApp account at To), 63007 (unknown From),       |        |
 * |   63016 (template required outside the 24-hour window) |        |
 * | any other 4xx                                          | no     |
 */
const RETRYABLE_TWILIO_CODES = new Set([20429, 63018]);

export function classifyTwilioError(error: unknown): DeliveryError {
  if (error instanceof TwilioHttpError) {
    const detail = `twilio: ${error.code ?? 'error'} (HTTP ${error.status}): ${error.message}`;
    const retryable =
      error.status === 429 ||
      error.status >= 500 ||
      (error.code !== undefined && RETRYABLE_TWILIO_CODES.has(error.code));
    return new DeliveryError(detail, {
      retryable,
      ...(retryable && error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
    });
  }
  // No answer at all: connection refused or reset, or the timeout (axios' ECONNABORTED).
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  return new DeliveryError(`twilio: no answer (${code ?? 'error'}): ${message ?? 'unknown error'}`, {
    retryable: true,
  });
}
