/** `npm run example:admin-api`: the Admin API server on PORT (default 8788) with its data in DATA_DIR. */
import { fileURLToPath } from 'node:url';
import { startAdminApi } from './server.js';

const dataDir = process.env.DATA_DIR ?? fileURLToPath(new URL('../../.data/admin-api', import.meta.url));
const port = Number(process.env.PORT ?? 8788);
const api = await startAdminApi({ dataDir, port, host: process.env.HOST ?? '127.0.0.1' });

console.log(`Admin API on ${api.url} (data in ${dataDir})`);
if (api.seededKeys.size > 0) {
  // Shown once: only their SHA-256 hashes are stored.
  console.log('Seeded the sample organization. Admin keys (save them now, they are not shown again):');
  for (const [actor, key] of api.seededKeys) console.log(`  ${actor.padEnd(8)} ${key}`);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void api.close().then(() => process.exit(0)));
}
