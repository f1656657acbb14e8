import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests start real processes, brokers and TF.js backends; 2-core CI machines need the headroom.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // TF.js keeps one global engine per process; separate forks keep backends and kernels isolated.
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
  },
});
