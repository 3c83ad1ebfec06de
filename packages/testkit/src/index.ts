export * from './fake-google.js';
export * from './test-services.js';
