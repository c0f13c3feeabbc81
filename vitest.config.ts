import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Interop tests start real servers and tools; keep parallelism modest on 2 cores.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'tandem', include: ['test/**/*.test.ts'], exclude: ['test/package/**'], sequence: { groupOrder: 0 } } },
      // The package as users get it: examples/ import 'tandem' (the built dist/, built first by the globalSetup);
      // test/package/ packs, installs and follows the README in copies. Heavy (tsc builds, npm): they run after
      // the rest, one file at a time, so the timing-sensitive interop tests never share the CPU with them.
      {
        extends: true,
        test: {
          name: 'package', include: ['examples/**/*.test.ts', 'test/package/**/*.test.ts'], globalSetup: ['test/helpers/build-dist.ts'],
          fileParallelism: false, sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
