import { DeliveryError } from '../delivery/message-sender.js';

/** An error answer from Twilio, with what RestException drops: the Retry-After header. */
export class TwilioHttpError extends Error {
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
 * Twilio's failures on create, WhatsApp and SMS alike, by what retrying can do about them
 * (twilio.com/docs/api/errors):
 * | what                                                    | retry? |
 * | no answer: network error, timeout                       | yes    |
 * | HTTP 429, 20429, 63018 (channel rate limit)             | yes, after Retry-After |
 * | HTTP 5xx (20500, 20503)                                 | yes    |
 * | 20003 (bad credentials)                                 | no     |
 * | 21211 (invalid To), 21614 (To not a mobile), 21408 (no  | no     |
 * |   permission for the To's region), 21610 (To replied    |        |
 * |   STOP), 21612 (To not reachable from this sender),     |        |
 * |   21606 (From not SMS-capable), 63003 (no WhatsApp      |        |
 * |   account at To), 63007 (unknown WhatsApp From), 63016  |        |
 * |   (template required outside the 24-hour window)        |        |
 * | any other 4xx                                           | no     |
 * 30003–30008 (unreachable handset, carrier violation, unknown or landline destination, spam
 * filter, unknown error) come after acceptance, in status callbacks, never as a create's answer.
 */
const RETRYABLE_TWILIO_CODES = new Set([20429, 63018]);
/**
 * Codes that condemn the number, not the channel: 21211 (invalid), 21614 (not a mobile) on
 * create; 30005 (unknown destination), 30006 (landline) in receipts. After them a code skips the
 * other phone channels of its fallback chain.
 */
export const NUMBER_REFUSED_TWILIO_CODES = new Set(['21211', '21614', '30005', '30006']);

export function classifyTwilioError(error: unknown): DeliveryError {
  if (error instanceof TwilioHttpError) {
    const detail = `twilio: ${error.code ?? 'error'} (HTTP ${error.status}): ${error.message}`;
    const retryable =
      error.status === 429 ||
      error.status >= 500 ||
      (error.code !== undefined && RETRYABLE_TWILIO_CODES.has(error.code));
    return new DeliveryError(detail, {
      retryable,
      numberRefused: NUMBER_REFUSED_TWILIO_CODES.has(String(error.code)),
      ...(retryable && error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
    });
  }
  // No answer at all: connection refused or reset, or the timeout (axios' ECONNABORTED).
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  return new DeliveryError(`twilio: no answer (${code ?? 'error'}): ${message ?? 'unknown error'}`, {
    retryable: true,
  });
}
