import type { components, operations } from './generated/openapi.js';

/**
 * Names for the shapes the client sends and receives, taken from the generated `operations` (by
 * the document's operationIds; never written twice): when the document changes,
 * `pnpm client:generate` changes these too.
 */

type JsonContent<T> = T extends { content: { 'application/json': infer Body } } ? Body : never;

/** The JSON body an operation takes. */
type RequestBodyOf<Operation> = Operation extends { requestBody?: infer Body } ? JsonContent<Body> : never;

/** The JSON body of an operation's 200 answer. */
type OkBodyOf<Operation> = Operation extends { responses: { 200: infer Ok } } ? JsonContent<Ok> : never;

/** The JSON bodies of every answer of an operation that is not a 2xx. */
type ErrorBodiesOf<Operation> = Operation extends { responses: infer Responses }
  ? {
      [Status in keyof Responses]: Status extends 200 | 201 | 202 | 204 | '2XX'
        ? never
        : JsonContent<Responses[Status]>;
    }[keyof Responses]
  : never;

type RequestOtpOperation = operations['requestOtp'];
type VerifyOtpOperation = operations['verifyOtp'];
type ResendOtpOperation = operations['resendOtp'];
type MeOperation = operations['getMe'];
type StatusOperation = operations['getVerification'];
type CancelOperation = operations['cancelVerification'];

export type RequestOtpBody = RequestBodyOf<RequestOtpOperation>;
export type RequestOtpResponse = OkBodyOf<RequestOtpOperation>;
export type VerifyOtpBody = RequestBodyOf<VerifyOtpOperation>;
export type VerifyOtpResponse = OkBodyOf<VerifyOtpOperation>;
export type ResendOtpBody = RequestBodyOf<ResendOtpOperation>;
export type ResendOtpResponse = OkBodyOf<ResendOtpOperation>;
export type MeResponse = OkBodyOf<MeOperation>;
export type VerificationResponse = OkBodyOf<StatusOperation>;

/** The account as the API shows it (`/me`, verify-otp). */
export type User = MeResponse['user'];
/** A registration flow's status: pending, approved, expired, canceled or max_attempts_reached. */
export type Verification = VerificationResponse['verification'];
/** Where a code goes: email, whatsapp or sms. */
export type OtpMethod = RequestOtpBody['otp_method'];

type ErrorBody = Extract<
  ErrorBodiesOf<
    | RequestOtpOperation
    | VerifyOtpOperation
    | ResendOtpOperation
    | MeOperation
    | StatusOperation
    | CancelOperation
  >,
  { code: unknown }
>;

/** Every error code the document says these operations answer, as a union of string literals. */
export type OtpRelayErrorCode = ErrorBody['code'];

/**
 * What is wrong with one field: a machine `code` with its `params` (`too_short` has
 * `params.min`, `too_long` `params.max`, …), and an English `message`. Translate the code, not
 * the message.
 */
export type FieldError = components['schemas']['FieldError'];
/** The closed list of field error codes. */
export type FieldErrorCode = FieldError['code'];
/** The languages the service's messages ship in: the `locale` request-otp chose. */
export type Locale = RequestOtpResponse['locale'];
