/**
 * Membership PATCHes racing on one group lose no member: each is a delta (addGroupMembers /
 * removeGroupMembers) applied on the head under the store's lock, never a list read, changed and written
 * back — the read-modify-write that SCIM servers are known to lose members to. Two instances of the
 * service on one PostgreSQL database, as two Admin API processes would be: their requests overlap widely
 * enough to catch a read-modify-write (a PATCH add turned into setGroupMembers of the list it saw loses
 * members here).
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { raceOnOneGroup, startScimHarness, type ScimHarness } from './testing.js';

describe('concurrent membership PATCHes on one group (PostgreSQL, two instances)', () => {
  const instances: ScimHarness[] = [];
  beforeAll(async () => {
    instances.push(await startScimHarness({ database: 'postgres' }));
    instances.push(await startScimHarness({ database: 'postgres', join: instances[0]! }));
  });
  afterAll(async () => {
    for (const instance of [...instances].reverse()) await instance.close();
  });

  it('60 adds and 20 removes at once, through both instances: exactly the expected members, one change each', async () => {
    await raceOnOneGroup(instances);
  });
});
