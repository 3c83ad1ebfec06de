import { fileURLToPath } from 'node:url';
import { DEFAULT_DATABASE_SCHEMA, databaseSchemaProblem } from '@otp-relay/core';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { readMigrationEntries } from './migration-files.js';
import { migrationLockKey } from './migration-lock.js';
import {
  MigrationRefusedError,
  movePublicInstall,
  ourNamesIn,
  type PublicInstallMove,
} from './public-install-move.js';

/** The SQL migrations drizzle-kit generated, shipped beside the package (src and dist alike). */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../migrations', import.meta.url));

/** drizzle's journal table, kept in our schema so installs in different schemas never share one. */
export const MIGRATIONS_TABLE = '__drizzle_migrations';

export interface MigrationOptions {
  /** The schema our tables live in (DATABASE_SCHEMA); created when missing. */
  schema?: string;
  migrationsFolder?: string;
  /** What the migrator is doing, for people: waiting for another migrator, moving tables. */
  log?: (message: string) => void;
}

export interface MigrationReport {
  schema: string;
  /** The tags of the migrations this run applied, in order; empty when the schema was up to date. */
  applied: string[];
  /** An install moved out of `public` by this run. */
  moved?: PublicInstallMove;
  /** Whether another migrator held the lock when this one started. */
  waitedForLock: boolean;
}

/**
 * Applies the migrations the schema lacks, after moving an install of an earlier version out of
 * `public` if there is one. The whole run holds a session-level advisory lock, so migrators
 * started together (pods of one deployment) run one after the other: the first applies, the next
 * waits and then finds nothing to do. Being a session lock, it needs Postgres itself or a pool in
 * session mode (PgBouncer's transaction mode would hand the statements to other server sessions).
 */
export async function runMigrations(url: string, options: MigrationOptions = {}): Promise<MigrationReport> {
  const schema = options.schema ?? DEFAULT_DATABASE_SCHEMA;
  const problem = databaseSchemaProblem(schema);
  if (problem) throw new MigrationRefusedError(problem);
  const folder = options.migrationsFolder ?? MIGRATIONS_FOLDER;
  const log = options.log ?? (() => {});
  const entries = readMigrationEntries(folder);

  // One connection, never recycled (max_lifetime 0): the session lock belongs to the connection
  // that takes it, and drizzle's migrator runs every statement and its transaction on the pool's
  // only connection. The search path is the schema alone, so the migrations' unqualified names
  // land there and never resolve to the shop's tables in public.
  const sql = postgres(url, {
    max: 1,
    max_lifetime: 0,
    onnotice: () => {},
    connection: { search_path: schema },
  });
  const key = migrationLockKey(schema);
  try {
    const [first] = await sql<{ locked: boolean }[]>`SELECT pg_try_advisory_lock(${key}::bigint) AS locked`;
    const waitedForLock = !first?.locked;
    if (waitedForLock) {
      log(`Another migrator is migrating schema ${schema}; waiting for it to finish.`);
      await sql`SELECT pg_advisory_lock(${key}::bigint)`;
    }
    try {
      await sql`CREATE SCHEMA IF NOT EXISTS ${sql(schema)}`;
      // drizzle's own definition, made early so a moved install's journal rows have somewhere to go.
      await sql`
        CREATE TABLE IF NOT EXISTS ${sql(schema)}.${sql(MIGRATIONS_TABLE)} (
          id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`;
      const moved = await movePublicInstall(sql, schema, MIGRATIONS_TABLE, entries, log);
      const before = await lastApplied(sql, schema);
      if (!moved && before === undefined) {
        const inTheWay = await ourNamesIn(sql, schema, entries);
        if (inTheWay.length > 0) {
          throw new MigrationRefusedError(
            `Schema ${schema} already holds ${inTheWay.join(', ')} but no otp-relay migration journal: ` +
              'they were not made by this migrator. Choose another DATABASE_SCHEMA, or move them away.',
          );
        }
      }
      await migrate(drizzle(sql), {
        migrationsFolder: folder,
        migrationsSchema: schema,
        migrationsTable: MIGRATIONS_TABLE,
      });
      const appliedWhens = await sql<{ when: string }[]>`
        SELECT created_at::text AS when FROM ${sql(schema)}.${sql(MIGRATIONS_TABLE)}
        WHERE created_at > ${String(before ?? -1)}::bigint ORDER BY created_at`;
      const tags = new Map(entries.map((entry) => [String(entry.when), entry.tag]));
      const applied = appliedWhens.map((row) => tags.get(row.when) ?? `created_at ${row.when}`);
      return { schema, applied, ...(moved ? { moved } : {}), waitedForLock };
    } finally {
      // Closing the connection would release it too; said out loud so the next migrator starts now.
      await sql`SELECT pg_advisory_unlock(${key}::bigint)`.catch(() => {});
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function lastApplied(sql: postgres.Sql, schema: string): Promise<number | undefined> {
  const [row] = await sql<{ when: string | null }[]>`
    SELECT max(created_at)::text AS when FROM ${sql(schema)}.${sql(MIGRATIONS_TABLE)}`;
  return row?.when ? Number(row.when) : undefined;
}
