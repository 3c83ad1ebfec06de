/**
 * What Google's answers mean for an operator. Google's OAuth2 token endpoint answers RFC 6749 errors
 * (`{error, error_description}`); its APIs answer the JSON envelope `{error: {code, message, errors:
 * [{reason}]}}`. gaxios (under google-auth-library and googleapis) puts either in `response.data`.
 */

export const GMAIL_SEND_SCOPE = 'https://www.googleapis.com/auth/gmail.send';

interface GaxiosLikeError {
  message?: string;
  code?: string | number;
  status?: number;
  response?: { status?: number; data?: unknown };
}

export interface GoogleFailure {
  /** HTTP status; `undefined` when nothing answered (refused, timeout, DNS). */
  status: number | undefined;
  /** The OAuth error (`invalid_grant`, `invalid_client`, …) from a token endpoint. */
  oauthError: string | undefined;
  /** The API error's first `reason` (`accessNotConfigured`, `insufficientPermissions`, …). */
  reason: string | undefined;
  /** Google's own words, or the network error. */
  message: string;
  /** The network error code (`ECONNREFUSED`, …) when nothing answered. */
  networkCode: string | undefined;
}

export function googleFailureOf(error: unknown): GoogleFailure {
  const failure = (error ?? {}) as GaxiosLikeError;
  const status = failure.response?.status ?? failure.status;
  const data = failure.response?.data as
    | {
        error?: string | { message?: string; status?: string; errors?: { reason?: string }[] };
        error_description?: string;
      }
    | undefined;
  const oauthError = typeof data?.error === 'string' ? data.error : undefined;
  const apiError = typeof data?.error === 'object' ? data.error : undefined;
  const message =
    (oauthError ? data?.error_description || oauthError : apiError?.message) ??
    failure.message ??
    'unknown error';
  return {
    status,
    oauthError,
    reason: apiError?.errors?.[0]?.reason ?? apiError?.status,
    message,
    networkCode: status === undefined && failure.code !== undefined ? String(failure.code) : undefined,
  };
}

/** The operator's reading of a failed call to the OAuth2 token endpoint at `tokenUrl`. */
export function describeTokenFailure(error: unknown, tokenUrl: string): string {
  const failure = googleFailureOf(error);
  switch (failure.oauthError) {
    case 'invalid_grant':
      return (
        'invalid_grant: the refresh token was revoked or expired: External apps in testing mode expire ' +
        'tokens after 7 days (publish the app or use an Internal Workspace app for a lasting token); ' +
        'run `pnpm run setup --gmail-only` for a new one'
      );
    case 'invalid_client':
      return `invalid_client: client id/secret wrong (EMAIL_CLIENT_ID / EMAIL_CLIENT_SECRET): ${failure.message}`;
    case 'unauthorized_client':
      return (
        'unauthorized_client: the refresh token was issued to another OAuth client than EMAIL_CLIENT_ID; ' +
        'run `pnpm run setup --gmail-only` with this client'
      );
    case undefined:
      break;
    default:
      return `${failure.oauthError}: ${failure.message}`;
  }
  if (failure.status === undefined) {
    return `could not reach the token endpoint ${tokenUrl} (${failure.networkCode ?? 'no answer'}): ${failure.message}`;
  }
  return `the token endpoint ${tokenUrl} answered HTTP ${failure.status}: ${failure.message}`;
}

/** The "enable it here" link Google puts in an accessNotConfigured message, if any. */
export function consoleUrlIn(message: string): string | undefined {
  return /https:\/\/console\.(?:developers|cloud)\.google\.com\/\S+/
    .exec(message)?.[0]
    .replace(/[.,;)]+$/, '');
}
