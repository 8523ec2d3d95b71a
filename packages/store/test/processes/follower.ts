/** A follower process: follows the store, reports every change it applies, answers waits and query grids. */
import { openStore } from '../../src/index.js';
import { policyGrid, snapshotSha256 } from '../support/fixtures.js';
import { env, onRequest, out } from './io.js';

const store = await openStore({
  url: env('DATABASE_URL'),
  organizationId: env('ORGANIZATION_ID'),
  applicationName: `follower-${env('CHILD_NAME')}`,
  ...(process.env.CHANNEL !== undefined ? { channel: process.env.CHANNEL } : {}),
});
const follower = await store.follow({ pollIntervalMs: Number(process.env.POLL_INTERVAL_MS ?? 5_000) });
follower.on('change', (event) => out({ type: 'change', revision: event.revision }));
follower.on('reload', (event) => out({ type: 'reload', reason: event.reason, at: event.at, from: event.fromRevision, to: event.toRevision }));
follower.on('connection', (event) => out({ type: 'connection', state: event.state, ...(event.state === 'listening' ? { reconnected: event.reconnected } : {}) }));
follower.on('problem', (event) => out({ type: 'problem', code: event.code, message: event.message }));

onRequest(async (request) => {
  if (request.op === 'wait') {
    const result = await follower.waitFor(Number(request.revision), { timeoutMs: Number(request.timeoutMs ?? 20_000) });
    out({ type: 'waited', id: request.id, ...result });
  } else if (request.op === 'grid') {
    out({ type: 'grid', id: request.id, revision: follower.revision, grid: policyGrid(follower.policy, follower.organization), snapshot: snapshotSha256(follower.organization), stats: follower.stats() });
  } else if (request.op === 'exit') {
    await store.close();
    process.exit(0);
  }
});
out({ type: 'ready', pid: process.pid, revision: follower.revision });
