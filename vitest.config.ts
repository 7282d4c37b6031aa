import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests share one Redis and start real sshd processes: keep files in parallel forks but bounded.
    pool: 'forks',
    maxWorkers: 2,
  },
});
