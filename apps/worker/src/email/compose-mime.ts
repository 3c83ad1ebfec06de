import MailComposer from 'nodemailer/lib/mail-composer';
import type { RenderedEmail } from '../messages/message-renderer.js';

/** The RFC 5322 message, built by nodemailer's MailComposer (multipart/alternative: text + HTML). */
export function composeMime(from: string, to: string, email: RenderedEmail): Promise<Buffer> {
  return new MailComposer({ from, to, subject: email.subject, text: email.text, html: email.html })
    .compile()
    .build();
}
