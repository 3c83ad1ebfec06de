import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  MIGRATIONS_FOLDER,
  MIGRATIONS_TABLE,
  MigrationRefusedError,
  type MigrationReport,
  runMigrations,
} from '@otp-relay/db';
import {
  createTestDatabase,
  installAsBeforeSchemas,
  LAST_MIGRATION_BEFORE_SCHEMAS,
  type TestDatabase,
} from '@otp-relay/testkit';
import { startNodeProcess } from '@otp-relay/testkit/node-processes';
import postgres from 'postgres';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { migrationLockKey } from '../src/migration-lock.js';

/**
 * The migrator: our own schema, migrators started together taking turns under an advisory lock,
 * and installs of earlier versions moved out of public without touching the shop's tables.
 */

const TAGS = (
  JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as {
    entries: { tag: string }[];
  }
).entries.map((entry) => entry.tag);
const LEGACY_TAGS = TAGS.slice(0, TAGS.indexOf(LAST_MIGRATION_BEFORE_SCHEMAS) + 1);
const LEGACY_TABLES = ['deliveries', 'delivery_receipts', 'registration_flows', 'send_cooldowns', 'users'];

const opened: { database: TestDatabase; sql: postgres.Sql }[] = [];

/** An empty database of the test's own, and a raw connection with Postgres' default search path. */
async function emptyDatabase() {
  const database = await createTestDatabase(inject('testServices'), { migrated: false });
  const sql = postgres(database.url, { max: 2, onnotice: () => {} });
  opened.push({ database, sql });
  return { url: database.url, sql };
}

afterEach(async () => {
  for (const { database, sql } of opened.splice(0)) {
    await sql.end();
    await database.drop();
  }
});

async function tablesIn(sql: postgres.Sql, schema: string): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    SELECT tablename AS name FROM pg_tables WHERE schemaname = ${schema} ORDER BY tablename`;
  return rows.map((row) => row.name);
}

async function journal(sql: postgres.Sql, schema: string): Promise<string[]> {
  const rows = await sql<{ hash: string }[]>`
    SELECT hash FROM ${sql(schema)}.${sql(MIGRATIONS_TABLE)} ORDER BY created_at`;
  return rows.map((row) => row.hash);
}

/** Holds the migration lock of `schema` from a connection of the test's own until released. */
async function holdLock(url: string, schema: string) {
  const holder = postgres(url, { max: 1, onnotice: () => {} });
  await holder`SELECT pg_advisory_lock(${migrationLockKey(schema)}::bigint)`;
  return {
    release: async () => {
      await holder`SELECT pg_advisory_unlock(${migrationLockKey(schema)}::bigint)`;
      await holder.end();
    },
  };
}

describe('the migration files', () => {
  it('name no schema, so they land in DATABASE_SCHEMA (drizzle-kit writes "public". in references)', () => {
    for (const tag of TAGS) {
      const text = readFileSync(join(MIGRATIONS_FOLDER, `${tag}.sql`), 'utf8').replace(/--[^\n]*/g, '');
      expect(text, tag).not.toMatch(/"public"\s*\.|\bpublic\s*\.|"drizzle"\s*\./i);
    }
  });
});

describe('a fresh database', () => {
  it('gets every table in otp_relay, with its own journal, and nothing in public', async () => {
    const { url, sql } = await emptyDatabase();
    const report = await runMigrations(url);
    expect(report).toMatchObject({ schema: 'otp_relay', applied: TAGS, waitedForLock: false });
    expect(report.moved).toBeUndefined();
    expect(await tablesIn(sql, 'otp_relay')).toEqual(
      expect.arrayContaining([...LEGACY_TABLES, MIGRATIONS_TABLE]),
    );
    expect(await tablesIn(sql, 'public')).toEqual([]);
    expect(await journal(sql, 'otp_relay')).toHaveLength(TAGS.length);
    const [drizzleSchema] = await sql`SELECT 1 FROM pg_namespace WHERE nspname = 'drizzle'`;
    expect(drizzleSchema).toBeUndefined();
    // Foreign keys point at our tables, not at same-named ones elsewhere.
    const references = await sql<{ target: string }[]>`
      SELECT DISTINCT c.confrelid::regclass::text AS target FROM pg_constraint c
      JOIN pg_namespace n ON n.oid = c.connamespace
      WHERE c.contype = 'f' AND n.nspname = 'otp_relay'`;
    for (const { target } of references) expect(target).toMatch(/^otp_relay\./);

    const again = await runMigrations(url);
    expect(again.applied).toEqual([]);
  });

  it('takes DATABASE_SCHEMA: two installs in one database, each with its tables and journal', async () => {
    const { url, sql } = await emptyDatabase();
    const [a, b] = [
      await runMigrations(url, { schema: 'shop_a' }),
      await runMigrations(url, { schema: 'shop_b' }),
    ];
    expect(a.applied).toEqual(TAGS);
    expect(b.applied).toEqual(TAGS);
    for (const schema of ['shop_a', 'shop_b']) {
      expect(await tablesIn(sql, schema)).toEqual(expect.arrayContaining(LEGACY_TABLES));
      expect(await journal(sql, schema)).toHaveLength(TAGS.length);
    }
    expect(await tablesIn(sql, 'otp_relay')).toEqual([]);
  });

  it('refuses a schema name that is not a plain lower-case name, before connecting', async () => {
    for (const schema of ['Otp', 'otp-relay', 'a"; DROP TABLE users; --', 'public', 'pg_otp', '']) {
      await expect(runMigrations('postgres://nobody@127.0.0.1:1/none', { schema })).rejects.toThrow(
        /DATABASE_SCHEMA/,
      );
    }
  });

  it('refuses a schema that already holds tables named as ours, made by someone else', async () => {
    const { url, sql } = await emptyDatabase();
    await sql`CREATE SCHEMA otp_relay`;
    await sql`CREATE TABLE otp_relay.users (id serial PRIMARY KEY, login text)`;
    await expect(runMigrations(url)).rejects.toThrow(MigrationRefusedError);
    await expect(runMigrations(url)).rejects.toThrow(
      /otp_relay already holds users but no otp-relay migration journal/,
    );
    expect(await tablesIn(sql, 'otp_relay')).toEqual([MIGRATIONS_TABLE, 'users']);
  });
});

describe('migrators started together', () => {
  it('take turns: one applies every migration, the other waits and finds nothing to do', async () => {
    const { url, sql } = await emptyDatabase();
    const reports = await Promise.all([runMigrations(url), runMigrations(url)]);
    const applied = reports.map((report) => report.applied.length).sort();
    expect(applied).toEqual([0, TAGS.length]);
    expect(await journal(sql, 'otp_relay')).toHaveLength(TAGS.length);
  });

  it('wait for the lock while another holds it', async () => {
    const { url, sql } = await emptyDatabase();
    const lock = await holdLock(url, 'otp_relay');
    const waiting: string[] = [];
    const running = [1, 2].map((n) =>
      runMigrations(url, { log: (message) => waiting.push(`${n}: ${message}`) }),
    );
    // Both are queued behind the lock: Postgres shows their requests, not granted.
    await vi.waitFor(
      async () => {
        const [row] = await sql<{ waiting: number }[]>`
          SELECT count(*)::int AS waiting FROM pg_locks
          WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
        expect(row?.waiting).toBe(2);
      },
      { timeout: 10_000, interval: 20 },
    );
    expect(await tablesIn(sql, 'otp_relay')).toEqual([]);
    expect(waiting).toHaveLength(2);
    expect(waiting[0]).toMatch(/Another migrator is migrating schema otp_relay; waiting/);
    await lock.release();
    const reports: MigrationReport[] = await Promise.all(running);
    expect(reports.map((report) => report.waitedForLock)).toEqual([true, true]);
    expect(reports.map((report) => report.applied.length).sort()).toEqual([0, TAGS.length]);
    expect(await journal(sql, 'otp_relay')).toHaveLength(TAGS.length);
  });

  it('as two migrate commands: one applies, the other waits and reports 0 applied', async () => {
    const { url, sql } = await emptyDatabase();
    const lock = await holdLock(url, 'otp_relay');
    const env = { PATH: process.env.PATH, DATABASE_URL: url };
    const commands = [1, 2].map((n) =>
      startNodeProcess(`migrate-${n}`, 'packages/db/src/migrate-cli.ts', env, {
        execArgv: ['--import', 'tsx', '--conditions=@otp-relay/source'],
      }),
    );
    try {
      await Promise.all(commands.map((command) => command.lineMatching(/waiting for it to finish/)));
      await lock.release();
      expect(await Promise.all(commands.map((command) => command.exited))).toEqual([0, 0]);
      const said = commands.map((command) => command.lines.at(-1)).sort();
      expect(said).toEqual([
        `Applied ${TAGS.length} migrations to schema otp_relay: ${TAGS.join(', ')}.`,
        'Schema otp_relay is up to date: 0 migrations applied.',
      ]);
      expect(await journal(sql, 'otp_relay')).toHaveLength(TAGS.length);
    } finally {
      for (const command of commands) await command.stop(1000);
    }
  });

  it('the migrate command refuses an invalid DATABASE_SCHEMA at start-up', async () => {
    const { url, sql } = await emptyDatabase();
    const command = startNodeProcess(
      'migrate',
      'packages/db/src/migrate-cli.ts',
      { PATH: process.env.PATH, DATABASE_URL: url, DATABASE_SCHEMA: 'Shop-Tables' },
      { execArgv: ['--import', 'tsx', '--conditions=@otp-relay/source'] },
    );
    expect(await command.exited).toBe(2);
    expect(command.stderr()).toContain('DATABASE_SCHEMA: "Shop-Tables" is not a plain Postgres name');
    const [schema] = await sql`SELECT 1 FROM pg_namespace WHERE nspname IN ('otp_relay', 'Shop-Tables')`;
    expect(schema).toBeUndefined();
  });
});

describe('an install of an earlier version (tables in public)', () => {
  const USER_ID = '30000000-0000-4000-8000-000000000001';
  const FLOW_ID = '30000000-0000-4000-8000-000000000002';
  const DELIVERY_ID = '30000000-0000-4000-8000-000000000003';

  async function legacyInstall() {
    const { url, sql } = await emptyDatabase();
    await installAsBeforeSchemas(url);
    await sql`
      INSERT INTO public.users (id, email, username, first_name, last_name, password_hash, email_verified_at)
      VALUES (${USER_ID}, 'old@example.com', 'old_timer', 'Old', 'Timer', 'argon2-hash', now())`;
    await sql`
      INSERT INTO public.registration_flows (id, verification_id, email, email_key, channel, destination,
        code_hash, username, first_name, last_name, password_hash, expires_at)
      VALUES (${FLOW_ID}, ${`vf_${'a'.repeat(64)}`}, 'new@example.com', 'new@example.com', 'email',
        'new@example.com', 'hash', 'newcomer', 'New', 'Comer', 'argon2-hash', now() + interval '10 minutes')`;
    await sql`
      INSERT INTO public.deliveries (id, kind, flow_id, code_sequence, channel, destination, payload_ciphertext)
      VALUES (${DELIVERY_ID}, 'otp', ${FLOW_ID}, 1, 'email', 'new@example.com', 'v1.x.y.z')`;
    return { url, sql };
  }

  it('is moved to otp_relay with its rows, then migrated on; the old journal is left as it was', async () => {
    const { url, sql } = await legacyInstall();
    expect(await journal(sql, 'drizzle')).toHaveLength(LEGACY_TAGS.length);
    const said: string[] = [];
    const report = await runMigrations(url, { log: (message) => said.push(message) });

    expect(report.moved).toEqual({
      tables: LEGACY_TABLES,
      types: [],
      sequences: [],
      journalRows: LEGACY_TAGS.length,
    });
    expect(report.applied).toEqual(TAGS.slice(LEGACY_TAGS.length));
    expect(said.join('\n')).toMatch(/Moving otp-relay's tables from public to otp_relay: deliveries, /);
    expect(await tablesIn(sql, 'public')).toEqual([]);
    expect(await tablesIn(sql, 'otp_relay')).toEqual(expect.arrayContaining(LEGACY_TABLES));
    // Each migration once in the new journal, with the hashes the old one recorded for the moved ones.
    const moved = await journal(sql, 'otp_relay');
    expect(moved).toHaveLength(TAGS.length);
    expect(moved.slice(0, LEGACY_TAGS.length)).toEqual(await journal(sql, 'drizzle'));

    const [user] = await sql`SELECT username FROM otp_relay.users WHERE id = ${USER_ID}`;
    expect(user).toEqual({ username: 'old_timer' });
    const [flow] = await sql`SELECT username FROM otp_relay.registration_flows WHERE id = ${FLOW_ID}`;
    expect(flow).toEqual({ username: 'newcomer' });
    // Constraints moved with the tables: the delivery still hangs off its flow.
    await sql`DELETE FROM otp_relay.registration_flows WHERE id = ${FLOW_ID}`;
    const [delivery] = await sql`SELECT 1 FROM otp_relay.deliveries WHERE id = ${DELIVERY_ID}`;
    expect(delivery).toBeUndefined();

    const again = await runMigrations(url);
    expect(again.moved).toBeUndefined();
    expect(again.applied).toEqual([]);
  });

  it('is moved once when migrators start together', async () => {
    const { url, sql } = await legacyInstall();
    const reports = await Promise.all([runMigrations(url), runMigrations(url)]);
    expect(reports.filter((report) => report.moved).map((report) => report.moved?.tables)).toEqual([
      LEGACY_TABLES,
    ]);
    expect(await journal(sql, 'otp_relay')).toHaveLength(TAGS.length);
  });

  it('goes to a custom DATABASE_SCHEMA', async () => {
    const { url, sql } = await legacyInstall();
    const report = await runMigrations(url, { schema: 'custom' });
    expect(report.moved?.tables).toEqual(LEGACY_TABLES);
    expect(await tablesIn(sql, 'custom')).toEqual(expect.arrayContaining(LEGACY_TABLES));
    expect(await tablesIn(sql, 'otp_relay')).toEqual([]);
  });

  it('is refused when the schema already holds our tables too, and nothing changes', async () => {
    const { url, sql } = await legacyInstall();
    await runMigrations(url, { schema: 'custom' });
    // A second copy appears in public (restored from a backup, say), beside drizzle's old journal.
    await sql.unsafe(
      `CREATE TABLE public.users (LIKE custom.users INCLUDING ALL);
       CREATE TABLE public.registration_flows (LIKE custom.registration_flows INCLUDING ALL);
       CREATE TABLE public.deliveries (LIKE custom.deliveries INCLUDING ALL);
       CREATE TABLE public.send_cooldowns (LIKE custom.send_cooldowns INCLUDING ALL);
       CREATE TABLE public.delivery_receipts (LIKE custom.delivery_receipts INCLUDING ALL);`,
    );
    const error = await runMigrations(url, { schema: 'custom' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MigrationRefusedError);
    expect(String(error)).toMatch(/Both public and custom hold otp-relay's tables/);
    expect(await tablesIn(sql, 'public')).toEqual(LEGACY_TABLES);
  });
});

describe("the shop's own tables in public", () => {
  async function shopTables(sql: postgres.Sql) {
    await sql`CREATE TABLE public.users (id serial PRIMARY KEY, login text NOT NULL, email text)`;
    await sql`INSERT INTO public.users (login, email) VALUES ('shop_admin', 'admin@shop.test')`;
  }

  it('are left alone by a fresh install', async () => {
    const { url, sql } = await emptyDatabase();
    await shopTables(sql);
    const report = await runMigrations(url);
    expect(report.moved).toBeUndefined();
    expect(await tablesIn(sql, 'public')).toEqual(['users']);
    expect(await sql`SELECT login, email FROM public.users`).toEqual([
      { login: 'shop_admin', email: 'admin@shop.test' },
    ]);
  });

  it("are left alone even when drizzle's old journal shows our migrations (an install moved before)", async () => {
    const { url, sql } = await emptyDatabase();
    await installAsBeforeSchemas(url);
    await runMigrations(url, { schema: 'first_install' });
    await shopTables(sql); // created by the shop after the move
    const said: string[] = [];
    const report = await runMigrations(url, {
      schema: 'second_install',
      log: (message) => said.push(message),
    });
    expect(report.moved).toBeUndefined();
    expect(report.applied).toEqual(TAGS);
    expect(said.join('\n')).toMatch(/public holds users but not .*: not an otp-relay install, left alone/);
    expect(await sql`SELECT login FROM public.users`).toEqual([{ login: 'shop_admin' }]);
  });
});
