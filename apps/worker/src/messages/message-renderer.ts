import { DEFAULT_LOCALE, type SupportedLocale } from '@otp-relay/core';
import type { OtpMessage, OutgoingMessage } from '../delivery/message-sender.js';
import type { Brand } from './brand.js';
import { type EmailHtml, fillEmailHtml } from './email-layouts.js';
import type { Catalogues } from './load-catalogues.js';
import { isMessageKey, type MessageKey, type MessageValues } from './message-keys.js';

/** An email as both parts say it. */
export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/** Each locale's compiled email HTML, by kind of message. */
export type EmailHtmls = Readonly<
  Record<SupportedLocale, Readonly<Record<OutgoingMessage['kind'], EmailHtml>>>
>;

/** Every message the worker sends, in the message's locale and the shop's brand. */
export interface MessageRenderer {
  email(message: OutgoingMessage): RenderedEmail;
  /** Free-form WhatsApp text (when no approved template is set for the locale). */
  whatsapp(message: OutgoingMessage): string;
  sms(message: OutgoingMessage): string;
}

export function createMessageRenderer(
  catalogues: Catalogues,
  emailHtmls: EmailHtmls,
  brand: Brand,
): MessageRenderer {
  const localeOf = (message: OutgoingMessage) => message.locale ?? DEFAULT_LOCALE;
  const format = (locale: SupportedLocale, key: MessageKey, values: MessageValues = {}) =>
    String(
      catalogues[locale][key].format({ brand: brand.name ?? '', url: brand.supportUrl ?? '', ...values }),
    );
  // With a brand name, a subject or phone text says whose it is ("Shop: …"), as the locale puts it.
  const branded = (locale: SupportedLocale, text: string) =>
    brand.name ? format(locale, 'branded', { text }) : text;
  const codeValues = (message: OtpMessage): MessageValues => ({
    code: message.code,
    minutes: message.validForMinutes,
  });

  /** A catalogue text that a template uses with per-message values; nothing for a value the kind lacks. */
  const slotText = (locale: SupportedLocale, slot: string, values: MessageValues) =>
    isMessageKey(slot) ? format(locale, slot, { code: '', minutes: 0, ...values }) : '';

  /** The text part's closing lines: who sent it, and where to get help. */
  const footerLines = (locale: SupportedLocale) => [
    ...(brand.name ? ['', format(locale, 'email.footer.sentBy')] : []),
    ...(brand.supportUrl ? ['', format(locale, 'email.footer.supportText')] : []),
  ];

  function codeEmail(message: OtpMessage): RenderedEmail {
    const locale = localeOf(message);
    const values = codeValues(message);
    const subject = branded(locale, format(locale, 'email.code.subject', values));
    const expiry = format(locale, 'email.code.expiry', values);
    const text = [
      format(locale, 'email.greeting'),
      '',
      format(locale, 'email.code.textLine', values),
      '',
      `${expiry} ${format(locale, 'email.code.enterIt')}`,
      '',
      format(locale, 'email.code.ignore'),
      format(locale, 'email.code.neverShare'),
      ...footerLines(locale),
    ].join('\n');
    const html = fillEmailHtml(emailHtmls[locale].otp, (slot) =>
      slot === 'subject' ? subject : slot === 'code' ? message.code : slotText(locale, slot, values),
    );
    return { subject, text, html };
  }

  function noticeEmail(locale: SupportedLocale): RenderedEmail {
    const text = [
      format(locale, 'email.greeting'),
      '',
      format(locale, 'email.notice.attempt'),
      '',
      format(locale, 'email.notice.ifYou'),
      format(locale, 'email.notice.ifNotYou'),
      ...footerLines(locale),
    ].join('\n');
    const subject = branded(locale, format(locale, 'email.notice.subject'));
    const html = fillEmailHtml(emailHtmls[locale]['registration-notice'], (slot) =>
      slot === 'subject' ? subject : slotText(locale, slot, {}),
    );
    return { subject, text, html };
  }

  /** WhatsApp's and SMS's texts: the same messages under each channel's own keys. */
  function shortText(channel: 'whatsapp' | 'sms', message: OutgoingMessage): string {
    const locale = localeOf(message);
    return branded(
      locale,
      message.kind === 'otp'
        ? format(locale, `${channel}.code`, codeValues(message))
        : format(locale, `${channel}.notice`),
    );
  }

  return {
    email: (message) => (message.kind === 'otp' ? codeEmail(message) : noticeEmail(localeOf(message))),
    whatsapp: (message) => shortText('whatsapp', message),
    sms: (message) => shortText('sms', message),
  };
}
