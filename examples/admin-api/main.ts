/**
 * `npm run example:admin-api`: the Admin API server.
 *
 *   PORT, HOST                 where it listens (default 127.0.0.1:8788)
 *   DATABASE_URL               a PostgreSQL server (postgres://…): any number of these processes on one database
 *   DATA_DIR                   otherwise PGlite in this directory, this process alone (default .data/admin-api)
 *   ORG_POLICY_BOOTSTRAP_KEY   the admin key of the first organization admin, taken while no admin key exists
 *   ORG_POLICY_SCIM_BOOTSTRAP_TOKEN  a SCIM bearer token acting as that admin, taken while no SCIM token was ever issued
 *   MIN_REVISION_WAIT_MS       how long x-policy-min-revision may wait (default 2000)
 *
 * It never prints a key: without one, it says how to set one. SIGTERM and SIGINT drain the requests in
 * flight, then close the store.
 */
import { fileURLToPath } from 'node:url';
import { startAdminApi } from './server.js';

/** At least 128 bits however the secret is written (SPEC §9.1 asks as much of API keys). */
const MIN_BOOTSTRAP_KEY_LENGTH = 32;

function fail(message: string): never {
  console.error(`admin-api: ${message}`);
  process.exit(2);
}

const env = process.env;
const databaseUrl = env.DATABASE_URL === undefined || env.DATABASE_URL === '' ? undefined : env.DATABASE_URL;
if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) fail('DATABASE_URL must be a postgres:// URL (without it, PGlite under DATA_DIR)');
const dataDir = env.DATA_DIR ?? fileURLToPath(new URL('../../.data/admin-api', import.meta.url));
const bootstrapKey = env.ORG_POLICY_BOOTSTRAP_KEY === '' ? undefined : env.ORG_POLICY_BOOTSTRAP_KEY;
if (bootstrapKey !== undefined && bootstrapKey.length < MIN_BOOTSTRAP_KEY_LENGTH) fail(`ORG_POLICY_BOOTSTRAP_KEY must be at least ${MIN_BOOTSTRAP_KEY_LENGTH} characters of a random secret`);
const scimBootstrapToken = env.ORG_POLICY_SCIM_BOOTSTRAP_TOKEN === '' ? undefined : env.ORG_POLICY_SCIM_BOOTSTRAP_TOKEN;
if (scimBootstrapToken !== undefined && scimBootstrapToken.length < MIN_BOOTSTRAP_KEY_LENGTH) fail(`ORG_POLICY_SCIM_BOOTSTRAP_TOKEN must be at least ${MIN_BOOTSTRAP_KEY_LENGTH} characters of a random secret`);
const port = Number(env.PORT ?? 8788);
if (!Number.isInteger(port) || port < 0 || port > 65_535) fail('PORT must be a port number');

const api = await startAdminApi({
  port,
  host: env.HOST ?? '127.0.0.1',
  ...(databaseUrl !== undefined ? { databaseUrl } : { dataDir }),
  ...(bootstrapKey !== undefined ? { bootstrapKey } : {}),
  ...(scimBootstrapToken !== undefined ? { scimBootstrapToken } : {}),
  ...(env.MIN_REVISION_WAIT_MS !== undefined ? { minRevisionWaitMs: Number(env.MIN_REVISION_WAIT_MS) } : {}),
}).catch((error: unknown) => {
  // A PGlite directory another process holds, an unreachable server, a database of a newer schema: said, not a stack.
  console.error(`admin-api: cannot start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

// Where the data is, never the credentials in a URL.
const where = databaseUrl !== undefined ? `PostgreSQL ${new URL(databaseUrl).host}${new URL(databaseUrl).pathname}` : `PGlite ${dataDir}`;
console.log(`admin-api listening url=${api.url} organization=${api.organizationId} store="${where}" revision=${api.follower.revision}`);
if (api.bootstrapped !== null) console.log(`admin-api bootstrap: ORG_POLICY_BOOTSTRAP_KEY is now the admin key of ${api.bootstrapped.memberId}`);
if (!api.hasAdminKeys) {
  console.log(
    'admin-api: no admin key exists yet. Stop this server and start it again with ORG_POLICY_BOOTSTRAP_KEY set to a secret of your own,\n' +
      '  e.g. ORG_POLICY_BOOTSTRAP_KEY="oak_$(openssl rand -base64 32 | tr \'+/\' \'-_\' | tr -d =)" — it becomes the first organization admin\'s key.',
  );
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`admin-api draining signal=${signal}`);
    api.close().then(
      () => {
        console.log('admin-api stopped');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(`admin-api: closing failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  });
}
