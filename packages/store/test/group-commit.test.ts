import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openStore, pgliteEngine, type Engine, type SqlClient } from '../src/index.js';
import { ADMIN, inviteMember, NOW, sampleOrganization } from './support/fixtures.js';

/**
 * Applies waiting together share one transaction (one COMMIT), each its own change: checked through an
 * engine that counts transactions and can fail the statement writing one chosen change.
 */
describe('group commit', () => {
  let real: Engine;
  let transactions = 0;
  let poison: string | undefined;
  const engine: Engine = {
    kind: 'pglite',
    multiProcess: false,
    query: (text, params) => real.query(text, params),
    transaction: (work) => {
      transactions += 1;
      return real.transaction((tx) => work(failing(tx)));
    },
    listen: (channel, handlers) => real.listen(channel, handlers),
    close: async () => {},
  };
  const failing = (tx: SqlClient): SqlClient => ({
    query: (text, params) =>
      poison !== undefined && text.includes('INSERT INTO org_policy.changes') && String(params?.[2]).includes(poison)
        ? Promise.reject(new Error(`refusing to write ${poison}`))
        : tx.query(text, params),
  });

  beforeAll(async () => {
    real = await pgliteEngine();
  });
  afterAll(async () => {
    await real.close();
  });

  test('concurrent applies commit in fewer transactions than changes, each at its own revision, refusals judged where they fall', async () => {
    const store = await openStore({ engine, organizationId: 'batched' });
    await store.init(sampleOrganization('batched'));
    transactions = 0;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i === 7 ? store.apply('bob', inviteMember('refused'), { now: NOW }) : store.apply(ADMIN, inviteMember(`b${i}`), { now: NOW }))),
    );
    expect(transactions).toBeLessThan(20);
    expect(results.filter((result) => result.ok).map((result) => result.revision)).toEqual(Array.from({ length: 19 }, (_, i) => i + 1));
    expect(results[7]).toMatchObject({ ok: false, error: { class: 'forbidden' }, revision: 7 });
    expect((await store.auditLog({ limit: 100 })).entries.map((entry) => entry.revision)).toEqual([1, 2, 3, 4, 5, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    await store.close();
  });

  test('a change the database refuses fails its own apply only: the others of its batch are committed alone', async () => {
    const store = await openStore({ engine, organizationId: 'poisoned' });
    await store.init(sampleOrganization('poisoned'));
    poison = 'm-poison';
    try {
      const results = await Promise.allSettled(['p1', 'p2', 'poison', 'p3', 'p4'].map((tag) => store.apply(ADMIN, inviteMember(tag), { now: NOW })));
      expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      expect(results.flatMap((result) => (result.status === 'fulfilled' ? [result.value.revision] : []))).toEqual([1, 2, 3, 4]);
      expect(await store.head()).toMatchObject({ revision: 4 });
      const follower = await store.follow();
      expect(follower.revision).toBe(4);
      expect(follower.stats().reloads).toBe(0);
    } finally {
      poison = undefined;
      await store.close();
    }
  });
});
