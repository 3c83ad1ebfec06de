/**
 * Why a connection's search_path (as `current_setting('search_path')` reports it) would not find
 * our tables in `schema` alone, or undefined when it does. A pooler that drops the startup
 * parameter leaves the server's default (`"$user", public`), where an unqualified `users` could
 * be the shop's own table.
 */
export function searchPathProblem(setting: string, schema: string): string | undefined {
  const entries = setting
    .split(',')
    .map((entry) => entry.trim().replace(/^"(.*)"$/, '$1'))
    .filter((entry) => entry !== '');
  if (entries.length === 1 && entries[0] === schema) return undefined;
  return (
    `Postgres search_path is ${JSON.stringify(setting)}, not the schema ${schema}: a pooler dropped ` +
    `the connection's search_path (PgBouncer in transaction mode does); set it on the server, ` +
    `e.g. ALTER ROLE <role> IN DATABASE <database> SET search_path = ${schema}`
  );
}
