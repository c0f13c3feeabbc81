import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Interop tests start real servers and tools; keep parallelism modest on 2 cores.
    maxWorkers: 2,
  },
});
