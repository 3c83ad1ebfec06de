import { SUPPORTED_LOCALES } from '@otp-relay/core';
import { describe, expect, it } from 'vitest';
import { RegistrationError } from '../src/registration/registration-errors.js';
import { acceptLanguageTags, chooseLocale, negotiateLocale } from '../src/registration/shopper-locale.js';

/** The choice of a flow's language, as plain functions: no service needed. */

describe('negotiateLocale', () => {
  it.each([
    [['es-MX'], 'es'],
    [['es-419'], 'es'],
    [['pt'], 'pt-BR'],
    [['pt-PT'], 'pt-BR'],
    [['zh'], 'zh-CN'],
    [['zh-Hans-CN'], 'zh-CN'],
    // CLDR does not give a Traditional-script reader Simplified Chinese: English, as documented.
    [['zh-TW'], 'en'],
    [['zh-Hant'], 'en'],
    [['ar-EG'], 'ar'],
    [['en-GB'], 'en'],
    [['xx'], 'en'],
    [['tlh'], 'en'],
    [[], 'en'],
    [['xx', 'ja'], 'ja'],
  ])('%j → %s', (tags, expected) => {
    expect(negotiateLocale(tags)).toBe(expected);
  });

  it('gives each supported locale itself', () => {
    for (const locale of SUPPORTED_LOCALES) expect(negotiateLocale([locale])).toBe(locale);
  });
});

describe('acceptLanguageTags', () => {
  it('orders by q, the first listed first among equals, and drops q=0', () => {
    expect(acceptLanguageTags('es-MX,es;q=0.9')).toEqual(['es-MX', 'es']);
    expect(acceptLanguageTags('fr;q=0.5, de, ja;q=0.5, it;q=0')).toEqual(['de', 'fr', 'ja']);
  });

  it('skips malformed tags, wildcards and bad q values', () => {
    expect(acceptLanguageTags('*, not a tag, es;q=2, fr;q=abc, de;q=-1, ja;q=0.1234, it;q=0.7')).toEqual([
      'it',
    ]);
    expect(acceptLanguageTags(undefined)).toEqual([]);
    expect(acceptLanguageTags('')).toEqual([]);
  });

  it('reads a bounded part of a huge header', () => {
    const huge = `${'xx-aaaaaaaa;q=0.9,'.repeat(5000)}es`;
    const tags = acceptLanguageTags(huge);
    expect(tags.length).toBeLessThanOrEqual(16);
    expect(tags).not.toContain('es');
  });
});

describe('chooseLocale', () => {
  it('takes the body first, then Accept-Language, then the phone country, then English', () => {
    expect(chooseLocale({ requested: 'ar', acceptLanguage: 'es', phoneCountry: 'BR' })).toBe('ar');
    expect(chooseLocale({ acceptLanguage: 'es-MX,es;q=0.9', phoneCountry: 'BR' })).toBe('es');
    expect(chooseLocale({ phoneCountry: 'BR' })).toBe('pt-BR');
    expect(chooseLocale({ phoneCountry: 'JP' })).toBe('ja');
    expect(chooseLocale({ phoneCountry: 'TW' })).toBe('en');
    expect(chooseLocale({})).toBe('en');
  });

  it('lets an Accept-Language that matches nothing give way to the phone country', () => {
    expect(chooseLocale({ acceptLanguage: 'xx, qaa;q=0.5', phoneCountry: 'MX' })).toBe('es');
  });

  it('gives an unsupported but well-formed body locale English, whatever else is there', () => {
    expect(chooseLocale({ requested: 'tlh', acceptLanguage: 'es' })).toBe('en');
    expect(chooseLocale({ requested: 'xx' })).toBe('en');
  });

  it.each(['', 'e', 'not a tag', 'en_US_', '123', 'x'.repeat(65), 'en-'])(
    'refuses %j, naming locale',
    (tag) => {
      const refusal = (() => {
        try {
          chooseLocale({ requested: tag });
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(refusal).toBeInstanceOf(RegistrationError);
      expect((refusal as RegistrationError).details).toEqual({
        field: 'locale',
        problem: { code: 'invalid_format', params: { format: 'locale' } },
      });
    },
  );

  it('ignores a phone country that is no region', () => {
    expect(chooseLocale({ phoneCountry: 'not a country' })).toBe('en');
  });
});
