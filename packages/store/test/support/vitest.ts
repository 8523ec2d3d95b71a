import { probeServer, testServerUrl } from './server.js';

/**
 * The store's part of the root vitest config: its tests, and its server suites (`*.server.test.ts`)
 * only when the test server answers — the global setup says so in one line, and fails the run under CI.
 */
export async function storeTestConfig() {
  const probe = await probeServer();
  process.env.ORG_POLICY_STORE_TEST_SERVER = probe.reachable ? 'reachable' : probe.reason;
  return {
    include: ['packages/store/test/**/*.test.ts'],
    // Every server suite of the repository (the store's, the examples'), not only the store's.
    exclude: probe.reachable ? [] : ['**/*.server.test.ts'],
    globalSetup: ['packages/store/test/support/global-setup.ts'],
    url: testServerUrl(),
  };
}
