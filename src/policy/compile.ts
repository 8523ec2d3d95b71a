import type { ApiKey, Organization } from '../model/index.js';
import { parseInstant } from './options.js';
import { ADMIN_ACCESS, CODE_USE, D1_ACTIONS, rolesMask } from './actions.js';
import type { RoleName } from '../roles/index.js';
import { DEFAULT_WORKSPACE_ROLE } from '../roles/index.js';
import { LayeredMap } from './layered.js';
import type { Row } from './table.js';
import { ACTIVE, ADMIN_ANYWHERE, MemberTable, ORGANIZATION_ADMIN } from './table.js';

/**
 * The compiled form of a snapshot: ids interned to small numbers and every member's
 * effective actions as bitsets in one packed table, so that `can` is two `Map` look-ups, a short scan
 * of one row and a bit test. Built once per snapshot; never mutated after it is returned.
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
  readonly directPairs: LayeredMap<string, readonly number[]>;
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
  /** Every member's row (see `table.ts`); shared, where unchanged, with the policy it was updated from. */
  readonly members: MemberTable;
  /** API keys by id. Members and keys share one id space (the loader refuses a clash). */
  readonly keys: LayeredMap<string, KeyEntry>;
  readonly memberships: Memberships;
}

export function compileIndex(organization: Organization): PolicyIndex {
  const workspaceIds = [...organization.workspaces.keys()];
  const workspaceNumbers = new Map(workspaceIds.map((id, i) => [id, i]));
  const memberships = compileMemberships(organization, workspaceNumbers);
  const rows = new Map<string, Row>();
  for (const id of organization.members.keys()) rows.set(id, compileMember(organization, memberships, workspaceNumbers, id)!);
  const keys = new Map<string, KeyEntry>();
  for (const key of organization.apiKeys.values()) keys.set(key.id, compileKey(key));
  return { organization, workspaceNumbers, workspaceIds, members: MemberTable.of(rows), keys: LayeredMap.of(keys), memberships };
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

export function compileMemberships(organization: Organization, workspaceNumbers: ReadonlyMap<string, number>): Memberships {
  const directPairs = new Map<string, number[]>();
  const groupsOfMember = new Map<string, string[]>();
  const workspacesOfGroup = new Map<string, string[]>();
  for (const group of organization.groups.values()) {
    for (const memberId of group.memberIds) push(groupsOfMember, memberId, group.id);
  }
  for (const workspace of organization.workspaces.values()) {
    const number = workspaceNumbers.get(workspace.id)!;
    for (const [memberId, { roles }] of workspace.members) {
      const pairs = directPairs.get(memberId);
      if (pairs === undefined) directPairs.set(memberId, [number, roleListMask(roles)]);
      else pairs.push(number, roleListMask(roles));
    }
    for (const groupId of workspace.groupGrants.keys()) push(workspacesOfGroup, groupId, workspace.id);
  }
  return { directPairs: LayeredMap.of(directPairs), groupsOfMember: LayeredMap.of(groupsOfMember), workspacesOfGroup: LayeredMap.of(workspacesOfGroup) };
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
  const pairs = [...(memberships.directPairs.get(id) ?? [])];
  for (const groupId of memberships.groupsOfMember.get(id) ?? []) {
    for (const workspaceId of memberships.workspacesOfGroup.get(groupId) ?? []) {
      hold(pairs, workspaceNumbers.get(workspaceId)!, roleListMask(organization.workspaces.get(workspaceId)!.groupGrants.get(groupId)!.roles));
    }
  }
  return memberRow(organization, memberships, id, pairs);
}

/** Organization roles, D1 and D2 folded into a member's (workspace, role bitset) pairs: its row (see `table.ts`). */
function memberRow(organization: Organization, memberships: Memberships, id: string, pairs: readonly number[]): Row {
  const member = organization.members.get(id)!;
  let organizationMask = rolesMask(member.orgRoles);
  let organizationAdmin = member.orgRoles.includes(ORGANIZATION_ADMIN_ROLE);
  for (const groupId of memberships.groupsOfMember.get(id) ?? []) {
    const group = organization.groups.get(groupId)!;
    organizationMask |= rolesMask(group.orgRoles);
    if (group.orgRoles.includes(ORGANIZATION_ADMIN_ROLE)) organizationAdmin = true;
  }
  const hasCodeSeat = member.seats.includes('mistral_code');
  let adminAnywhere = organizationAdmin;
  const row = [0, organizationMask, pairs.length >> 1];
  for (let i = 0; i < pairs.length; i += 2) {
    const mask = pairs[i + 1]!;
    let effective = organizationAdmin ? mask | ORGANIZATION_ADMIN_FOLD : mask; // D1
    if (!hasCodeSeat) effective &= NO_CODE_USE; // D2
    if (mask & ADMIN_ACCESS) adminAnywhere = true;
    row.push(pairs[i]!, effective);
  }
  row[0] = (member.status === 'active' ? ACTIVE : 0) | (organizationAdmin ? ORGANIZATION_ADMIN : 0) | (adminAnywhere ? ADMIN_ANYWHERE : 0);
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
