import type { FieldError, FieldErrorCode, Locale } from '@otp-relay/client';
import { byTestId, hide, show } from './page.js';
import { fieldErrorText } from './page-strings.js';

/** The API's field names this page shows errors for. */
export type Field =
  | 'email'
  | 'username'
  | 'first_name'
  | 'last_name'
  | 'password'
  | 'mobile'
  | 'otp_method'
  | 'otp'
  | 'captcha_token';

interface FieldSpec {
  /** The input's data-testid; its error is `<input>-error` unless `error` says otherwise. */
  input?: string;
  error?: string;
  label: string;
  /** What to say when the input is empty. */
  empty?: string;
  /** What to say when the value breaks the field's rule, instead of the schema validator's words. */
  rule: string | ((value: string) => string);
}

const FIELDS: Readonly<Record<Field, FieldSpec>> = {
  email: {
    input: 'email',
    label: 'Email address',
    empty: 'Enter your email address.',
    rule: 'Enter a valid email address, like ann@example.com.',
  },
  username: {
    input: 'username',
    label: 'Username',
    empty: 'Choose a username.',
    rule: 'Use 3–30 letters, digits, underscores, dots or hyphens.',
  },
  first_name: {
    input: 'first-name',
    label: 'First name',
    empty: 'Enter your first name.',
    rule: 'Use letters, spaces, apostrophes, dots or hyphens (up to 100).',
  },
  last_name: {
    input: 'last-name',
    label: 'Last name',
    empty: 'Enter your last name.',
    rule: 'Use letters, spaces, apostrophes, dots or hyphens (up to 100).',
  },
  password: {
    input: 'password',
    label: 'Password',
    empty: 'Choose a password.',
    rule: (value) => (value.length > 128 ? 'Use at most 128 characters.' : 'Use at least 8 characters.'),
  },
  mobile: {
    input: 'mobile',
    label: 'Mobile number',
    empty: 'Enter your mobile number to get the code on your phone.',
    rule: 'Enter your mobile number with the country code, e.g. +1 415 555 2671.',
  },
  otp_method: { error: 'otp-method-error', label: 'Channel', rule: 'Choose email, WhatsApp or SMS.' },
  otp: {
    input: 'otp',
    label: 'Code',
    empty: 'Enter the code we sent you.',
    rule: 'Enter the code as digits only.',
  },
  captcha_token: { error: 'captcha-error', label: 'Human check', rule: 'Complete the human check again.' },
};

export const ALL_FIELDS = Object.keys(FIELDS) as Field[];

// In English, a malformed or missing value (these codes) is said the page's own way, with an
// example; other refusals (a mobile number's country) in the service's words.
const SCHEMA_CODES: ReadonlySet<FieldErrorCode> = new Set([
  'required',
  'unknown_field',
  'invalid_type',
  'too_short',
  'too_long',
  'not_allowed',
]);

function inputOf(field: Field): HTMLInputElement | undefined {
  const { input } = FIELDS[field];
  return input ? byTestId<HTMLInputElement>(input) : undefined;
}

function errorNodeOf(field: Field): HTMLElement {
  const spec = FIELDS[field];
  return byTestId(spec.error ?? `${spec.input}-error`);
}

/** A value of the wrong shape (a phone number's shape excepted: the service says what is wrong). */
function isMalformed(error: FieldError): boolean {
  if (error.code === 'invalid_format') return error.params.format !== 'phone';
  return SCHEMA_CODES.has(error.code);
}

/**
 * The sentence shown under a field for the API's error about it. In another language than English
 * it is made from the error's code and params alone (page-strings.ts), never its English message.
 */
function fieldMessage(field: Field, error: FieldError | undefined, locale: Locale): string {
  if (error && locale !== 'en') return fieldErrorText(locale, error);
  const spec = FIELDS[field];
  const value = inputOf(field)?.value ?? '';
  if (spec.empty && inputOf(field) && value.trim() === '') return spec.empty;
  if (!error || isMalformed(error)) return typeof spec.rule === 'function' ? spec.rule(value) : spec.rule;
  // The service's own words ("must include the country code, e.g. …"): made a sentence about the field.
  const sentence = `${spec.label} ${error.message}`;
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}

export function setFieldError(field: Field, text: string): void {
  show(errorNodeOf(field), text);
  inputOf(field)?.setAttribute('aria-invalid', 'true');
}

export function clearFieldError(field: Field): void {
  hide(errorNodeOf(field));
  inputOf(field)?.removeAttribute('aria-invalid');
}

export function clearFieldErrors(fields: readonly Field[]): void {
  for (const field of fields) clearFieldError(field);
}

/** Puts each of the API's field errors next to its field, among `fields`; answers those it placed. */
export function showFieldErrors(
  errors: Readonly<Record<string, FieldError>>,
  fields: readonly Field[],
  locale: Locale,
): Field[] {
  const placed = fields.filter((field) => field in errors);
  for (const field of placed) setFieldError(field, fieldMessage(field, errors[field], locale));
  return placed;
}

export function emptyMessage(field: Field): string {
  return FIELDS[field].empty ?? fieldMessage(field, undefined, 'en');
}

export function focusField(field: Field, form: HTMLFormElement): void {
  const target =
    field === 'otp_method'
      ? form.querySelector<HTMLInputElement>('input[name="otp_method"]:checked')
      : inputOf(field);
  target?.focus();
}

/** Editing a field clears its error. */
export function clearErrorsOnInput(): void {
  for (const field of ALL_FIELDS) inputOf(field)?.addEventListener('input', () => clearFieldError(field));
}
