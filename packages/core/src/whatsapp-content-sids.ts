import { isSupportedLocale, type SupportedLocale } from './locales.js';

/**
 * TWILIO_WHATSAPP_CONTENT_SIDS and TWILIO_WHATSAPP_NOTICE_CONTENT_SIDS: one approved Content
 * Template per language (`es=HX…,ar=HX…`), since WhatsApp approves a template's text in one
 * language. A locale missing from the list gets the single-SID setting beside it.
 */

const CONTENT_SID = /^HX[0-9a-fA-F]{32}$/;

export type LocaleContentSids = ReadonlyMap<SupportedLocale, string>;

/** The map, or every problem with the value (an entry's form, its locale, a locale given twice). */
export function parseLocaleContentSids(
  value: string,
): { sids: LocaleContentSids; problems: [] } | { problems: string[] } {
  const sids = new Map<SupportedLocale, string>();
  const problems: string[] = [];
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const entry of entries) {
    const [locale = '', sid = '', ...rest] = entry.split('=').map((part) => part.trim());
    if (rest.length > 0 || !CONTENT_SID.test(sid)) {
      problems.push(`"${entry}" is not locale=HX followed by 32 hex digits`);
    } else if (!isSupportedLocale(locale)) {
      problems.push(`"${locale}" is not a supported locale`);
    } else if (sids.has(locale)) {
      problems.push(`"${locale}" is given twice`);
    } else {
      sids.set(locale, sid);
    }
  }
  return problems.length > 0 ? { problems } : { sids, problems: [] };
}

/** The setting's map; loadWorkerConfig has refused a value with problems. */
export function localeContentSids(value: string): LocaleContentSids {
  const parsed = parseLocaleContentSids(value);
  return 'sids' in parsed ? parsed.sids : new Map();
}
