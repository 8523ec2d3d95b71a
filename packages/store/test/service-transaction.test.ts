import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openStore, pgliteEngine, type Engine, type Store } from '../src/index.js';
import { ADMIN, inviteMember, NOW, sampleOrganization } from './support/fixtures.js';

/**
 * A service keeps rows of its own beside the log (an Admin API's admin keys) and records decisions of its
 * own in the audit log: `apply({ inTransaction })` and `recordAudit` put them in the store's transaction,
 * so they commit with the change or the refusal, or not at all.
 */
describe("a service's own statements in the store's transactions", () => {
  let engine: Engine;
  let store: Store;
  const rows = async () => (await engine.query<{ note: string }>('SELECT note FROM service_rows ORDER BY note')).map((row) => row.note);

  beforeAll(async () => {
    engine = await pgliteEngine();
    await engine.query('CREATE TABLE service_rows (note text PRIMARY KEY)');
    store = await openStore({ engine, organizationId: 'hooked' });
    await store.init(sampleOrganization('hooked'));
  });
  afterAll(async () => {
    await store.close();
    await engine.close();
  });

  test('apply: the statements see the applied change and commit with it', async () => {
    const seen: unknown[] = [];
    const result = await store.apply(ADMIN, inviteMember('one'), {
      now: NOW,
      inTransaction: async (tx, outcome) => {
        seen.push(outcome.ok && outcome.revision);
        await tx.query('INSERT INTO service_rows (note) VALUES ($1)', ['with revision 1']);
      },
    });
    expect(result).toMatchObject({ ok: true, revision: 1 });
    expect(seen).toEqual([1]);
    expect(await rows()).toEqual(['with revision 1']);
  });

  test('apply: statements that throw roll the change and its audit events back, and the apply rejects', async () => {
    const auditBefore = (await store.auditLog({ limit: 1_000 })).entries.length;
    const failing = store.apply(ADMIN, inviteMember('two'), {
      now: NOW,
      inTransaction: async (tx) => {
        await tx.query('INSERT INTO service_rows (note) VALUES ($1)', ['never kept']);
        throw new Error('the service refuses');
      },
    });
    await expect(failing).rejects.toThrow('the service refuses');
    expect(await store.head()).toMatchObject({ revision: 1 });
    expect((await store.auditLog({ limit: 1_000 })).entries).toHaveLength(auditBefore);
    expect(await rows()).toEqual(['with revision 1']);
  });

  test('apply: a refused command hands its refusal to the statements, recorded together', async () => {
    let refusal: unknown;
    const result = await store.apply('bob', inviteMember('three'), {
      now: NOW,
      inTransaction: async (_tx, outcome) => {
        refusal = outcome.ok ? undefined : outcome.error.class;
      },
    });
    expect(result).toMatchObject({ ok: false, error: { class: 'forbidden' } });
    expect(refusal).toBe('forbidden');
  });

  test('recordAudit: events appended at the head revision, with the statements; both or neither', async () => {
    const event = { organizationId: 'hooked', actor: ADMIN, command: null, targets: [], at: NOW, result: { status: 'refused', class: 'validation', code: 'invalid_format' } } as const;
    const heads: number[] = [];
    const recorded = await store.recordAudit([event], {
      inTransaction: async (tx, head) => {
        heads.push(head.revision);
        await tx.query('INSERT INTO service_rows (note) VALUES ($1)', ['audited']);
      },
    });
    expect(recorded).toEqual({ revision: 1 });
    expect(heads).toEqual([1]);
    const last = (await store.auditLog({ order: 'desc', limit: 1 })).entries[0]!;
    expect(last).toMatchObject({ revision: 1, status: 'refused', event });

    const count = (await store.auditLog({ limit: 1_000 })).entries.length;
    await expect(store.recordAudit([event], { inTransaction: async () => Promise.reject(new Error('no')) })).rejects.toThrow('no');
    expect((await store.auditLog({ limit: 1_000 })).entries).toHaveLength(count);
    expect(await rows()).toEqual(['audited', 'with revision 1']);
  });
});
