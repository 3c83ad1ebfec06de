import Type, { type Static, type TSchema } from 'typebox';

/**
 * The closed list of field error codes, each with the parameters it carries: what a refusal says
 * of one field, for a frontend to translate (the English `message` beside it is for people and may
 * change). The one home of the list: the error contract, the OpenAPI document and (through it) the
 * typed client derive from this table.
 */

/** What `invalid_format` names: never a regular expression, a word a frontend can translate. */
export const FIELD_FORMATS = [
  'email',
  'phone',
  'username',
  'name',
  'verification_id',
  'otp',
  'locale',
  'metadata_key',
  'text',
] as const;
export type FieldFormat = (typeof FIELD_FORMATS)[number];

const NO_PARAMS = Type.Object({}, { additionalProperties: false });
const count = (description: string) => Type.Integer({ minimum: 0, description });

export const FIELD_ERROR_PARAMS = {
  required: NO_PARAMS,
  /** A field the body does not take. */
  unknown_field: NO_PARAMS,
  invalid_type: Type.Object({
    expected: Type.String({ description: 'The JSON type the field takes: string, number, object…' }),
  }),
  too_short: Type.Object({ min: count('The fewest characters accepted.') }),
  too_long: Type.Object({ max: count('The most characters accepted.') }),
  invalid_format: Type.Object({
    format: Type.Enum(FIELD_FORMATS, { description: 'What the value must look like.' }),
  }),
  not_allowed: Type.Object({
    allowed: Type.Array(Type.String(), { description: 'The values accepted.' }),
  }),
  too_many_keys: Type.Object({ max: count('The most keys accepted.') }),
  too_large: Type.Object({ max_bytes: count('The most bytes accepted (as JSON, UTF-8).') }),
  /** The username belongs to another account. */
  taken: NO_PARAMS,
  /** A landline: it cannot receive codes. */
  not_mobile: NO_PARAMS,
  /** A number of a country (or of none) the service does not send codes to. */
  country_not_allowed: NO_PARAMS,
  /** A channel this service has not enabled. */
  unavailable: NO_PARAMS,
  /** No registration has this id. */
  not_found: NO_PARAMS,
  /** The CAPTCHA answer was refused or expired. */
  rejected: NO_PARAMS,
  /** Any other rule. */
  invalid: NO_PARAMS,
} satisfies Record<string, TSchema>;

export type FieldErrorCode = keyof typeof FIELD_ERROR_PARAMS;
export const FIELD_ERROR_CODES = Object.keys(FIELD_ERROR_PARAMS) as FieldErrorCode[];

/** A code with its parameters, e.g. `{code: 'too_short', params: {min: 8}}`. */
export type FieldProblem = {
  [Code in FieldErrorCode]: { code: Code; params: Static<(typeof FIELD_ERROR_PARAMS)[Code]> };
}[FieldErrorCode];

/** The codes that carry no parameters. */
type BareCode = {
  [Code in FieldErrorCode]: keyof Static<(typeof FIELD_ERROR_PARAMS)[Code]> extends never ? Code : never;
}[FieldErrorCode];

/** A problem without parameters, for the codes that take none. */
export function problem(code: BareCode): FieldProblem {
  return { code, params: {} } as FieldProblem;
}
