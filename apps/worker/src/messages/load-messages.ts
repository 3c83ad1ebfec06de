import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { SUPPORTED_LOCALES } from '@otp-relay/core';
import type { OutgoingMessage } from '../delivery/message-sender.js';
import type { Brand } from './brand.js';
import { checkEmailTemplates, compileEmailHtml, type EmailTemplateSource } from './email-layouts.js';
import { loadCatalogues } from './load-catalogues.js';
import { createMessageRenderer, type EmailHtmls, type MessageRenderer } from './message-renderer.js';
import { EMAIL_TEMPLATE_FILES, SHIPPED_TEMPLATES_DIR } from './shipped-templates.js';
import { TemplateError } from './template-error.js';

export interface MessageSettings {
  brand: Brand;
  /** TEMPLATES_DIR: catalogue entries and MJML templates that replace the shipped ones. */
  templatesDir?: string | undefined;
}

const TEMPLATE_FILE_NAMES: ReadonlySet<string> = new Set([
  ...SUPPORTED_LOCALES.map((locale) => `${locale}.json`),
  ...Object.values(EMAIL_TEMPLATE_FILES),
]);

/** The overrides folder exists and holds nothing but files we read (a misnamed file would be ignored). */
function checkOverridesDir(directory: string) {
  if (!existsSync(directory) || !statSync(directory).isDirectory()) {
    throw new TemplateError(directory, 'TEMPLATES_DIR is not a folder');
  }
  for (const name of readdirSync(directory)) {
    if (name.startsWith('.')) continue;
    if (!TEMPLATE_FILE_NAMES.has(name)) {
      throw new TemplateError(
        path.join(directory, name),
        `not a template file: expected <locale>.json (${SUPPORTED_LOCALES.join(', ')}) or ` +
          `${Object.values(EMAIL_TEMPLATE_FILES).join(', ')}`,
      );
    }
  }
}

function readTemplate(name: string, overridesDir: string | undefined): EmailTemplateSource {
  const override = overridesDir && path.join(overridesDir, name);
  const file = override && existsSync(override) ? override : path.join(SHIPPED_TEMPLATES_DIR, name);
  return { file, source: readFileSync(file, 'utf8') };
}

/**
 * Everything the worker says, ready to send: catalogues compiled, email HTML built for every
 * locale and kind. Run once at start-up; a TemplateError names the file that is wrong.
 */
export async function loadMessages(settings: MessageSettings): Promise<MessageRenderer> {
  const { brand, templatesDir } = settings;
  if (templatesDir) checkOverridesDir(templatesDir);
  const catalogues = loadCatalogues(templatesDir);
  const layout = readTemplate(EMAIL_TEMPLATE_FILES.layout, templatesDir);
  const bodies = {
    otp: readTemplate(EMAIL_TEMPLATE_FILES.otp, templatesDir),
    'registration-notice': readTemplate(EMAIL_TEMPLATE_FILES['registration-notice'], templatesDir),
  } satisfies Record<OutgoingMessage['kind'], EmailTemplateSource>;
  checkEmailTemplates(layout, Object.values(bodies));

  const compiled = await Promise.all(
    SUPPORTED_LOCALES.map(async (locale) => {
      const catalogue = catalogues[locale];
      const [otp, notice] = await Promise.all([
        compileEmailHtml({ locale, catalogue, brand, layout, body: bodies.otp }),
        compileEmailHtml({ locale, catalogue, brand, layout, body: bodies['registration-notice'] }),
      ]);
      return [locale, { otp, 'registration-notice': notice }] as const;
    }),
  );
  const emailHtmls = Object.fromEntries(compiled) as EmailHtmls;
  return createMessageRenderer(catalogues, emailHtmls, brand);
}

let shipped: Promise<MessageRenderer> | undefined;

/** The shipped messages without a brand: for senders made on their own (tests, one-off checks). */
export function shippedMessages(): Promise<MessageRenderer> {
  shipped ??= loadMessages({ brand: { color: '#1f6feb' } });
  return shipped;
}
