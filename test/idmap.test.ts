import fc from 'fast-check';
import { Immer, enableMapSet, enablePatches, freeze } from 'immer';
import { describe, expect, it } from 'vitest';
import { IdMap } from '../src/model/idmap.js';

enablePatches();
enableMapSet();
const immer = new Immer({ autoFreeze: true });

type Op = { readonly kind: 'set'; readonly key: string; readonly value: number } | { readonly kind: 'delete'; readonly key: string } | { readonly kind: 'edit'; readonly key: string };

const KEYS = ['a', 'b', 'c', '__proto__', 'constructor', 'toString', ...Array.from({ length: 40 }, (_, i) => `k${i}`)];
const arbOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key: fc.constantFrom(...KEYS), value: fc.integer() }),
  fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom(...KEYS) }),
  fc.record({ kind: fc.constant('edit' as const), key: fc.constantFrom(...KEYS) }),
);

function applyToMap(map: Map<string, { n: number }>, op: Op) {
  if (op.kind === 'set') map.set(op.key, { n: op.value });
  else if (op.kind === 'delete') map.delete(op.key);
  else {
    const entry = map.get(op.key);
    if (entry) map.set(op.key, { n: entry.n + 1 });
  }
}

describe('IdMap: a Map to its readers and to immer recipes', () => {
  it('law: after any sequence of immer recipes it holds what a Map holds, in the same order, and every earlier version is unchanged', () => {
    fc.assert(
      fc.property(fc.array(fc.array(arbOp, { maxLength: 8 }), { maxLength: 30 }), fc.array(fc.tuple(fc.constantFrom(...KEYS), fc.integer()), { maxLength: 60 }), (steps, initial) => {
        const model = new Map<string, { n: number }>();
        for (const [key, value] of initial) model.set(key, { n: value });
        let current = freeze(new IdMap([...model].map(([k, v]) => [k, { ...v }] as const)), true) as IdMap<{ n: number }>;
        const versions: { map: IdMap<{ n: number }>; entries: [string, number][] }[] = [];
        for (const ops of steps) {
          versions.push({ map: current, entries: [...current].map(([k, v]) => [k, v.n]) });
          current = immer.produce(current, (draft) => {
            for (const op of ops) {
              if (op.kind === 'set') draft.set(op.key, { n: op.value });
              else if (op.kind === 'delete') draft.delete(op.key);
              else {
                const entry = draft.get(op.key);
                if (entry) entry.n += 1;
              }
            }
          });
          for (const op of ops) applyToMap(model, op);
          expect([...current].map(([k, v]) => [k, v.n])).toEqual([...model].map(([k, v]) => [k, v.n]));
          expect(current.size).toBe(model.size);
          for (const key of KEYS) {
            expect(current.has(key)).toBe(model.has(key));
            expect(current.get(key)?.n).toBe(model.get(key)?.n);
          }
        }
        for (const version of versions) expect([...version.map].map(([k, v]) => [k, v.n])).toEqual(version.entries);
      }),
      { numRuns: 1000 },
    );
  });

  it('answers no for what is not a string, and never reads the prototype', () => {
    const map = new IdMap([['a', 1]]);
    expect(map.has(1 as never)).toBe(false);
    expect(map.get('__proto__')).toBeUndefined();
    expect(map.get('constructor')).toBeUndefined();
    expect(map.delete(undefined as never)).toBe(false);
    expect(Object.prototype.toString.call(map)).toBe('[object IdMap]');
  });

  it('a frozen one refuses writes, as a frozen Map does', () => {
    const map = freeze(new IdMap([['a', 1]]), true);
    expect(() => map.set('b', 2)).toThrow();
    expect(() => map.delete('a')).toThrow();
    expect([...map.keys()]).toEqual(['a']);
  });

  it('one entry changed among 100,000 shares every other chunk with the previous version', () => {
    const base = freeze(new IdMap(Array.from({ length: 100_000 }, (_, i) => [`m-${i}`, { n: i }] as const)), true);
    const next = immer.produce(base, (draft) => {
      draft.get('m-54321')!.n = -1;
    });
    const shared = next.chunks.filter((chunk, i) => chunk === base.chunks[i]).length;
    expect(next.chunks.length).toBe(base.chunks.length);
    expect(shared).toBe(base.chunks.length - 1);
    expect(next.where.every((bucket, i) => bucket === base.where[i])).toBe(true);
    expect(next.get('m-54321')!.n).toBe(-1);
    expect(base.get('m-54321')!.n).toBe(54321);
  });
});
