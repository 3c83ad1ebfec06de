import { isRightToLeft, type SupportedLocale } from '@otp-relay/core';
import mjml2html from 'mjml';
import Mustache from 'mustache';
import type { Brand } from './brand.js';
import { escapeHtml } from './escape-html.js';
import { icuArguments } from './icu-arguments.js';
import type { Catalogue } from './load-catalogues.js';
import { MESSAGE_KEYS, type MessageKey, PER_MESSAGE_ARGUMENTS } from './message-keys.js';
import { TemplateError } from './template-error.js';

/**
 * Email HTML, made once per locale at start-up: the MJML template is a Mustache template whose
 * view holds the brand and every catalogue text that is the same for each message (formatted and
 * escaped now). What changes per message (the code, the subject, texts with {code} or {minutes})
 * goes through as a slot marker; the compiled HTML is cut at the markers, so a message costs a
 * join of escaped values, never a compile.
 */

export interface EmailTemplateSource {
  file: string;
  source: string;
}

/** HTML cut at its slots: `parts` alternate text and slot names, text first and last. */
export interface EmailHtml {
  parts: readonly string[];
}

const SLOT = (name: string) => `@@slot:${name}@@`;
const SLOT_PATTERN = /@@slot:([A-Za-z.]+)@@/;

/** The HTML of one message: each slot's (`code`, `subject` or a catalogue key's) value, escaped, in its place. */
export function fillEmailHtml(html: EmailHtml, slotValue: (slot: string) => string): string {
  let out = '';
  html.parts.forEach((part, index) => {
    out += index % 2 === 0 ? part : escapeHtml(slotValue(part));
  });
  return out;
}

/** The catalogue as a Mustache view under `t` (`{{t.email.code.intro}}`), keys split at dots. */
function catalogueView(catalogue: Catalogue, brand: Brand): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const key of MESSAGE_KEYS) {
    const message = catalogue[key];
    const perMessage = [...icuArguments(message.getAst())].some((name) => PER_MESSAGE_ARGUMENTS.has(name));
    const value = perMessage
      ? SLOT(key)
      : String(message.format({ brand: brand.name ?? '', url: brand.supportUrl ?? '', text: '' }));
    const path = key.split('.');
    let node = view;
    for (const segment of path.slice(0, -1)) {
      node[segment] ??= {};
      node = node[segment] as Record<string, unknown>;
    }
    node[path.at(-1) as string] = value;
  }
  return view;
}

/** The names a template may use: anything else is a typo that would render as nothing. */
const VIEW_NAMES = new Set([
  'lang',
  'dir',
  'align',
  'subject',
  'code',
  'footer',
  'brand.name',
  'brand.logoUrl',
  'brand.color',
  'brand.supportUrl',
  ...MESSAGE_KEYS.map((key: MessageKey) => `t.${key}`),
]);

/** Mustache's tokens: [type, name or text, start, end, children?]. */
type Token = [string, string, number, number, Token[]?];

function checkNames(template: EmailTemplateSource, partials: string[]) {
  let tokens: Token[];
  try {
    tokens = Mustache.parse(template.source) as Token[];
  } catch (error) {
    throw new TemplateError(template.file, `not a valid Mustache template (${(error as Error).message})`);
  }
  const visit = (list: Token[]) => {
    for (const [type, name, , , children] of list) {
      if (type === '>' && !partials.includes(name)) {
        throw new TemplateError(template.file, `unknown partial {{> ${name}}}`);
      }
      if (['name', '&', '#', '^'].includes(type) && !VIEW_NAMES.has(name)) {
        throw new TemplateError(template.file, `unknown name {{${name}}}`);
      }
      if (children) visit(children);
    }
  };
  visit(tokens);
}

/** Checks a layout and a body template's names before any locale is compiled. */
export function checkEmailTemplates(layout: EmailTemplateSource, bodies: EmailTemplateSource[]) {
  checkNames(layout, ['content']);
  for (const body of bodies) checkNames(body, []);
}

/**
 * One email kind in one locale: the layout with the kind's body as its `content` partial,
 * rendered with the locale's view, compiled by MJML (strict: an invalid document is an error).
 */
export async function compileEmailHtml(options: {
  locale: SupportedLocale;
  catalogue: Catalogue;
  brand: Brand;
  layout: EmailTemplateSource;
  body: EmailTemplateSource;
}): Promise<EmailHtml> {
  const { locale, brand } = options;
  const rtl = isRightToLeft(locale);
  const view = {
    lang: locale,
    dir: rtl ? 'rtl' : 'ltr',
    align: rtl ? 'right' : 'left',
    subject: SLOT('subject'),
    code: SLOT('code'),
    footer: Boolean(brand.name || brand.supportUrl),
    brand,
    t: catalogueView(options.catalogue, brand),
  };
  const mjml = Mustache.render(
    options.layout.source,
    view,
    { content: options.body.source },
    { escape: escapeHtml },
  );
  let result: Awaited<ReturnType<typeof mjml2html>>;
  try {
    result = await mjml2html(mjml, { validationLevel: 'strict', keepComments: false });
  } catch (error) {
    throw new TemplateError(
      `${options.layout.file} + ${options.body.file}`,
      `not valid MJML (${(error as Error).message})`,
    );
  }
  return { parts: result.html.split(new RegExp(SLOT_PATTERN.source, 'g')) };
}
