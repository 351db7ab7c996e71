import { defineConfig } from 'vitest/config';

/**
 * Failing tests for bugs in services this suite may not fix (ledger, presence), kept out of
 * `pnpm test` until the owner fixes them: `pnpm vitest run --config tests/chaos/pending/vitest.config.ts`.
 * Files are named *.pending.ts so the root config's tests/**\/*.test.ts does not pick them up.
 */
export default defineConfig({
  test: {
    include: ['tests/chaos/pending/**/*.pending.ts'],
    globalSetup: ['packages/testkit/src/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
