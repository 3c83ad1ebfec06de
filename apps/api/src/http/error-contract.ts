import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type, { type Static, type TSchema } from 'typebox';
import { RegistrationError, type RegistrationErrorCode } from '../registration/registration-errors.js';

/**
 * The one error contract: every error leaves as `{success:false, code, message, errors?}` with
 * the status from this table. A 5xx never carries an internal message.
 */

/** The closed list of error codes, each with its status: the one home of both. */
export const STATUS_BY_CODE = {
  VALIDATION_ERROR: 400,
  OTP_INVALID: 400,
  OTP_EXPIRED: 400,
  OTP_ATTEMPTS_EXCEEDED: 400,
  VERIFICATION_ID_REQUIRED: 400,
  CHANNEL_UNAVAILABLE: 400,
  CAPTCHA_REQUIRED: 400,
  CAPTCHA_INVALID: 400,
  UNAUTHORIZED: 401,
  SIGNATURE_INVALID: 403,
  NOT_FOUND: 404,
  // The flow's id is a 144-bit secret: a 404 for an unknown one tells nothing.
  VERIFICATION_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  USERNAME_TAKEN: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RESEND_TOO_SOON: 429,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
  SEND_BUDGET_EXHAUSTED: 503,
  SERVICE_BUSY: 503,
} as const satisfies Record<RegistrationErrorCode, number> & Record<string, number>;

export type ErrorCode = keyof typeof STATUS_BY_CODE;
export const ERROR_CODES = Object.keys(STATUS_BY_CODE) as ErrorCode[];

export const ErrorResponseSchema = Type.Object(
  {
    success: Type.Literal(false),
    code: Type.String({ description: 'What went wrong, from a closed list: branch on it.' }),
    message: Type.String({ description: 'For people; its wording may change.' }),
    errors: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description: 'What is wrong with each field, by its name (VALIDATION_ERROR and a few others).',
      }),
    ),
  },
  { description: 'Every error answer has this shape.' },
);
export type ErrorResponse = Static<typeof ErrorResponseSchema>;

/** Errors any route can answer: a failure of ours, or Postgres or Redis out of reach. */
export const SERVER_ERRORS = [
  'INTERNAL_ERROR',
  'SERVICE_UNAVAILABLE',
] as const satisfies readonly ErrorCode[];
/** What Fastify refuses of a JSON body before the route runs: malformed, too large, not JSON. */
export const BODY_ERRORS = [
  'VALIDATION_ERROR',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
] as const satisfies readonly ErrorCode[];

const STATUS_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is invalid, or its code is not accepted.',
  401: 'No valid bearer token.',
  403: 'The request is not signed.',
  404: 'Nothing has this id.',
  409: 'A conflict with an existing account.',
  413: 'The body is over 16 KiB.',
  415: 'The body is not JSON.',
  429: 'Too many requests: wait Retry-After seconds.',
  500: 'A failure on our side; it carries no details.',
  503: 'Unavailable for now: try again after Retry-After seconds.',
};

// Every 429 and 503 of the contract carries Retry-After (see the error handler below).
const RETRY_AFTER_HEADER = {
  'retry-after': { type: 'integer', minimum: 0, description: 'Seconds to wait before trying again.' },
};

/**
 * The error answers of a route, for its response schema: one per status, whose `code` is an enum
 * of exactly the codes given (their statuses come from STATUS_BY_CODE).
 */
export function errorResponses<const Code extends ErrorCode>(
  codes: readonly Code[],
): Record<(typeof STATUS_BY_CODE)[Code], typeof ErrorResponseSchema> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = STATUS_BY_CODE[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<number, TSchema> = {};
  for (const [status, statusCodes] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[status] = Type.Object(
      {
        ...ErrorResponseSchema.properties,
        code: Type.Unsafe<ErrorCode>({ type: 'string', enum: statusCodes }),
      },
      {
        description: STATUS_DESCRIPTIONS[status] ?? 'An error.',
        ...(status === 429 || status === 503 ? { headers: RETRY_AFTER_HEADER } : {}),
      },
    );
  }
  return responses as Record<(typeof STATUS_BY_CODE)[Code], typeof ErrorResponseSchema>;
}

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/**
 * What a field's rule says when ajv finds no message written for it (schemas carry their own, for
 * people, as ajv-errors' `errorMessage`): ajv's defaults would show patterns and keyword names.
 */
function fallbackMessage(error: AjvError): string {
  const limit = error.params.limit;
  switch (error.keyword) {
    case 'errorMessage':
      return error.message ?? 'is invalid';
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not an accepted field';
    case 'type':
      return error.params.type === 'object'
        ? 'must be a JSON object'
        : `must be of type ${String(error.params.type)}`;
    case 'minLength':
      return `must be at least ${String(limit)} characters`;
    case 'maxLength':
      return `must be at most ${String(limit)} characters`;
    default:
      return 'is invalid';
  }
}

/** Turns ajv's errors into `{field: message}`, naming the body field each is about. */
export function validationErrors(validation: readonly AjvError[]): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const error of validation) {
    const path = error.instancePath.replace(/^\//, '').replaceAll('/', '.');
    let field = path;
    if (error.keyword === 'required') {
      field = [path, String(error.params.missingProperty)].filter(Boolean).join('.');
    } else if (error.keyword === 'additionalProperties') {
      field = [path, String(error.params.additionalProperty)].filter(Boolean).join('.');
    }
    errors[field || 'body'] ??= fallbackMessage(error);
  }
  return errors;
}

// Errors of the Postgres client meaning "the database is not there", not "the query is wrong":
// network failures, and SQLSTATE class 08 (connection), 57P0x (shutdown), 53300 (too many connections).
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);

export function isDependencyUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

function fastifyClientErrorCode(statusCode: number): ErrorCode {
  switch (statusCode) {
    case 401:
      return 'UNAUTHORIZED';
    case 404:
      return 'NOT_FOUND';
    case 405:
      return 'METHOD_NOT_ALLOWED';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 429:
      return 'RATE_LIMITED';
    default:
      return 'VALIDATION_ERROR';
  }
}

/**
 * Fastify's `frameworkErrors` (a constructor option): what its router refuses before any route or
 * error handler runs, such as a path parameter that is not valid percent-encoding or is longer than
 * the router takes. Answered in the contract instead of Fastify's own shape.
 */
export function frameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  const code: ErrorCode = (error.statusCode ?? 500) < 500 ? 'VALIDATION_ERROR' : 'INTERNAL_ERROR';
  const body: ErrorResponse = {
    success: false,
    code,
    message:
      code === 'VALIDATION_ERROR' ? 'The request URL is invalid.' : 'Something went wrong on our side.',
  };
  return reply.status(STATUS_BY_CODE[code]).send(body);
}

export function registerErrorContract(app: FastifyInstance) {
  app.setNotFoundHandler((request, reply) => {
    const body: ErrorResponse = {
      success: false,
      code: 'NOT_FOUND',
      message: `No route for ${request.method} ${request.url.split('?')[0]}`,
    };
    return reply.status(404).send(body);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const send = (code: ErrorCode, message: string, errors?: Record<string, string>) => {
      const body: ErrorResponse = { success: false, code, message, ...(errors ? { errors } : {}) };
      return reply.status(STATUS_BY_CODE[code]).send(body);
    };

    if (error.validation) {
      return send('VALIDATION_ERROR', 'The request is invalid.', validationErrors(error.validation));
    }
    if (error instanceof RegistrationError) {
      if (error.details.retryAfterSeconds !== undefined) {
        reply.header('retry-after', String(error.details.retryAfterSeconds));
      }
      const errors = error.details.field ? { [error.details.field]: error.message } : undefined;
      return send(error.code, error.message, errors);
    }
    if (isDependencyUnavailable(error)) {
      request.log.error({ err: error }, 'dependency unavailable');
      reply.header('retry-after', '5');
      return send('SERVICE_UNAVAILABLE', 'The service is temporarily unavailable; try again shortly.');
    }
    const statusCode = error.statusCode ?? 500;
    if (statusCode >= 400 && statusCode < 500) {
      // Fastify's own 4xx (bad JSON, wrong content type, body too large, bad token) carry safe messages.
      return send(fastifyClientErrorCode(statusCode), error.message);
    }
    request.log.error({ err: error }, 'unhandled error');
    return send('INTERNAL_ERROR', 'Something went wrong on our side.');
  });
}
