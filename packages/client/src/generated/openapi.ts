/**
 * Generated from docs/openapi.json by openapi-typescript: run `pnpm client:generate` after the
 * document changes. Do not edit by hand.
 */

export interface paths {
  '/.well-known/jwks.json': components['pathItems']['getJwks'];
  '/.well-known/jwks.json/': components['pathItems']['getJwks'];
  '/api/accounts/me': components['pathItems']['getMe'];
  '/api/accounts/me/': components['pathItems']['getMe'];
  '/api/accounts/request-otp': components['pathItems']['requestOtp'];
  '/api/accounts/request-otp/': components['pathItems']['requestOtp'];
  '/api/accounts/resend-otp': components['pathItems']['resendOtp'];
  '/api/accounts/resend-otp/': components['pathItems']['resendOtp'];
  '/api/accounts/verifications/{verification_id}': components['pathItems']['getVerification'];
  '/api/accounts/verifications/{verification_id}/': components['pathItems']['getVerification'];
  '/api/accounts/verifications/{verification_id}/cancel': components['pathItems']['cancelVerification'];
  '/api/accounts/verifications/{verification_id}/cancel/': components['pathItems']['cancelVerification'];
  '/api/accounts/verify-otp': components['pathItems']['verifyOtp'];
  '/api/accounts/verify-otp/': components['pathItems']['verifyOtp'];
  '/healthz': components['pathItems']['getLiveness'];
  '/healthz/': components['pathItems']['getLiveness'];
  '/readyz': components['pathItems']['getReadiness'];
  '/readyz/': components['pathItems']['getReadiness'];
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    /** @description What is wrong with one field: `code` and its `params` for a frontend to translate, and `message` in English for people. E.g. `{code: 'too_short', params: {min: 8}, message: 'must be 8 to 128 characters'}`. */
    FieldError: {
      /**
       * @description What is wrong with the field, from a closed list: translate it (with `params`).
       * @enum {unknown}
       */
      code:
        | 'required'
        | 'unknown_field'
        | 'invalid_type'
        | 'too_short'
        | 'too_long'
        | 'invalid_format'
        | 'not_allowed'
        | 'too_many_keys'
        | 'too_large'
        | 'taken'
        | 'not_mobile'
        | 'country_not_allowed'
        | 'unavailable'
        | 'not_found'
        | 'rejected'
        | 'invalid';
      /** @description The values the sentence for `code` needs: `too_short` has `min`, `too_long` `max`, … */
      params: {
        /** @description The JSON type the field takes: string, number, object… */
        expected?: string;
        /** @description The fewest characters accepted. */
        min?: number;
        /** @description The most keys accepted. */
        max?: number;
        /**
         * @description What the value must look like.
         * @enum {unknown}
         */
        format?:
          | 'email'
          | 'phone'
          | 'username'
          | 'name'
          | 'verification_id'
          | 'otp'
          | 'locale'
          | 'metadata_key'
          | 'text';
        /** @description The values accepted. */
        allowed?: string[];
        /** @description The most bytes accepted (as JSON, UTF-8). */
        max_bytes?: number;
      };
      /** @description In English, for people; its wording may change. */
      message: string;
    };
  };
  responses: never;
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: {
    cancelVerification: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      get?: never;
      put?: never;
      /**
       * End a pending registration: its code stops working and nothing more is sent
       * @description Idempotent. Answers the status after the call: `canceled`, or what the flow already was (an approved flow stays approved).
       */
      post: operations['cancelVerification'];
      delete?: never;
      options?: never;
      head?: never;
      patch?: never;
      trace?: never;
    };
    getJwks: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      /**
       * The public keys access tokens are signed with (JWK Set)
       * @description ES256 keys, each with the `kid` that names it in a token header: the key signing new tokens first, then keys whose tokens may still be in use. Cacheable for 5 minutes.
       */
      get: operations['getJwks'];
      put?: never;
      post?: never;
      delete?: never;
      options?: never;
      head?: never;
      patch?: never;
      trace?: never;
    };
    getLiveness: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      /** Liveness: the process answers */
      get: operations['getLiveness'];
      put?: never;
      post?: never;
      delete?: never;
      options?: never;
      head?: never;
      patch?: never;
      trace?: never;
    };
    getMe: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      /** The account a token belongs to */
      get: operations['getMe'];
      put?: never;
      post?: never;
      delete?: never;
      options?: never;
      head?: never;
      patch?: never;
      trace?: never;
    };
    getReadiness: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      /** Readiness: Postgres and Redis answer, and a worker consumes the delivery queue */
      get: operations['getReadiness'];
      put?: never;
      post?: never;
      delete?: never;
      options?: never;
      head?: never;
      patch?: never;
      trace?: never;
    };
    getVerification: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      /**
       * A registration's status: pending, approved, expired, canceled or max_attempts_reached
       * @description Also where the current code went (channel, delivery, fell_back) and when a resend is allowed. Poll it every few seconds while pending.
       */
      get: operations['getVerification'];
      put?: never;
      post?: never;
      delete?: never;
      options?: never;
      head?: never;
      patch?: never;
      trace?: never;
    };
    requestOtp: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      get?: never;
      put?: never;
      /** Start a registration: send a one-time code */
      post: operations['requestOtp'];
      delete?: never;
      options?: never;
      head?: never;
      patch?: never;
      trace?: never;
    };
    resendOtp: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      get?: never;
      put?: never;
      /** Send a new code; the previous one stops working */
      post: operations['resendOtp'];
      delete?: never;
      options?: never;
      head?: never;
      patch?: never;
      trace?: never;
    };
    verifyOtp: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      get?: never;
      put?: never;
      /** Finish a registration with the code: creates the account and returns a token */
      post: operations['verifyOtp'];
      delete?: never;
      options?: never;
      head?: never;
      patch?: never;
      trace?: never;
    };
  };
}
export type $defs = Record<string, never>;
export interface operations {
  cancelVerification: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /**
         * @description The registration flow, as request-otp returned it.
         * @example vf_3q2-7wEVl9xJc0dZK1mXb5aR
         */
        verification_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The registration flow's status. */
      200: {
        headers: {
          /** @description Requests this client IP may make in the window. */
          'x-ratelimit-limit'?: number;
          /** @description Requests it has left in the window. */
          'x-ratelimit-remaining'?: number;
          /** @description Seconds until the window starts again. */
          'x-ratelimit-reset'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: true;
            verification: {
              /**
               * @description The registration flow this call is about, as request-otp returned it. Always send it: without it a call works only while the address has exactly one open registration.
               * @example vf_3q2-7wEVl9xJc0dZK1mXb5aR
               */
              verification_id: string;
              /** @description `pending`: the code works. `approved`: the code verified the flow and the account exists. `expired`: the code ran out (a resend gives a new one). `canceled`: canceled, or another registration proved this contact first. `max_attempts_reached`: too many wrong codes; start again. */
              status: 'pending' | 'approved' | 'expired' | 'canceled' | 'max_attempts_reached';
              /** @description The channel that carries the current code: the one asked for, or the one it fell back to. */
              channel: 'email' | 'whatsapp' | 'sms';
              /** @description The current code's message, while the flow is pending; null once it is not. */
              delivery: {
                /** @description `queued`, `sending` (retries included): not yet accepted by the provider. `sent`: accepted. Then the provider's reports where it sends them (WhatsApp, SMS): `delivered` to the handset, `read`, or `failed` / `undelivered`. `failed` also means the service gave up on it. */
                status: 'queued' | 'sending' | 'sent' | 'delivered' | 'read' | 'failed' | 'undelivered';
                /** @description The provider's error code with `failed` or `undelivered`, e.g. Twilio's 63016. */
                error_code: string | null;
              } | null;
              /** @description The current code went out as the fallback of a message that failed (WhatsApp → email, or the backup mail transport). */
              fell_back: boolean;
              /** @description Seconds the code still works; 0 unless pending. */
              expires_in: number;
              /** @description Seconds until resend-otp on the channel the code was asked for is allowed (0: now); null when a resend can send nothing (approved, canceled, max_attempts_reached). */
              resend_after: number | null;
              /** @description Wrong codes that may still be tried with this id. */
              attempts_left: number;
              /**
               * @description The flow's language (BCP 47): the supported locale chosen for the shopper.
               * @enum {string}
               */
              locale: 'en' | 'es' | 'pt-BR' | 'fr' | 'de' | 'it' | 'nl' | 'pl' | 'tr' | 'ar' | 'ja' | 'zh-CN';
            };
          };
        };
      };
      /** @description The request is invalid, or its code is not accepted. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'VALIDATION_ERROR';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description Nothing has this id. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'VERIFICATION_NOT_FOUND';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description The body is over 16 KiB. */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'PAYLOAD_TOO_LARGE';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description The body is not JSON. */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'UNSUPPORTED_MEDIA_TYPE';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description Too many requests: wait Retry-After seconds. */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'RATE_LIMITED';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description A failure on our side; it carries no details. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'INTERNAL_ERROR';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description Unavailable for now: try again after Retry-After seconds. */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'SERVICE_UNAVAILABLE';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
    };
  };
  getJwks: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A JWK Set: the key signing new tokens first, then keys whose tokens may still be in use. */
      200: {
        headers: {
          /** @description public, max-age=300: verifiers may keep it 5 minutes. */
          'cache-control'?: string;
          [name: string]: unknown;
        };
        content: {
          /**
           * @example {
           *       "keys": [
           *         {
           *           "kty": "EC",
           *           "crv": "P-256",
           *           "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
           *           "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
           *           "kid": "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U",
           *           "alg": "ES256",
           *           "use": "sig"
           *         }
           *       ]
           *     }
           */
          'application/json': {
            keys: {
              /** @enum {string} */
              kty: 'EC';
              /** @enum {string} */
              crv: 'P-256';
              /** @description The public point, base64url. */
              x: string;
              /** @description The public point, base64url. */
              y: string;
              /** @description The key's id: the `kid` header of the tokens it signs. */
              kid: string;
              /** @enum {string} */
              alg: 'ES256';
              /** @enum {string} */
              use: 'sig';
            }[];
          };
        };
      };
      /** @description A failure on our side; it carries no details. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'INTERNAL_ERROR';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
    };
  };
  getLiveness: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The process is up. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {string} */
            status: 'ok';
          };
        };
      };
    };
  };
  getMe: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The token's account. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: true;
            user: {
              /** Format: uuid */
              id: string;
              /** @description As typed. Trust it only when email_verified; null once another account proved it. */
              email: string | null;
              /** @description E.164. Trust it only when phone_verified. */
              mobile: string | null;
              /** @description Null for an account registered without one (USERNAME_REQUIRED=false). */
              username: string | null;
              first_name: string;
              last_name: string;
              /** @description Some contact of the account was proven by a code. */
              is_verified: boolean;
              /** @description A code sent to the email proved it. */
              email_verified: boolean;
              /** @description A code sent to the phone (WhatsApp or SMS) proved it. */
              phone_verified: boolean;
              /** @description What request-otp was given as `metadata`; {} when nothing. */
              metadata: {
                [key: string]: string | number | boolean | null;
              };
            };
          };
        };
      };
      /** @description No valid bearer token. */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'UNAUTHORIZED';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description A failure on our side; it carries no details. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'INTERNAL_ERROR';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description Unavailable for now: try again after Retry-After seconds. */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'SERVICE_UNAVAILABLE';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
    };
  };
  getReadiness: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Postgres and Redis answer and a worker consumes the delivery queue; `degraded` when no worker does and READINESS_REQUIRES_WORKER is false (checks.worker says so). */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            status: 'ok' | 'degraded' | 'unavailable';
            checks: {
              [key: string]: 'ok' | 'unavailable';
            };
          };
        };
      };
      /** @description Postgres or Redis does not answer, or no worker consumes the delivery queue (see checks). */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            status: 'ok' | 'degraded' | 'unavailable';
            checks: {
              [key: string]: 'ok' | 'unavailable';
            };
          };
        };
      };
    };
  };
  getVerification: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /**
         * @description The registration flow, as request-otp returned it.
         * @example vf_3q2-7wEVl9xJc0dZK1mXb5aR
         */
        verification_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The registration flow's status. */
      200: {
        headers: {
          /** @description Requests this client IP may make in the window. */
          'x-ratelimit-limit'?: number;
          /** @description Requests it has left in the window. */
          'x-ratelimit-remaining'?: number;
          /** @description Seconds until the window starts again. */
          'x-ratelimit-reset'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: true;
            verification: {
              /**
               * @description The registration flow this call is about, as request-otp returned it. Always send it: without it a call works only while the address has exactly one open registration.
               * @example vf_3q2-7wEVl9xJc0dZK1mXb5aR
               */
              verification_id: string;
              /** @description `pending`: the code works. `approved`: the code verified the flow and the account exists. `expired`: the code ran out (a resend gives a new one). `canceled`: canceled, or another registration proved this contact first. `max_attempts_reached`: too many wrong codes; start again. */
              status: 'pending' | 'approved' | 'expired' | 'canceled' | 'max_attempts_reached';
              /** @description The channel that carries the current code: the one asked for, or the one it fell back to. */
              channel: 'email' | 'whatsapp' | 'sms';
              /** @description The current code's message, while the flow is pending; null once it is not. */
              delivery: {
                /** @description `queued`, `sending` (retries included): not yet accepted by the provider. `sent`: accepted. Then the provider's reports where it sends them (WhatsApp, SMS): `delivered` to the handset, `read`, or `failed` / `undelivered`. `failed` also means the service gave up on it. */
                status: 'queued' | 'sending' | 'sent' | 'delivered' | 'read' | 'failed' | 'undelivered';
                /** @description The provider's error code with `failed` or `undelivered`, e.g. Twilio's 63016. */
                error_code: string | null;
              } | null;
              /** @description The current code went out as the fallback of a message that failed (WhatsApp → email, or the backup mail transport). */
              fell_back: boolean;
              /** @description Seconds the code still works; 0 unless pending. */
              expires_in: number;
              /** @description Seconds until resend-otp on the channel the code was asked for is allowed (0: now); null when a resend can send nothing (approved, canceled, max_attempts_reached). */
              resend_after: number | null;
              /** @description Wrong codes that may still be tried with this id. */
              attempts_left: number;
              /**
               * @description The flow's language (BCP 47): the supported locale chosen for the shopper.
               * @enum {string}
               */
              locale: 'en' | 'es' | 'pt-BR' | 'fr' | 'de' | 'it' | 'nl' | 'pl' | 'tr' | 'ar' | 'ja' | 'zh-CN';
            };
          };
        };
      };
      /** @description The request is invalid, or its code is not accepted. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'VALIDATION_ERROR';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description Nothing has this id. */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'VERIFICATION_NOT_FOUND';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description Too many requests: wait Retry-After seconds. */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'RATE_LIMITED';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description A failure on our side; it carries no details. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'INTERNAL_ERROR';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description Unavailable for now: try again after Retry-After seconds. */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'SERVICE_UNAVAILABLE';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
    };
  };
  requestOtp: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          /**
           * Format: email
           * @example ann@example.com
           */
          email: string;
          /** @description Where the code goes: the email, or the mobile number by WhatsApp or by SMS (text message). A channel the service has not enabled is refused with 400 CHANNEL_UNAVAILABLE. */
          otp_method: 'email' | 'whatsapp' | 'sms';
          /**
           * @description Needed for whatsapp and sms: a mobile number with its country code, in any common notation; stored as E.164.
           * @example +44 7400 123456
           */
          mobile?: string;
          /**
           * @description Unique, whatever its case. Required unless the service runs with USERNAME_REQUIRED=false (then 400 VALIDATION_ERROR naming `username` when missing).
           * @example ann_k
           */
          username?: string;
          first_name: string;
          last_name: string;
          /** @description Stored only as an argon2id hash. */
          password: string;
          /** @description The CAPTCHA widget's answer (Cloudflare Turnstile or hCaptcha). Required when the service has CAPTCHA_PROVIDER set; ignored otherwise. */
          captcha_token?: string;
          /**
           * @description Optional, kept on the account and returned in its user object and events: at most 16 keys of 1 to 40 letters, digits, `_`, `.` or `-`; each value a string of at most 500 characters, a number, true, false or null; at most 2 KB as JSON.
           * @example {
           *       "customer_ref": "C-1042",
           *       "newsletter": true
           *     }
           */
          metadata?: {
            [key: string]: string | number | boolean | null;
          };
          /**
           * @description The shopper's language for the code's messages, as a BCP 47 tag (`es`, `pt-BR`, `ar`). A malformed tag is refused (400 naming `locale`); a well-formed one the service has no messages for gets the closest it has, else English. When absent: the `Accept-Language` header, then (WhatsApp and SMS) the number's country, then English. Kept on the flow: resends and fallbacks use it.
           * @example es
           * @example pt-BR
           * @example ar
           */
          locale?: string;
        };
      };
    };
    responses: {
      /** @description The flow is open and its code on its way; keep verification_id for the next calls. */
      200: {
        headers: {
          /** @description Requests this client IP may make in the window. */
          'x-ratelimit-limit'?: number;
          /** @description Requests it has left in the window. */
          'x-ratelimit-remaining'?: number;
          /** @description Seconds until the window starts again. */
          'x-ratelimit-reset'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: true;
            message: string;
            /** @description Seconds the code stays valid. */
            expires_in: number;
            /** @description Seconds before another code may be requested. */
            resend_after: number;
            /** @description Only in development with OTP_DEBUG_RESPONSE=true: the code itself. */
            debug_otp?: string;
            /**
             * @description The registration flow this call is about, as request-otp returned it. Always send it: without it a call works only while the address has exactly one open registration.
             * @example vf_3q2-7wEVl9xJc0dZK1mXb5aR
             */
            verification_id: string;
            /**
             * @description The flow's language (BCP 47): the supported locale chosen for the shopper.
             * @enum {string}
             */
            locale: 'en' | 'es' | 'pt-BR' | 'fr' | 'de' | 'it' | 'nl' | 'pl' | 'tr' | 'ar' | 'ja' | 'zh-CN';
          };
        };
      };
      /** @description The request is invalid, or its code is not accepted. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'VALIDATION_ERROR' | 'CHANNEL_UNAVAILABLE' | 'CAPTCHA_REQUIRED' | 'CAPTCHA_INVALID';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description A conflict with an existing account. */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'USERNAME_TAKEN';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description The body is over 16 KiB. */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'PAYLOAD_TOO_LARGE';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description The body is not JSON. */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'UNSUPPORTED_MEDIA_TYPE';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description Too many requests: wait Retry-After seconds. */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'RESEND_TOO_SOON' | 'RATE_LIMITED';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description A failure on our side; it carries no details. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'INTERNAL_ERROR';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description Unavailable for now: try again after Retry-After seconds. */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'SEND_BUDGET_EXHAUSTED' | 'SERVICE_BUSY' | 'SERVICE_UNAVAILABLE';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
    };
  };
  resendOtp: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          /**
           * Format: email
           * @example ann@example.com
           */
          email: string;
          /** @description Where the code goes: the email, or the mobile number by WhatsApp or by SMS (text message). A channel the service has not enabled is refused with 400 CHANNEL_UNAVAILABLE. */
          otp_method: 'email' | 'whatsapp' | 'sms';
          /**
           * @description The registration flow this call is about, as request-otp returned it. Always send it: without it a call works only while the address has exactly one open registration.
           * @example vf_3q2-7wEVl9xJc0dZK1mXb5aR
           */
          verification_id?: string;
          /** @description The CAPTCHA widget's answer (Cloudflare Turnstile or hCaptcha). Required when the service has CAPTCHA_PROVIDER set; ignored otherwise. */
          captcha_token?: string;
        };
      };
    };
    responses: {
      /** @description A new code is on its way (or, when there was nothing to send, the same answer). */
      200: {
        headers: {
          /** @description Requests this client IP may make in the window. */
          'x-ratelimit-limit'?: number;
          /** @description Requests it has left in the window. */
          'x-ratelimit-remaining'?: number;
          /** @description Seconds until the window starts again. */
          'x-ratelimit-reset'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: true;
            message: string;
            /** @description Seconds the code stays valid. */
            expires_in: number;
            /** @description Seconds before another code may be requested. */
            resend_after: number;
            /** @description Only in development with OTP_DEBUG_RESPONSE=true: the code itself. */
            debug_otp?: string;
          };
        };
      };
      /** @description The request is invalid, or its code is not accepted. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code:
              | 'VALIDATION_ERROR'
              | 'CHANNEL_UNAVAILABLE'
              | 'CAPTCHA_REQUIRED'
              | 'CAPTCHA_INVALID'
              | 'VERIFICATION_ID_REQUIRED'
              | 'OTP_ATTEMPTS_EXCEEDED';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description The body is over 16 KiB. */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'PAYLOAD_TOO_LARGE';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description The body is not JSON. */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'UNSUPPORTED_MEDIA_TYPE';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description Too many requests: wait Retry-After seconds. */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'RESEND_TOO_SOON' | 'RATE_LIMITED';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description A failure on our side; it carries no details. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'INTERNAL_ERROR';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description Unavailable for now: try again after Retry-After seconds. */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'SEND_BUDGET_EXHAUSTED' | 'SERVICE_UNAVAILABLE';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
    };
  };
  verifyOtp: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          /**
           * Format: email
           * @example ann@example.com
           */
          email: string;
          /**
           * @description The code as received.
           * @example 123456
           */
          otp: string;
          /**
           * @description The registration flow this call is about, as request-otp returned it. Always send it: without it a call works only while the address has exactly one open registration.
           * @example vf_3q2-7wEVl9xJc0dZK1mXb5aR
           */
          verification_id?: string;
        };
      };
    };
    responses: {
      /** @description The code was right: the account exists, and here is its token. */
      200: {
        headers: {
          /** @description Requests this client IP may make in the window. */
          'x-ratelimit-limit'?: number;
          /** @description Requests it has left in the window. */
          'x-ratelimit-remaining'?: number;
          /** @description Seconds until the window starts again. */
          'x-ratelimit-reset'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: true;
            message: string;
            user: {
              /** Format: uuid */
              id: string;
              /** @description As typed. Trust it only when email_verified; null once another account proved it. */
              email: string | null;
              /** @description E.164. Trust it only when phone_verified. */
              mobile: string | null;
              /** @description Null for an account registered without one (USERNAME_REQUIRED=false). */
              username: string | null;
              first_name: string;
              last_name: string;
              /** @description Some contact of the account was proven by a code. */
              is_verified: boolean;
              /** @description A code sent to the email proved it. */
              email_verified: boolean;
              /** @description A code sent to the phone (WhatsApp or SMS) proved it. */
              phone_verified: boolean;
              /** @description What request-otp was given as `metadata`; {} when nothing. */
              metadata: {
                [key: string]: string | number | boolean | null;
              };
            };
            /** @description A JWT for `Authorization: Bearer`. */
            token: string;
          };
        };
      };
      /** @description The request is invalid, or its code is not accepted. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code:
              | 'VALIDATION_ERROR'
              | 'OTP_INVALID'
              | 'OTP_EXPIRED'
              | 'OTP_ATTEMPTS_EXCEEDED'
              | 'VERIFICATION_ID_REQUIRED';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description A conflict with an existing account. */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'USERNAME_TAKEN';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description The body is over 16 KiB. */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'PAYLOAD_TOO_LARGE';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description The body is not JSON. */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'UNSUPPORTED_MEDIA_TYPE';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description Too many requests: wait Retry-After seconds. */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'RATE_LIMITED';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description A failure on our side; it carries no details. */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'INTERNAL_ERROR';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
      /** @description Unavailable for now: try again after Retry-After seconds. */
      503: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            success: false;
            /** @enum {string} */
            code: 'SERVICE_UNAVAILABLE';
            /** @description For people; its wording may change. */
            message: string;
            /** @description What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form). */
            errors?: {
              [key: string]: components['schemas']['FieldError'] | string;
            };
          };
        };
      };
    };
  };
}
