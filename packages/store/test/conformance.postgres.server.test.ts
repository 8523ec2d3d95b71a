import { openStore } from '../src/index.js';
import { describeStoreConformance } from './conformance/suite.js';
import { createTestDatabase, sql } from './support/server.js';

describeStoreConformance({
  name: 'postgres',
  exceptions: [],
  async database(label) {
    const database = await createTestDatabase(label);
    return {
      open: (options) => openStore({ ...options, url: database.url }),
      sql: (text, params) => sql(database.url, text, params),
      processEnv: { DATABASE_URL: database.url },
      close: () => database.drop(),
    };
  },
});
