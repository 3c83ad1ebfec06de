import { describe, expect, it } from 'vitest';
import { parseMobile } from '../src/registration/mobile-number.js';
import { RegistrationError } from '../src/registration/registration-errors.js';

/** Which numbers a WhatsApp code may go to: the SMS-pumping guards that need no Redis. */

const ANY_COUNTRY = new Set<string>();

function refusal(input: string, allowed: ReadonlySet<string> = ANY_COUNTRY) {
  try {
    parseMobile(input, allowed);
  } catch (error) {
    if (error instanceof RegistrationError) return { code: error.code, field: error.details.field };
    throw error;
  }
  return undefined;
}

describe('parseMobile', () => {
  it('reads common notations as E.164 with the country and calling code', () => {
    expect(parseMobile('+1 (415) 555-2671', ANY_COUNTRY)).toEqual({
      e164: '+14155552671',
      country: 'US',
      callingCode: '1',
    });
    expect(parseMobile('0049 1512 3456789', ANY_COUNTRY).country).toBe('DE');
  });

  it('refuses satellite and global numbers, which belong to no country', () => {
    // Iridium (+881) and Inmarsat (+870) mobiles are valid numbers that no country list can vouch for.
    for (const number of ['+881612345678', '+870773111632']) {
      expect(refusal(number)).toEqual({ code: 'VALIDATION_ERROR', field: 'mobile' });
    }
  });

  it('refuses numbers outside WHATSAPP_ALLOWED_COUNTRIES, and numbers without a country code', () => {
    expect(refusal('+14155552671', new Set(['DE']))).toEqual({ code: 'VALIDATION_ERROR', field: 'mobile' });
    expect(refusal('+4915123456789', new Set(['DE']))).toBeUndefined();
    expect(refusal('4155552671')).toEqual({ code: 'VALIDATION_ERROR', field: 'mobile' });
  });
});
