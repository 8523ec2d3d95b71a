import { testServerUrl } from './server.js';

/** One line when the PostgreSQL suites cannot run; under CI that is a failure, not a note. */
export default function setup() {
  const status = process.env.ORG_POLICY_STORE_TEST_SERVER;
  if (status === undefined || status === 'reachable') return;
  const url = new URL(testServerUrl());
  if (process.env.CI === 'true') {
    throw new Error(`CI: the PostgreSQL test server ${url.host} is unreachable (${status}); the store's server suites must run`);
  }
  console.log(
    `@org-policy/store: the PostgreSQL server suites did not run (${url.host}: ${status}); start PostgreSQL or set TEST_DATABASE_URL=postgres://user@host:port/db and run npm test again`,
  );
}
