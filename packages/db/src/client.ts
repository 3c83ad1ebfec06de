import { DEFAULT_DATABASE_SCHEMA, databaseSchemaProblem } from '@otp-relay/core';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema.js';
import { searchPathProblem } from './search-path-problem.js';

export type Database = PostgresJsDatabase<typeof schema>;
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

export interface DatabaseHandle {
  db: Database;
  /** Runs `SELECT 1`: readiness probes use it. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  maxConnections?: number;
  /** The schema our tables live in (DATABASE_SCHEMA); the default is otp_relay. */
  schema?: string;
  /**
   * Named prepared statements (DATABASE_PREPARED_STATEMENTS, on by default). Off behind PgBouncer
   * in transaction mode before 1.21: queries then go unnamed, parsed in the same round trip.
   */
  preparedStatements?: boolean;
}

export function createDatabase(url: string, options: DatabaseOptions = {}): DatabaseHandle {
  const searchPath = options.schema ?? DEFAULT_DATABASE_SCHEMA;
  const problem = databaseSchemaProblem(searchPath);
  if (problem) throw new Error(problem);
  const sql = postgres(url, {
    max: options.maxConnections ?? 10,
    // Postgres' notices (e.g. "relation already exists, skipping") are not our logs.
    onnotice: () => {},
    connect_timeout: 5,
    // postgres.js' own switch; it overrides the `prepare: true` our drizzle patch asks for.
    prepare: options.preparedStatements ?? true,
    // Our table names are unqualified; every connection looks them up in our schema alone, so none
    // resolves to a table of the shop's in public. The setting travels as a startup parameter of
    // each connection: a pooler that drops startup parameters (PgBouncer in transaction mode,
    // unless it tracks search_path) needs it set on the server, ALTER ROLE … SET search_path, and
    // ping() refuses a connection where it differs.
    connection: { search_path: searchPath },
  });
  return {
    db: drizzle(sql, { schema }),
    ping: async () => {
      const [row] = await sql<{ path: string }[]>`SELECT current_setting('search_path') AS path`;
      const problem = searchPathProblem(row?.path ?? '', searchPath);
      if (problem) throw new Error(problem);
    },
    close: () => sql.end({ timeout: 5 }),
  };
}
