import type { OtpRelayClientErrorCode, OtpRelayError, OtpRelayErrorCode } from '@otp-relay/client';

type Code = OtpRelayErrorCode | OtpRelayClientErrorCode;
type Message = string | ((error: OtpRelayError) => string);

function inSeconds(seconds: number | undefined): string {
  return seconds ? `in ${seconds} s` : 'in a moment';
}

const tooMany = (error: OtpRelayError) => `Too many requests — try again ${inSeconds(error.retryAfter)}.`;
const unavailable = (error: OtpRelayError) =>
  `The service is temporarily unavailable. Please try again ${inSeconds(error.retryAfter)}.`;
const unexpected = (error: OtpRelayError) =>
  `Unexpected answer from the server (HTTP ${error.status}). Please try again.`;

/**
 * A sentence for every code the client knows, the API's documented codes and the client's own:
 * when the document gains a code, this table stops type-checking until it has words for it.
 */
const MESSAGES: { [C in Code]: Message } = {
  OTP_INVALID: 'That code is not right. Check it and try again.',
  OTP_EXPIRED: 'That code has expired — send a new one.',
  OTP_ATTEMPTS_EXCEEDED:
    'Too many wrong codes. For your safety this sign-up is locked: choose “Change my details” and send yourself a new code.',
  VERIFICATION_ID_REQUIRED:
    'We could not tell which of your sign-ups this is for. Choose “Change my details” and send yourself a new code.',
  VERIFICATION_NOT_FOUND:
    'This sign-up is no longer known. Choose “Change my details” and send yourself a new code.',
  RESEND_TOO_SOON: tooMany,
  RATE_LIMITED: tooMany,
  USERNAME_TAKEN: 'That username is already taken — try another one.',
  CHANNEL_UNAVAILABLE: 'That way of sending codes is not available on this service — choose email instead.',
  CAPTCHA_REQUIRED: 'Complete the human check first.',
  CAPTCHA_INVALID: 'The human check failed or expired — complete it again.',
  SERVICE_UNAVAILABLE: unavailable,
  SERVICE_BUSY: unavailable,
  SEND_BUDGET_EXHAUSTED: 'We cannot send more codes this way right now. Try another way, or try again later.',
  UNAUTHORIZED: 'Your session is no longer valid. Start over to sign up again.',
  UNSUPPORTED_MEDIA_TYPE: unexpected,
  VALIDATION_ERROR: 'Some details need another look.',
  PAYLOAD_TOO_LARGE: 'That is more text than we can take. Shorten your entries and try again.',
  INTERNAL_ERROR: 'Something went wrong on our side. Please try again.',
  NETWORK_ERROR: 'We could not reach the server. Check your connection and try again.',
  UNEXPECTED_RESPONSE: unexpected,
};

/** A human sentence for any failed call. */
export function errorMessage(error: OtpRelayError): string {
  // A code newer than this page's client: the API's own words.
  const message: Message | undefined = MESSAGES[error.code];
  if (message === undefined) return error.message || unexpected(error);
  return typeof message === 'string' ? message : message(error);
}

/** What the page says when it refuses to send before the human check is done. */
export const CAPTCHA_REQUIRED_MESSAGE = MESSAGES.CAPTCHA_REQUIRED as string;
