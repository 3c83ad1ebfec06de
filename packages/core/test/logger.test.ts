import { describe, expect, it } from 'vitest';
import { cleanErrorText, maskContactsIn } from '../src/logger.js';

describe('maskContactsIn', () => {
  it.each([
    ['E.164', 'Invalid To: +14155552671', 'Invalid To: +141******71'],
    [
      'a WhatsApp address',
      "The 'To' number whatsapp:+15005550001 is not a valid phone number",
      "The 'To' number whatsapp:+150******01 is not a valid phone number",
    ],
    [
      'a number without its plus',
      'To number: 14155552671, is not a mobile number',
      'To number: 1415*****71, is not a mobile number',
    ],
    ['a WhatsApp address without the plus', 'whatsapp:14155552671', 'whatsapp:1415*****71'],
    [
      'a number written with spaces',
      "Invalid 'To' Phone Number: +1 415 555 2671",
      "Invalid 'To' Phone Number: +141******71",
    ],
    ['an address', 'Recipient <ann.lee@example.com> rejected', 'Recipient <a***@example.com> rejected'],
  ])('masks %s', (_shape, text, expected) => {
    expect(maskContactsIn(text)).toBe(expected);
  });

  it.each([
    ['a uuid', 'delivery 12345678-1234-4234-8234-123456789012 failed'],
    ['a Twilio error code', 'Twilio error 21211 (HTTP 400)'],
    [
      'a stack through a pnpm path',
      'at f (/app/node_modules/.pnpm/drizzle-orm@0.45.4_patch_hash=3c8e/node_modules/x.js:41:15)',
    ],
  ])('leaves %s alone', (_shape, text) => {
    expect(maskContactsIn(text)).toBe(text);
  });
});

describe('cleanErrorText', () => {
  it("drops a failed query's parameters and keeps its SQL", () => {
    expect(cleanErrorText('Failed query: select $1::int\nparams: hunter2,ann@example.com')).toBe(
      'Failed query: select $1::int',
    );
    expect(
      cleanErrorText(
        'Error: Failed query: select $1\nparams: hunter2\nsecond line\n    at run (file.js:1:1)',
      ),
    ).toBe('Error: Failed query: select $1\n    at run (file.js:1:1)');
  });
});
