import { defineConfig } from 'vitest/config';

/**
 * `npm run test:cluster`: the whole cluster fault suite (test/cluster, including full/, which `npm test`
 * excludes). One file at a time: each scenario runs a whole alliance of processes on a two-core machine.
 */
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    exclude: ['node_modules/**'],
    testTimeout: 10 * 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
  },
});
