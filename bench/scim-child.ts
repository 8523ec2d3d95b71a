/**
 * The processes of `bench/scim.ts`: `server` runs the Admin API (SCIM under /scim/v2) on a store;
 * `follower` follows the same organization as a gateway replica does, and reports when it applied each
 * revision and its lag (`follower.lag()`, by the database's clock) every 100 ms.
 */
import { openStore } from '@org-policy/store';
import { startAdminApi } from '../examples/admin-api/server.js';
import type { ScimChildMessage, ScimChildRole } from './scim-shared.js';

const role = JSON.parse(process.argv[2]!) as ScimChildRole;
const send = (message: ScimChildMessage) => process.send!(message);
const wallClock = () => performance.timeOrigin + performance.now();

if (role.role === 'server') {
  const api = await startAdminApi({
    ...(role.databaseUrl !== undefined ? { databaseUrl: role.databaseUrl } : { dataDir: role.dataDir! }),
    bootstrapKey: role.adminKey,
    scimBootstrapToken: role.scimToken,
    log: () => {},
  });
  send({ type: 'ready', url: api.url, revision: api.follower.revision });
  process.on('message', async (message: { type: string }) => {
    if (message.type === 'exit') {
      await api.close();
      process.exit(0);
    }
  });
} else {
  const store = await openStore({ url: role.databaseUrl, organizationId: role.organizationId, applicationName: `scim-bench-${role.name}` });
  const follower = await store.follow();
  let applied: [number, number][] = [];
  follower.on('change', ({ revision }) => applied.push([revision, wallClock()]));
  const lags: [number, number][] = [];
  const sampler = setInterval(() => {
    void follower.lag().then(
      (lag) => lags.push([lag.lagMs, lag.revisionsBehind]),
      () => {},
    );
  }, 100);
  const flush = setInterval(() => {
    if (applied.length === 0) return;
    send({ type: 'applied', revisions: applied });
    applied = [];
  }, 200);
  send({ type: 'ready', url: '', revision: follower.revision });
  process.on('message', async (message: { type: string }) => {
    if (message.type !== 'exit') return;
    clearInterval(sampler);
    clearInterval(flush);
    send({ type: 'applied', revisions: applied });
    send({ type: 'lags', lags, revision: follower.revision });
    await store.close();
    process.exit(0);
  });
}
