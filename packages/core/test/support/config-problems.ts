import { ConfigError } from '../../src/index.js';

/** The problems a config loader reports for an environment; none when it loads. */
export function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}
