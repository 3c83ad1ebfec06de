import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { parseRetryAfter, type SendResult } from '../delivery/message-sender.js';
import { classifyTwilioError, TwilioHttpError } from './twilio-errors.js';

/** The Twilio account both phone channels send through. */
export interface TwilioAccountOptions {
  accountSid: string;
  authToken: string;
  /** Twilio's own by default; set for proxies and tests. */
  apiBaseUrl: string;
  timeoutMs: number;
  /** Where Twilio posts the message's status reports (PUBLIC_BASE_URL's receipt URL); none when unset. */
  statusCallback?: string | undefined;
}

type TwilioClient = ReturnType<typeof twilio>;
/** What `messages.create` takes: `to`, a sender (`from` or `messagingServiceSid`), the content. */
export type TwilioMessageParams = Parameters<TwilioClient['messages']['create']>[0];

type TwilioResponse<TData> = Awaited<ReturnType<typeof twilio.RequestClient.prototype.request<TData>>>;

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

/** One message through Twilio's Messages API; each failure comes back as a classified DeliveryError. */
export interface TwilioMessaging {
  send(params: TwilioMessageParams): Promise<SendResult>;
}

/**
 * The one path every Twilio message takes (WhatsApp and SMS senders build only the params), so
 * what applies to all of them (the client's settings, error classification) is said once.
 */
export function createTwilioMessaging(options: TwilioAccountOptions): TwilioMessaging {
  const client = twilio(options.accountSid, options.authToken, {
    // Retries are the queue's, with backoff and Retry-After: the client's own stay off.
    autoRetry: false,
    httpClient: new OtpRelayRequestClient(options.apiBaseUrl.replace(/\/+$/, ''), {
      timeout: options.timeoutMs,
    }),
  });
  return {
    async send(params) {
      try {
        const created = await client.messages.create(
          options.statusCallback ? { ...params, statusCallback: options.statusCallback } : params,
        );
        return { provider: 'twilio', providerMessageId: created.sid };
      } catch (error) {
        throw classifyTwilioError(error);
      }
    },
  };
}
