import { DEFAULT_DATABASE_SCHEMA } from '@otp-relay/core';
import postgres from 'postgres';

/**
 * TEST_PGBOUNCER_URL (set by `.ci/run`): a PgBouncer in transaction mode in front of the test
 * Postgres. When set, the services under test connect through it with prepared statements off;
 * the tests' own connections and the migrator (a session advisory lock) stay on Postgres itself.
 */
const pooler = process.env.TEST_PGBOUNCER_URL ? new URL(process.env.TEST_PGBOUNCER_URL) : undefined;

export const throughPgBouncer = pooler !== undefined;

/** The services' DATABASE_URL: `url`'s database, reached through PgBouncer when there is one. */
export function serviceDatabaseUrl(url: string): string {
  if (!pooler) return url;
  const routed = new URL(url);
  routed.host = pooler.host;
  return routed.toString();
}

/** What the services need behind PgBouncer in transaction mode before 1.21. */
export function poolerEnvironment(): Record<string, string> {
  return pooler ? { DATABASE_PREPARED_STATEMENTS: 'false' } : {};
}

/** `url` back on Postgres itself (the migrator's URL must not go through the pool). */
export function directDatabaseUrl(url: string, adminUrl: string): string {
  if (!pooler) return url;
  const direct = new URL(url);
  direct.host = new URL(adminUrl).host;
  return direct.toString();
}

/**
 * PgBouncer drops the connections' search_path startup parameter, so the schema is set on the
 * server, as docs/operating.md tells operators (there ALTER ROLE … IN DATABASE; here the test database is
 * the test's own).
 */
export async function setServerSearchPath(adminUrl: string, databaseUrl: string): Promise<void> {
  if (!pooler) return;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const name = new URL(databaseUrl).pathname.slice(1);
    await admin.unsafe(`ALTER DATABASE ${name} SET search_path = ${DEFAULT_DATABASE_SCHEMA}`);
  } finally {
    await admin.end();
  }
}
