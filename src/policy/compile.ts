import type { ApiKey, Member, Organization } from '../model/index.js';
import { takeMemberNumbers } from '../model/fast.js';
import { parseInstant } from './options.js';
import { ADMIN_ACCESS, CODE_USE, D1_ACTIONS, rolesMask } from './actions.js';
import type { RoleName } from '../roles/index.js';
import { DEFAULT_WORKSPACE_ROLE } from '../roles/index.js';
import { LayeredMap } from './layered.js';
import type { Row } from './table.js';
import { ACTIVE, ADMIN_ANYWHERE, DirectPairs, MemberTable, ORGANIZATION_ADMIN, withRoom } from './table.js';

/**
 * The compiled form of a snapshot: ids interned to small numbers and every member's
 * effective actions as bitsets in one packed table, so that `can` is one `Map` look-up of the principal
 * (member or key), one of the workspace, a short scan of one row and a bit test. Built once per
 * snapshot; never mutated after it is returned.
 */
export interface KeyEntry {
  readonly id: string;
  readonly revoked: boolean;
  /** Epoch ms, or `undefined` for a key that never expires. */
  readonly expiresAt: number | undefined;
  readonly workspaceId: string;
  readonly connectorScopes: 'all' | ReadonlySet<string>;
}

/** Who is where: the relations a single member's row is compiled from, kept so one member can be recompiled alone. */
export interface Memberships {
  /**
   * Member → (workspace number, actions of the roles it was given there) pairs for the workspaces it
   * was added to directly, before groups, D1 and D2: what recompiling a member for a group change
   * reads instead of looking its entries up in every workspace again.
   */
  readonly directPairs: DirectPairs;
  /** Member → groups it belongs to, in snapshot order. */
  readonly groupsOfMember: LayeredMap<string, readonly string[]>;
  /** Group → workspaces that grant it roles. */
  readonly workspacesOfGroup: LayeredMap<string, readonly string[]>;
}

export interface PolicyIndex {
  readonly organization: Organization;
  /**
   * Workspace id → its number, its position in the snapshot. Stable across incremental updates: a
   * workspace created or deleted is a full build.
   */
  readonly workspaceNumbers: ReadonlyMap<string, number>;
  /** Workspace number → id. */
  readonly workspaceIds: readonly string[];
  /**
   * Every member's row (see `table.ts`), and every API key's entry in the same id map, so that a decision
   * finds its principal with one look-up (members and keys share one id space: the loader refuses a
   * clash); shared, where unchanged, with the policy it was updated from.
   */
  readonly members: MemberTable<KeyEntry>;
  /**
   * Member id → the snapshot's member, in a plain map: what `explain` reads a member's roles and seats
   * from. The snapshot keeps its members in an `IdMap` (cheap to copy on write, three steps to read: at
   * scale L about 1 µs a look-up against 0.1 µs for a `Map`); shared, where unchanged, with the policy
   * it was updated from.
   */
  readonly memberEntities: LayeredMap<string, Member>;
  readonly memberships: Memberships;
}

export function compileIndex(organization: Organization): PolicyIndex {
  const workspaceIds = [...organization.workspaces.keys()];
  const workspaceNumbers = new Map(workspaceIds.map((id, i) => [id, i]));
  const keys = new Map<string, KeyEntry>();
  for (const key of organization.apiKeys.values()) keys.set(key.id, compileKey(key));
  const { members, memberEntities, memberships } = compileMembers(organization, keys);
  return { organization, workspaceNumbers, workspaceIds, members, memberEntities, memberships };
}

/** What a group gives each of its members: organization roles, and (workspace number, actions) pairs for its grants. */
interface GroupGrants {
  readonly organizationMask: number;
  readonly organizationAdmin: boolean;
  readonly pairs: number[];
}

/**
 * Every member's row, written straight into the table's buffer, and the membership relations — the
 * full build. Workspace numbers are positions in the snapshot. The 1,000,000 workspace entries of scale
 * L are read once: each entry's member is looked up by id (its number) and the pair is placed in a flat
 * array by member (a counting sort), so no member gets an array of its own; a member's row is then its
 * direct pairs, its groups' pairs merged in, D1 and D2 folded — what `compileMember` computes for one.
 */
function compileMembers(
  organization: Organization,
  keys: ReadonlyMap<string, KeyEntry>,
): { members: MemberTable<KeyEntry>; memberEntities: LayeredMap<string, Member>; memberships: Memberships } {
  const memberList = [...organization.members.values()];
  const count = memberList.length;
  let entries = 0;
  for (const workspace of organization.workspaces.values()) entries += workspace.members.size;
  // The parser found each entry's member number already (taken once); otherwise each is looked up.
  const hint = takeMemberNumbers(organization);
  const who = hint !== undefined && hint.length === entries ? hint : new Int32Array(entries);
  const numbers = new Map<string, number>();
  if (who !== hint) for (let i = 0; i < count; i++) numbers.set(memberList[i]!.id, i);
  const what = new Int32Array(entries);
  const start = new Int32Array(count + 1);
  let k = 0;
  for (const workspace of organization.workspaces.values()) {
    for (const entry of workspace.members.values()) {
      const i = who === hint ? who[k]! : (who[k] = numbers.get(entry.memberId)!);
      what[k++] = roleListMask(entry.roles);
      start[i + 1]!++;
    }
  }
  for (let i = 0; i < count; i++) start[i + 1]! += start[i]!;
  const direct = new Int32Array(2 * entries);
  const fill = start.slice(0, count);
  k = 0;
  let w = 0;
  for (const workspace of organization.workspaces.values()) {
    for (let end = k + workspace.members.size; k < end; k++) {
      const at = 2 * fill[who[k]!]!++;
      direct[at] = w;
      direct[at + 1] = what[k]!;
    }
    w++;
  }

  const groupsOfMember = new Map<string, string[]>();
  const workspacesOfGroup = new Map<string, string[]>();
  const grants = new Map<string, GroupGrants>();
  for (const group of organization.groups.values()) {
    for (const memberId of group.memberIds) push(groupsOfMember, memberId, group.id);
    grants.set(group.id, { organizationMask: rolesMask(group.orgRoles), organizationAdmin: group.orgRoles.includes(ORGANIZATION_ADMIN_ROLE), pairs: [] });
  }
  w = 0;
  let groupPairs = 0;
  for (const workspace of organization.workspaces.values()) {
    for (const [groupId, grant] of workspace.groupGrants) {
      push(workspacesOfGroup, groupId, workspace.id);
      grants.get(groupId)!.pairs.push(w, roleListMask(grant.roles));
      groupPairs += organization.groups.get(groupId)!.memberIds.length;
    }
    w++;
  }

  // Decision parts: header, the pairs (direct and through groups, before merging), the offset of the rest;
  // the rest: the direct count and pairs (see table.ts).
  const buffer = new Int32Array(withRoom(4 * count + 2 * entries + 2 * groupPairs));
  const rest = new Int32Array(withRoom(count + 2 * entries));
  let restEnd = 0;
  const offsets = new Map<string, number | KeyEntry>();
  const entities = new Map<string, Member>();
  let end = 0;
  for (let i = 0; i < count; i++) {
    const member = memberList[i]!;
    offsets.set(member.id, end);
    entities.set(member.id, member);
    const at = end;
    let n = 0;
    // The direct pairs, then each group's pairs merged in (a workspace appears once).
    for (let d = 2 * start[i]!, last = 2 * start[i + 1]!; d < last; d += 2) {
      buffer[at + 3 + 2 * n] = direct[d]!;
      buffer[at + 4 + 2 * n++] = direct[d + 1]!;
    }
    let organizationMask = rolesMask(member.orgRoles);
    let organizationAdmin = member.orgRoles.includes(ORGANIZATION_ADMIN_ROLE);
    for (const groupId of groupsOfMember.get(member.id) ?? NO_GROUPS) {
      const group = grants.get(groupId)!;
      organizationMask |= group.organizationMask;
      if (group.organizationAdmin) organizationAdmin = true;
      const pairs = group.pairs;
      for (let g = 0; g < pairs.length; g += 2) {
        let p = at + 3;
        const pairsEnd = at + 3 + 2 * n;
        while (p < pairsEnd && buffer[p] !== pairs[g]) p += 2;
        if (p < pairsEnd) buffer[p + 1]! |= pairs[g + 1]!;
        else {
          buffer[p] = pairs[g]!;
          buffer[p + 1] = pairs[g + 1]!;
          n++;
        }
      }
    }
    const flags = foldRow(buffer, at, n, member, organizationAdmin);
    buffer[at] = flags;
    buffer[at + 1] = organizationMask;
    buffer[at + 2] = n;
    end = at + 3 + 2 * n;
    buffer[end++] = restEnd;
    const directCount = start[i + 1]! - start[i]!;
    rest[restEnd++] = directCount;
    rest.set(direct.subarray(2 * start[i]!, 2 * start[i + 1]!), restEnd);
    restEnd += 2 * directCount;
  }
  for (const [id, key] of keys) offsets.set(id, key);
  const members = MemberTable.from(offsets, buffer, end, rest, restEnd);
  return {
    members,
    memberEntities: LayeredMap.of(entities),
    memberships: { directPairs: DirectPairs.of(members), groupsOfMember: LayeredMap.of(groupsOfMember), workspacesOfGroup: LayeredMap.of(workspacesOfGroup) },
  };
}

const NO_GROUPS: readonly string[] = [];

/**
 * D1 and D2 folded into the `n` (workspace, actions) pairs at `at + 3` of `rows`, in place; returns the
 * row's flags. The full build and `memberRow` fold pairs this one way.
 */
function foldRow(rows: Int32Array | number[], at: number, n: number, member: Member, organizationAdmin: boolean): number {
  const hasCodeSeat = member.seats.includes('mistral_code');
  let adminAnywhere = organizationAdmin;
  for (let p = at + 4, last = at + 4 + 2 * n; p < last; p += 2) {
    const mask = rows[p]!;
    let effective = organizationAdmin ? mask | ORGANIZATION_ADMIN_FOLD : mask; // D1
    if (!hasCodeSeat) effective &= NO_CODE_USE; // D2
    if (mask & ADMIN_ACCESS) adminAnywhere = true;
    rows[p] = effective;
  }
  return (member.status === 'active' ? ACTIVE : 0) | (organizationAdmin ? ORGANIZATION_ADMIN : 0) | (adminAnywhere ? ADMIN_ANYWHERE : 0);
}

/** Adds `mask` to the pair of `workspace`, or a pair for it. */
function hold(pairs: number[], workspace: number, mask: number) {
  for (let i = 0; i < pairs.length; i += 2) {
    if (pairs[i] === workspace) {
      pairs[i + 1] = pairs[i + 1]! | mask;
      return;
    }
  }
  pairs.push(workspace, mask);
}

/** SPEC §3.4: no roles means exactly the default contributor. */
const DEFAULT_MASK = rolesMask([DEFAULT_WORKSPACE_ROLE]);
export function roleListMask(roles: readonly RoleName[] | undefined): number {
  return roles === undefined ? DEFAULT_MASK : rolesMask(roles);
}

/** A member's direct pairs in the workspaces of `next` (a scan of every workspace: for a member added or removed). */
export function directPairsOf(organization: Organization, workspaceNumbers: ReadonlyMap<string, number>, memberId: string): number[] {
  const pairs: number[] = [];
  for (const workspace of organization.workspaces.values()) {
    const entry = workspace.members.get(memberId);
    if (entry !== undefined) pairs.push(workspaceNumbers.get(workspace.id)!, roleListMask(entry.roles));
  }
  return pairs;
}

const ORGANIZATION_ADMIN_ROLE = 'organization_admin';
const NO_CODE_USE = ~CODE_USE;
/** D1, and §7.9's `admin.access` in every workspace: what an organization admin holds in each. */
const ORGANIZATION_ADMIN_FOLD = D1_ACTIONS | ADMIN_ACCESS;

/**
 * One member's row, from the snapshot and the membership relations alone; `undefined` if there is no such
 * member. The full build and the incremental update both compile members this one way.
 */
export function compileMember(
  organization: Organization,
  memberships: Memberships,
  workspaceNumbers: ReadonlyMap<string, number>,
  id: string,
): Row | undefined {
  if (!organization.members.has(id)) return undefined;
  const direct = memberships.directPairs.get(id) ?? [];
  const pairs = [...direct];
  for (const groupId of memberships.groupsOfMember.get(id) ?? []) {
    for (const workspaceId of memberships.workspacesOfGroup.get(groupId) ?? []) {
      hold(pairs, workspaceNumbers.get(workspaceId)!, roleListMask(organization.workspaces.get(workspaceId)!.groupGrants.get(groupId)!.roles));
    }
  }
  return memberRow(organization, memberships, id, pairs, direct);
}

/** Organization roles, D1 and D2 folded into a member's (workspace, role bitset) pairs, then its direct pairs: its row (see `table.ts`). */
function memberRow(organization: Organization, memberships: Memberships, id: string, pairs: readonly number[], direct: readonly number[]): Row {
  const member = organization.members.get(id)!;
  let organizationMask = rolesMask(member.orgRoles);
  let organizationAdmin = member.orgRoles.includes(ORGANIZATION_ADMIN_ROLE);
  for (const groupId of memberships.groupsOfMember.get(id) ?? []) {
    const group = organization.groups.get(groupId)!;
    organizationMask |= rolesMask(group.orgRoles);
    if (group.orgRoles.includes(ORGANIZATION_ADMIN_ROLE)) organizationAdmin = true;
  }
  const row = [0, organizationMask, pairs.length >> 1, ...pairs, direct.length >> 1, ...direct];
  row[0] = foldRow(row, 0, pairs.length >> 1, member, organizationAdmin);
  return row;
}

export function compileKey(key: ApiKey): KeyEntry {
  return {
    id: key.id,
    revoked: key.status === 'revoked',
    expiresAt: key.expiresAt === undefined ? undefined : parseInstant(key.expiresAt),
    workspaceId: key.workspaceId,
    connectorScopes: key.connectorScopes === 'all' ? 'all' : new Set(key.connectorScopes),
  };
}

function push(map: Map<string, string[]>, key: string, value: string) {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
