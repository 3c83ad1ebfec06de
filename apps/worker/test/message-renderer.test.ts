import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SUPPORTED_LOCALES } from '@otp-relay/core';
import { describe, expect, it } from 'vitest';
import type { OtpMessage, RegistrationNoticeMessage } from '../src/delivery/message-sender.js';
import type { Brand } from '../src/messages/brand.js';
import { loadMessages, shippedMessages } from '../src/messages/load-messages.js';
import { renderAllMessages } from '../src/messages/render-all-messages.js';
import { TemplateError } from '../src/messages/template-error.js';

const otp: OtpMessage = { kind: 'otp', to: 'ann@example.com', code: '042137', validForMinutes: 10 };
const notice: RegistrationNoticeMessage = { kind: 'registration-notice', to: 'ann@example.com' };
const brand: Brand = {
  name: 'Acme & Sons',
  logoUrl: 'https://cdn.acme.example/logo.png',
  color: '#c0ffee',
  supportUrl: 'https://acme.example/help?from=otp&x=1',
};
const tempDir = () => mkdtempSync(path.join(tmpdir(), 'otp-templates-'));

describe('the code email', () => {
  it('puts the code and its lifetime in both parts, and the code in the subject', async () => {
    const email = (await shippedMessages()).email(otp);
    for (const part of [email.text, email.html]) {
      expect(part).toContain('042137');
      expect(part).toContain('10 minutes');
      expect(part).toMatch(/didn(&#39;|')t try to create an account/);
    }
    expect(email.subject).toBe('042137 is your verification code');
    expect(email.text).toContain('Your verification code is: 042137');
    expect(email.html).toMatch(/<html lang="en" dir="ltr"/);
    expect(email.html).toContain('<title>042137 is your verification code</title>');
  });

  it('greets no one by name: before verification nothing the caller typed goes out', async () => {
    const email = (await shippedMessages()).email(otp);
    expect(email.text.startsWith('Hi,\n')).toBe(true);
  });

  it('says the minutes in each language’s plural forms', async () => {
    const messages = await shippedMessages();
    const text = (minutes: number, locale: OtpMessage['locale']) =>
      messages.email({ ...otp, validForMinutes: minutes, locale }).text;
    expect(text(1, 'en')).toContain('It expires in 1 minute.');
    expect(text(10, 'en')).toContain('It expires in 10 minutes.');
    expect(text(2, 'pl')).toContain('za 2 minuty');
    expect(text(5, 'pl')).toContain('za 5 minut');
    expect(text(1, 'pl')).toContain('za 1 minutę');
    expect(text(2, 'ar')).toContain('دقيقتين');
    expect(text(10, 'ar')).toContain('10 دقائق');
    expect(text(10, 'ja')).toContain('10分');
  });

  it('escapes what it is given in the HTML part (a code is digits today, but the HTML does not rely on it)', async () => {
    const email = (await shippedMessages()).email({ ...otp, code: '<img src=x onerror=alert(1)>' });
    expect(email.html).not.toContain('<img src=x');
    expect(email.html).toContain('&#60;img src=x onerror=alert(1)&#62;');
    expect(email.text).toContain('<img src=x onerror=alert(1)>');
  });

  it('is Arabic and right to left for ar, the code in both parts', async () => {
    const email = (await shippedMessages()).email({ ...otp, locale: 'ar' });
    expect(email.html).toMatch(/<html lang="ar" dir="rtl"/);
    expect(email.html).toContain('direction:rtl');
    expect(email.html).toContain('text-align:right');
    expect(email.subject).toBe('042137 هو رمز التحقق الخاص بك');
    for (const part of [email.text, email.html]) {
      expect(part).toContain('042137');
      expect(part).toContain('رمز التحقق');
    }
  });

  it.each(SUPPORTED_LOCALES)(
    '%s: both emails carry the code (or none) and the language tag',
    async (locale) => {
      const messages = await shippedMessages();
      const code = messages.email({ ...otp, locale });
      expect(code.html).toContain(`lang="${locale}"`);
      expect(code.text).toContain('042137');
      expect(code.html).toContain('042137');
      expect(code.html).not.toMatch(/@@slot|\{\{/);
      const warning = messages.email({ ...notice, locale });
      expect(warning.html).not.toMatch(/@@slot|\{\{|\d{6}/);
      expect(warning.text.length).toBeGreaterThan(50);
    },
  );
});

describe('the brand', () => {
  it('appears in every message kind: email subject, text, HTML (logo, colour, support link), WhatsApp, SMS', async () => {
    const messages = await loadMessages({ brand });
    for (const message of [otp, notice]) {
      const email = messages.email(message);
      expect(email.subject.startsWith('Acme & Sons: ')).toBe(true);
      expect(email.text).toContain('This email was sent by Acme & Sons.');
      expect(email.text).toContain('Need help? Contact support: https://acme.example/help?from=otp&x=1');
      expect(email.html).toContain('src="https://cdn.acme.example/logo.png"');
      expect(email.html).toContain('alt="Acme &#38; Sons"');
      expect(email.html).toContain('#c0ffee');
      expect(email.html).toContain('href="https://acme.example/help?from=otp&#38;x=1"');
      expect(email.html).toContain('Contact support');
      expect(email.html).not.toContain('Acme & Sons');
      expect(messages.whatsapp(message).startsWith('Acme & Sons: ')).toBe(true);
      expect(messages.sms(message).startsWith('Acme & Sons: ')).toBe(true);
    }
    expect(messages.sms({ ...otp, locale: 'ja' })).toMatch(/^【Acme & Sons】認証コード/);
  });

  it('shows the name where there is no logo, and nothing of a brand where none is set', async () => {
    const named = (await loadMessages({ brand: { name: 'Acme', color: '#123456' } })).email(otp);
    expect(named.html).toMatch(/>\s*Acme\s*</);
    expect(named.html).not.toContain('<img');
    const neutral = (await shippedMessages()).email(otp);
    expect(neutral.text).not.toMatch(/sent by|support/i);
    expect(neutral.html).not.toMatch(/<img|sent by|Contact support/);
    expect((await shippedMessages()).sms(otp)).toMatch(/^042137 is your/);
  });
});

describe('TEMPLATES_DIR', () => {
  it('merges a partial catalogue over the shipped one, key by key', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'es.json'), JSON.stringify({ 'email.code.subject': 'Tu código: {code}' }));
    const messages = await loadMessages({ brand: { color: '#123456' }, templatesDir: dir });
    const email = messages.email({ ...otp, locale: 'es' });
    expect(email.subject).toBe('Tu código: 042137');
    expect(email.html).toContain('<title>Tu código: 042137</title>');
    expect(email.text).toContain('Tu código de verificación es: 042137');
    expect(messages.email(otp).subject).toBe('042137 is your verification code');
  });

  it('replaces an MJML template of the same name', async () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'notice-email.mjml'),
      '<mj-text>{{t.email.notice.attempt}} (shop template)</mj-text>\n',
    );
    const messages = await loadMessages({ brand: { color: '#123456' }, templatesDir: dir });
    expect(messages.email(notice).html).toContain('(shop template)');
    expect(messages.email(otp).html).not.toContain('(shop template)');
  });

  const refusal = async (files: Record<string, string>) => {
    const dir = tempDir();
    for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
    const error = await loadMessages({ brand: { color: '#123456' }, templatesDir: dir }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TemplateError);
    return { dir, message: (error as TemplateError).message };
  };

  it('refuses at start-up what it cannot use, naming the file', async () => {
    const unknownKey = await refusal({ 'fr.json': '{"email.code.subjet": "x"}' });
    expect(unknownKey.message).toMatch(/fr\.json: unknown key "email\.code\.subjet"/);
    expect(unknownKey.message).toContain(unknownKey.dir);
    expect((await refusal({ 'de.json': '{"sms.code": "{code, plural, one {"}' })).message).toMatch(
      /de\.json: "sms\.code" is not valid ICU MessageFormat/,
    );
    expect((await refusal({ 'it.json': '{"sms.code": "{codice}"}' })).message).toMatch(
      /it\.json: "sms\.code" uses \{codice\}/,
    );
    expect((await refusal({ 'nl.json': '{not json' })).message).toMatch(/nl\.json: not valid JSON/);
    expect((await refusal({ 'es-ES.json': '{}' })).message).toMatch(/es-ES\.json: not a template file/);
    expect(
      (await refusal({ 'code-email.mjml': '<mj-text>{{t.email.code.intro}</mj-text>' })).message,
    ).toMatch(/code-email\.mjml: not a valid Mustache template/);
    expect((await refusal({ 'code-email.mjml': '<mj-text>{{kode}}</mj-text>' })).message).toMatch(
      /code-email\.mjml: unknown name \{\{kode\}\}/,
    );
    expect((await refusal({ 'notice-email.mjml': '<mj-txt>broken</mj-txt>' })).message).toMatch(
      /notice-email\.mjml: not valid MJML/,
    );
  });
});

describe('messages:render', () => {
  it('writes every message in every locale', async () => {
    const out = tempDir();
    const files = await renderAllMessages(await loadMessages({ brand }), out);
    expect(readdirSync(out).sort()).toEqual([...SUPPORTED_LOCALES].sort());
    expect(files).toHaveLength(SUPPORTED_LOCALES.length * 10);
    expect(readFileSync(path.join(out, 'ar', 'code-email.html'), 'utf8')).toMatch(/dir="rtl"/);
    expect(readFileSync(path.join(out, 'ja', 'sms-code.txt'), 'utf8')).toContain('042137');
  });

  it('runs as a command, with the brand and TEMPLATES_DIR from the environment', () => {
    const out = tempDir();
    const templates = tempDir();
    writeFileSync(
      path.join(templates, 'de.json'),
      JSON.stringify({ 'sms.code': 'Code {code} ({minutes} Min.)' }),
    );
    const render = (env: NodeJS.ProcessEnv) =>
      spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          '--conditions=@otp-relay/source',
          'apps/worker/src/messages-render-cli.ts',
          '--out',
          out,
        ],
        {
          cwd: fileURLToPath(new URL('../../../', import.meta.url)),
          env: { ...process.env, ...env },
          encoding: 'utf8',
        },
      );
    const run = render({ BRAND_NAME: 'Acme', TEMPLATES_DIR: templates });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Wrote ${SUPPORTED_LOCALES.length * 10} files to ${out}`);
    expect(readFileSync(path.join(out, 'de', 'sms-code.txt'), 'utf8')).toBe('Acme: Code 042137 (10 Min.)\n');
    const refused = render({ BRAND_COLOR: 'red' });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/BRAND_COLOR/);
  });
});
