import type { MigrationReport } from './migrate.js';

/** Said to the operator: where the tables are, what moved, what was applied. */
export function describeMigration(report: MigrationReport): string[] {
  const lines: string[] = [];
  if (report.moved) {
    const { tables, types, sequences, journalRows } = report.moved;
    lines.push(
      `Moved from public to ${report.schema}: tables ${tables.join(', ')}` +
        (types.length > 0 ? `; types ${types.join(', ')}` : '') +
        (sequences.length > 0 ? `; sequences ${sequences.join(', ')}` : '') +
        ` (and ${journalRows} rows of the migration journal).`,
    );
  }
  lines.push(
    report.applied.length > 0
      ? `Applied ${report.applied.length} migrations to schema ${report.schema}: ${report.applied.join(', ')}.`
      : `Schema ${report.schema} is up to date: 0 migrations applied.`,
  );
  return lines;
}
