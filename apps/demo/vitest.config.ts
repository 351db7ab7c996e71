import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** `pnpm test:browser`: the demo in headless Chromium against its own stack (not part of `pnpm test`). */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['apps/demo/test/**/*.test.ts'],
    globalSetup: ['packages/testkit/src/global-setup.ts'],
    testTimeout: 90_000,
    hookTimeout: 90_000,
    pool: 'forks',
  },
});
