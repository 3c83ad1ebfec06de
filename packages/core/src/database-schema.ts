/**
 * The Postgres schema that holds otp-relay's tables (DATABASE_SCHEMA): a schema of their own, so
 * they never meet the shop's tables (its own `users`, say) in `public`.
 */
export const DEFAULT_DATABASE_SCHEMA = 'otp_relay';

// Postgres truncates identifiers to NAMEDATALEN - 1 bytes.
const MAX_IDENTIFIER_LENGTH = 63;
const PLAIN_IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** Schemas we must not take over, and why. */
const RESERVED: Readonly<Record<string, string>> = {
  public:
    "public is where the shop's own tables live; otp-relay keeps its tables apart (the default is otp_relay)",
  information_schema: 'information_schema belongs to Postgres',
  drizzle: 'drizzle holds the migration journal of earlier versions (and of any drizzle app in the database)',
};

/**
 * Why `name` cannot be the schema, or undefined when it can. Plain lower-case names only: the name
 * travels as a connection's search_path and into DDL, where anything else would need quoting rules
 * to line up in every tool that reads it.
 */
export function databaseSchemaProblem(name: string): string | undefined {
  if (!PLAIN_IDENTIFIER.test(name) || name.length > MAX_IDENTIFIER_LENGTH) {
    return (
      `DATABASE_SCHEMA: ${JSON.stringify(name)} is not a plain Postgres name: use lower-case letters, ` +
      `digits and underscores, starting with a letter or underscore, at most ${MAX_IDENTIFIER_LENGTH} ` +
      `characters (e.g. ${DEFAULT_DATABASE_SCHEMA})`
    );
  }
  if (name.startsWith('pg_')) return 'DATABASE_SCHEMA: names starting with pg_ are reserved by Postgres';
  const reserved = RESERVED[name];
  return reserved ? `DATABASE_SCHEMA: ${reserved}` : undefined;
}
