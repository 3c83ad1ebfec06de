import { describe, expect, it } from 'vitest';
import { renderOtpEmail, renderRegistrationNotice } from '../src/email/email-templates.js';

describe('renderOtpEmail', () => {
  const email = renderOtpEmail({ code: '042137', validForMinutes: 10 });

  it('puts the code and its lifetime in both parts', () => {
    for (const part of [email.text, email.html]) {
      expect(part).toContain('042137');
      expect(part).toContain('10 minutes');
      expect(part).toMatch(/didn't try to create an account/);
    }
    expect(email.subject).toBe('042137 is your verification code');
    expect(renderOtpEmail({ code: '1', validForMinutes: 1 }).text).toContain('1 minute.');
  });

  it('greets no one by name: before verification nothing the caller typed goes out', () => {
    expect(email.text.startsWith('Hi,\n')).toBe(true);
    expect(email.html).toContain('<p style="margin:0 0 16px;">Hi,</p>');
    expect(email.text).not.toMatch(/account “/);
  });
});

describe('renderRegistrationNotice', () => {
  it('tells the owner someone tried to register, in both parts, with no code', () => {
    const notice = renderRegistrationNotice();
    expect(notice.subject).toBe('Someone tried to create an account with your email address');
    for (const part of [notice.text, notice.html]) {
      expect(part).toMatch(/already have an account/);
      expect(part).toMatch(/you can ignore this email/);
    }
    expect(notice.text).not.toMatch(/\d/);
  });
});
