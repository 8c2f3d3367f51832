import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/cluster/full/**', 'node_modules/**'],
    // Multi-process tests wait on conditions with generous deadlines; never on fixed sleeps.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: keep parallelism modest so cluster tests are not starved.
    maxWorkers: 2,
  },
});
