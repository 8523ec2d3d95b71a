import type { ApiKey, Organization } from '../model/index.js';
import { parseInstant } from './options.js';
import { ADMIN_ACCESS, CODE_USE, D1_ACTIONS, rolesMask } from './actions.js';
import type { RoleName } from '../roles/index.js';
import { DEFAULT_WORKSPACE_ROLE } from '../roles/index.js';
import { LayeredMap } from './layered.js';

/**
 * The compiled form of a snapshot: every principal's effective actions as bitsets, so that `can` is
 * two `Map` look-ups and a bit test. Built once per snapshot; never mutated after it is returned.
 */
export interface MemberEntry {
  readonly kind: 'member';
  readonly id: string;
  readonly active: boolean;
  /** Holds `organization_admin`, directly or through a group (D1, §7.9). */
  readonly organizationAdmin: boolean;
  /** Organization actions from organization roles (§3.2). */
  readonly organizationMask: number;
  /** `admin.access` without a workspace: an organization admin or a workspace admin somewhere (§7.9). */
  readonly adminAnywhere: boolean;
  /** Workspace → its workspace actions: roles there, D1 folded in, `code.use` only with a seat (D2). */
  readonly workspaceMasks: ReadonlyMap<string, number>;
}

export interface KeyEntry {
  readonly kind: 'key';
  readonly id: string;
  readonly revoked: boolean;
  /** Epoch ms, or `undefined` for a key that never expires. */
  readonly expiresAt: number | undefined;
  readonly workspaceId: string;
  readonly connectorScopes: 'all' | ReadonlySet<string>;
}

export type PrincipalEntry = MemberEntry | KeyEntry;

/** Who is where: the relations a single member's entry is compiled from, kept so one member can be recompiled alone. */
export interface Memberships {
  /** Member → workspaces it was added to directly. */
  readonly directWorkspaces: LayeredMap<string, readonly string[]>;
  /** Member → groups it belongs to, in snapshot order. */
  readonly groupsOfMember: ReadonlyMap<string, readonly string[]>;
  /** Group → workspaces that grant it roles. */
  readonly workspacesOfGroup: ReadonlyMap<string, readonly string[]>;
}

export interface PolicyIndex {
  readonly organization: Organization;
  /** Layered so that an incremental update shares the unchanged entries with the previous policy. */
  readonly principals: LayeredMap<string, PrincipalEntry>;
  readonly memberships: Memberships;
}

export function compileIndex(organization: Organization): PolicyIndex {
  const memberships = compileMemberships(organization);
  const roleMasks = workspaceRoleMasks(organization);
  const principals = new Map<string, PrincipalEntry>();
  for (const member of organization.members.values()) {
    principals.set(member.id, finishMember(organization, memberships, member.id, roleMasks.get(member.id) ?? new Map()));
  }
  for (const key of organization.apiKeys.values()) principals.set(key.id, compileKey(key));
  return { organization, principals: LayeredMap.of(principals), memberships };
}

/**
 * Every member's workspace roles as bitsets in one pass over the workspaces (a full build), rather
 * than one member at a time: at 1,000,000 memberships this halves the build. `compileMember` is the
 * one-member form the incremental update uses; the update tests hold the two to the same answers.
 */
function workspaceRoleMasks(organization: Organization): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  const hold = (memberId: string, workspaceId: string, mask: number) => {
    let masks = out.get(memberId);
    if (masks === undefined) out.set(memberId, (masks = new Map()));
    masks.set(workspaceId, (masks.get(workspaceId) ?? 0) | mask);
  };
  for (const workspace of organization.workspaces.values()) {
    for (const [memberId, { roles }] of workspace.members) hold(memberId, workspace.id, roleListMask(roles));
    for (const [groupId, { roles }] of workspace.groupGrants) {
      const mask = roleListMask(roles);
      for (const memberId of organization.groups.get(groupId)!.memberIds) hold(memberId, workspace.id, mask);
    }
  }
  return out;
}

/** SPEC §3.4: no roles means exactly the default contributor. */
const DEFAULT_MASK = rolesMask([DEFAULT_WORKSPACE_ROLE]);
function roleListMask(roles: readonly RoleName[] | undefined): number {
  return roles === undefined ? DEFAULT_MASK : rolesMask(roles);
}

export function compileMemberships(organization: Organization): Memberships {
  const directWorkspaces = new Map<string, string[]>();
  const groupsOfMember = new Map<string, string[]>();
  const workspacesOfGroup = new Map<string, string[]>();
  for (const group of organization.groups.values()) {
    for (const memberId of group.memberIds) push(groupsOfMember, memberId, group.id);
  }
  for (const workspace of organization.workspaces.values()) {
    for (const memberId of workspace.members.keys()) push(directWorkspaces, memberId, workspace.id);
    for (const groupId of workspace.groupGrants.keys()) push(workspacesOfGroup, groupId, workspace.id);
  }
  return { directWorkspaces: LayeredMap.of(directWorkspaces), groupsOfMember, workspacesOfGroup };
}

const ORGANIZATION_ADMIN_ROLE = 'organization_admin';
const NO_CODE_USE = ~CODE_USE;

/** One member's entry, from the snapshot and the membership relations alone; `undefined` if there is no such member. */
export function compileMember(organization: Organization, memberships: Memberships, id: string): MemberEntry | undefined {
  const member = organization.members.get(id);
  if (!member) return undefined;
  const groups = memberships.groupsOfMember.get(id) ?? [];

  const workspaceMasks = new Map<string, number>();
  const hold = (workspaceId: string, roles: readonly RoleName[] | undefined) => {
    workspaceMasks.set(workspaceId, (workspaceMasks.get(workspaceId) ?? 0) | roleListMask(roles));
  };
  for (const workspaceId of memberships.directWorkspaces.get(id) ?? []) {
    hold(workspaceId, organization.workspaces.get(workspaceId)!.members.get(id)!.roles);
  }
  for (const groupId of groups) {
    for (const workspaceId of memberships.workspacesOfGroup.get(groupId) ?? []) {
      hold(workspaceId, organization.workspaces.get(workspaceId)!.groupGrants.get(groupId)!.roles);
    }
  }
  return finishMember(organization, memberships, id, workspaceMasks);
}

/** Organization roles, D1 and D2 folded into a member's workspace role bitsets (which it takes over). */
function finishMember(organization: Organization, memberships: Memberships, id: string, workspaceMasks: Map<string, number>): MemberEntry {
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
  for (const [workspaceId, mask] of workspaceMasks) {
    let effective = organizationAdmin ? mask | D1_ACTIONS : mask; // D1
    if (!hasCodeSeat) effective &= NO_CODE_USE; // D2
    if (effective !== mask) workspaceMasks.set(workspaceId, effective);
    if (mask & ADMIN_ACCESS) adminAnywhere = true;
  }
  return {
    kind: 'member',
    id,
    active: member.status === 'active',
    organizationAdmin,
    organizationMask,
    adminAnywhere,
    workspaceMasks,
  };
}

export function compileKey(key: ApiKey): KeyEntry {
  return {
    kind: 'key',
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
