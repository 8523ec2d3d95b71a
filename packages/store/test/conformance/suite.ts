import { applyChange, applyCommands, createPolicy, parseOrganization, serializeOrganization, type Organization } from 'org-policy';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { isStoreError, type ChangeEvent, type Follower, type ReloadEvent, type Store, type StoreEvent } from '../../src/index.js';
import { ADMIN, inviteAndPlace, inviteMember, NOW, policyGrid, sampleOrganization, snapshotSha256 } from '../support/fixtures.js';
import { Child } from '../support/processes.js';
import type { OpenOptions, StoreTester, TestDatabase } from './tester.js';

/**
 * What every engine of @org-policy/store must do, run once per engine from a small tester (the
 * SpiceDB datastore-conformance pattern). An engine's declared exceptions replace the tests that need
 * what it lacks with a check of what it declares.
 */
export function describeStoreConformance(tester: StoreTester) {
  describe(`@org-policy/store conformance: ${tester.name}`, () => {
    let db: TestDatabase;
    let organizations = 0;
    const opened: Store[] = [];

    beforeAll(async () => {
      db = await tester.database('conformance');
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
    });
    afterAll(async () => {
      await db?.close();
    });

    const nextId = () => `org-${tester.name}-${++organizations}`;
    const open = async (options: OpenOptions, on: TestDatabase = db) => {
      const store = await on.open(options);
      opened.push(store);
      return store;
    };
    /** A store of a new organization, seeded with the sample snapshot. */
    const seeded = async (options: Partial<OpenOptions> = {}, on: TestDatabase = db) => {
      const organizationId = options.organizationId ?? nextId();
      const store = await open({ ...options, organizationId }, on);
      const initial = sampleOrganization(organizationId);
      expect(await store.init(initial)).toEqual({ ok: true, revision: 0 });
      return { store, initial, organizationId };
    };
    const invite = (store: Store, tag: string) => store.apply(ADMIN, inviteMember(tag), { now: NOW });
    const revisions = async (organizationId: string, on: TestDatabase = db) =>
      (await on.sql<{ revision: string | number }>('SELECT revision FROM org_policy.changes WHERE organization_id = $1 ORDER BY revision', [organizationId])).map((row) => Number(row.revision));
    const nextEvent = <T>(follower: Follower, event: 'change' | 'reload', predicate: (value: T) => boolean = () => true) =>
      new Promise<T>((resolve) => {
        const listener = (value: T) => {
          if (!predicate(value)) return;
          follower.off(event, listener as never);
          resolve(value);
        };
        follower.on(event, listener as never);
      });

    describe('init', () => {
      test('seeds an empty database with the head and a checkpoint at the snapshot revision', async () => {
        const { store, organizationId } = await seeded();
        expect(await store.head()).toMatchObject({ revision: 0 });
        const checkpoints = await db.sql('SELECT revision, schema_version FROM org_policy.checkpoints WHERE organization_id = $1', [organizationId]);
        expect(checkpoints.map((row) => [Number(row.revision), row.schema_version])).toEqual([[0, 1]]);
      });

      test('a second init is refused with the head it found, and changes nothing', async () => {
        const { store, initial } = await seeded();
        await invite(store, 'x');
        expect(await store.init(initial)).toMatchObject({ ok: false, error: { code: 'already_initialized', revision: 1 } });
        expect(await store.head()).toMatchObject({ revision: 1 });
      });

      test('a snapshot of another organization is a typed error', async () => {
        const store = await open({ organizationId: nextId() });
        await expect(store.init(sampleOrganization('someone-else'))).rejects.toSatisfy((error) => isStoreError(error, 'wrong_organization'));
      });

      test('writing or following before init is a typed error', async () => {
        const store = await open({ organizationId: nextId() });
        expect(await store.head()).toBeNull();
        await expect(invite(store, 'x')).rejects.toSatisfy((error) => isStoreError(error, 'not_initialized'));
        await expect(store.follow()).rejects.toSatisfy((error) => isStoreError(error, 'not_initialized'));
      });
    });

    describe('writes', () => {
      test('an applied command is one change, committed before apply resolves, at the next revision', async () => {
        const { store, initial, organizationId } = await seeded();
        const result = await store.apply(ADMIN, inviteAndPlace('dan'), { now: NOW });
        expect(result).toMatchObject({ ok: true, revision: 1 });
        if (!result.ok) return;
        expect(result.events.map((event) => event.result)).toEqual([{ status: 'applied', revision: 1 }, { status: 'applied', revision: 1 }]);
        const [row] = await db.sql<{ change: unknown }>('SELECT change FROM org_policy.changes WHERE organization_id = $1 AND revision = 1', [organizationId]);
        expect(row?.change).toEqual(JSON.parse(JSON.stringify(result.change)));
        // The stored change is the one applyCommands computed on the head, and applies to it.
        const expected = applyCommands(initial, ADMIN, inviteAndPlace('dan'), { now: NOW });
        expect(expected.ok && snapshotSha256(expected.snapshot)).toBe(snapshotSha256(applied(initial, row!.change)));
        expect(await store.head()).toMatchObject({ revision: 1 });
      });

      test('a refused command writes no change, keeps the head, and its refusal is in the audit log', async () => {
        const { store } = await seeded();
        const refused = await store.apply('bob', inviteMember('eve'), { now: NOW });
        expect(refused).toMatchObject({ ok: false, error: { class: 'forbidden' }, index: 0, revision: 0 });
        expect(await store.head()).toMatchObject({ revision: 0 });
        const audit = await store.auditLog();
        expect(audit.entries.map((entry) => [entry.status, entry.event.actor, entry.revision])).toEqual([['refused', 'bob', 0]]);
      });

      test('commands of one change apply all or none: one refused, none kept, each audited', async () => {
        const { store, organizationId } = await seeded();
        const result = await store.apply(ADMIN, [...inviteMember('fay'), { type: 'setMemberOrgRoles', memberId: 'nobody', roleNames: ['member'] }], { now: NOW });
        expect(result).toMatchObject({ ok: false, index: 1, error: { class: 'not_found' } });
        expect(await revisions(organizationId)).toEqual([]);
        expect((await store.auditLog()).entries.map((entry) => entry.status)).toEqual(['rolled_back', 'refused']);
      });

      test('the audit log holds applied and refused commands in order, paged both ways', async () => {
        const { store } = await seeded();
        await invite(store, 'a');
        await store.apply('bob', inviteMember('b'), { now: NOW });
        await invite(store, 'c');
        const all = await store.auditLog();
        expect(all.entries.map((entry) => [entry.status, entry.revision])).toEqual([['applied', 1], ['refused', 1], ['applied', 2]]);
        expect(all.nextCursor).toBeNull();
        const first = await store.auditLog({ limit: 2 });
        expect(first.entries).toHaveLength(2);
        const second = await store.auditLog({ limit: 2, cursor: first.nextCursor });
        expect([...first.entries, ...second.entries]).toEqual(all.entries);
        expect(second.nextCursor).toBeNull();
        const newest = await store.auditLog({ limit: 1, order: 'desc' });
        expect(newest.entries[0]).toEqual(all.entries[2]);
      });

      test('writers racing on one organization: every command acknowledged once, revisions without a gap', async () => {
        const { store: first, organizationId } = await seeded();
        const second = await open({ organizationId });
        const results = await Promise.all(Array.from({ length: 30 }, (_, i) => invite(i % 2 === 0 ? first : second, `race-${i}`)));
        expect(results.every((result) => result.ok)).toBe(true);
        expect(results.map((result) => result.revision).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
        expect(await revisions(organizationId)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      });

      test('a stale writer catches up under the lock: its command is judged on the head, never on its old revision', async () => {
        const { store: fresh, organizationId } = await seeded();
        const stale = await open({ organizationId });
        expect(await invite(stale, 'loaded')).toMatchObject({ ok: true, revision: 1 });
        for (let i = 0; i < 5; i += 1) await invite(fresh, `other-${i}`);
        // Valid only on the head: the member another writer invited.
        const result = await stale.apply(ADMIN, [{ type: 'setMemberOrgRoles', memberId: 'm-other-4', roleNames: ['billing_manager'] }], { now: NOW });
        expect(result).toMatchObject({ ok: true, revision: 7 });
        const follower = await fresh.follow();
        expect(follower.revision).toBe(7);
        expect(follower.policy.can('m-other-4', 'org.billing.manage')).toBe(true);
      });

      test('a writer that caught up authorizes on what the other writer committed, each time', async () => {
        const { store: fresh, organizationId } = await seeded();
        const stale = await open({ organizationId });
        expect(await invite(stale, 'loaded')).toMatchObject({ ok: true, revision: 1 });
        const setBob = (roleNames: string[]) => fresh.apply(ADMIN, [{ type: 'setMemberOrgRoles', memberId: 'bob', roleNames }], { now: NOW });
        // Caught up with bob made an admin by the other writer: bob may invite.
        expect(await setBob(['organization_admin'])).toMatchObject({ ok: true, revision: 2 });
        expect(await stale.apply('bob', inviteMember('by-bob'), { now: NOW })).toMatchObject({ ok: true, revision: 3 });
        // Caught up again, with bob a plain member once more: refused, on the policy of revision 4.
        expect(await setBob(['member'])).toMatchObject({ ok: true, revision: 4 });
        expect(await stale.apply('bob', inviteMember('by-bob-again'), { now: NOW })).toMatchObject({ ok: false, error: { class: 'forbidden' }, revision: 4 });
      });

      test('a writer ahead of a database put back to an earlier revision reloads from it instead of committing on its own state', async () => {
        const { store, organizationId } = await seeded();
        for (let i = 0; i < 3; i += 1) await invite(store, `gone-${i}`);
        // What a restore from an older backup looks like to a running writer.
        await db.sql('DELETE FROM org_policy.audit WHERE organization_id = $1 AND revision = 3', [organizationId]);
        await db.sql('DELETE FROM org_policy.changes WHERE organization_id = $1 AND revision = 3', [organizationId]);
        await db.sql('UPDATE org_policy.heads SET revision = 2 WHERE organization_id = $1', [organizationId]);
        // On its own state (revision 3, m-gone-2 already a member) this invite would be refused as id_taken.
        const result = await store.apply(ADMIN, inviteMember('gone-2'), { now: NOW });
        expect(result).toMatchObject({ ok: true, revision: 3 });
        const follower = await store.follow();
        expect(follower.revision).toBe(3);
        expect(memberIds(follower.organization)).toContain('m-gone-2');
      });
    });

    describe('followers', () => {
      test('follow loads the checkpoint and the later changes, and answers as createPolicy of the snapshot at its revision', async () => {
        const { store } = await seeded();
        for (let i = 0; i < 4; i += 1) await store.apply(ADMIN, inviteAndPlace(`f${i}`), { now: NOW });
        const follower = await store.follow();
        expect(follower.revision).toBe(4);
        expect(policyGrid(follower.policy, follower.organization)).toEqual(policyGrid(referencePolicy(follower.organization), follower.organization));
      });

      test('a notification brings a change to a follower, with the policies before and after it', async () => {
        const { store } = await seeded();
        const follower = await store.follow({ pollIntervalMs: 600_000 });
        const arrived = nextEvent<ChangeEvent>(follower, 'change');
        const result = await store.apply(ADMIN, inviteAndPlace('gus'), { now: NOW });
        const event = await arrived;
        expect(event.revision).toBe(result.revision);
        expect(event.previousPolicy.can('m-gus', 'studio.use', 'research')).toBe(false);
        expect(event.policy.can('m-gus', 'studio.use', 'research')).toBe(true);
        expect(follower.policy).toBe(event.policy);
        expect(follower.stats().notifications).toBeGreaterThan(0);
        expect(follower.stats().catchUps.timer).toBe(0);
      });

      test('waitFor gives read-your-writes, and a typed timeout past its bound', async () => {
        const { store } = await seeded();
        const follower = await store.follow({ pollIntervalMs: 600_000 });
        const result = await invite(store, 'hal');
        expect(await follower.waitFor(result.revision, { timeoutMs: 20_000 })).toEqual({ ok: true, revision: result.revision });
        expect(follower.policy.can('m-hal', 'studio.use', 'research')).toBe(false);
        expect(await follower.waitFor(result.revision + 5, { timeoutMs: 20 })).toMatchObject({ ok: false, error: { code: 'timeout', revision: result.revision, waitedFor: result.revision + 5 } });
      });

      test('with notifications lost, the timer catch-up brings the follower to the head', async () => {
        const { store, organizationId } = await seeded();
        const deaf = await open({ organizationId, channel: 'org_policy_nobody_writes_here' });
        const follower = await deaf.follow({ pollIntervalMs: 50 });
        const arrived = nextEvent<ChangeEvent>(follower, 'change', (event) => event.revision === 3);
        for (let i = 0; i < 3; i += 1) await invite(store, `t${i}`);
        await arrived;
        expect(follower.stats()).toMatchObject({ notifications: 0, changesApplied: 3 });
        expect(follower.stats().catchUps.timer).toBeGreaterThan(0);
      });

      test('lag says how far behind the head a follower is, and how long ago the head committed', async () => {
        const { store, organizationId } = await seeded();
        const deaf = await open({ organizationId, channel: 'org_policy_nobody_writes_here' });
        const follower = await deaf.follow({ pollIntervalMs: 600_000 });
        expect(await follower.lag()).toMatchObject({ revision: 0, headRevision: 0, revisionsBehind: 0, lagMs: 0 });
        await invite(store, 'l1');
        await invite(store, 'l2');
        const lag = await follower.lag();
        expect(lag).toMatchObject({ revision: 0, headRevision: 2, revisionsBehind: 2 });
        expect(lag.lagMs).toBeGreaterThanOrEqual(lag.msSinceHeadCommit);
        await follower.waitFor(2, { timeoutMs: 20_000 });
        expect(await follower.lag()).toMatchObject({ revisionsBehind: 0, lagMs: 0 });
      });

      test('a gap in the log (changes pruned behind a checkpoint) reloads the follower from the checkpoint, and says so', async () => {
        const { store, organizationId } = await seeded({ retention: { changesMs: 0 }, autoCheckpoint: false });
        const deaf = await open({ organizationId, channel: 'org_policy_nobody_writes_here' });
        const follower = await deaf.follow({ pollIntervalMs: 600_000 });
        for (let i = 0; i < 4; i += 1) await invite(store, `g${i}`);
        expect(await store.checkpoint({ force: true })).toMatchObject({ written: true, revision: 4, pruned: { changes: 4 } });
        await invite(store, 'g4');
        const reloaded = nextEvent<ReloadEvent>(follower, 'reload');
        expect(await follower.waitFor(5, { timeoutMs: 20_000 })).toMatchObject({ ok: true });
        expect(await reloaded).toMatchObject({ reason: 'gap', at: 1, fromRevision: 0, toRevision: 5 });
        expect(policyGrid(follower.policy, follower.organization)).toEqual(policyGrid(referencePolicy(follower.organization), follower.organization));
      });

      test('a change that does not apply reloads the follower from a later checkpoint', async () => {
        const { store, organizationId } = await seeded({ autoCheckpoint: false });
        const deaf = await open({ organizationId, channel: 'org_policy_nobody_writes_here' });
        const follower = await deaf.follow({ pollIntervalMs: 600_000 });
        for (let i = 0; i < 3; i += 1) await invite(store, `c${i}`);
        await store.checkpoint({ force: true });
        await db.sql(`UPDATE org_policy.changes SET change = jsonb_set(change, '{sha256}', to_jsonb(repeat('0', 64))) WHERE organization_id = $1 AND revision = 2`, [organizationId]);
        const reloaded = nextEvent<ReloadEvent>(follower, 'reload');
        expect(await follower.waitFor(3, { timeoutMs: 20_000 })).toMatchObject({ ok: true });
        expect(await reloaded).toMatchObject({ reason: 'change_failed', at: 2, error: { code: 'checksum_mismatch' }, toRevision: 3 });
      });

      test('a change that does not apply even from the latest checkpoint stops the follower before it, reported once, not looped on', async () => {
        const { store, organizationId } = await seeded({ autoCheckpoint: false });
        const follower = await store.follow({ pollIntervalMs: 600_000 });
        await invite(store, 'ok');
        await follower.waitFor(1, { timeoutMs: 20_000 });
        const deaf = await open({ organizationId, channel: 'org_policy_nobody_writes_here' });
        const stuck = await deaf.follow({ pollIntervalMs: 600_000 });
        const problems: string[] = [];
        stuck.on('problem', (event) => problems.push(event.code));
        await invite(store, 'broken');
        await db.sql(`UPDATE org_policy.changes SET change = jsonb_set(change, '{sha256}', to_jsonb(repeat('0', 64))) WHERE organization_id = $1 AND revision = 2`, [organizationId]);
        expect(await stuck.waitFor(2, { timeoutMs: 300 })).toMatchObject({ ok: false, error: { code: 'timeout', revision: 1 } });
        expect(await stuck.waitFor(2, { timeoutMs: 300 })).toMatchObject({ ok: false, error: { code: 'timeout', revision: 1 } });
        expect(stuck.stats().reloads).toBeLessThanOrEqual(1);
        expect(problems).toContain('change_log_broken');
        expect(await stuck.lag()).toMatchObject({ revision: 1, revisionsBehind: 1 });
      });

      test('close stops the follower: no change after it, pending waits answered closed', async () => {
        const { store } = await seeded();
        const follower = await store.follow({ pollIntervalMs: 50 });
        const pending = follower.waitFor(100, { timeoutMs: 20_000 });
        await follower.close();
        expect(await pending).toMatchObject({ ok: false, error: { code: 'closed' } });
        await invite(store, 'late');
        const other = await store.follow();
        await other.waitFor(1, { timeoutMs: 20_000 });
        expect(follower.revision).toBe(0);
      });

      test('followers of one organization see none of another in the same database', async () => {
        const { store: one } = await seeded();
        const { store: two } = await seeded();
        const follower = await one.follow({ pollIntervalMs: 50 });
        await invite(two, 'elsewhere');
        await invite(one, 'here');
        await follower.waitFor(1, { timeoutMs: 20_000 });
        expect(follower.revision).toBe(1);
        expect(follower.policy.can('m-elsewhere', 'studio.use', 'research')).toBe(false);
      });

      test('an organization id too long for a notification payload still notifies (the payload carries the revision only)', async () => {
        const { store } = await seeded({ organizationId: `long-${'x'.repeat(9_000)}` });
        const follower = await store.follow({ pollIntervalMs: 600_000 });
        const arrived = nextEvent<ChangeEvent>(follower, 'change');
        await invite(store, 'long');
        expect((await arrived).revision).toBe(1);
      });
    });

    describe('checkpoints and retention', () => {
      test('a checkpoint is written after the command that makes one due, and followers start from it', async () => {
        const written: StoreEvent[] = [];
        const { store, organizationId } = await seeded({ checkpointEvery: 3, onEvent: (event) => written.push(event) });
        for (let i = 0; i < 3; i += 1) await invite(store, `k${i}`);
        await store.checkpoint(); // waits for the one in flight, if any
        const rows = await db.sql('SELECT revision FROM org_policy.checkpoints WHERE organization_id = $1 ORDER BY revision', [organizationId]);
        expect(rows.map((row) => Number(row.revision))).toEqual([0, 3]);
        expect(written.some((event) => event.type === 'checkpoint' && event.revision === 3)).toBe(true);
        expect(await store.checkpoint()).toMatchObject({ written: false, revision: 3 });
      });

      test('a size budget makes a checkpoint due too', async () => {
        const { store, organizationId } = await seeded({ checkpointEvery: 0, checkpointBytes: 1, autoCheckpoint: false });
        await invite(store, 'b1');
        expect(await store.checkpoint()).toMatchObject({ written: true, revision: 1 });
        const [head] = await db.sql('SELECT checkpoint_revision, bytes_since_checkpoint FROM org_policy.heads WHERE organization_id = $1', [organizationId]);
        expect([Number(head?.checkpoint_revision), Number(head?.bytes_since_checkpoint)]).toEqual([1, 0]);
      });

      test('changes behind the latest checkpoint are kept for the retention, then deleted; the latest checkpoints are kept', async () => {
        const { store: keeping, organizationId } = await seeded({ autoCheckpoint: false, retention: { checkpoints: 2 } });
        for (let i = 0; i < 3; i += 1) await invite(keeping, `r${i}`);
        expect(await keeping.checkpoint({ force: true })).toMatchObject({ written: true, revision: 3, pruned: { changes: 0 } });
        const pruning = await open({ organizationId, autoCheckpoint: false, retention: { changesMs: 0, checkpoints: 2 } });
        await invite(pruning, 'r3');
        expect(await pruning.checkpoint({ force: true })).toMatchObject({ written: true, revision: 4, pruned: { changes: 4, checkpoints: 1 } });
        expect(await revisions(organizationId)).toEqual([]);
        const rows = await db.sql('SELECT revision FROM org_policy.checkpoints WHERE organization_id = $1 ORDER BY revision', [organizationId]);
        expect(rows.map((row) => Number(row.revision))).toEqual([3, 4]);
        const follower = await keeping.follow();
        expect(follower.revision).toBe(4);
      });

      test('a checkpoint in a newer schemaVersion is refused with a typed error, never read as the current one', async () => {
        const { store, organizationId } = await seeded();
        await invite(store, 'v');
        await insertRawCheckpoint(db, organizationId, 1, 2, { ...(serializeOrganization(sampleOrganization(organizationId)) as object), schemaVersion: 2, revision: 1 });
        await expect(store.follow()).rejects.toSatisfy((error) => isStoreError(error, 'checkpoint_schema_unsupported') && /newer/.test(error.message));
      });

      test('a checkpoint in an older schemaVersion is migrated when a migration is given, refused when none is', async () => {
        const { store, organizationId } = await seeded();
        await invite(store, 'old');
        const { schemaVersion: _version, ...current } = serializeOrganization(sampleOrganization(organizationId)) as { schemaVersion: number } & Record<string, unknown>;
        await insertRawCheckpoint(db, organizationId, 1, 0, { ...current, schemaVersion: 0, revision: 1, title: 'Acme, as version 0 called its name' });
        await expect(store.follow()).rejects.toSatisfy((error) => isStoreError(error, 'checkpoint_schema_unsupported') && /no migration/.test(error.message));
        const migrating = await open({
          organizationId,
          checkpointMigrations: { 0: ({ title: _title, ...rest }) => ({ ...rest, schemaVersion: 1 }) },
        });
        const follower = await migrating.follow();
        expect(follower.revision).toBe(1);
        expect(follower.policy.can(ADMIN, 'org.members.manage')).toBe(true);
      });

      test('a checkpoint that does not match its checksum is refused', async () => {
        const { store, organizationId } = await seeded();
        await db.sql(`UPDATE org_policy.checkpoints SET snapshot = jsonb_set(snapshot, '{name}', '"Tampered"') WHERE organization_id = $1`, [organizationId]);
        await expect(store.follow()).rejects.toSatisfy((error) => isStoreError(error, 'checkpoint_corrupt'));
      });
    });

    describe('backup and restore', () => {
      test('export then import into an empty database gives the same head, log, audit log and policy', async () => {
        const { store, organizationId } = await seeded({ autoCheckpoint: false });
        for (let i = 0; i < 3; i += 1) await store.apply(ADMIN, inviteAndPlace(`e${i}`), { now: NOW });
        await store.checkpoint({ force: true });
        await store.apply(ADMIN, inviteAndPlace('e3'), { now: NOW });
        await store.apply('bob', inviteMember('refused'), { now: NOW });
        const lines: string[] = [];
        for await (const line of store.export()) lines.push(line);
        expect(lines.map((line) => (JSON.parse(line) as { type: string }).type)).toEqual(['header', 'checkpoint', 'change', ...Array(9).fill('audit'), 'end']);

        const target = await tester.database('restore');
        try {
          const restored = await target.open({ organizationId });
          expect(await restored.import(lines)).toEqual({ revision: 4, checkpointRevision: 3, changes: 1, auditEntries: 9 });
          expect(await restored.head()).toMatchObject({ revision: 4 });
          const original = await store.auditLog({ limit: 100 });
          const copy = await restored.auditLog({ limit: 100 });
          expect(copy.entries.map(({ cursor: _c, ...entry }) => entry)).toEqual(original.entries.map(({ cursor: _c, ...entry }) => entry));
          const [from, to] = await Promise.all([store.follow(), restored.follow()]);
          expect(snapshotSha256(to.organization)).toBe(snapshotSha256(from.organization));
          expect(policyGrid(to.policy, to.organization)).toEqual(policyGrid(from.policy, from.organization));
          expect(await restored.apply(ADMIN, inviteMember('after-restore'), { now: NOW })).toMatchObject({ ok: true, revision: 5 });
          await expect(restored.import(lines)).rejects.toSatisfy((error) => isStoreError(error, 'import_not_empty'));
          await restored.close();
        } finally {
          await target.close();
        }
      });

      test('a truncated or altered export is refused whole', async () => {
        const { store, organizationId } = await seeded();
        for (let i = 0; i < 2; i += 1) await invite(store, `t${i}`);
        const lines: string[] = [];
        for await (const line of store.export()) lines.push(line);
        const target = await tester.database('restore-bad');
        try {
          const restored = await target.open({ organizationId });
          await expect(restored.import(lines.slice(0, -1))).rejects.toSatisfy((error) => isStoreError(error, 'import_invalid') && /truncated/.test(error.message));
          const altered = lines.map((line) => line.replace('t1@example.com', 'mallory@example.com'));
          await expect(restored.import(altered)).rejects.toSatisfy((error) => isStoreError(error, 'import_invalid') && /does not apply/.test(error.message));
          expect(await restored.head()).toBeNull();
          // Bytes of a file, in arbitrary chunks, are lines too.
          const bytes = Buffer.from(lines.join(''));
          const chunks = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(i * 7, i * 7 + 7));
          expect(await restored.import(chunks)).toMatchObject({ revision: 2, changes: 2 });
          await restored.close();
        } finally {
          await target.close();
        }
      });
    });

    describe('schema', () => {
      test('migrations run once, however many stores open a new database at once', async () => {
        const fresh = await tester.database('migrations');
        try {
          const stores = await Promise.all([1, 2, 3].map((i) => fresh.open({ organizationId: `m${i}` })));
          const rows = await fresh.sql('SELECT version FROM org_policy.migrations');
          expect(rows.map((row) => Number(row.version))).toEqual([1]);
          await Promise.all(stores.map((store) => store.close()));
          await fresh.sql(`INSERT INTO org_policy.migrations (version, name) VALUES (99, 'from the future')`);
          await expect(fresh.open({ organizationId: 'm1' })).rejects.toSatisfy((error) => isStoreError(error, 'database_schema_too_new'));
        } finally {
          await fresh.close();
        }
      });

      test('a closed store refuses further calls with a typed error', async () => {
        const { store } = await seeded();
        await store.close();
        await expect(store.apply(ADMIN, inviteMember('z'))).rejects.toSatisfy((error) => isStoreError(error, 'closed'));
        await expect(store.follow()).rejects.toSatisfy((error) => isStoreError(error, 'closed'));
      });
    });

    describe('processes', () => {
      if (tester.exceptions.includes('single_process')) {
        test('declared single process: a second process opening the database is refused, and nothing is lost', async () => {
          const { store, organizationId } = await seeded();
          await invite(store, 'before');
          const child = Child.start('pglite-writer', 'second-opener', { ...db.processEnv, ORGANIZATION_ID: organizationId });
          const refused = await child.waitFor((message) => message.type === 'refused', 60_000, 'a refusal');
          expect(refused).toMatchObject({ code: 'data_directory_locked', holder: process.pid });
          expect((await child.exited).code).toBe(3);
          await invite(store, 'after');
          expect(await revisions(organizationId)).toEqual([1, 2]);
        });
      } else {
        test('a writer in another process commits to the same log; each sees the other', async () => {
          const { store, organizationId } = await seeded();
          const follower = await store.follow({ pollIntervalMs: 600_000 });
          const child = Child.start('writer', 'other-writer', { ...db.processEnv, ORGANIZATION_ID: organizationId });
          try {
            await child.waitFor((message) => message.type === 'ready', 60_000, 'ready');
            const theirs = await Promise.all([0, 1, 2].map((i) => child.request({ op: 'apply', actor: ADMIN, commands: inviteMember(`theirs-${i}`), now: NOW })));
            const ours = await Promise.all([0, 1, 2].map((i) => invite(store, `ours-${i}`)));
            expect([...theirs.map((m) => m.ok), ...ours.map((r) => r.ok)]).toEqual(Array(6).fill(true));
            expect(await follower.waitFor(6, { timeoutMs: 20_000 })).toMatchObject({ ok: true });
            expect(await revisions(organizationId)).toEqual([1, 2, 3, 4, 5, 6]);
          } finally {
            await child.stop();
          }
        });
      }
    });
  });
}

const memberIds = (organization: Organization) => (serializeOrganization(organization) as { members: { id: string }[] }).members.map((member) => member.id);

function applied(organization: Organization, change: unknown): Organization {
  const result = applyChange(organization, change);
  if (!result.ok) throw new Error(result.error.message);
  return result.organization;
}

/** The policy a fresh `createPolicy` builds from the snapshot's JSON: the reference a follower must agree with. */
function referencePolicy(organization: Organization) {
  const parsed = parseOrganization(JSON.parse(JSON.stringify(serializeOrganization(organization))));
  if (!parsed.ok) throw new Error(parsed.problems[0]?.message);
  return createPolicy(parsed.organization);
}

async function insertRawCheckpoint(db: TestDatabase, organizationId: string, revision: number, schemaVersion: number, snapshot: unknown) {
  await db.sql(
    `INSERT INTO org_policy.checkpoints (organization_id, revision, schema_version, snapshot, sha256, size_bytes)
     SELECT $1, $2, $3, s, encode(sha256(convert_to(s::text, 'UTF8')), 'hex'), 0 FROM (SELECT $4::jsonb AS s) AS x`,
    [organizationId, revision, schemaVersion, JSON.stringify(snapshot)],
  );
}
