import MailComposer from 'nodemailer/lib/mail-composer';
import type { RenderedEmail } from './otp-email.js';

export interface OutgoingEmail extends RenderedEmail {
  to: string;
}

export interface SendResult {
  provider: string;
  providerMessageId: string;
}

/** A way to send an email. Each implementation classifies its failures as `DeliveryError`s. */
export interface EmailSender {
  readonly provider: string;
  send(email: OutgoingEmail): Promise<SendResult>;
}

/**
 * A failed send. `retryable` says whether trying again later can succeed (network, timeout, 5xx,
 * 429) or cannot (bad recipient, bad credentials): the worker retries only the former.
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DeliveryError';
  }
}

/** RFC 5322 message built by nodemailer's MailComposer (multipart/alternative: text + HTML). */
export async function composeMime(from: string, email: OutgoingEmail): Promise<Buffer> {
  return new MailComposer({
    from,
    to: email.to,
    subject: email.subject,
    text: email.text,
    html: email.html,
  })
    .compile()
    .build();
}
