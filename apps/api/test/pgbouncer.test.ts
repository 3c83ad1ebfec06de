import { createDatabase, type DatabaseHandle, users } from '@otp-relay/db';
import { createTestDatabase, type TestDatabase } from '@otp-relay/testkit';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/**
 * Through a real PgBouncer in transaction mode (TEST_PGBOUNCER_URL, which `.ci/run` starts with
 * Debian's 1.18 and a small pool): with DATABASE_PREPARED_STATEMENTS=false, many clients' drizzle
 * transactions, each on whichever server connection it gets, all work and all search our schema,
 * which the database's own setting (not the dropped startup parameter) gives them. With prepared
 * statements on, the same load fails there: proof that the pool really hands transactions around.
 */

const pooler = process.env.TEST_PGBOUNCER_URL;

let database: TestDatabase;
beforeAll(async () => {
  if (!pooler) return;
  // Created (and its search_path set) on Postgres itself, as migrations are.
  database = await createTestDatabase(inject('testServices'));
});
afterAll(async () => {
  await database?.drop();
});

function throughPgBouncer(): string {
  const url = new URL(database.url);
  url.host = new URL(pooler ?? '').host;
  return url.toString();
}

/** Several clients, each running concurrent transactions of two drizzle queries; what failed. */
async function load(preparedStatements: boolean): Promise<{ failures: unknown[]; schemas: Set<string> }> {
  const handles: DatabaseHandle[] = [1, 2, 3, 4].map(() =>
    createDatabase(throughPgBouncer(), { maxConnections: 3, preparedStatements }),
  );
  const failures: unknown[] = [];
  const schemas = new Set<string>();
  try {
    await Promise.all(
      handles.flatMap((handle) =>
        [1, 2, 3].map(async (lane) => {
          for (let round = 0; round < 15; round++) {
            try {
              await handle.db.transaction(async (tx) => {
                const email = `pool-${lane}-${round}@example.com`;
                await tx.select({ id: users.id }).from(users).where(eq(users.email, email));
                const [row] = await tx.execute<{ schema: string }>(sql`SELECT current_schema() AS schema`);
                schemas.add(String(row?.schema));
              });
              await handle.ping();
            } catch (error) {
              failures.push(error);
            }
          }
        }),
      ),
    );
  } finally {
    await Promise.all(handles.map((handle) => handle.close()));
  }
  return { failures, schemas };
}

describe.runIf(pooler)('through PgBouncer in transaction mode', () => {
  it('with prepared statements off, every transaction works and searches our schema', async () => {
    const { failures, schemas } = await load(false);
    expect(failures).toEqual([]);
    expect([...schemas]).toEqual(['otp_relay']);
  });

  it('with prepared statements on (before PgBouncer 1.21), the same load fails', async () => {
    const { failures } = await load(true);
    expect(failures.length).toBeGreaterThan(0);
    // drizzle wraps the driver's error: Postgres' own words are in its cause.
    const cause = (failures[0] as { cause?: unknown }).cause;
    expect(String(cause)).toMatch(/prepared statement .* does not exist|current transaction is aborted/);
  });
});
