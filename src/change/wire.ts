import type { Patch } from 'immer';
import { COLLECTIONS, WORKSPACE_COLLECTIONS, isCollection, isWorkspaceCollection } from '../model/entities.js';
import type { CollectionName, WorkspaceCollectionName } from '../model/entities.js';
import { IdMap } from '../model/idmap.js';
import type { TouchedEntities } from '../model/indexes.js';
import type { Organization, Workspace } from '../model/types.js';

/**
 * A patch on the wire (SPEC §8): it addresses the snapshot's JSON (SPEC §6.1) by entity id, and its
 * value is plain JSON — an entity as the snapshot writes it — so nothing is lost by `JSON.stringify`.
 *
 * | path | ops | value |
 * |---|---|---|
 * | `['name']` | `replace` | the organization's name |
 * | `[collection, id]` | `add`, `replace`, `remove` | the entity |
 * | `['workspaces', id, 'name']` | `replace` | the workspace's name |
 * | `['workspaces', id, 'members' \| 'groupGrants' \| 'connectorPermissions', key]` | `add`, `replace`, `remove` | the entry |
 *
 * An entity is replaced whole (they are small), except a workspace, whose entries are patched one by one:
 * a workspace holds hundreds of members.
 */
export interface WirePatch {
  readonly op: 'add' | 'replace' | 'remove';
  readonly path: readonly string[];
  readonly value?: unknown;
}

/** What one change touched, by collection and id; a workspace's entries by workspace, collection and key. */
export interface Touched {
  name: boolean;
  readonly entities: Map<CollectionName, Set<string>>;
  /** Workspaces touched in part: their name, or some of their entries. */
  readonly workspaceParts: Map<string, { name: boolean; readonly entries: Map<WorkspaceCollectionName, Set<string>> }>;
}

export const emptyTouched = (): Touched => ({ name: false, entities: new Map(), workspaceParts: new Map() });

/** What a change touched, in the terms the model's look-ups are carried over by (`deriveIndexes`). */
export function touchedEntities(touched: Touched): TouchedEntities {
  const { entities } = touched;
  const workspaceEntries: (readonly [string, Iterable<string>])[] = [];
  for (const [id, part] of touched.workspaceParts) {
    const members = part.entries.get('members');
    if (members !== undefined) workspaceEntries.push([id, members]);
  }
  return { members: entities.get('members'), groups: entities.get('groups'), workspaces: entities.get('workspaces'), credentials: entities.get('credentials'), workspaceEntries };
}

type Keyed = ReadonlyMap<string, unknown>;

/**
 * The wire patches between two snapshots, given the immer patches that led from one to the other (they
 * name what was touched; the values come from the snapshots themselves). Unchanged entities — the same
 * object in both, thanks to structural sharing — give no patch.
 */
export function wirePatches(before: Organization, after: Organization, patches: readonly Patch[]): { patches: WirePatch[]; inversePatches: WirePatch[]; touched: Touched } {
  const touched = touchedBy(before, after, patches);
  const forward: WirePatch[] = [];
  const inverse: WirePatch[] = [];
  if (touched.name && before.name !== after.name) {
    forward.push({ op: 'replace', path: ['name'], value: after.name });
    inverse.push({ op: 'replace', path: ['name'], value: before.name });
  }
  for (const [collection, ids] of touched.entities) {
    const json = COLLECTIONS[collection].json as (value: unknown) => unknown;
    const was = before[collection] as Keyed;
    const is = after[collection] as Keyed;
    for (const id of ids) {
      const old = was.get(id);
      const now = is.get(id);
      if (old === now) continue;
      if (collection === 'workspaces' && old !== undefined && now !== undefined) {
        workspaceDiff(id, old as Workspace, now as Workspace, undefined, forward, inverse);
        continue;
      }
      diff([collection, id], old, now, json, forward, inverse);
    }
  }
  for (const [workspaceId, part] of touched.workspaceParts) {
    if (touched.entities.get('workspaces')?.has(workspaceId)) continue;
    const old = before.workspaces.get(workspaceId);
    const now = after.workspaces.get(workspaceId);
    if (old === undefined || now === undefined || old === now) continue;
    workspaceDiff(workspaceId, old, now, part, forward, inverse);
  }
  return { patches: forward, inversePatches: inverse.reverse(), touched };
}

function diff(path: string[], old: unknown, now: unknown, json: (value: unknown) => unknown, forward: WirePatch[], inverse: WirePatch[]) {
  if (old === now) return;
  if (old === undefined) {
    forward.push({ op: 'add', path, value: json(now) });
    inverse.push({ op: 'remove', path });
  } else if (now === undefined) {
    forward.push({ op: 'remove', path });
    inverse.push({ op: 'add', path, value: json(old) });
  } else {
    forward.push({ op: 'replace', path, value: json(now) });
    inverse.push({ op: 'replace', path, value: json(old) });
  }
}

function workspaceDiff(id: string, old: Workspace, now: Workspace, part: Touched['workspaceParts'] extends Map<string, infer P> ? P | undefined : never, forward: WirePatch[], inverse: WirePatch[]) {
  if (old.name !== now.name) {
    forward.push({ op: 'replace', path: ['workspaces', id, 'name'], value: now.name });
    inverse.push({ op: 'replace', path: ['workspaces', id, 'name'], value: old.name });
  }
  for (const collection of Object.keys(WORKSPACE_COLLECTIONS) as WorkspaceCollectionName[]) {
    const was = old[collection] as Keyed;
    const is = now[collection] as Keyed;
    if (was === is) continue;
    const json = WORKSPACE_COLLECTIONS[collection].json as (value: unknown) => unknown;
    const keys = part?.entries.get(collection) ?? new Set([...was.keys(), ...is.keys()]);
    for (const key of keys) diff(['workspaces', id, collection, key], was.get(key), is.get(key), json, forward, inverse);
  }
}

/** Reads immer's patch paths — into an `IdMap`'s chunks and buckets, or a plain `Map` — back to entity ids. */
function touchedBy(before: Organization, after: Organization, patches: readonly Patch[]): Touched {
  const touched = emptyTouched();
  const entity = (collection: CollectionName, id: string) => {
    const ids = touched.entities.get(collection);
    if (ids) ids.add(id);
    else touched.entities.set(collection, new Set([id]));
  };
  const everything = (collection: CollectionName) => {
    for (const id of (before[collection] as Keyed).keys()) entity(collection, id);
    for (const id of (after[collection] as Keyed).keys()) entity(collection, id);
  };
  for (const { path, value } of patches) {
    const [first, ...rest] = path;
    if (first === 'name') touched.name = true;
    if (!isCollection(first)) continue;
    const located = locate(before[first] as Keyed, value, rest);
    if (located === 'all') {
      everything(first);
      continue;
    }
    if (first === 'workspaces' && located.ids.length === 1 && located.rest.length > 0) {
      const workspaceId = located.ids[0]!;
      // Already touched whole by an earlier patch (created, then filled, in one change of several commands): stays whole.
      if (touched.entities.get('workspaces')?.has(workspaceId)) continue;
      workspacePart(touched, workspaceId, located.rest, before.workspaces.get(workspaceId), after.workspaces.get(workspaceId));
      continue;
    }
    for (const id of located.ids) entity(first, id);
  }
  // A workspace touched whole is diffed whole; drop its partial record.
  for (const id of touched.entities.get('workspaces') ?? []) touched.workspaceParts.delete(id);
  return touched;
}

function workspacePart(touched: Touched, id: string, rest: readonly (string | number)[], old: Workspace | undefined, now: Workspace | undefined) {
  let part = touched.workspaceParts.get(id);
  if (!part) touched.workspaceParts.set(id, (part = { name: false, entries: new Map() }));
  const [field, key] = rest;
  if (field === 'name') part.name = true;
  if (!isWorkspaceCollection(field)) return;
  let keys = part.entries.get(field);
  if (!keys) part.entries.set(field, (keys = new Set()));
  if (typeof key === 'string') keys.add(key);
  else for (const map of [old?.[field], now?.[field]]) for (const k of (map as Keyed | undefined)?.keys() ?? []) keys.add(k);
}

/** Where a patch into a collection lands: the ids it names and the path inside the entity, or everything. */
function locate(collection: Keyed | undefined, value: unknown, rest: readonly (string | number)[]): { ids: string[]; rest: readonly (string | number)[] } | 'all' {
  if (rest.length === 0) return 'all';
  if (!(collection instanceof IdMap)) {
    return typeof rest[0] === 'string' ? { ids: [rest[0]], rest: rest.slice(1) } : 'all';
  }
  const [field, index, id, ...inner] = rest;
  if (field === 'count') return { ids: [], rest: [] };
  if (field !== 'chunks' && field !== 'where') return 'all';
  if (typeof id === 'string') return { ids: [id], rest: field === 'chunks' ? inner : [] };
  if (typeof index === 'number') {
    // A chunk or a bucket added, removed or replaced whole: the ids it holds, before and after.
    const ids = new Set<string>();
    const old = field === 'chunks' ? collection.chunks[index] : collection.where[index];
    for (const key of old?.keys() ?? []) ids.add(key);
    if (value instanceof Map) for (const key of value.keys()) ids.add(key as string);
    return { ids: [...ids], rest: [] };
  }
  return 'all';
}

export { IdMap };
