import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Tests start real engines and mount real filesystems: run files one at a time.
    fileParallelism: false,
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/leak-check.ts'],
  },
});
