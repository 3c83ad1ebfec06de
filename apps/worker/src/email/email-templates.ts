import type { OtpMessage, OutgoingMessage } from '../delivery/message-sender.js';

/** The emails we send, each as a plain-text part and an HTML part that say the same thing. */

export type OtpEmailInput = Pick<OtpMessage, 'code' | 'validForMinutes'>;

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/** The email for any message: a code, or a registration notice. */
export function renderEmail(message: OutgoingMessage): RenderedEmail {
  return message.kind === 'otp' ? renderOtpEmail(message) : renderRegistrationNotice();
}

/** Greets no one by name: see OtpMessage for why no caller text goes into a code's message. */
export function renderOtpEmail({ code, validForMinutes }: OtpEmailInput): RenderedEmail {
  const minutes = `${validForMinutes} minute${validForMinutes === 1 ? '' : 's'}`;
  const subject = `${code} is your verification code`;
  const text = [
    'Hi,',
    '',
    `Your verification code is: ${code}`,
    '',
    `It expires in ${minutes}. Enter it on the sign-up page to finish creating your account.`,
    '',
    "If you didn't try to create an account, you can ignore this email: no account is created without the code.",
    'Never share this code with anyone; we will never ask you for it.',
  ].join('\n');

  const html = emailLayout(
    subject,
    `<p style="margin:0 0 16px;">Hi,</p>
          <p style="margin:0 0 16px;">Use this code to finish creating your account:</p>
          <p style="margin:0 0 16px;font-size:32px;line-height:40px;font-weight:700;letter-spacing:8px;font-family:'SFMono-Regular',Consolas,monospace;">${escapeHtml(code)}</p>
          <p style="margin:0 0 16px;">It expires in <strong>${minutes}</strong>.</p>
          <p style="margin:0 0 8px;color:#57606a;font-size:14px;line-height:20px;">If you didn't try to create an account, you can ignore this email: no account is created without the code.</p>
          <p style="margin:0;color:#57606a;font-size:14px;line-height:20px;">Never share this code with anyone; we will never ask you for it.</p>`,
  );
  return { subject, text, html };
}

/**
 * Sent instead of a code when someone registers with an address that already has an account:
 * the answer to the request is the same either way, so only the owner of the address learns it.
 */
export function renderRegistrationNotice(): RenderedEmail {
  const subject = 'Someone tried to create an account with your email address';
  const lines = [
    'Hi,',
    '',
    'Someone just tried to create a new account with this email address, but you already have an account with us.',
    '',
    'If it was you: sign in instead, or reset your password if you have forgotten it.',
    "If it wasn't you: you can ignore this email. Nothing has changed and no new account was created.",
  ];
  const html = emailLayout(
    subject,
    lines
      .filter((line) => line !== '')
      .map((line) => `<p style="margin:0 0 16px;">${escapeHtml(line)}</p>`)
      .join('\n          '),
  );
  return { subject, text: lines.join('\n'), html };
}

/** The frame every email shares: a centred card that renders in mail clients without CSS support. */
function emailLayout(subject: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(subject)}</title></head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1f2328;">
  <table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:32px 0;">
    <tr><td align="center">
      <table role="presentation" width="480" cellpadding="0" cellspacing="0" style="max-width:480px;width:100%;background:#ffffff;border-radius:8px;padding:32px;">
        <tr><td style="font-size:16px;line-height:24px;">
          ${body}
        </td></tr>
      </table>
    </td></tr>
  </table>
</body>
</html>`;
}
