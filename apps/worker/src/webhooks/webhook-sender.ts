import type { WebhookEvent } from '@otp-relay/db';
import { Webhook } from 'standardwebhooks';

/**
 * One POST of one event to the shop's WEBHOOK_URL, signed as Standard Webhooks says: the body is
 * the payload's JSON; `webhook-id` is the event's id (the same on every attempt, so the receiver
 * can drop repeats), `webhook-timestamp` the sending time in seconds, and `webhook-signature` one
 * `v1,<base64>` per secret, space-separated (a rotation: the receiver accepts any one it knows).
 */

export interface WebhookTarget {
  url: string;
  /** WEBHOOK_SECRET's `whsec_…` values, as signers. */
  signers: Webhook[];
  timeoutMs: number;
}

/** 2xx is delivered; anything else is a failure worth trying again later (`error` names it). */
export type WebhookAttempt = { delivered: true; status: number } | { delivered: false; error: string };

export function webhookTarget(url: string, secrets: string[], timeoutMs: number): WebhookTarget {
  return { url, signers: secrets.map((secret) => new Webhook(secret)), timeoutMs };
}

/** The three headers of one attempt, for `body` sent at `sentAt`. */
export function signedHeaders(
  target: WebhookTarget,
  eventId: string,
  body: string,
  sentAt: Date,
): Record<string, string> {
  return {
    'webhook-id': eventId,
    'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
    'webhook-signature': target.signers.map((signer) => signer.sign(eventId, sentAt, body)).join(' '),
  };
}

/** What a failed request is called in the row and the logs: never the URL or a header. */
function requestError(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return 'timeout';
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === 'string' ? `network_${cause.code}` : 'network_error';
}

export async function postWebhook(
  target: WebhookTarget,
  event: Pick<WebhookEvent, 'id' | 'payload'>,
): Promise<WebhookAttempt> {
  const body = JSON.stringify(event.payload);
  // The real clock, whatever the worker's: the receiver checks the timestamp against its own.
  const headers = signedHeaders(target, event.id, body, new Date());
  let response: Response;
  try {
    response = await fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'otp-relay-webhooks', ...headers },
      body,
      // A redirect is not followed: the event would go to an address nobody configured.
      redirect: 'manual',
      signal: AbortSignal.timeout(target.timeoutMs),
    });
  } catch (error) {
    return { delivered: false, error: requestError(error) };
  }
  // Nothing of the answer is read: the status says it all, and the connection is freed.
  await response.body?.cancel().catch(() => undefined);
  return response.status >= 200 && response.status < 300
    ? { delivered: true, status: response.status }
    : { delivered: false, error: `http_${response.status}` };
}
