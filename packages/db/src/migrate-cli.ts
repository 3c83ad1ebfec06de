import { loadConfigOrExit, loadMigrateConfig } from '@otp-relay/core';
import { runMigrations } from './migrate.js';
import { describeMigration } from './migration-report.js';
import { MigrationRefusedError } from './public-install-move.js';

const config = loadConfigOrExit(loadMigrateConfig, process.env);
try {
  const report = await runMigrations(config.DATABASE_URL, {
    schema: config.DATABASE_SCHEMA,
    log: (message) => console.log(message),
  });
  for (const line of describeMigration(report)) console.log(line);
} catch (error) {
  if (!(error instanceof MigrationRefusedError)) throw error;
  console.error(error.message);
  process.exit(1);
}
