// The .env writer: values read back exactly through Node's own parser (what pnpm dev uses), and
// updating one variable leaves every other line alone.
import { describe, expect, it } from 'vitest';
import { parseEnvText, quoteEnvValue, renderEnvFile, upsertEnvText } from '../src/env-file.js';

describe('.env writing', () => {
  it.each([
    'plain',
    'Shop <no-reply@shop.example>',
    'with # hash',
    "it's",
    'smtp://user:p%40ss@mail.example:587',
    '',
    'a "quoted" word',
  ])('writes %j so it reads back the same', (value) => {
    const text = renderEnvFile(['header'], [{ comment: ['section'], entries: [['VALUE', value]] }]);
    expect(parseEnvText(text).VALUE).toBe(value);
  });

  it('refuses what the format cannot carry', () => {
    expect(() => quoteEnvValue('X', 'two\nlines')).toThrow(/several lines/);
    expect(() => quoteEnvValue('X', `both ' and "`)).toThrow(/both kinds of quotes/);
  });

  it('replaces every assignment of a variable, appends new ones, and keeps the rest', () => {
    const text = '# comment\nA=1\nexport B=2 # note\nA=3\n\n';
    const updated = upsertEnvText(text, { A: 'new', C: 'added' }, 'Added by a test');
    expect(updated).toBe('# comment\nA=new\nexport B=2 # note\nA=new\n\n# Added by a test\nC=added\n');
    expect(parseEnvText(updated)).toEqual({ A: 'new', B: '2', C: 'added' });
  });
});
