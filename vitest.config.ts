import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@otp-relay/source'] },
  ssr: { resolve: { conditions: ['@otp-relay/source'], externalConditions: ['@otp-relay/source'] } },
  test: {
    include: [
      'apps/*/test/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'e2e/**/*.test.ts',
      'bench/**/*.test.ts',
      'scripts/test/**/*.test.ts',
    ],
    globalSetup: ['packages/testkit/vitest-global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
