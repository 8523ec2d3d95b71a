/**
 * `parseOrganization` reads a snapshot it accepts in one walk (src/model/fast.ts) and leaves everything
 * else to the full check (zod and `checkOrganization` on a plain copy). These laws hold it to the full
 * check alone (`parseOrganizationInFull`): on valid snapshots and on snapshots broken in random places
 * — a field deleted or given another value, an unknown field, an entry duplicated, a getter that
 * throws — both give the same answer: the same snapshot, key for key and in the same order, or the same
 * problems (codes, paths, messages) in the same order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseOrganization } from 'org-policy';
import { readOrganization } from '../src/model/fast.js';
import { parseOrganizationInFull } from '../src/model/parse.js';
import { arbOrganization } from './arbitraries.js';

type Json = Record<string, unknown>;

/** Every value with its structure made explicit: Maps (and IdMaps) as entry lists, objects as key/value lists in key order. */
function ordered(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(ordered);
  if (value instanceof Map || (typeof (value as Map<unknown, unknown>).entries === 'function' && Symbol.iterator in value)) {
    return { map: [...(value as Map<unknown, unknown>).entries()].map(([k, v]) => [k, ordered(v)]) };
  }
  return { object: Object.keys(value).map((k) => [k, ordered((value as Json)[k])]) };
}

function sameAnswer(input: () => unknown) {
  const fast = parseOrganization(input());
  const full = parseOrganizationInFull(input());
  expect(fast.ok).toBe(full.ok);
  if (fast.ok && full.ok) expect(ordered(fast.organization)).toEqual(ordered(full.organization));
  if (!fast.ok && !full.ok) expect(fast.problems).toEqual(full.problems);
}

/** Every (container, key) in a JSON tree, containers first. */
function places(json: unknown): [Json | unknown[], string | number][] {
  const out: [Json | unknown[], string | number][] = [];
  const walk = (node: unknown) => {
    if (node === null || typeof node !== 'object') return;
    for (const name of Object.keys(node)) {
      out.push([node as Json, Array.isArray(node) ? Number(name) : name]);
      // A getter a mutation put here is not read (it may throw); only data is walked into.
      const field = Object.getOwnPropertyDescriptor(node, name)!;
      if ('value' in field) walk(field.value);
    }
  };
  walk(json);
  return out;
}

const VALUES: unknown[] = [
  undefined,
  null,
  0,
  -1,
  1.5,
  2,
  true,
  '',
  ' ',
  'x',
  'a\tb',
  'member',
  'organization_admin',
  'billing_manager',
  'dev',
  'user',
  'workspace_admin',
  'mistral_code',
  'allowed',
  'restricted',
  'blocked',
  'all',
  'active',
  'suspended',
  'organization',
  'workspace',
  'read',
  'write',
  'read_only',
  'm1',
  'w1',
  'g1',
  'c1',
  'search',
  '__proto__',
  'a@b',
  'idp|0',
  '2027-01-01T00:00:00Z',
  '2027-01-01T00:00:00',
  [],
  ['member'],
  ['dev', 'dev'],
  ['search'],
  {},
  { memberId: 'm1' },
];

type Mutation = { kind: 'delete' | 'set' | 'unknown' | 'duplicate' | 'throw' | 'getter'; place: number; value: number };
const arbMutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('delete', 'set', 'set', 'set', 'unknown', 'duplicate', 'duplicate', 'throw', 'getter'),
  place: fc.nat(),
  value: fc.nat(),
});

function mutate(json: Json, mutations: readonly Mutation[]): Json {
  for (const m of mutations) {
    const all = places(json);
    if (all.length === 0) break;
    const [container, key] = all[m.place % all.length]!;
    const value = structuredClone(VALUES[m.value % VALUES.length]);
    try {
      apply(m, container, key, value);
    } catch {
      // a mutation that would read a getter an earlier one put there (splice, a clone): skipped
    }
  }
  return json;
}

function apply(m: Mutation, container: Json | unknown[], key: string | number, value: unknown) {
  switch (m.kind) {
    case 'delete':
      if (Array.isArray(container)) container.splice(key as number, 1);
      else delete container[key as string];
      break;
    case 'set':
      Object.defineProperty(container, key, { value, enumerable: true, configurable: true, writable: true });
      break;
    case 'unknown':
      if (!Array.isArray(container)) container[`extra${m.value % 3}`] = value;
      else container.push(value);
      break;
    case 'duplicate': {
      const field = Object.getOwnPropertyDescriptor(container, key)!;
      if (!('value' in field)) break;
      const copy = structuredClone(field.value);
      if (Array.isArray(container)) container.push(copy);
      else container[`${String(key)}${m.value % 2 ? '' : 'Copy'}`] = copy;
      break;
    }
    case 'throw':
      Object.defineProperty(container, key, { enumerable: true, configurable: true, get: () => { throw new Error('boom'); } });
      break;
    case 'getter': {
      const field = Object.getOwnPropertyDescriptor(container, key)!;
      if (!('value' in field)) break;
      const kept = field.value;
      Object.defineProperty(container, key, { enumerable: true, configurable: true, get: () => kept });
    }
  }
}

describe('the fast path of parseOrganization agrees with the full check', () => {
  it('law: every valid snapshot is accepted by the fast path, and parses to what the full check gives', () => {
    fc.assert(
      fc.property(arbOrganization(), (json) => {
        expect(readOrganization(structuredClone(json)).organization).toBeDefined();
        sameAnswer(() => structuredClone(json));
      }),
      { numRuns: 1000 },
    );
  });

  it('law: a snapshot broken in up to three random places gets the same answer (snapshot or problems) from both', () => {
    fc.assert(
      fc.property(arbOrganization(), fc.array(arbMutation, { minLength: 1, maxLength: 3 }), (json, mutations) => {
        sameAnswer(() => mutate(structuredClone(json) as Json, mutations));
      }),
      { numRuns: 3000 },
    );
  });

  // The uniqueness and reference rules the fast path checks while it reads (SPEC §6, §9.2), each broken
  // once, with the members before and after the workspaces (the fast path finds entries' members as it
  // reads them only when the members came first).
  const member = (i: number, extra: Json = {}) => ({ id: `m${i}`, email: `m${i}@x.io`, status: 'active', orgRoles: ['organization_admin'], ...extra });
  it.each<[string, Json]>([
    ['a duplicate member id', { members: [member(1), { ...member(2), id: 'm1' }] }],
    ['a duplicate email, in another case', { members: [member(1), { ...member(2), email: 'M1@X.io' }] }],
    ['a duplicate externalId', { members: [member(1, { externalId: 'idp|1' }), member(2, { externalId: 'idp|1' })] }],
    ['a member named twice in one workspace', { members: [member(1)], workspaces: [{ id: 'w1', name: 'W', members: [{ memberId: 'm1' }, { memberId: 'm1' }] }] }],
    ['a workspace entry for no member', { members: [member(1)], workspaces: [{ id: 'w1', name: 'W', members: [{ memberId: 'm2' }] }] }],
  ])('refuses %s as the full check does, whatever the order of the lists', (_name, lists) => {
    const first = { schemaVersion: 1, id: 'o', name: 'O', ...lists };
    const last: Json = { schemaVersion: 1, id: 'o', name: 'O' };
    if (lists.workspaces) last.workspaces = lists.workspaces;
    last.members = lists.members;
    for (const json of [first, last]) {
      expect(parseOrganization(structuredClone(json)).ok).toBe(false);
      sameAnswer(() => structuredClone(json));
    }
  });

  it('a list of roles shared by entities is one frozen array, equal to what the full check gives', () => {
    const json = { schemaVersion: 1, id: 'o', name: 'O', members: [1, 2, 3].map((i) => ({ id: `m${i}`, email: `m${i}@x.io`, status: 'active', orgRoles: ['member', 'organization_admin'] })) };
    const fast = parseOrganization(json);
    if (!fast.ok) throw new Error(JSON.stringify(fast.problems));
    const [a, b] = [...fast.organization.members.values()];
    expect(a!.orgRoles).toBe(b!.orgRoles);
    expect(Object.isFrozen(a!.orgRoles)).toBe(true);
    sameAnswer(() => structuredClone(json));
  });
});
