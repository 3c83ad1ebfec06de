export type {
  FieldError,
  FieldErrorCode,
  Locale,
  MeResponse,
  OtpMethod,
  OtpRelayErrorCode,
  RequestOtpBody,
  RequestOtpResponse,
  ResendOtpBody,
  ResendOtpResponse,
  User,
  Verification,
  VerificationResponse,
  VerifyOtpBody,
  VerifyOtpResponse,
} from './api-types.js';
export {
  type CallOptions,
  createOtpRelayClient,
  type OtpRelayClient,
  type OtpRelayClientOptions,
} from './create-client.js';
export type { components, operations, paths } from './generated/openapi.js';
export {
  type OtpRelayClientErrorCode,
  OtpRelayError,
  type OtpRelayErrorDetails,
  parseRetryAfter,
} from './otp-relay-error.js';
