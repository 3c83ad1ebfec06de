import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { RegistrationError } from './registration-errors.js';

/**
 * A shopper's mobile number in any common notation ("+1 (415) 555-2671", "+44 7700-900123")
 * as E.164. The country code is required: a shop's shoppers may be anywhere.
 */
export function normalizeMobile(input: string): string {
  const trimmed = input.trim();
  if (!trimmed.startsWith('+') && !trimmed.startsWith('00')) {
    throw invalid('must include the country code, e.g. +14155552671');
  }
  const parsed = parsePhoneNumberFromString(trimmed.replace(/^00/, '+'));
  if (!parsed?.isValid()) throw invalid('is not a valid phone number');
  const type = parsed.getType();
  if (type !== undefined && type !== 'MOBILE' && type !== 'FIXED_LINE_OR_MOBILE') {
    throw invalid('must be a mobile number that can receive WhatsApp messages');
  }
  return parsed.number;
}

function invalid(message: string) {
  return new RegistrationError('VALIDATION_ERROR', message, { field: 'mobile' });
}
