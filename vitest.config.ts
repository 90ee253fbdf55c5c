import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/e2e needs Python, Django and Chromium from Debian: `npm run test:e2e`.
    exclude: ['test/e2e/**', '**/node_modules/**'],
    // Builds dist/rxroute and dist/npm once, so every runtime suite tests what ships.
    globalSetup: ['test/_helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: two files at a time keeps the router processes measurable.
    maxWorkers: 2,
  },
});
