import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS_FOLDER } from '@otp-relay/db';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';

/** The last migration of the versions that kept their tables in public. */
export const LAST_MIGRATION_BEFORE_SCHEMAS = '0003_delivery_receipts';

/**
 * Migrates an empty database the way versions before DATABASE_SCHEMA did, through `through`:
 * drizzle's migrator with its defaults on a connection with Postgres' default search path, so the
 * tables land in public and the journal in drizzle.__drizzle_migrations.
 */
export async function installAsBeforeSchemas(
  url: string,
  through = LAST_MIGRATION_BEFORE_SCHEMAS,
): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'otp-relay-migrations-'));
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    cpSync(MIGRATIONS_FOLDER, folder, { recursive: true });
    const journalPath = join(folder, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
    const last = journal.entries.findIndex((entry) => entry.tag === through);
    if (last < 0) throw new Error(`no migration ${through}`);
    writeFileSync(journalPath, JSON.stringify({ ...journal, entries: journal.entries.slice(0, last + 1) }));
    await migrate(drizzle(sql), { migrationsFolder: folder });
  } finally {
    await sql.end();
    rmSync(folder, { recursive: true, force: true });
  }
}
