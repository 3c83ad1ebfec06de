import { describe, expect, it } from 'vitest';
import { renderOtpEmail, renderRegistrationNotice } from '../src/email/email-templates.js';

describe('renderOtpEmail', () => {
  const email = renderOtpEmail({ code: '042137', firstName: 'Ann', validForMinutes: 10 });

  it('puts the code and its lifetime in both parts', () => {
    for (const part of [email.text, email.html]) {
      expect(part).toContain('042137');
      expect(part).toContain('10 minutes');
      expect(part).toMatch(/didn't try to create an account/);
    }
    expect(email.subject).toContain('042137');
  });

  it('escapes the name in HTML', () => {
    const hostile = renderOtpEmail({ code: '1', firstName: '<script>x</script>', validForMinutes: 1 });
    expect(hostile.html).not.toContain('<script>x');
    expect(hostile.text).toContain('1 minute.');
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
