import { describe, expect, it } from 'vitest';
import { renderOtpEmail, renderRegistrationNotice } from '../src/email/email-templates.js';

describe('renderOtpEmail', () => {
  const email = renderOtpEmail({ code: '042137', firstName: 'Ann', username: 'ann_k', validForMinutes: 10 });

  it('puts the code and its lifetime in both parts', () => {
    for (const part of [email.text, email.html]) {
      expect(part).toContain('042137');
      expect(part).toContain('10 minutes');
      expect(part).toMatch(/didn't try to create an account/);
    }
    expect(email.subject).toContain('042137');
  });

  it('names the account the code creates, in both parts', () => {
    expect(email.text).toContain('This code creates the account “ann_k”.');
    expect(email.html).toContain('This code creates the account <strong>“ann_k”</strong>.');
    expect(email.subject).toBe('042137 is your verification code');
  });

  it('escapes the name in HTML', () => {
    const hostile = renderOtpEmail({
      code: '1',
      firstName: '<script>x</script>',
      username: 'ann',
      validForMinutes: 1,
    });
    expect(hostile.html).not.toContain('<script>x');
    expect(hostile.text).toContain('1 minute.');
  });

  it('escapes the username in HTML, and leaves it as typed in the text', () => {
    const username = `<img src=x onerror="alert('&')">`;
    const hostile = renderOtpEmail({ code: '1', firstName: 'Ann', username, validForMinutes: 1 });
    expect(hostile.html).not.toContain('<img');
    expect(hostile.html).toContain('“&#60;img src=x onerror=&#34;alert(&#39;&#38;&#39;)&#34;&#62;”');
    expect(hostile.text).toContain(`This code creates the account “${username}”.`);
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
