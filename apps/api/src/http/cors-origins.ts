import type { ApiConfig } from '@otp-relay/core';

/**
 * A page served from this machine over plain http, on any port: `http://localhost:5173`,
 * `http://127.0.0.1:3000`, `http://[::1]:8080`. Anchored at both ends, so `localhost.evil.example`
 * or `localhost:5173.evil.example` do not match.
 */
export const LOCAL_DEV_ORIGIN = /^http:\/\/(?:localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?$/;

/**
 * The origins allowed to call the API from a browser: CORS_ORIGINS, and in development (only) any
 * local frontend as well, so a dev server on its own port works without configuration. Never in
 * production or tests: there the list is exactly what the operator wrote.
 */
export function corsOrigins(config: Pick<ApiConfig, 'CORS_ORIGINS' | 'NODE_ENV'>): Array<string | RegExp> {
  const listed = config.CORS_ORIGINS.split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  return config.NODE_ENV === 'development' ? [...listed, LOCAL_DEV_ORIGIN] : listed;
}
