import type { Action, RoleName, Scope } from '../roles/index.js';
import { DEFAULT_WORKSPACE_ROLE, actionScope, isAction } from '../roles/index.js';
import type { KeyEntry, PolicyIndex } from './compile.js';
import { ACTIVE, ADMIN_ANYWHERE, ORGANIZATION_ADMIN, rowWorkspaces, workspaceMask } from './table.js';
import { ACTION_BITS, ADMIN_ACCESS, D1_ACTIONS, ORGANIZATION_ONLY, ROLE_MASKS, STUDIO_USE } from './actions.js';
import { isMalformedOptions, readNow } from './options.js';

/** Why a decision was denied: the first rule of SPEC §7.15 that applies. */
export type DenyReason =
  | 'unknown_action'
  | 'unknown_principal'
  | 'malformed_options'
  | 'key_revoked'
  | 'now_required'
  | 'key_expired'
  | 'suspended'
  | 'workspace_required'
  | 'unknown_workspace'
  | 'not_a_member'
  | 'no_grant'
  | 'seat_required';

/** One reason a decision was allowed: a role held directly, through a group, by default, or an API key's own grant (D5). */
export type Grant =
  | {
      readonly via: 'direct' | 'group';
      readonly role: RoleName;
      readonly scope: Scope;
      /** The group the role is held through (`via: 'group'`). */
      readonly group?: string;
      /** The workspace a workspace role is held in. */
      readonly workspace?: string;
      /** SPEC §3.4: held as the default contributor, no roles having been given. */
      readonly default?: true;
    }
  | { readonly via: 'api_key'; readonly role: null; readonly scope: 'workspace'; readonly workspace: string };

export type Explanation =
  | { readonly allowed: true; readonly grants: readonly Grant[] }
  | { readonly allowed: false; readonly reason: DenyReason };

/** SPEC §3: the fast path. One look-up of the principal (member or key), one of the workspace, a scan of one member's row and a bit test; never throws, fails closed. */
export function decide(index: PolicyIndex, principal: unknown, action: unknown, workspace: unknown, options: unknown): boolean {
  const bit = ACTION_BITS.get(action);
  if (bit === undefined) return false;
  const at = index.members.find(principal);
  if (typeof at !== 'number') return at !== undefined && !isMalformedOptions(options) && keyDecision(at, bit, workspace, options) === null;
  if (isMalformedOptions(options)) return false;
  const rows = index.members.rows;
  const flags = rows[at]!;
  if ((flags & ACTIVE) === 0) return false;
  if ((bit & ORGANIZATION_ONLY) !== 0) return (rows[at + 1]! & bit) !== 0;
  if (workspace === undefined || workspace === null) return bit === ADMIN_ACCESS && (flags & ADMIN_ANYWHERE) !== 0;
  const number = index.workspaceNumbers.get(workspace as string);
  if (number === undefined) return false;
  const mask = workspaceMask(rows, at, number);
  if (mask >= 0) return (mask & bit) !== 0;
  // D1: an organization admin administers every workspace, member of it or not (§7.9: `admin.access` too).
  return (flags & ORGANIZATION_ADMIN) !== 0 && (bit & (D1_ACTIONS | ADMIN_ACCESS)) !== 0;
}

/** SPEC §3.6, D5: a key may use Studio in its own workspace, nothing else. `null` when allowed. */
function keyDecision(entry: KeyEntry, bit: number, workspace: unknown, options: unknown): DenyReason | null {
  const reason = keyStanding(entry, options);
  if (reason !== null) return reason;
  if (bit !== STUDIO_USE) return 'no_grant';
  return workspace === entry.workspaceId ? null : 'not_a_member';
}

/** Revoked, then expiry at `options.now` (§7.1): what disqualifies a key before anything is asked of it. */
export function keyStanding(entry: KeyEntry, options: unknown): 'key_revoked' | 'now_required' | 'key_expired' | null {
  if (entry.revoked) return 'key_revoked';
  if (entry.expiresAt === undefined) return null;
  const now = readNow(options);
  if (now === undefined) return 'now_required';
  return now >= entry.expiresAt ? 'key_expired' : null;
}

/** SPEC §3.7: the same decision as `decide`, with every grant that allowed it or the first rule that denied it. */
export function explainDecision(index: PolicyIndex, principal: unknown, action: unknown, workspace: unknown, options: unknown): Explanation {
  if (!isAction(action)) return deny('unknown_action');
  const found = index.members.find(principal);
  const at = typeof found === 'number' ? found : undefined;
  const key = typeof found === 'number' ? undefined : found;
  if (at === undefined && key === undefined) return deny('unknown_principal');
  if (isMalformedOptions(options)) return deny('malformed_options');
  if (key !== undefined) {
    const reason = keyDecision(key, ACTION_BITS.get(action)!, workspace, options);
    return reason === null ? allow([{ via: 'api_key', role: null, scope: 'workspace', workspace: key.workspaceId }]) : deny(reason);
  }
  if ((index.members.rows[at!]! & ACTIVE) === 0) return deny('suspended');
  return explainMember(index, principal as string, at!, action, workspace);
}

function explainMember(index: PolicyIndex, memberId: string, at: number, action: Action, workspace: unknown): Explanation {
  const scope = actionScope(action);
  if (scope === 'organization') return granted(organizationGrants(index, memberId, action), 'no_grant');
  const rows = index.members.rows;

  if (scope === 'both') {
    if (workspace === undefined || workspace === null) {
      const grants = [...organizationGrants(index, memberId, action)];
      // Only workspaces where the member holds a role can grant, listed in snapshot order (their numbers' order).
      for (const number of rowWorkspaces(rows, at).sort((a, b) => a - b)) {
        grants.push(...workspaceGrants(index, memberId, index.workspaceIds[number]!, action));
      }
      return granted(grants, 'no_grant');
    }
    if (!isWorkspace(index, workspace)) return deny('unknown_workspace');
    return granted([...organizationGrants(index, memberId, action), ...workspaceGrants(index, memberId, workspace, action)], 'no_grant');
  }

  if (workspace === undefined || workspace === null) return deny('workspace_required');
  if (!isWorkspace(index, workspace)) return deny('unknown_workspace');
  const grants = [...workspaceGrants(index, memberId, workspace, action)];
  if (ACTION_BITS.get(action)! & D1_ACTIONS && rows[at]! & ORGANIZATION_ADMIN) grants.push(...organizationGrants(index, memberId, 'organization_admin'));
  if (grants.length === 0) return deny(workspaceMask(rows, at, index.workspaceNumbers.get(workspace)!) >= 0 ? 'no_grant' : 'not_a_member');
  if (action === 'code.use' && !index.memberEntities.get(memberId)!.seats.includes('mistral_code')) return deny('seat_required');
  return allow(grants);
}

/**
 * Organization roles that grant `action` — or, given `'organization_admin'`, the grants of that role
 * itself, which is how D1 is explained.
 */
function organizationGrants(index: PolicyIndex, memberId: string, action: Action | 'organization_admin'): Grant[] {
  const holds = (role: RoleName) => (action === 'organization_admin' ? role === action : grantsAction(role, action));
  const grants: Grant[] = [];
  for (const role of index.memberEntities.get(memberId)!.orgRoles) {
    if (holds(role)) grants.push({ via: 'direct', role, scope: 'organization' });
  }
  for (const groupId of index.memberships.groupsOfMember.get(memberId) ?? []) {
    for (const role of index.organization.groups.get(groupId)!.orgRoles) {
      if (holds(role)) grants.push({ via: 'group', group: groupId, role, scope: 'organization' });
    }
  }
  return grants;
}

function workspaceGrants(index: PolicyIndex, memberId: string, workspaceId: string, action: Action): Grant[] {
  const workspace = index.organization.workspaces.get(workspaceId)!;
  const grants: Grant[] = [];
  const add = (roles: readonly RoleName[] | undefined, via: { via: 'direct' } | { via: 'group'; group: string }) => {
    for (const role of roles ?? [DEFAULT_WORKSPACE_ROLE]) {
      if (!grantsAction(role, action)) continue;
      grants.push({ ...via, role, scope: 'workspace', workspace: workspaceId, ...(roles ? {} : { default: true as const }) });
    }
  };
  const direct = workspace.members.get(memberId);
  if (direct) add(direct.roles, { via: 'direct' });
  for (const groupId of index.memberships.groupsOfMember.get(memberId) ?? []) {
    const grant = workspace.groupGrants.get(groupId);
    if (grant) add(grant.roles, { via: 'group', group: groupId });
  }
  return grants;
}

function grantsAction(role: RoleName, action: Action): boolean {
  return ((ROLE_MASKS.get(role) ?? 0) & ACTION_BITS.get(action)!) !== 0;
}

function isWorkspace(index: PolicyIndex, workspace: unknown): workspace is string {
  return typeof workspace === 'string' && index.workspaceNumbers.has(workspace);
}

function granted(grants: Grant[], otherwise: DenyReason): Explanation {
  return grants.length > 0 ? allow(grants) : deny(otherwise);
}

function allow(grants: Grant[]): Explanation {
  return Object.freeze({ allowed: true, grants: Object.freeze(grants.map((g) => Object.freeze(g))) });
}

function deny(reason: DenyReason): Explanation {
  return Object.freeze({ allowed: false, reason });
}
