/** A process that opens a PGlite data directory and writes to it; refused if another process holds it. */
import { openStore, isStoreError } from '../../src/index.js';
import { ADMIN, inviteMember, NOW, sampleOrganization } from '../support/fixtures.js';
import { env, onRequest, out } from './io.js';

const organizationId = env('ORGANIZATION_ID');
let store;
try {
  store = await openStore({ dataDir: env('DATA_DIR'), organizationId });
} catch (error) {
  if (isStoreError(error, 'data_directory_locked')) {
    out({ type: 'refused', code: error.code, message: error.message, holder: error.details.pid });
    process.exit(3);
  }
  throw error;
}
const opened = store;
await opened.init(sampleOrganization(organizationId));

onRequest(async (request) => {
  if (request.op === 'apply') {
    const result = await opened.apply(ADMIN, inviteMember(String(request.tag)), { now: NOW });
    out({ type: 'applied', id: request.id, tag: request.tag, ok: result.ok, revision: result.revision });
  } else if (request.op === 'exit') {
    await opened.close();
    process.exit(0);
  }
});
out({ type: 'ready', pid: process.pid, revision: (await opened.head())?.revision ?? null });
