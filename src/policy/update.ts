import type { ConnectorIndex, ConnectorView } from './connectors.js';
import { compileConnectors, compileCredentials, compileView, connectorNumbers, fillColumn, isConnected } from './connectors.js';
import type { Member, Organization } from '../model/index.js';
import type { KeyEntry, Memberships, PolicyIndex } from './compile.js';
import { compileIndex, compileKey, compileMember, roleListMask } from './compile.js';
import type { Row } from './table.js';

/**
 * Incremental recompilation: the patches of one admin command name the entities it touched;
 * only their compiled entries are rebuilt. Nothing the previous policy reads is written: changed rows
 * and relation entries go into new layers (`MemberTable`, `LayeredMap`), and the small flat arrays
 * (workspace numbers, connector views) are copied before they change, so the old policy keeps answering
 * exactly as before. Anything this does not recognise, or a change too broad to be worth it, is a full
 * build: same answers, more time.
 */
export interface Compiled {
  readonly index: PolicyIndex;
  readonly connectors: ConnectorIndex;
}

/** What the patches touch; `null` means "rebuild everything". */
interface Touched {
  readonly members: Set<string>;
  readonly keys: Set<string>;
  /** Workspaces whose connector views must be recompiled (workspace-level permissions). */
  readonly workspaceViews: Set<string>;
  /** Connectors whose views must be recompiled in every workspace. */
  readonly connectorViews: Set<string>;
  /** Connectors whose credential holders must be recomputed. */
  readonly credentialConnectors: Set<string>;
  /** Member → workspaces where its direct membership may have changed. */
  readonly directMembership: Map<string, Set<string>>;
  /** Members added or removed: their direct workspaces are found by a scan of every workspace. */
  readonly rescan: Set<string>;
  /** Groups created, deleted, or whose members or organization roles changed. */
  readonly groups: Set<string>;
  /** Group → workspaces where its grant may have changed. */
  readonly groupGrants: Map<string, Set<string>>;
  /** A workspace was created or deleted: the workspaces are renumbered (deleted numbers stay unused). */
  workspacesChanged: boolean;
  /** A connector was registered or removed: the connectors are renumbered (member rows do not name connectors). */
  connectorsChanged: boolean;
}

const sameList = (a: readonly string[], b: readonly string[]) => a === b || (a.length === b.length && a.every((item, i) => item === b[i]));

/** Beyond this many touched principals a full build is as cheap and simpler. */
const MAX_TOUCHED_PRINCIPALS = 2_000;

export function updateCompiled(previous: Compiled, next: Organization, patches: readonly { readonly path: readonly unknown[]; readonly value?: unknown }[]): Compiled {
  const touched = classify(previous.index.organization, next, patches);
  if (touched === null) return fullBuild(next);

  const old = previous.index;
  const before = old.organization;
  // Everyone in a touched group, before or after, may hold other roles now — except when only the
  // group's members changed: then only those who joined or left do (the others' roles are the same).
  for (const groupId of new Set([...touched.groups, ...touched.groupGrants.keys()])) {
    const was = before.groups.get(groupId);
    const is = next.groups.get(groupId);
    if (was && is && !touched.groupGrants.has(groupId) && sameList(was.orgRoles, is.orgRoles)) {
      const old = new Set(was.memberIds);
      const now = new Set(is.memberIds);
      for (const memberId of old) if (!now.has(memberId)) touched.members.add(memberId);
      for (const memberId of now) if (!old.has(memberId)) touched.members.add(memberId);
      continue;
    }
    for (const memberId of was?.memberIds ?? []) touched.members.add(memberId);
    for (const memberId of is?.memberIds ?? []) touched.members.add(memberId);
  }
  if (touched.members.size + touched.keys.size > MAX_TOUCHED_PRINCIPALS) return fullBuild(next);
  // A new workspace takes the next unused number, so numbers still increase in snapshot order.
  let { workspaceNumbers, workspaceIds } = old;
  if (touched.workspacesChanged) {
    const ids = [...workspaceIds];
    const numbers = new Map<string, number>();
    for (const id of next.workspaces.keys()) numbers.set(id, workspaceNumbers.get(id) ?? ids.push(id) - 1);
    workspaceNumbers = numbers;
    workspaceIds = ids;
  }
  const memberships = updateMemberships(old.memberships, before, next, touched, old.workspaceNumbers, workspaceNumbers);

  let { members, memberEntities } = old;
  if (touched.members.size > 0) {
    const changes = new Map<string, Row | undefined>();
    // Every patch to a member touches it (see `classify`), so these are all the entities that changed.
    const entities = new Map<string, Member | undefined>();
    for (const id of touched.members) {
      changes.set(id, compileMember(next, memberships, workspaceNumbers, id));
      entities.set(id, next.members.get(id));
    }
    members = members.with(changes);
    memberEntities = memberEntities.with(entities);
  }
  if (touched.keys.size > 0) {
    const changes = new Map<string, KeyEntry | undefined>();
    for (const id of touched.keys) {
      const key = next.apiKeys.get(id);
      changes.set(id, key === undefined ? undefined : compileKey(key));
    }
    // The keys live in the members' table, after the rows are written: see `withOthers`.
    members = members.withOthers(changes);
  }

  const connectors = updateConnectors(previous.connectors, next, touched, workspaceNumbers, workspaceIds.length);
  // Every member whose direct pairs changed was recompiled above: the new rows hold them.
  const rebased = { ...memberships, directPairs: memberships.directPairs.on(members) };
  return { index: { organization: next, workspaceNumbers, workspaceIds, members, memberEntities, memberships: rebased }, connectors };
}

/** The membership relations of the members and groups the patches touch; the rest is shared. */
function updateMemberships(
  old: Memberships,
  before: Organization,
  next: Organization,
  touched: Touched,
  numbersBefore: ReadonlyMap<string, number>,
  numbers: ReadonlyMap<string, number>,
): Memberships {
  let { directPairs, groupsOfMember, workspacesOfGroup } = old;
  if (touched.directMembership.size + touched.rescan.size > 0) {
    const changes = new Map<string, readonly number[] | undefined>();
    // Only the workspaces the patches name are looked at: scanning 2,000 workspaces' member maps
    // would cost more than the rest of the update. The order of the pairs does not matter (masks are ORed).
    for (const [memberId, workspaceIds] of touched.directMembership) {
      const gone = new Set<number>();
      for (const id of workspaceIds) {
        const number = numbersBefore.get(id) ?? numbers.get(id);
        if (number !== undefined) gone.add(number);
      }
      const pairs: number[] = [];
      const old = directPairs.get(memberId) ?? [];
      for (let i = 0; i < old.length; i += 2) if (!gone.has(old[i]!)) pairs.push(old[i]!, old[i + 1]!);
      for (const workspaceId of workspaceIds) {
        const entry = next.workspaces.get(workspaceId)?.members.get(memberId);
        if (entry !== undefined) pairs.push(numbers.get(workspaceId)!, roleListMask(entry.roles));
      }
      changes.set(memberId, pairs.length > 0 ? pairs : undefined);
    }
    // A member added or removed: every workspace entry it gained or lost is a patch of its own (wire
    // patches name each one; a workspace replaced whole is handled above), so what is not named is empty —
    // no scan of every workspace. Its earlier incarnation's pairs were cleared when it was removed.
    for (const memberId of touched.rescan) {
      if (!touched.directMembership.has(memberId)) changes.set(memberId, undefined);
    }
    directPairs = directPairs.with(changes);
  }
  if (touched.groups.size > 0) {
    // A member's groups stay in snapshot order: `explain` lists group grants in that order. Only the
    // members who joined or left a touched group get a new list — not every member of it (a group at L
    // has up to 300) — unless the group moved in that order (deleted, or deleted and created again).
    const positionsBefore = positions(before);
    const positionsNext = positions(next);
    const holders = new Map<string, ReadonlySet<string>>();
    for (const groupId of touched.groups) holders.set(groupId, new Set(next.groups.get(groupId)?.memberIds ?? []));
    const changes = new Map<string, readonly string[] | undefined>();
    const recompute = (memberId: string) => {
      if (changes.has(memberId)) return;
      const list = (groupsOfMember.get(memberId) ?? []).filter((id) => !touched.groups.has(id));
      for (const [id, members] of holders) if (members.has(memberId)) list.push(id);
      list.sort((a, b) => positionsNext.get(a)! - positionsNext.get(b)!);
      changes.set(memberId, list.length > 0 ? list : undefined);
    };
    for (const groupId of touched.groups) {
      const was = before.groups.get(groupId)?.memberIds ?? [];
      const is = holders.get(groupId)!;
      const moved = positionsBefore.get(groupId) !== positionsNext.get(groupId);
      for (const memberId of was) if (moved || !is.has(memberId)) recompute(memberId);
      if (moved) for (const memberId of is) recompute(memberId);
      else {
        const wasSet = new Set(was);
        for (const memberId of is) if (!wasSet.has(memberId)) recompute(memberId);
      }
    }
    groupsOfMember = groupsOfMember.with(changes);
  }
  if (touched.groupGrants.size + touched.groups.size > 0) {
    const changes = new Map<string, readonly string[] | undefined>();
    for (const groupId of new Set([...touched.groupGrants.keys(), ...touched.groups])) {
      const workspaceIds = touched.groupGrants.get(groupId) ?? new Set<string>();
      const list = next.groups.has(groupId) ? (workspacesOfGroup.get(groupId) ?? []).filter((id) => !workspaceIds.has(id)) : [];
      if (next.groups.has(groupId)) for (const workspaceId of workspaceIds) if (next.workspaces.get(workspaceId)?.groupGrants.has(groupId)) list.push(workspaceId);
      changes.set(groupId, list.length > 0 ? list : undefined);
    }
    workspacesOfGroup = workspacesOfGroup.with(changes);
  }
  return { directPairs, groupsOfMember, workspacesOfGroup };
}

/** Each group's place in the snapshot's order; absent: the group is not there. */
function positions(organization: Organization): Map<string, number> {
  const out = new Map<string, number>();
  for (const groupId of organization.groups.keys()) out.set(groupId, out.size);
  return out;
}

function fullBuild(organization: Organization): Compiled {
  const index = compileIndex(organization);
  return { index, connectors: compileConnectors(organization, index.workspaceNumbers, index.workspaceIds.length) };
}

function updateConnectors(
  previous: ConnectorIndex,
  next: Organization,
  touched: Touched,
  workspaceNumbers: ReadonlyMap<string, number>,
  slots: number,
): ConnectorIndex {
  // A connector registered or removed changes the numbering of the connectors, and so the stride of the views.
  const ids = touched.connectorsChanged ? [...next.connectors.keys()] : previous.ids;
  const count = ids.length;
  const before = new Map(previous.ids.map((id, c) => [id, c]));
  // A connector's own change, or who holds a connection of it (the views know whether one is held), touches its whole column.
  const columns = new Set([...touched.connectorViews, ...touched.credentialConnectors]);

  let { views, credentials } = previous;
  if (touched.connectorsChanged || touched.credentialConnectors.size > 0) {
    const holders = compileCredentials(next, new Set(ids.filter((id) => touched.credentialConnectors.has(id) || !before.has(id))));
    credentials = ids.map((id) => holders.get(id) ?? previous.credentials[before.get(id)!]!);
  }
  if (touched.connectorsChanged || touched.workspaceViews.size + columns.size > 0 || slots * count !== views.length) {
    let copy: ConnectorView[];
    if (touched.connectorsChanged) {
      // Every view of an unchanged connector is still right; it only moves to its new place.
      copy = new Array(slots * count);
      for (const w of workspaceNumbers.values()) {
        ids.forEach((id, c) => {
          const old = before.get(id);
          if (old !== undefined) copy[w * count + c] = previous.views[w * previous.count + old]!;
        });
      }
      for (const id of ids) if (!before.has(id)) columns.add(id);
    } else copy = views.slice(0, slots * count);
    ids.forEach((id, c) => {
      if (columns.has(id) && next.connectors.has(id)) fillColumn(next, workspaceNumbers, count, copy, c, next.connectors.get(id)!, credentials[c]!);
    });
    for (const workspaceId of touched.workspaceViews) {
      const w = workspaceNumbers.get(workspaceId);
      if (w === undefined) continue; // deleted: its number is not used again
      ids.forEach((id, c) => {
        const connector = next.connectors.get(id)!;
        copy[w * count + c] = compileView(next, workspaceId, connector, isConnected(connector, credentials[c]!, workspaceId));
      });
    }
    views = copy;
  }
  const numbers = touched.connectorViews.size > 0 ? connectorNumbers(next) : previous.numbers;
  return { numbers, ids, count, views, credentials };
}

/** Reads the patch paths of SPEC §6.1's Map-keyed snapshot; `null` for anything not handled incrementally. */
/**
 * A patch's paths as the snapshot's JSON names them (SPEC §8: collection, id, field, …). Wire patches
 * already are; immer's patches of a command reach entities through an `IdMap`'s chunks
 * (`members.chunks[k][id]`) and buckets (`members.where[b][id]`), and a chunk or bucket created whole
 * carries its entries as a `Map`. `null`: not understood, a full build.
 */
function entityPaths(patch: { readonly path: readonly unknown[]; readonly value?: unknown }): readonly (readonly unknown[])[] | null {
  const { path, value } = patch;
  const [collection, field, index, id] = path;
  if (field === 'count' && path.length === 2) return [];
  if (field !== 'chunks' && field !== 'where') return [path];
  if (typeof index !== 'number') return null;
  if (typeof id === 'string') return [[collection, id, ...path.slice(4)]];
  if (value instanceof Map) return [...value.keys()].map((key) => [collection, key]);
  return null;
}

function classify(previous: Organization, next: Organization, patches: readonly { readonly path: readonly unknown[]; readonly value?: unknown }[]): Touched | null {
  const touched: Touched = {
    members: new Set(),
    keys: new Set(),
    workspaceViews: new Set(),
    connectorViews: new Set(),
    credentialConnectors: new Set(),
    directMembership: new Map(),
    rescan: new Set(),
    groups: new Set(),
    groupGrants: new Map(),
    workspacesChanged: false,
    connectorsChanged: false,
  };
  const hold = (relation: Map<string, Set<string>>, key: string, workspaceId: string) => {
    const workspaces = relation.get(key);
    if (workspaces) workspaces.add(workspaceId);
    else relation.set(key, new Set([workspaceId]));
  };
  for (const path of patches.flatMap((patch) => entityPaths(patch) ?? [null])) {
    if (path === null) return null;
    const [collection, id, field, subId] = path;
    if (collection === 'revision' || collection === 'seatPools') continue;
    if (typeof id !== 'string') return null; // a whole collection replaced
    switch (collection) {
      case 'members':
        // A member's own fields; adding or removing one also changes who holds what elsewhere,
        // and those patches come with it (workspace entries, groups, credentials).
        touched.members.add(id);
        if (field === undefined && previous.members.has(id) !== next.members.has(id)) touched.rescan.add(id);
        break;
      case 'apiKeys':
        touched.keys.add(id);
        break;
      case 'workspaces':
        if (field === undefined) {
          // Created, deleted or replaced whole: everyone in it before or after, and its views.
          if (previous.workspaces.has(id) !== next.workspaces.has(id)) touched.workspacesChanged = true;
          for (const workspace of [previous.workspaces.get(id), next.workspaces.get(id)]) {
            for (const memberId of workspace?.members.keys() ?? []) {
              touched.members.add(memberId);
              hold(touched.directMembership, memberId, id);
            }
            for (const groupId of workspace?.groupGrants.keys() ?? []) hold(touched.groupGrants, groupId, id);
          }
          touched.workspaceViews.add(id);
        } else if (field === 'members' && typeof subId === 'string') {
          touched.members.add(subId);
          hold(touched.directMembership, subId, id);
        } else if (field === 'groupGrants' && typeof subId === 'string') hold(touched.groupGrants, subId, id);
        else if (field === 'connectorPermissions') touched.workspaceViews.add(id);
        else if (field !== 'name') return null; // a field this does not know: a full build
        break;
      case 'connectors':
      case 'connectorPermissions':
        touched.connectorViews.add(id);
        // Registered or removed: the stride of the views changes, so the connector index is rebuilt.
        if (previous.connectors.has(id) !== next.connectors.has(id)) touched.connectorsChanged = true;
        break;
      case 'credentials': {
        const before = previous.credentials.get(id);
        const after = next.credentials.get(id);
        if (before) touched.credentialConnectors.add(before.connectorId);
        if (after) touched.credentialConnectors.add(after.connectorId);
        break;
      }
      case 'groups':
        if (field !== 'name') touched.groups.add(id);
        break;
      default:
        return null; // anything unknown: a full build
    }
  }
  return touched;
}
