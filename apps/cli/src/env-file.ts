/**
 * Reading and writing `.env` files in the dialect `pnpm dev` reads (Node's own `process.loadEnvFile` /
 * `util.parseEnv`). Every write is checked by parsing it back, so a value that the parser would read
 * differently (a `#`, a quote, a space) is never written silently wrong.
 */
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseEnv } from 'node:util';

export type EnvValues = Record<string, string>;

/** A block of the file: a comment (one or more lines) and its variables, in order. */
export interface EnvSection {
  comment: string[];
  entries: [name: string, value: string][];
}

const SAFE_UNQUOTED = /^[A-Za-z0-9_@%+=:,./-]*$/;

/**
 * A value as the dotenv parser reads it back: bare when harmless, else single-quoted (literal in Node's
 * parser and in docker compose), else double-quoted. Node turns `\n` inside double quotes into a newline,
 * so a value needing double quotes must not contain one.
 */
export function quoteEnvValue(name: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new Error(`${name}: a value on several lines cannot be written to .env`);
  if (SAFE_UNQUOTED.test(value)) return value;
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes('"') && !value.includes('\\n')) return `"${value}"`;
  throw new Error(`${name}: a value with both kinds of quotes cannot be written to .env`);
}

export function parseEnvText(text: string): EnvValues {
  const parsed = parseEnv(text);
  return Object.fromEntries(
    Object.entries(parsed).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

export async function readEnvFile(file: string): Promise<{ text: string; values: EnvValues } | undefined> {
  if (!existsSync(file)) return undefined;
  const text = await readFile(file, 'utf8');
  return { text, values: parseEnvText(text) };
}

/** Throws naming the first variable that would not read back as written. */
function assertReadsBack(text: string, expected: EnvValues): void {
  const actual = parseEnvText(text);
  for (const [name, value] of Object.entries(expected)) {
    if (actual[name] !== value) throw new Error(`${name}: the value would not read back as written`);
  }
}

export function renderEnvFile(header: string[], sections: EnvSection[]): string {
  const blocks = [header.map((line) => `# ${line}`.trimEnd()).join('\n')];
  for (const section of sections) {
    if (section.entries.length === 0) continue;
    const lines = section.comment.map((line) => `# ${line}`.trimEnd());
    for (const [name, value] of section.entries) lines.push(`${name}=${quoteEnvValue(name, value)}`);
    blocks.push(lines.join('\n'));
  }
  const text = `${blocks.join('\n\n')}\n`;
  assertReadsBack(text, Object.fromEntries(sections.flatMap((section) => section.entries)));
  return text;
}

const ASSIGNMENT = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/;

/**
 * `text` with `values` set: every existing assignment of such a variable is replaced in place (the
 * parser lets the last one win, so all of them), the rest are appended; every other line is kept.
 */
export function upsertEnvText(text: string, values: EnvValues, appendComment: string): string {
  const pending = new Map(Object.entries(values));
  const lines = text.split(/\r?\n/).map((line) => {
    const name = ASSIGNMENT.exec(line)?.[1];
    if (name === undefined || !(name in values)) return line;
    pending.delete(name);
    return `${name}=${quoteEnvValue(name, values[name] ?? '')}`;
  });
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  if (pending.size > 0) {
    if (lines.length > 0) lines.push('');
    lines.push(`# ${appendComment}`);
    for (const [name, value] of pending) lines.push(`${name}=${quoteEnvValue(name, value)}`);
  }
  const updated = `${lines.join('\n')}\n`;
  // Nothing else may change meaning: compare every other variable before and after.
  const before = parseEnvText(text);
  for (const name of Object.keys(values)) delete before[name];
  assertReadsBack(updated, { ...before, ...values });
  return updated;
}

export interface WriteEnvResult {
  /** Where the previous file was copied, when there was one. */
  backup?: string;
}

/**
 * Writes `text` to `file` (creating its folder) readable by its owner only (it holds secrets), through
 * a temporary file and a rename so a crash never leaves half a file; an existing file is first copied
 * to `<file>.bak`.
 */
export async function writeEnvFile(file: string, text: string): Promise<WriteEnvResult> {
  let backup: string | undefined;
  if (existsSync(file)) {
    backup = `${file}.bak`;
    await copyFile(file, backup);
    await chmod(backup, 0o600);
  }
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.tmp-${process.pid}`;
  try {
    await writeFile(temporary, text, { mode: 0o600 });
    await rename(temporary, file);
  } finally {
    await rm(temporary, { force: true });
  }
  return backup === undefined ? {} : { backup };
}
