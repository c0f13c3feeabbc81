import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Interop tests start real servers and tools; keep parallelism modest on 2 cores.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'tandem', include: ['test/**/*.test.ts'] } },
      // Tests written as another project's would be: they import 'tandem' (the built dist/), built first.
      { extends: true, test: { name: 'package', include: ['examples/**/*.test.ts'], globalSetup: ['test/helpers/build-dist.ts'] } },
    ],
  },
});
