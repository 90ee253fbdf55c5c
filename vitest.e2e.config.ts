import { defineConfig } from 'vitest/config';

// End-to-end suite: real Django, a real python-socketio backend, a real Vite
// dev server and Debian's Chromium. `scripts/e2e-setup.sh` installs the Debian
// packages; `npm run test:e2e` runs it.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['test/_helpers/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // One profile at a time: each starts Django, uvicorn, Vite, rxroute and Chromium.
    maxWorkers: 1,
    fileParallelism: false,
  },
});
