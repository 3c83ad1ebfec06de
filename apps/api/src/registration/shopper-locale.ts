import { match } from '@formatjs/intl-localematcher';
import { DEFAULT_LOCALE, isSupportedLocale, SUPPORTED_LOCALES, type SupportedLocale } from '@otp-relay/core';
import { RegistrationError } from './registration-errors.js';

/**
 * The language of a flow's messages, chosen once at request-otp and kept on the flow (resends and
 * fallbacks speak it too). In order: the body's `locale` (an unsupported one → English), the
 * `Accept-Language` header (when it matches a supported locale), for a code by WhatsApp or SMS the
 * number's country, else English. Each is negotiated against
 * SUPPORTED_LOCALES with CLDR's language matching ("best fit"): `pt` and `pt-PT` → `pt-BR`,
 * `es-MX` → `es`, `zh` → `zh-CN`, while `zh-TW` and `zh-HK` (Traditional script) → English, as
 * CLDR does not take Simplified Chinese for a Traditional reader; anything unmatched → English.
 */

/** Longer headers are cut: no browser sends more, and parsing stays cheap whatever is sent. */
const MAX_ACCEPT_LANGUAGE_CHARS = 512;
const MAX_ACCEPT_LANGUAGE_TAGS = 16;
const MAX_LOCALE_CHARS = 64;

export interface LocaleHints {
  /** The body's `locale`, as sent: a malformed tag is refused, an unsupported one falls back. */
  requested?: string | undefined;
  /** The request's `Accept-Language` header. */
  acceptLanguage?: string | undefined;
  /** ISO 3166 alpha-2 of the number the code goes to (WhatsApp and SMS only). */
  phoneCountry?: string | undefined;
}

/** The canonical form of a well-formed BCP 47 tag, or undefined. */
function canonicalTag(tag: string): string | undefined {
  if (tag.length === 0 || tag.length > MAX_LOCALE_CHARS) return undefined;
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
}

/**
 * The tags of an `Accept-Language` header, most wanted first (RFC 9110: `q` from 0 to 1, at most
 * three decimals; `q=0` means "not this"). Malformed entries, `*` and bad `q` values are skipped.
 */
export function acceptLanguageTags(header: string | undefined): string[] {
  if (!header) return [];
  const weighted: { tag: string; q: number; index: number }[] = [];
  const entries = header.slice(0, MAX_ACCEPT_LANGUAGE_CHARS).split(',', MAX_ACCEPT_LANGUAGE_TAGS);
  for (const [index, entry] of entries.entries()) {
    const [rawTag = '', ...parameters] = entry.split(';').map((part) => part.trim());
    let q = 1;
    for (const parameter of parameters) {
      const [name, value] = parameter.split('=').map((part) => part.trim());
      if (name?.toLowerCase() === 'q') q = qValue(value);
    }
    const tag = rawTag === '*' ? undefined : canonicalTag(rawTag);
    if (tag && q > 0) weighted.push({ tag, q, index });
  }
  weighted.sort((a, b) => b.q - a.q || a.index - b.index);
  return weighted.map(({ tag }) => tag);
}

/** RFC 9110's qvalue; anything else counts as 0 (the entry is skipped). */
function qValue(value: string | undefined): number {
  if (value === undefined || !/^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(value)) return 0;
  return Number(value);
}

/** The supported locale closest to the tags (most wanted first), or undefined when none is close. */
function closestLocale(tags: readonly string[]): SupportedLocale | undefined {
  if (tags.length === 0) return undefined;
  // `und` (undetermined) is no supported locale: it marks "nothing matched".
  const found = match(tags, SUPPORTED_LOCALES, 'und', { algorithm: 'best fit' });
  return isSupportedLocale(found) ? found : undefined;
}

/** The supported locale closest to the tags, most wanted first; English when none is close. */
export function negotiateLocale(tags: readonly string[]): SupportedLocale {
  return closestLocale(tags) ?? DEFAULT_LOCALE;
}

/** The language most spoken in a country, as CLDR's likely subtags say (`BR` → `pt-Latn-BR`). */
function countryLanguage(country: string): string | undefined {
  try {
    return new Intl.Locale(`und-${country}`).maximize().toString();
  } catch {
    return undefined;
  }
}

/** The flow's locale; a malformed `locale` in the body is a 400 naming it. */
export function chooseLocale(hints: LocaleHints): SupportedLocale {
  if (hints.requested !== undefined) {
    const tag = canonicalTag(hints.requested.trim());
    if (!tag) {
      throw new RegistrationError('VALIDATION_ERROR', 'must be a language tag (BCP 47), e.g. es or pt-BR', {
        field: 'locale',
        problem: { code: 'invalid_format', params: { format: 'locale' } },
      });
    }
    return negotiateLocale([tag]);
  }
  // A header that matches nothing supported (`tlh`) gives way to the next hint, not to English.
  const fromHeader = closestLocale(acceptLanguageTags(hints.acceptLanguage));
  if (fromHeader) return fromHeader;
  const spoken = hints.phoneCountry ? countryLanguage(hints.phoneCountry) : undefined;
  return spoken ? negotiateLocale([spoken]) : DEFAULT_LOCALE;
}
