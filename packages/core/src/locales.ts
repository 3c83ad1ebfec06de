/**
 * The languages otp-relay's messages ship in (BCP 47 tags). The API negotiates a shopper's
 * locale against this list and keeps the result on the flow; the worker renders that flow's
 * messages in it, falling back to English for anything a catalogue lacks.
 */
export const SUPPORTED_LOCALES = [
  'en',
  'es',
  'pt-BR',
  'fr',
  'de',
  'it',
  'nl',
  'pl',
  'tr',
  'ar',
  'ja',
  'zh-CN',
] as const;

export type SupportedLocale = (typeof SUPPORTED_LOCALES)[number];

export const DEFAULT_LOCALE: SupportedLocale = 'en';

export function isSupportedLocale(value: string): value is SupportedLocale {
  return (SUPPORTED_LOCALES as readonly string[]).includes(value);
}

/** Scripts written right to left: their messages get `dir="rtl"`. */
export function isRightToLeft(locale: SupportedLocale): boolean {
  return new Intl.Locale(locale).language === 'ar';
}
