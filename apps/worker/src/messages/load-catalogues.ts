import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_LOCALE, SUPPORTED_LOCALES, type SupportedLocale } from '@otp-relay/core';
import { IntlMessageFormat } from 'intl-messageformat';
import { icuArguments } from './icu-arguments.js';
import { isMessageKey, MESSAGE_KEYS, type MessageKey } from './message-keys.js';
import { SHIPPED_TEMPLATES_DIR } from './shipped-templates.js';
import { TemplateError } from './template-error.js';

/** One locale's messages, compiled once: English's for any key the locale lacks. */
export type Catalogue = Readonly<Record<MessageKey, IntlMessageFormat>>;
export type Catalogues = Readonly<Record<SupportedLocale, Catalogue>>;

type Entries = Partial<Record<MessageKey, string>>;

/** A catalogue file's entries, checked: a JSON object of known keys with string values. */
function readEntries(file: string): Entries {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new TemplateError(file, `not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new TemplateError(file, 'must be a JSON object of message keys and ICU MessageFormat strings');
  }
  const entries: Entries = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!isMessageKey(key))
      throw new TemplateError(file, `unknown key "${key}" (the keys are English's, en.json)`);
    if (typeof value !== 'string') throw new TemplateError(file, `"${key}" must be a string`);
    entries[key] = value;
  }
  return entries;
}

function compile(file: string, key: MessageKey, source: string, locale: SupportedLocale): IntlMessageFormat {
  try {
    // ignoreTag: `<` and `>` are text here, not rich-text tags.
    return new IntlMessageFormat(source, locale, undefined, { ignoreTag: true });
  } catch (error) {
    throw new TemplateError(file, `"${key}" is not valid ICU MessageFormat (${(error as Error).message})`);
  }
}

/**
 * Every locale's catalogue: the shipped `<locale>.json`, with the entries of the same file in
 * `overridesDir` (TEMPLATES_DIR) over it, each compiled once. A message may use only the
 * arguments English's uses (formatting would fail on any other).
 */
export function loadCatalogues(overridesDir?: string): Catalogues {
  const layers = (locale: SupportedLocale) => {
    const override = overridesDir && path.join(overridesDir, `${locale}.json`);
    const files = [path.join(SHIPPED_TEMPLATES_DIR, `${locale}.json`)];
    if (override && existsSync(override)) files.push(override);
    return files.flatMap((file) =>
      Object.entries(readEntries(file)).map(([key, source]) => ({ file, key: key as MessageKey, source })),
    );
  };

  // The shipped English catalogue is complete: it says which arguments each message has.
  const shippedEnglish = path.join(SHIPPED_TEMPLATES_DIR, `${DEFAULT_LOCALE}.json`);
  const english = {} as Record<MessageKey, IntlMessageFormat>;
  for (const [key, source] of Object.entries(readEntries(shippedEnglish)) as [MessageKey, string][]) {
    english[key] = compile(shippedEnglish, key, source, DEFAULT_LOCALE);
  }
  const missing = MESSAGE_KEYS.filter((key) => !english[key]);
  if (missing.length > 0) throw new TemplateError(shippedEnglish, `missing ${missing.join(', ')}`);
  const allowed = Object.fromEntries(
    MESSAGE_KEYS.map((key) => [key, icuArguments(english[key].getAst())]),
  ) as Record<MessageKey, Set<string>>;

  const catalogues = {} as Record<SupportedLocale, Catalogue>;
  for (const locale of SUPPORTED_LOCALES) {
    const catalogue: Record<MessageKey, IntlMessageFormat> = { ...english };
    for (const { file, key, source } of layers(locale)) {
      const message = compile(file, key, source, locale);
      const unknown = [...icuArguments(message.getAst())].filter((name) => !allowed[key].has(name));
      if (unknown.length > 0) {
        const may = [...allowed[key]].map((name) => `{${name}}`).join(', ') || 'no arguments';
        throw new TemplateError(file, `"${key}" uses {${unknown.join('}, {')}}; it may use only ${may}`);
      }
      catalogue[key] = message;
    }
    catalogues[locale] = catalogue;
  }
  return catalogues;
}
