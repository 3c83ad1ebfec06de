import type { FieldProblem } from './field-errors.js';

/**
 * What registration can refuse, as domain errors that know nothing of HTTP.
 * The HTTP layer maps each code to a status in one table (http/error-contract.ts).
 */
export type RegistrationErrorCode =
  | 'VALIDATION_ERROR'
  | 'OTP_INVALID'
  | 'OTP_EXPIRED'
  | 'OTP_ATTEMPTS_EXCEEDED'
  | 'VERIFICATION_ID_REQUIRED'
  | 'VERIFICATION_NOT_FOUND'
  | 'USERNAME_TAKEN'
  | 'RESEND_TOO_SOON'
  | 'RATE_LIMITED'
  | 'CHANNEL_UNAVAILABLE'
  | 'CAPTCHA_REQUIRED'
  | 'CAPTCHA_INVALID'
  | 'SEND_BUDGET_EXHAUSTED'
  | 'SERVICE_BUSY'
  | 'SERVICE_UNAVAILABLE';

export class RegistrationError extends Error {
  constructor(
    readonly code: RegistrationErrorCode,
    message: string,
    /** `field` and `problem` together: what is wrong with which field of the request. */
    readonly details: { field?: string; problem?: FieldProblem; retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'RegistrationError';
  }
}
