/** A writer process: applies the commands it is sent, concurrently, and acknowledges each once committed. */
import { openStore } from '../../src/index.js';
import { env, onRequest, out } from './io.js';

const store = await openStore({ url: env('DATABASE_URL'), organizationId: env('ORGANIZATION_ID'), applicationName: `writer-${env('CHILD_NAME')}` });

onRequest(async (request) => {
  if (request.op === 'apply') {
    const result = await store.apply(String(request.actor), request.commands as unknown[], { now: Number(request.now) });
    out(result.ok
      ? { type: 'applied', id: request.id, tag: request.tag, ok: true, revision: result.revision }
      : { type: 'applied', id: request.id, tag: request.tag, ok: false, revision: result.revision, code: result.error.code });
  } else if (request.op === 'exit') {
    await store.close();
    process.exit(0);
  }
});
out({ type: 'ready', pid: process.pid });
