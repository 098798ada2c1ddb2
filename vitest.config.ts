import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // Two cores: each test file may start its own PGlite (~200 MB, ~1 s from the template).
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    coverage: { exclude: ['bench/**', 'test/**', 'web-demo/**', 'worker/**'] },
  },
});
