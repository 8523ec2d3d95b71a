import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openStore, type Store } from '../src/index.js';
import { ADMIN, inviteAndPlace, inviteMember, NOW, policyGrid, sampleOrganization, snapshotSha256 } from './support/fixtures.js';
import { createTestDatabase, type TestDatabase } from './support/server.js';

/** An export moves between engines: PGlite to the server (a development database promoted) and back. */
describe('backup and restore across engines', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('backup');
  });
  afterAll(async () => {
    await database?.drop();
  });

  const lines = async (store: Store) => {
    const all: string[] = [];
    for await (const line of store.export()) all.push(line);
    return all;
  };
  const view = async (store: Store) => {
    const follower = await store.follow();
    const audit = (await store.auditLog({ limit: 1_000 })).entries.map(({ cursor: _cursor, ...entry }) => entry);
    const result = { revision: follower.revision, snapshot: snapshotSha256(follower.organization), grid: policyGrid(follower.policy, follower.organization), audit };
    await follower.close();
    return result;
  };

  test('PGlite → PostgreSQL → PGlite: the same head, snapshot, policy and audit log at every step', async () => {
    const source = await openStore({ dataDir: 'memory://', organizationId: 'acme', autoCheckpoint: false });
    const server = await openStore({ url: database.url, organizationId: 'acme' });
    const back = await openStore({ dataDir: 'memory://', organizationId: 'acme' });
    try {
      await source.init(sampleOrganization('acme'));
      for (let i = 0; i < 5; i += 1) await source.apply(ADMIN, inviteAndPlace(`p${i}`), { now: NOW });
      await source.checkpoint({ force: true });
      await source.apply('bob', inviteMember('refused'), { now: NOW });
      for (let i = 5; i < 8; i += 1) await source.apply(ADMIN, inviteAndPlace(`p${i}`), { now: NOW });

      const fromPglite = await lines(source);
      expect(await server.import(fromPglite)).toEqual({ revision: 8, checkpointRevision: 5, changes: 3, auditEntries: 17 });
      const expected = await view(source);
      expect(await view(server)).toEqual(expected);

      expect(await back.import(await lines(server))).toMatchObject({ revision: 8, changes: 3 });
      expect(await view(back)).toEqual(expected);
      expect(await server.apply(ADMIN, inviteMember('after'), { now: NOW })).toMatchObject({ ok: true, revision: 9 });
    } finally {
      await Promise.all([source.close(), server.close(), back.close()]);
    }
  });
});
