export * from './client.js';
export * from './delivery-repository.js';
export * from './migrate.js';
export * from './schema.js';
