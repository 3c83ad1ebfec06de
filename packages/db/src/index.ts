export * from './client.js';
export * from './delivery-repository.js';
export * from './migrate.js';
export * from './migration-report.js';
export { MigrationRefusedError, type PublicInstallMove } from './public-install-move.js';
export * from './schema.js';
export * from './search-path-problem.js';
export * from './webhook-event-repository.js';
