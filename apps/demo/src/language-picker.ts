import type { Locale } from '@otp-relay/client';
import { pageText, type TextKey } from './page-strings.js';

/**
 * The language picker: the service's locales, each named in its own language, defaulting from the
 * browser's languages. Choosing one translates the page's own words, sets `lang` and `dir` (Arabic
 * reads right to left) and is sent as request-otp's `locale`.
 */

// Checked against the contract's Locale: the compiler refuses a missing or unknown one.
const LOCALE_SET: Record<Locale, true> = {
  en: true,
  es: true,
  'pt-BR': true,
  fr: true,
  de: true,
  it: true,
  nl: true,
  pl: true,
  tr: true,
  ar: true,
  ja: true,
  'zh-CN': true,
};
const LOCALES = Object.keys(LOCALE_SET) as Locale[];

function isLocale(tag: string): tag is Locale {
  return tag in LOCALE_SET;
}

/** The browser's first language the service speaks: the tag itself, else its language (pt → pt-BR). */
export function defaultLocale(languages: readonly string[]): Locale {
  for (const tag of languages) {
    if (isLocale(tag)) return tag;
    const language = tag.split('-')[0]?.toLowerCase() ?? '';
    const hanTraditional = /^zh-(TW|HK|MO|Hant)/i.test(tag);
    const found = LOCALES.find((locale) => locale.split('-')[0] === language);
    if (found && !hanTraditional) return found;
  }
  return 'en';
}

/** A locale's name in its own language ("español", "日本語"). */
function ownName(locale: Locale): string {
  return new Intl.DisplayNames([locale], { type: 'language' }).of(locale) ?? locale;
}

export function applyLocale(locale: Locale): void {
  const root = document.documentElement;
  root.lang = locale;
  root.dir = locale === 'ar' ? 'rtl' : 'ltr';
  for (const node of document.querySelectorAll<HTMLElement>('[data-i18n]')) {
    node.textContent = pageText(locale, node.dataset.i18n as TextKey);
  }
}

/** Fills the picker, applies the default, and keeps the page in the chosen language. */
export function mountLanguagePicker(select: HTMLSelectElement): () => Locale {
  for (const locale of LOCALES) {
    const option = document.createElement('option');
    option.value = locale;
    option.lang = locale;
    option.textContent = ownName(locale);
    select.append(option);
  }
  select.value = defaultLocale(navigator.languages.length > 0 ? navigator.languages : [navigator.language]);
  const current = () => (isLocale(select.value) ? select.value : 'en');
  select.addEventListener('change', () => applyLocale(current()));
  applyLocale(current());
  return current;
}
