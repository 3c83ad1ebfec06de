import type { FieldError, OtpRelayErrorCode } from './api-types.js';

/**
 * Failures that happen before there is an answer in the API's error contract: the server could
 * not be reached, or something else answered (a proxy's HTML page, an empty body).
 */
export type OtpRelayClientErrorCode = 'NETWORK_ERROR' | 'UNEXPECTED_RESPONSE';

export interface OtpRelayErrorDetails {
  code: OtpRelayErrorCode | OtpRelayClientErrorCode;
  message: string;
  /** The HTTP status; 0 when no answer came. */
  status: number;
  retryAfter?: number | undefined;
  fieldErrors?: Readonly<Record<string, FieldError>> | undefined;
  requestId?: string | undefined;
  cause?: unknown;
}

/** A call that did not succeed: the API's error answer (`{success:false, code, message, errors?}`), or no answer. */
export class OtpRelayError extends Error {
  /** The API's error code, or NETWORK_ERROR / UNEXPECTED_RESPONSE when its contract was not answered. */
  readonly code: OtpRelayErrorCode | OtpRelayClientErrorCode;
  /** The HTTP status; 0 when no answer came. */
  readonly status: number;
  /** Seconds to wait before trying again, when the answer had a Retry-After header. */
  readonly retryAfter: number | undefined;
  /**
   * What is wrong with each field the API refused (`errors`), by field name: a code with its
   * parameters to translate, and the English message; empty when none.
   */
  readonly fieldErrors: Readonly<Record<string, FieldError>>;
  /** The answer's X-Request-Id, which the service's logs carry: worth quoting to its operators. */
  readonly requestId: string | undefined;

  constructor(details: OtpRelayErrorDetails) {
    super(details.message, details.cause === undefined ? undefined : { cause: details.cause });
    // A literal, not the constructor's name: it survives minification.
    this.name = 'OtpRelayError';
    this.code = details.code;
    this.status = details.status;
    this.retryAfter = details.retryAfter;
    this.fieldErrors = details.fieldErrors ?? {};
    this.requestId = details.requestId;
  }
}

/** Retry-After as whole seconds from now: delta-seconds, or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  // An HTTP date names its day and month ("Sun, 01 Mar 2026 12:00:30 GMT"); Date.parse alone would take "-5".
  if (!/[A-Za-z]/.test(value)) return undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}
