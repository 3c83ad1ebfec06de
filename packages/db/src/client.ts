import { DEFAULT_DATABASE_SCHEMA, databaseSchemaProblem } from '@otp-relay/core';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema.js';

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
    // Our table names are unqualified; every connection looks them up in our schema alone, so none
    // resolves to a table of the shop's in public. The setting travels as a startup parameter of
    // each connection: a pooler that drops startup parameters (PgBouncer in transaction mode,
    // unless it tracks search_path) would need it set another way, e.g. ALTER ROLE … SET search_path.
    connection: { search_path: searchPath },
  });
  return {
    db: drizzle(sql, { schema }),
    ping: async () => {
      await sql`SELECT 1`;
    },
    close: () => sql.end({ timeout: 5 }),
  };
}
