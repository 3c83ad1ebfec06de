import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The migrations folder as the migrator needs to know it: each migration's tag and timestamp (the
 * `created_at` drizzle records in its journal), and which tables, types and sequences the
 * migrations had made by any point, read from their SQL so a new migration needs no list kept by
 * hand.
 */

export type ObjectKind = 'table' | 'type' | 'sequence';

export interface MigrationEntry {
  tag: string;
  /** drizzle's `folderMillis`: the `created_at` of its journal row. */
  when: number;
  /** Its statements, without comments. */
  sql: string;
}

export interface OurObjects {
  tables: string[];
  types: string[];
  sequences: string[];
}

interface JournalFile {
  entries: { tag: string; when: number }[];
}

export function readMigrationEntries(folder: string): MigrationEntry[] {
  const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as JournalFile;
  return journal.entries.map(({ tag, when }) => ({
    tag,
    when,
    // Comments dropped: prose such as "-- drop table …" is not a statement.
    sql: readFileSync(join(folder, `${tag}.sql`), 'utf8').replace(/--[^\n]*/g, ''),
  }));
}

// An identifier as migrations write it: "quoted" (kept as is) or bare (folded to lower case).
const NAME = `("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const QUALIFIED = String.raw`(?:${NAME}\s*\.\s*)?${NAME}`;
const KIND = '(TABLE|TYPE|SEQUENCE)';
const STATEMENT = new RegExp(
  [
    String.raw`\b(CREATE|DROP)\s+(?:UNLOGGED\s+)?${KIND}\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?${QUALIFIED}`,
    String.raw`\bALTER\s+${KIND}\s+(?:IF\s+EXISTS\s+)?${QUALIFIED}\s+RENAME\s+TO\s+${NAME}`,
  ].join('|'),
  'gi',
);

function identifier(written: string | undefined): string {
  if (!written) return '';
  return written.startsWith('"') ? written.slice(1, -1).replaceAll('""', '"') : written.toLowerCase();
}

/**
 * The tables, types and sequences that exist after the migrations up to `untilWhen` (all when
 * omitted), by replaying their CREATE, DROP and RENAME TO statements. Indexes and constraints are
 * left out: they follow their table.
 */
export function ourObjects(
  entries: readonly MigrationEntry[],
  untilWhen = Number.POSITIVE_INFINITY,
): OurObjects {
  const live: Record<ObjectKind, Set<string>> = { table: new Set(), type: new Set(), sequence: new Set() };
  for (const entry of entries) {
    if (entry.when > untilWhen) break;
    for (const match of entry.sql.matchAll(STATEMENT)) {
      const [, verb, createKind, , createName, alterKind, , alterName, newName] = match;
      if (verb) {
        const names = live[(createKind ?? '').toLowerCase() as ObjectKind];
        if (verb.toUpperCase() === 'CREATE') names.add(identifier(createName));
        else names.delete(identifier(createName));
      } else {
        const names = live[(alterKind ?? '').toLowerCase() as ObjectKind];
        if (names.delete(identifier(alterName))) names.add(identifier(newName));
      }
    }
  }
  const sorted = (names: Set<string>) => [...names].sort();
  return { tables: sorted(live.table), types: sorted(live.type), sequences: sorted(live.sequence) };
}

/** Every table, type and sequence any of the migrations ever made, under any of its names. */
export function everyObjectName(entries: readonly MigrationEntry[]): Set<string> {
  const names = new Set<string>();
  for (const entry of entries) {
    for (const match of entry.sql.matchAll(STATEMENT)) {
      for (const written of [match[4], match[7], match[8]]) if (written) names.add(identifier(written));
    }
  }
  return names;
}
