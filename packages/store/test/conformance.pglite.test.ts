import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, pgliteEngine } from '../src/index.js';
import { describeStoreConformance } from './conformance/suite.js';

describeStoreConformance({
  name: 'pglite',
  exceptions: ['single_process'],
  async database(label) {
    const dataDir = mkdtempSync(join(tmpdir(), `org-policy-store-${label}-`));
    const engine = await pgliteEngine({ dataDir });
    return {
      // Every store of this process shares the one PGlite instance that holds the directory.
      open: (options) => openStore({ ...options, engine }),
      sql: (text, params) => engine.query(text, params),
      processEnv: { DATA_DIR: dataDir },
      async close() {
        await engine.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
});
