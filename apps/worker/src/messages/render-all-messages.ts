import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SUPPORTED_LOCALES } from '@otp-relay/core';
import type { OtpMessage, RegistrationNoticeMessage } from '../delivery/message-sender.js';
import type { MessageRenderer } from './message-renderer.js';

/** What the review files show: a made-up code and the default lifetime. */
export const SAMPLE_CODE = '042137';
export const SAMPLE_MINUTES = 10;

/**
 * Every message in every locale, as files for people to review: per locale a folder with each
 * email's subject, text and HTML part, and the WhatsApp and SMS texts. Returns the files written.
 */
export async function renderAllMessages(messages: MessageRenderer, outDir: string): Promise<string[]> {
  const written: string[] = [];
  for (const locale of SUPPORTED_LOCALES) {
    const directory = path.join(outDir, locale);
    await mkdir(directory, { recursive: true });
    const otp: OtpMessage = {
      kind: 'otp',
      to: 'shopper@example.com',
      code: SAMPLE_CODE,
      validForMinutes: SAMPLE_MINUTES,
      locale,
    };
    const notice: RegistrationNoticeMessage = {
      kind: 'registration-notice',
      to: 'shopper@example.com',
      locale,
    };
    const files: Record<string, string> = {};
    for (const [name, message] of [
      ['code', otp],
      ['notice', notice],
    ] as const) {
      const email = messages.email(message);
      files[`${name}-email.subject.txt`] = `${email.subject}\n`;
      files[`${name}-email.txt`] = `${email.text}\n`;
      files[`${name}-email.html`] = email.html;
      files[`whatsapp-${name}.txt`] = `${messages.whatsapp(message)}\n`;
      files[`sms-${name}.txt`] = `${messages.sms(message)}\n`;
    }
    for (const [name, content] of Object.entries(files)) {
      const file = path.join(directory, name);
      await writeFile(file, content);
      written.push(file);
    }
  }
  return written;
}
