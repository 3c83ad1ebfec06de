import type postgres from 'postgres';
import { everyObjectName, type MigrationEntry, ourObjects } from './migration-files.js';
import { migrationLockKey } from './migration-lock.js';

/**
 * Versions before DATABASE_SCHEMA kept their tables in `public` and drizzle's journal in
 * `drizzle.__drizzle_migrations`. The migrator moves such an install into the configured schema
 * before migrating, once, and never touches objects that are not ours.
 */

export const LEGACY_SCHEMA = 'public';
const LEGACY_JOURNAL = { schema: 'drizzle', table: '__drizzle_migrations' } as const;

/** Stopped before anything changed: the database needs a person's decision. */
export class MigrationRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationRefusedError';
  }
}

export interface PublicInstallMove {
  tables: string[];
  types: string[];
  sequences: string[];
  /** Rows of drizzle's old journal copied to the schema's own. */
  journalRows: number;
}

type Sql = postgres.Sql | postgres.TransactionSql;

/**
 * Moves an install found in `public` into `schema` (which must exist, with its journal table), in
 * one transaction: the tables (their indexes, constraints and owned sequences follow), types and
 * sequences, and our rows of the old journal copied to the new one (the old rows stay, so an old
 * version's migrator started by mistake finds nothing to do rather than building empty tables in
 * public). Returns undefined when there is nothing to move. Run it under the migration lock.
 */
export async function movePublicInstall(
  sql: postgres.Sql,
  schema: string,
  journalTable: string,
  entries: readonly MigrationEntry[],
  log: (message: string) => void,
): Promise<PublicInstallMove | undefined> {
  return sql.begin(async (tx) => {
    // Migrators of two schemas may both find the install in public: one moves it, the other then
    // finds public empty.
    await tx`SELECT pg_advisory_xact_lock(${migrationLockKey(LEGACY_SCHEMA)}::bigint)`;
    const journalRows = await legacyJournalRows(tx, entries);
    const lastWhen = journalRows.at(-1)?.when;
    if (lastWhen === undefined) return undefined;

    // What that install had made by its last migration, and what of it public holds.
    const expected = ourObjects(entries, lastWhen);
    const found = {
      tables: await existingRelations(tx, LEGACY_SCHEMA, expected.tables, ['r', 'p']),
      types: await existingTypes(tx, LEGACY_SCHEMA, expected.types),
      sequences: await existingRelations(tx, LEGACY_SCHEMA, expected.sequences, ['S']),
    };
    const missing = expected.tables.filter((name) => !found.tables.includes(name));
    if (found.tables.length === 0) return undefined;
    if (missing.length > 0) {
      // A real install has every table its journal says it made; a few names alone are the shop's.
      log(
        `public holds ${found.tables.join(', ')} but not ${missing.join(', ')}: not an otp-relay install, left alone.`,
      );
      return undefined;
    }

    const inTarget = await ourNamesIn(tx, schema, entries);
    if (inTarget.length > 0) {
      throw new MigrationRefusedError(
        `Both public and ${schema} hold otp-relay's tables (public: ${found.tables.join(', ')}; ` +
          `${schema}: ${inTarget.join(', ')}). Earlier versions kept them in public, and the migrator moves ` +
          `them into DATABASE_SCHEMA only when that schema has none. Keep the set that holds your data, ` +
          `drop or rename the other (or choose another DATABASE_SCHEMA), then migrate again.`,
      );
    }

    log(
      `Moving otp-relay's tables from public to ${schema}: ${found.tables.join(', ')} ` +
        '(with their indexes, constraints and sequences).',
    );
    for (const table of found.tables) {
      await tx`ALTER TABLE ${tx(LEGACY_SCHEMA)}.${tx(table)} SET SCHEMA ${tx(schema)}`;
    }
    for (const type of found.types) {
      await tx`ALTER TYPE ${tx(LEGACY_SCHEMA)}.${tx(type)} SET SCHEMA ${tx(schema)}`;
    }
    // Sequences owned by a table went with it; only free-standing ones are left to move.
    const sequences = await existingRelations(tx, LEGACY_SCHEMA, found.sequences, ['S']);
    for (const sequence of sequences) {
      await tx`ALTER SEQUENCE ${tx(LEGACY_SCHEMA)}.${tx(sequence)} SET SCHEMA ${tx(schema)}`;
    }
    for (const row of journalRows) {
      await tx`
        INSERT INTO ${tx(schema)}.${tx(journalTable)} (hash, created_at)
        VALUES (${row.hash}, ${String(row.when)}::bigint)`;
    }
    return {
      tables: found.tables,
      types: found.types,
      sequences: found.sequences,
      journalRows: journalRows.length,
    };
  });
}

/**
 * Tables, types or sequences named as any of ours, in `schema`: in a schema we are about to create
 * tables in, they mean someone else's objects (or a copy of ours) are in the way.
 */
export async function ourNamesIn(
  sql: Sql,
  schema: string,
  entries: readonly MigrationEntry[],
): Promise<string[]> {
  const names = [...everyObjectName(entries)];
  const relations = await existingRelations(sql, schema, names, ['r', 'p', 'S', 'v', 'm', 'f']);
  const types = await existingTypes(sql, schema, names);
  return [...new Set([...relations, ...types])].sort();
}

/** Our rows in drizzle's old journal (a drizzle app of the shop's may share it), oldest first. */
async function legacyJournalRows(sql: Sql, entries: readonly MigrationEntry[]) {
  const [journal] = await sql<{ present: boolean }[]>`
    SELECT to_regclass(${`${LEGACY_JOURNAL.schema}.${LEGACY_JOURNAL.table}`}) IS NOT NULL AS present`;
  if (!journal?.present) return [];
  const whens = entries.map((entry) => String(entry.when));
  const rows = await sql<{ hash: string; when: string }[]>`
    SELECT hash, created_at::text AS when
    FROM ${sql(LEGACY_JOURNAL.schema)}.${sql(LEGACY_JOURNAL.table)}
    WHERE created_at = ANY(${whens}::bigint[])
    ORDER BY created_at`;
  return rows.map((row) => ({ hash: row.hash, when: Number(row.when) }));
}

async function existingRelations(
  sql: Sql,
  schema: string,
  names: readonly string[],
  kinds: readonly string[],
) {
  if (names.length === 0) return [];
  const rows = await sql<{ name: string }[]>`
    SELECT c.relname AS name FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${schema} AND c.relname = ANY(${names as string[]}::text[])
      AND c.relkind = ANY(${kinds as string[]}::"char"[])
    ORDER BY c.relname`;
  return rows.map((row) => row.name);
}

/** Types made by CREATE TYPE (not the row types every table has). */
async function existingTypes(sql: Sql, schema: string, names: readonly string[]) {
  if (names.length === 0) return [];
  const rows = await sql<{ name: string }[]>`
    SELECT t.typname AS name FROM pg_catalog.pg_type t
    JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = ${schema} AND t.typname = ANY(${names as string[]}::text[])
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')
    ORDER BY t.typname`;
  return rows.map((row) => row.name);
}
