/**
 * What the operator typed after `pnpm otp:lookup`, as the keys the rows are stored under: an
 * address as its mailbox key (the API's rule, so `A.B+x@Gmail.com` finds `ab@gmail.com`), a number
 * as E.164 (the API stores numbers so).
 */
import { mailboxKey } from '@otp-relay/core';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { UsageError } from '../cli-args.js';

export type LookupContact =
  | { kind: 'email' /** As typed (trimmed). */; email: string; mailboxKey: string }
  | { kind: 'phone'; e164: string };

const EMAIL = /^[^\s@]+@[^\s@]+$/;

export function parseLookupContact(input: string): LookupContact {
  const trimmed = input.trim();
  if (trimmed.includes('@')) {
    if (!EMAIL.test(trimmed)) throw new UsageError('that is not an email address');
    return { kind: 'email', email: trimmed, mailboxKey: mailboxKey(trimmed) };
  }
  // Provider logs and Twilio's console write numbers as `whatsapp:+…`; accept them as pasted.
  const number = trimmed.replace(/^(whatsapp|sms):/i, '');
  if (!number.startsWith('+') && !number.startsWith('00')) {
    throw new UsageError(
      'give an email address, or a phone number with its country code (e.g. +14155552671)',
    );
  }
  // Possible, not valid: a number stored under older metadata must still be found.
  const parsed = parsePhoneNumberFromString(number.replace(/^00/, '+'));
  if (!parsed?.isPossible()) throw new UsageError('that is not a phone number (with its country code)');
  return { kind: 'phone', e164: parsed.number };
}
