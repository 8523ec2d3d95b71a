import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';
import { storeTestConfig } from './packages/store/test/support/vitest.js';

// @org-policy/store's suites run with the root's; its PostgreSQL suites only when the test server answers.
const store = await storeTestConfig();

export default defineConfig({
  resolve: {
    // Tests and examples import the packages by their public names, as a user would.
    alias: {
      'org-policy': fileURLToPath(new URL('./src/index.ts', import.meta.url)),
      '@org-policy/store': fileURLToPath(new URL('./packages/store/src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts', ...store.include],
    exclude: [...configDefaults.exclude, ...store.exclude],
    globalSetup: store.globalSetup,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
