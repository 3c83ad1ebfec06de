import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SUPPORTED_LOCALES } from '@otp-relay/core';
import { IntlMessageFormat } from 'intl-messageformat';
import { describe, expect, it } from 'vitest';
import { icuArguments } from '../src/messages/icu-arguments.js';
import { MESSAGE_KEYS } from '../src/messages/message-keys.js';
import { SHIPPED_TEMPLATES_DIR } from '../src/messages/shipped-templates.js';

/** The shipped catalogues, as translators leave them: a missing translation fails here. */

const catalogue = (locale: string) =>
  JSON.parse(readFileSync(path.join(SHIPPED_TEMPLATES_DIR, `${locale}.json`), 'utf8')) as Record<
    string,
    string
  >;
const english = catalogue('en');

describe('the shipped catalogues', () => {
  it('English has exactly the message keys', () => {
    expect(Object.keys(english).sort()).toEqual([...MESSAGE_KEYS].sort());
  });

  it.each(SUPPORTED_LOCALES)('%s has every key of English, and no other', (locale) => {
    const keys = Object.keys(catalogue(locale));
    expect(
      MESSAGE_KEYS.filter((key) => !keys.includes(key)),
      'missing translations',
    ).toEqual([]);
    expect(
      keys.filter((key) => !(MESSAGE_KEYS as readonly string[]).includes(key)),
      'unknown keys',
    ).toEqual([]);
  });

  it.each(SUPPORTED_LOCALES)('%s: every message compiles and uses the arguments English uses', (locale) => {
    for (const [key, source] of Object.entries(catalogue(locale))) {
      const message = new IntlMessageFormat(source, locale, undefined, { ignoreTag: true });
      const englishArguments = icuArguments(new IntlMessageFormat(english[key] ?? '', 'en').getAst());
      expect([...icuArguments(message.getAst())].sort(), `${locale} ${key}`).toEqual(
        [...englishArguments].sort(),
      );
    }
  });

  it.each(SUPPORTED_LOCALES.filter((locale) => locale !== 'en'))(
    '%s is translated, not English copied',
    (locale) => {
      const translated = catalogue(locale);
      const copied = ['email.code.intro', 'email.notice.attempt', 'whatsapp.notice'].filter(
        (key) => translated[key] === english[key],
      );
      expect(copied).toEqual([]);
    },
  );
});
