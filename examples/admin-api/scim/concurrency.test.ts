/**
 * Membership PATCHes racing on one group lose no member (PGlite, one instance of the service); the
 * PostgreSQL run with two instances is `concurrency.server.test.ts`.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { raceOnOneGroup, startScimHarness, type ScimHarness } from './testing.js';

describe('concurrent membership PATCHes on one group (PGlite)', () => {
  const instances: ScimHarness[] = [];
  beforeAll(async () => {
    instances.push(await startScimHarness({ database: 'pglite' }));
  });
  afterAll(async () => {
    for (const instance of instances) await instance.close();
  });

  it('60 adds and 20 removes at once: exactly the expected members, one change each', async () => {
    await raceOnOneGroup(instances);
  });
});
