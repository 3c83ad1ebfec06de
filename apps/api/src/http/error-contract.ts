import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type, { type Static, type TSchema } from 'typebox';
import {
  FIELD_ERROR_CODES,
  FIELD_ERROR_PARAMS,
  type FieldFormat,
  type FieldProblem,
} from '../registration/field-errors.js';
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

/** What is wrong with one field: a machine code and its parameters, and the same in English. */
export type FieldError = FieldProblem & { message: string };

/**
 * The request header that asks for the first version's field errors, `{field: message}`:
 * `X-Error-Format: messages`. Without it each field's error is a FieldError.
 */
export const ERROR_FORMAT_HEADER = 'x-error-format';
export const LEGACY_ERROR_FORMAT = 'messages';

/**
 * Every parameter any code carries, each optional: which code has which is FIELD_ERROR_PARAMS
 * (e.g. `too_short` has `min`). One flat object rather than a branch per code: Swagger UI took
 * three times as long to open the document with sixteen branches under every error answer.
 */
const FieldErrorParamsSchema = Type.Object(
  Object.fromEntries(
    Object.values(FIELD_ERROR_PARAMS).flatMap((params) =>
      Object.entries(params.properties as Record<string, TSchema>).map(([name, schema]) => [
        name,
        Type.Optional(schema),
      ]),
    ),
  ),
  { description: 'The values the sentence for `code` needs: `too_short` has `min`, `too_long` `max`, …' },
);

/**
 * A named schema of the OpenAPI document (shared with Fastify, which serializes every error
 * answer through it). The server's own type (FieldError) is the exact union of code and params.
 */
export const FieldErrorSchema = Type.Unsafe<FieldError>(
  Type.Object(
    {
      code: Type.Enum(FIELD_ERROR_CODES, {
        description: 'What is wrong with the field, from a closed list: translate it (with `params`).',
      }),
      params: FieldErrorParamsSchema,
      message: Type.String({ description: 'In English, for people; its wording may change.' }),
    },
    {
      $id: 'FieldError',
      description:
        "What is wrong with one field: `code` and its `params` for a frontend to translate, and `message` in English for people. E.g. `{code: 'too_short', params: {min: 8}, message: 'must be 8 to 128 characters'}`.",
    },
  ),
);

export const ErrorResponseSchema = Type.Object(
  {
    success: Type.Literal(false),
    code: Type.String({ description: 'What went wrong, from a closed list: branch on it.' }),
    message: Type.String({ description: 'For people; its wording may change.' }),
    errors: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Union([Type.Unsafe<FieldError>({ $ref: 'FieldError' }), Type.String()]),
        {
          description:
            "What is wrong with each field, by its name (VALIDATION_ERROR and a few others): a FieldError; or, for a request with `X-Error-Format: messages`, its English message alone (the first version's form).",
        },
      ),
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

/** What a pattern asks for, by the field it guards: a word, never the expression. */
const PATTERN_FORMATS: Readonly<Record<string, FieldFormat>> = {
  username: 'username',
  first_name: 'name',
  last_name: 'name',
  verification_id: 'verification_id',
  otp: 'otp',
  metadata: 'metadata_key',
};

/**
 * Which of a field's broken rules its code reports, most telling first: a value outside a list,
 * then its shape, its length, its keys; its JSON type last (a union reports a type error for each
 * branch the value was not meant for).
 */
const KEYWORD_ORDER = [
  'const',
  'enum',
  'format',
  'minLength',
  'maxLength',
  'pattern',
  'additionalProperties',
  'maxProperties',
  'required',
  'type',
];

const number = (value: unknown) => (typeof value === 'number' ? value : 0);

/** The code and parameters of one field's errors (ajv's own, under an ajv-errors message or not). */
function fieldProblem(errors: readonly AjvError[], field: string, wrapped: boolean): FieldProblem {
  const rank = (error: AjvError) => {
    const at = KEYWORD_ORDER.indexOf(error.keyword);
    return at === -1 ? KEYWORD_ORDER.length : at;
  };
  const [first] = [...errors].sort((a, b) => rank(a) - rank(b));
  const name = field.split('.')[0] ?? field;
  switch (first?.keyword) {
    case 'const':
    case 'enum': {
      const allowed = errors.flatMap((error) =>
        error.keyword === 'const'
          ? [String(error.params.allowedValue)]
          : error.keyword === 'enum'
            ? (error.params.allowedValues as unknown[]).map(String)
            : [],
      );
      return { code: 'not_allowed', params: { allowed } };
    }
    case 'format':
      return {
        code: 'invalid_format',
        params: { format: formatName(first.params.format) },
      };
    case 'pattern':
      return { code: 'invalid_format', params: { format: PATTERN_FORMATS[name] ?? 'text' } };
    case 'minLength':
      return { code: 'too_short', params: { min: number(first.params.limit) } };
    case 'maxLength':
      return { code: 'too_long', params: { max: number(first.params.limit) } };
    case 'maxProperties':
      return { code: 'too_many_keys', params: { max: number(first.params.limit) } };
    case 'additionalProperties':
      // Under a field's own message (metadata), a key it does not take; at the top, a field.
      return wrapped
        ? { code: 'invalid_format', params: { format: PATTERN_FORMATS[name] ?? 'text' } }
        : { code: 'unknown_field', params: {} };
    case 'required':
      return { code: 'required', params: {} };
    case 'type':
      return { code: 'invalid_type', params: { expected: String(first.params.type) } };
    default:
      return { code: 'invalid', params: {} };
  }
}

/** ajv's formats the request schemas use, as FIELD_FORMATS names them. */
function formatName(format: unknown): FieldFormat {
  return format === 'email' ? 'email' : 'text';
}

/** Turns ajv's errors into `{field: FieldError}`, naming the body field each is about. */
export function validationErrors(validation: readonly AjvError[]): Record<string, FieldError> {
  const errors: Record<string, FieldError> = {};
  for (const error of validation) {
    const path = error.instancePath.replace(/^\//, '').replaceAll('/', '.');
    let field = path;
    if (error.keyword === 'required') {
      field = [path, String(error.params.missingProperty)].filter(Boolean).join('.');
    } else if (error.keyword === 'additionalProperties') {
      field = [path, String(error.params.additionalProperty)].filter(Boolean).join('.');
    }
    const key = field || 'body';
    if (errors[key]) continue;
    const wrapped = error.keyword === 'errorMessage';
    const causes = wrapped ? ((error.params.errors as AjvError[] | undefined) ?? []) : [error];
    errors[key] = { ...fieldProblem(causes, key, wrapped), message: fallbackMessage(error) };
  }
  return errors;
}

/** A field error as the first version wrote it: the message alone. */
export function legacyFieldErrors(errors: Record<string, FieldError>): Record<string, string> {
  return Object.fromEntries(Object.entries(errors).map(([field, error]) => [field, error.message]));
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
  // A named schema: the error answers refer to FieldError, and the document lists it.
  app.addSchema(FieldErrorSchema);
  app.setNotFoundHandler((request, reply) => {
    const body: ErrorResponse = {
      success: false,
      code: 'NOT_FOUND',
      message: `No route for ${request.method} ${request.url.split('?')[0]}`,
    };
    return reply.status(404).send(body);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const send = (code: ErrorCode, message: string, fieldErrors?: Record<string, FieldError>) => {
      const legacy =
        String(request.headers[ERROR_FORMAT_HEADER]).trim().toLowerCase() === LEGACY_ERROR_FORMAT;
      const errors = fieldErrors && (legacy ? legacyFieldErrors(fieldErrors) : fieldErrors);
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
      const { field, problem } = error.details;
      const errors = field
        ? { [field]: { ...(problem ?? { code: 'invalid', params: {} }), message: error.message } }
        : undefined;
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
