import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { type FieldProblem, problem } from './field-errors.js';
import { RegistrationError } from './registration-errors.js';

export interface MobileNumber {
  /** `+14155552671` */
  e164: string;
  /** ISO 3166 alpha-2, e.g. `US`. */
  country: string;
  /** `1` for +1 */
  callingCode: string;
}

/** Any country: for a number checked against a channel's country list later (countryAllowed). */
export const ANY_COUNTRY: ReadonlySet<string> = new Set();

/**
 * A shopper's mobile number in any common notation ("+1 (415) 555-2671", "+44 7400-123456")
 * as E.164. The country code is required: a shop's shoppers may be anywhere. With
 * `allowedCountries` (the SMS-pumping guard: the list of the channel the code goes to) numbers of
 * other countries are refused.
 */
export function parseMobile(input: string, allowedCountries: ReadonlySet<string>): MobileNumber {
  const trimmed = input.trim();
  if (!trimmed.startsWith('+') && !trimmed.startsWith('00')) {
    throw invalid('must include the country code, e.g. +14155552671', PHONE_FORMAT);
  }
  const parsed = parsePhoneNumberFromString(trimmed.replace(/^00/, '+'));
  if (!parsed?.isValid()) throw invalid('is not a valid phone number', PHONE_FORMAT);
  const type = parsed.getType();
  if (type !== undefined && type !== 'MOBILE' && type !== 'FIXED_LINE_OR_MOBILE') {
    throw invalid(
      'must be a mobile number (landlines cannot receive codes by WhatsApp or SMS)',
      problem('not_mobile'),
    );
  }
  // Satellite and other non-geographic numbers (+881, +882, +883, +800…) belong to no country:
  // no country list can vouch for them, and they are what toll-fraud pumping favours.
  if (!parsed.country)
    throw invalid(
      'must belong to a country (satellite and global numbers are not accepted)',
      problem('country_not_allowed'),
    );
  if (!countryAllowed(parsed.country, allowedCountries)) throw countryRefused();
  return { e164: parsed.number, country: parsed.country, callingCode: parsed.countryCallingCode };
}

/** Whether a country list (empty: any country) takes the country. */
export function countryAllowed(country: string, allowedCountries: ReadonlySet<string>): boolean {
  return allowedCountries.size === 0 || allowedCountries.has(country);
}

export function countryRefused(): RegistrationError {
  return invalid('is in a country this service does not send codes to', problem('country_not_allowed'));
}

const PHONE_FORMAT: FieldProblem = { code: 'invalid_format', params: { format: 'phone' } };

function invalid(message: string, fieldProblem: FieldProblem) {
  return new RegistrationError('VALIDATION_ERROR', message, { field: 'mobile', problem: fieldProblem });
}
