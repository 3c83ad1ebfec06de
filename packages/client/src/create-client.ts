import createClient, { type Client } from 'openapi-fetch';
import type {
  FieldError,
  MeResponse,
  OtpRelayErrorCode,
  RequestOtpBody,
  RequestOtpResponse,
  ResendOtpBody,
  ResendOtpResponse,
  VerificationResponse,
  VerifyOtpBody,
  VerifyOtpResponse,
} from './api-types.js';
import type { paths } from './generated/openapi.js';
import { OtpRelayError, parseRetryAfter } from './otp-relay-error.js';

export interface OtpRelayClientOptions {
  /**
   * Where the API answers, without the `/api/accounts` part: `https://otp.shop.example`. In a
   * page served by the API itself, `window.location.origin`.
   */
  baseUrl: string;
  /** The fetch to call: globalThis.fetch by default; pass one to add headers, retries or tracing. */
  fetch?: (request: Request) => Promise<Response>;
}

export interface CallOptions {
  /** Aborts the call; the promise then rejects with the signal's reason, not an OtpRelayError. */
  signal?: AbortSignal;
}

export interface OtpRelayClient {
  /** Starts a registration and sends a code; answers the flow's `verification_id`. */
  requestOtp(body: RequestOtpBody, options?: CallOptions): Promise<RequestOtpResponse>;
  /** Finishes a registration with the code: the account and its token. */
  verifyOtp(body: VerifyOtpBody, options?: CallOptions): Promise<VerifyOtpResponse>;
  /** Sends a new code for a pending registration; the previous one stops working. */
  resendOtp(body: ResendOtpBody, options?: CallOptions): Promise<ResendOtpResponse>;
  /** A registration's status and where its code is; meant to be polled every few seconds while pending. */
  verificationStatus(verificationId: string, options?: CallOptions): Promise<VerificationResponse>;
  /** Ends a pending registration: its code stops working. Idempotent. */
  cancelVerification(verificationId: string, options?: CallOptions): Promise<VerificationResponse>;
  /** The account a token (from verifyOtp) belongs to. */
  me(token: string, options?: CallOptions): Promise<MeResponse>;
  /** The underlying openapi-fetch client, typed by the same document, for any other operation. */
  readonly raw: Client<paths>;
}

interface Answer<Data> {
  data?: Data;
  error?: unknown;
  response: Response;
}

interface ContractError {
  success: false;
  code: string;
  message: string;
  errors?: Record<string, unknown>;
}

/**
 * The answer's field errors, each a FieldError. A bare message (an answer in the first version's
 * form, e.g. from a proxy that added `X-Error-Format: messages`) becomes `invalid` with it.
 */
function fieldErrorsOf(errors: Record<string, unknown> | undefined): Record<string, FieldError> {
  const fieldErrors: Record<string, FieldError> = {};
  for (const [field, error] of Object.entries(errors ?? {})) {
    if (typeof error === 'string') fieldErrors[field] = { code: 'invalid', params: {}, message: error };
    else if (typeof error === 'object' && error !== null && 'code' in error) {
      // The document lists every code this version of the API answers; a newer server may add one.
      fieldErrors[field] = error as FieldError;
    }
  }
  return fieldErrors;
}

function isContractError(body: unknown): body is ContractError {
  if (typeof body !== 'object' || body === null) return false;
  const { success, code, message, errors } = body as Partial<Record<keyof ContractError, unknown>>;
  return (
    success === false &&
    typeof code === 'string' &&
    typeof message === 'string' &&
    (errors === undefined || (typeof errors === 'object' && errors !== null))
  );
}

/** The error an answer that is not a success stands for. */
function answerError(response: Response, body: unknown): OtpRelayError {
  const common = {
    status: response.status,
    retryAfter: parseRetryAfter(response.headers.get('retry-after')),
    requestId: response.headers.get('x-request-id') ?? undefined,
  };
  if (!isContractError(body)) {
    return new OtpRelayError({
      ...common,
      code: 'UNEXPECTED_RESPONSE',
      message: `Unexpected answer from the server (HTTP ${response.status}).`,
    });
  }
  return new OtpRelayError({
    ...common,
    // The document lists every code this version of the API answers; a newer server may add one.
    code: body.code as OtpRelayErrorCode,
    message: body.message,
    fieldErrors: fieldErrorsOf(body.errors),
  });
}

/** Runs one call: its success body, or an OtpRelayError for anything else. */
async function settle<Data>(call: () => Promise<Answer<Data>>, signal?: AbortSignal): Promise<Data> {
  let answer: Answer<Data>;
  try {
    answer = await call();
  } catch (error) {
    if (signal?.aborted) throw error;
    // fetch failed (no connection, CORS refusal) or a 2xx body was not JSON.
    const isParseError = error instanceof SyntaxError;
    throw new OtpRelayError({
      code: isParseError ? 'UNEXPECTED_RESPONSE' : 'NETWORK_ERROR',
      status: 0,
      message: isParseError
        ? 'Unexpected answer from the server (not JSON).'
        : 'The server could not be reached.',
      cause: error,
    });
  }
  const { data, error, response } = answer;
  const succeeded =
    response.ok && typeof data === 'object' && data !== null && 'success' in data && data.success === true;
  if (!succeeded) throw answerError(response, error ?? data);
  return data as Data;
}

/**
 * A typed client for the otp-relay API: each method resolves with the answer's body or rejects
 * with an OtpRelayError. Runs in browsers and in Node 20+ (global fetch).
 */
export function createOtpRelayClient(options: OtpRelayClientOptions): OtpRelayClient {
  const raw = createClient<paths>({
    baseUrl: options.baseUrl,
    headers: { accept: 'application/json' },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const flow = (verificationId: string) => ({ path: { verification_id: verificationId } });

  return {
    raw,
    requestOtp: (body, { signal } = {}) =>
      settle(() => raw.POST('/api/accounts/request-otp/', { body, signal }), signal),
    verifyOtp: (body, { signal } = {}) =>
      settle(() => raw.POST('/api/accounts/verify-otp/', { body, signal }), signal),
    resendOtp: (body, { signal } = {}) =>
      settle(() => raw.POST('/api/accounts/resend-otp/', { body, signal }), signal),
    verificationStatus: (verificationId, { signal } = {}) =>
      settle(
        () =>
          raw.GET('/api/accounts/verifications/{verification_id}', { params: flow(verificationId), signal }),
        signal,
      ),
    cancelVerification: (verificationId, { signal } = {}) =>
      settle(
        () =>
          raw.POST('/api/accounts/verifications/{verification_id}/cancel', {
            params: flow(verificationId),
            signal,
          }),
        signal,
      ),
    me: (token, { signal } = {}) =>
      settle(
        () => raw.GET('/api/accounts/me', { headers: { authorization: `Bearer ${token}` }, signal }),
        signal,
      ),
  };
}
