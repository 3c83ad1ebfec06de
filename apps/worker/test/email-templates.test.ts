import { describe, expect, it } from 'vitest';
import { renderOtpEmail } from '../src/email/email-templates.js';

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
