import { createDatabase, type DatabaseHandle, users } from '@otp-relay/db';
import { createTestDatabase, type TestDatabase } from '@otp-relay/testkit';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/**
 * drizzle's postgres.js driver runs queries unprepared unless told otherwise (drizzle-orm#6096):
 * each is parsed and planned on every run and costs two round trips. The patch in patches/ makes
 * every query a prepared statement; this fails if an upgrade drops it. It lives with the API's
 * tests, the hottest user of those queries, because packages/db cannot depend on the test kit.
 */

let database: TestDatabase;
let handle: DatabaseHandle;
beforeAll(async () => {
  database = await createTestDatabase(inject('testServices'));
  // One connection, so the statements seen are the ones this test's queries left.
  handle = createDatabase(database.url, { maxConnections: 1 });
});
afterAll(async () => {
  await handle.close();
  await database.drop();
});

async function preparedStatements(): Promise<string[]> {
  const rows = await handle.db.execute<{ statement: string }>(
    sql`SELECT statement FROM pg_prepared_statements`,
  );
  return rows.map((row) => row.statement);
}

describe('queries built with drizzle', () => {
  it('run as prepared statements, in and out of transactions', async () => {
    await handle.db.select({ id: users.id }).from(users).where(eq(users.email, 'ann@example.com'));
    await handle.db.transaction(async (tx) => {
      await tx.select({ id: users.id }).from(users).where(eq(users.username, 'ann'));
    });

    const statements = await preparedStatements();
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/from "users" where "users"\."email" = \$1/),
        expect.stringMatching(/from "users" where "users"\."username" = \$1/),
      ]),
    );
  });
});
