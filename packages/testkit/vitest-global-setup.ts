import type { TestProject } from 'vitest/node';
import { startTestServices, type TestServices } from './src/test-services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    testServices: TestServices;
  }
}

export default async function setup(project: TestProject) {
  const started = await startTestServices();
  project.provide('testServices', started.services);
  return () => started.stop();
}
