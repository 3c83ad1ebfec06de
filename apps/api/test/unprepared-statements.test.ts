import { createDatabase, type DatabaseHandle, searchPathProblem, users } from '@otp-relay/db';
import { createTestDatabase, type TestDatabase } from '@otp-relay/testkit';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/**
 * DATABASE_PREPARED_STATEMENTS=false, for PgBouncer in transaction mode before 1.21: no query may
 * leave a named statement on a server connection (the next transaction may run on another one),
 * and our schema must still be what every transaction searches. The mirror of
 * prepared-statements.test.ts.
 */

let database: TestDatabase;
let handle: DatabaseHandle;
beforeAll(async () => {
  database = await createTestDatabase(inject('testServices'));
  // One connection, so the statements seen are the ones this test's queries left.
  handle = createDatabase(database.url, { maxConnections: 1, preparedStatements: false });
});
afterAll(async () => {
  await handle.close();
  await database.drop();
});

describe('with prepared statements off', () => {
  it('queries built with drizzle leave no named prepared statement, in and out of transactions', async () => {
    await handle.db.select({ id: users.id }).from(users).where(eq(users.email, 'ann@example.com'));
    await handle.db.transaction(async (tx) => {
      await tx.select({ id: users.id }).from(users).where(eq(users.username, 'ann'));
    });
    await handle.db.select({ id: users.id }).from(users).where(eq(users.email, 'bob@example.com'));

    const rows = await handle.db.execute<{ count: string }>(
      sql`SELECT count(*)::text AS count FROM pg_prepared_statements`,
    );
    expect(rows[0]?.count).toBe('0');
  });

  it('every transaction still finds our tables in our schema alone', async () => {
    for (const _ of [1, 2, 3]) {
      const schema = await handle.db.transaction(async (tx) => {
        const [row] = await tx.execute<{ schema: string }>(sql`SELECT current_schema() AS schema`);
        await tx.select({ id: users.id }).from(users).limit(1);
        return row?.schema;
      });
      expect(schema).toBe('otp_relay');
    }
    await expect(handle.ping()).resolves.toBeUndefined();
  });

  it('ping refuses a connection whose search path a pooler left at the server default', async () => {
    // What PgBouncer in transaction mode does to the startup parameter, done by hand.
    await handle.db.execute(sql`SET search_path = "$user", public`);
    try {
      await expect(handle.ping()).rejects.toThrow(/search_path .* not the schema otp_relay.*ALTER ROLE/);
    } finally {
      await handle.db.execute(sql`SET search_path = otp_relay`);
    }
    await expect(handle.ping()).resolves.toBeUndefined();
  });
});

describe('searchPathProblem', () => {
  it.each(['otp_relay', '"otp_relay"', ' otp_relay '])('accepts %j', (setting) => {
    expect(searchPathProblem(setting, 'otp_relay')).toBeUndefined();
  });
  it.each(['"$user", public', 'otp_relay, public', 'public', ''])('refuses %j, naming the fix', (setting) => {
    expect(searchPathProblem(setting, 'otp_relay')).toMatch(/ALTER ROLE .* SET search_path = otp_relay/);
  });
});
