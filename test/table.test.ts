/**
 * The persistent structures under `policy.update`: `MemberTable` (member rows packed in one
 * Int32Array, appended past everything written, moved to a fresh buffer when it is full) and `LayeredMap` (a base Map
 * and a layer of changes, folded when the layer grows). Model-based: every version ever made — updated
 * in place at the tip, branched from an older version, compacted, folded — must keep answering exactly
 * like a plain `Map` of its own history.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LayeredMap } from '../src/policy/layered.js';
import { DirectPairs, MemberTable, rowWorkspaces, workspaceMask, type Row } from '../src/policy/table.js';

const ID_SPACE = 3_000;
const id = (n: number) => (n === 0 ? '__proto__' : n === 1 ? 'constructor' : `m${n}`);

/** A row as the compiler writes it: flags, organization mask, n, n (workspace, mask) pairs, then d direct pairs. */
const row: fc.Arbitrary<Row> = fc
  .tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 2 ** 19 - 1 }), fc.uniqueArray(fc.nat(50), { maxLength: 6 }), fc.nat(6))
  .chain(([flags, organization, workspaces, direct]) =>
    fc.array(fc.integer({ min: 0, max: 2 ** 19 - 1 }), { minLength: workspaces.length, maxLength: workspaces.length }).map((masks) => {
      const pairs = workspaces.flatMap((w, i) => [w, masks[i]!]);
      const directPairs = pairs.slice(0, 2 * Math.min(direct, workspaces.length));
      return [flags, organization, workspaces.length, ...pairs, directPairs.length / 2, ...directPairs];
    }),
  );

/** One update: which earlier version it starts from, and the members it sets (a row) or removes (null). */
const step = fc.record({
  parent: fc.nat(),
  changes: fc.array(fc.tuple(fc.nat(ID_SPACE - 1), fc.option(row, { freq: 4 })), { maxLength: 300, size: 'max' }),
});

function rowAt(table: MemberTable, memberId: string): Row | undefined {
  return table.row(memberId);
}

describe('MemberTable: every version answers like a Map of its own history', () => {
  it('after random updates from random earlier versions (appended, branched, arena grown, compacted)', () => {
    const paths = { appended: 0, grown: 0, compacted: 0 };
    type Insides = { offsets: unknown; arena: unknown };
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(ID_SPACE - 1), row), { maxLength: 400 }), fc.array(step, { minLength: 1, maxLength: 25 }), (initial, steps) => {
        const first = new Map(initial.map(([n, r]) => [id(n), r] as const));
        const versions: { table: MemberTable; model: Map<string, Row> }[] = [{ table: MemberTable.of(first), model: first }];
        for (const { parent, changes } of steps) {
          const from = versions[parent % versions.length]!;
          const model = new Map(from.model);
          const delta = new Map<string, Row | undefined>();
          for (const [n, r] of changes) {
            delta.set(id(n), r ?? undefined);
            if (r === null) model.delete(id(n));
            else model.set(id(n), r);
          }
          const insides = from.table as unknown as Insides;
          const [offsets, arena, rows] = [insides.offsets, insides.arena, from.table.rows];
          const table = from.table.with(delta);
          if (insides.offsets !== offsets) paths.compacted++; // `from` moved its live rows to an arena of its own
          else if (insides.arena === arena && from.table.rows !== rows) paths.grown++;
          else paths.appended++;
          expect(table.rows).toBe(from.table.rows);
          versions.push({ table, model });
        }
        for (const { table, model } of versions) {
          for (let n = 0; n < ID_SPACE; n++) expect(rowAt(table, id(n))).toEqual(model.get(id(n)));
          expect(new Map([...table.entries()].map(([key]) => [key, rowAt(table, key)]))).toEqual(model);
          for (const [memberId, r] of model) {
            const at = table.offsetOf(memberId)!;
            const workspaces = rowWorkspaces(table.rows, at);
            const n = r[2]!;
            expect(workspaces).toEqual(Array.from(r).slice(3, 3 + 2 * n).filter((_, i) => i % 2 === 0));
            expect(table.directPairs(memberId)).toEqual(Array.from(r).slice(4 + 2 * n));
            expect(DirectPairs.of(table).get(memberId) ?? []).toEqual(Array.from(r).slice(4 + 2 * n));
            workspaces.forEach((w, i) => expect(workspaceMask(table.rows, at, w)).toBe(r[4 + 2 * i]));
            expect(workspaceMask(table.rows, at, 51)).toBe(-1);
          }
        }
        expect(versions[0]!.table.offsetOf('toString')).toBeUndefined();
      }),
      // No shrinking: every step re-checks thousands of ids, and a failure is clear enough unshrunk.
      { numRuns: 60, endOnFailure: true },
    );
    // Every way of writing an update must have been taken, or this test says little about one of them.
    expect(paths.appended).toBeGreaterThan(0);
    expect(paths.grown).toBeGreaterThan(0);
    expect(paths.compacted).toBeGreaterThan(0);
  });
});

describe('MemberTable: members and the other principals (keys) in one map', () => {
  it('find answers like a model of both, across branches, growth and compaction; each kind removes only its own', () => {
    let compacted = 0;
    type Entry = { row: Row } | { other: { id: string } };
    const change = fc.record({
      parent: fc.nat(),
      rows: fc.array(fc.tuple(fc.nat(199), fc.option(row, { freq: 3 })), { maxLength: 300, size: 'max' }),
      others: fc.array(fc.tuple(fc.nat(199), fc.boolean()), { maxLength: 40 }),
    });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(199), row), { maxLength: 150 }), fc.array(fc.nat(199), { maxLength: 40 }), fc.array(change, { minLength: 1, maxLength: 40 }), (initial, initialOthers, steps) => {
        const model = new Map<string, Entry>();
        for (const [n, r] of initial) model.set(id(n), { row: r });
        const rows = new Map([...model].map(([key, entry]) => [key, (entry as { row: Row }).row] as const));
        const others: [string, { id: string }][] = initialOthers.filter((n) => !rows.has(id(n))).map((n) => [id(n), { id: id(n) }]);
        for (const [key, other] of others) model.set(key, { other });
        const versions = [{ table: MemberTable.of<{ id: string }>(rows, others), model }];
        for (const step of steps) {
          const from = versions[step.parent % versions.length]!;
          const next = new Map(from.model);
          const rowDelta = new Map<string, Row | undefined>();
          for (const [n, r] of step.rows) rowDelta.set(id(n), r ?? undefined);
          for (const [key, r] of rowDelta) {
            if (r !== undefined) next.set(key, { row: r });
            else if (next.get(key) !== undefined && 'row' in next.get(key)!) next.delete(key);
          }
          const otherDelta = new Map<string, { id: string } | undefined>();
          for (const [n, add] of step.others) otherDelta.set(id(n), add ? { id: id(n) } : undefined);
          for (const [key, other] of otherDelta) {
            if (other !== undefined) next.set(key, { other });
            else if (next.get(key) !== undefined && 'other' in next.get(key)!) next.delete(key);
          }
          const offsets = (from.table as unknown as { offsets: unknown }).offsets;
          const table = from.table.with(rowDelta).withOthers(otherDelta);
          if ((from.table as unknown as { offsets: unknown }).offsets !== offsets) compacted++;
          versions.push({ table, model: next });
        }
        for (const { table, model } of versions) {
          for (let n = 0; n < 200; n++) {
            const entry = model.get(id(n));
            const found = table.find(id(n));
            if (entry === undefined) expect(found).toBeUndefined();
            else if ('row' in entry) {
              expect(typeof found).toBe('number');
              expect(table.offsetOf(id(n))).toBe(found);
              expect(rowAt(table, id(n))).toEqual(entry.row);
            } else {
              expect(found).toBe(entry.other);
              expect(table.offsetOf(id(n))).toBeUndefined();
              expect(rowAt(table, id(n))).toBeUndefined();
            }
          }
          expect(new Set([...table.entries()].map(([key]) => key))).toEqual(new Set([...model].filter(([, e]) => 'row' in e).map(([key]) => key)));
          expect(new Map(table.others())).toEqual(new Map([...model].filter(([, e]) => 'other' in e).map(([key, e]) => [key, (e as { other: { id: string } }).other])));
        }
        expect(versions[0]!.table.find('toString')).toBeUndefined();
      }),
      // No shrinking, as above.
      { numRuns: 200, endOnFailure: true },
    );
    // Compaction rebuilds the map: it must have happened, or this says nothing about the keys surviving it.
    expect(compacted).toBeGreaterThan(0);
  });
});

describe('LayeredMap: every version answers like a Map of its own history', () => {
  it('after random changes from random earlier versions, across folds of the layer into the base', () => {
    let folds = 0;
    fc.assert(
      fc.property(
        fc.array(fc.nat(ID_SPACE - 1), { maxLength: 200 }),
        fc.array(fc.record({ parent: fc.nat(), changes: fc.array(fc.tuple(fc.nat(ID_SPACE - 1), fc.option(fc.integer(), { freq: 4 })), { maxLength: 600, size: 'max' }) }), {
          minLength: 1,
          maxLength: 12,
        }),
        (initial, steps) => {
          const first = new Map(initial.map((n) => [id(n), n] as const));
          const versions: { map: LayeredMap<string, number>; model: Map<string, number> }[] = [{ map: LayeredMap.of(first), model: first }];
          for (const { parent, changes } of steps) {
            const from = versions[parent % versions.length]!;
            const model = new Map(from.model);
            const delta = new Map<string, number | undefined>();
            for (const [n, value] of changes) {
              delta.set(id(n), value ?? undefined);
              if (value === null) model.delete(id(n));
              else model.set(id(n), value);
            }
            const insides = from.map as unknown as { base: unknown };
            const base = insides.base;
            const map = from.map.with(delta);
            if (insides.base !== base) folds++; // `from` folded its layer into a base of its own
            versions.push({ map, model });
          }
          for (const { map, model } of versions) {
            for (let n = 0; n < ID_SPACE; n++) expect(map.get(id(n))).toBe(model.get(id(n)));
            expect(new Map(map.entries())).toEqual(model);
          }
        },
      ),
      // No shrinking: every step re-checks thousands of ids, and a failure is clear enough unshrunk.
      { numRuns: 60, endOnFailure: true },
    );
    // The fold path must have been taken, or this test says nothing about it.
    expect(folds).toBeGreaterThan(0);
  });
});
