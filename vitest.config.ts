import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // two cores: two test files at a time, each with its own database
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    // expect.poll waits for what happens eventually: events wait for the horizon, which any test
    // file's open transaction on the shared server holds back (the default gives up after 1 s)
    expect: { poll: { timeout: 15_000 } },
    reporters: process.env.CI
      ? ['default', ['json', { outputFile: 'test/artifacts/results.json' }]]
      : ['default'],
  },
});
