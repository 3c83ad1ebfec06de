import { describe, expect, it } from 'vitest';
import { mailboxKey } from '../src/registration/contact-keys.js';

describe('mailboxKey', () => {
  it('lower-cases the whole address', () => {
    expect(mailboxKey('Jane.Doe@Example.COM')).toBe('jane.doe@example.com');
  });

  it('trims surrounding spaces', () => {
    expect(mailboxKey('  jane@example.com  ')).toBe('jane@example.com');
  });

  it('drops a +tag', () => {
    expect(mailboxKey('jane+shop@example.com')).toBe('jane@example.com');
    expect(mailboxKey('jane+shop+more@example.com')).toBe('jane@example.com');
  });

  it('keeps a local part that starts with +', () => {
    expect(mailboxKey('+jane@example.com')).toBe('+jane@example.com');
  });

  it('drops the dots of a Gmail local part', () => {
    expect(mailboxKey('j.a.n.e@gmail.com')).toBe('jane@gmail.com');
  });

  it('reads googlemail.com as gmail.com', () => {
    expect(mailboxKey('jane@googlemail.com')).toBe('jane@gmail.com');
  });

  it('keeps the dots for other domains', () => {
    expect(mailboxKey('j.a.n.e@example.com')).toBe('j.a.n.e@example.com');
    expect(mailboxKey('j.a.n.e@mail.gmail.com.example')).toBe('j.a.n.e@mail.gmail.com.example');
  });

  it('puts every rule together: A.B+shop@GoogleMail.com is ab@gmail.com', () => {
    expect(mailboxKey('A.B+shop@GoogleMail.com')).toBe('ab@gmail.com');
    expect(mailboxKey(' A.B+shop@GoogleMail.com ')).toBe(mailboxKey('ab@gmail.com'));
  });
});
