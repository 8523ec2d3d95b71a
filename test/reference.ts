/**
 * A plain reference evaluator, read straight from SPEC §2–§4 and §7 over the parsed `Organization`:
 * Maps and loops, recomputed on every call — no index, no bitmask, no code from src/policy (its reason
 * types only; the role catalog is data). Deliberately simple and slow: the compiled policy must agree
 * with it on every answer, which is what keeps the fast path correct.
 * Every function takes `unknown` inputs and never throws (SPEC §3.5).
 */
import { ROLES, ACTIONS } from '../src/roles/index.js';
import type { ApiKey, Connector, Member, Organization, Workspace } from '../src/model/index.js';
import type { DenyReason, ToolReason } from '../src/policy/index.js';

const WORKSPACE_ADMINISTRATION = ['workspace.members.manage', 'workspace.connectors.manage', 'workspace.api_keys.manage', 'workspace.settings.manage'];
const DEFAULT_ROLES = ['workspace_contributor']; // SPEC §3.4
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function roleGrants(roleName: string, action: string): boolean {
  for (const role of ROLES) if (role.name === roleName && (role.actions as readonly string[]).includes(action)) return true;
  return false;
}

function scopeOf(action: unknown): string | undefined {
  for (const a of ACTIONS) if (a.name === action) return a.scope;
  return undefined;
}

/** SPEC §7.1: only `options` itself being neither an object nor undefined/null is malformed. */
function malformedOptions(options: unknown): boolean {
  return options !== undefined && options !== null && typeof options !== 'object';
}

/** Reads one option; a throwing getter counts as absent (never throw). */
function option(options: unknown, key: string): unknown {
  if (options === undefined || options === null || typeof options !== 'object') return undefined;
  try {
    return (options as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/** SPEC §7.1: epoch ms, or ISO-8601 with Z or an offset; anything else is no `now`. */
function nowOf(options: unknown): number | undefined {
  const now = option(options, 'now');
  if (typeof now === 'number') return Number.isFinite(now) ? now : undefined;
  if (typeof now === 'string' && ISO_WITH_OFFSET.test(now)) {
    const ms = Date.parse(now);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

function memberOf(org: Organization, principal: unknown): Member | undefined {
  if (typeof principal !== 'string') return undefined;
  for (const member of org.members.values()) if (member.id === principal) return member;
  return undefined;
}

function keyOf(org: Organization, principal: unknown): ApiKey | undefined {
  if (typeof principal !== 'string') return undefined;
  for (const key of org.apiKeys.values()) if (key.id === principal) return key;
  return undefined;
}

function workspaceOf(org: Organization, workspace: unknown): Workspace | undefined {
  if (typeof workspace !== 'string') return undefined;
  for (const w of org.workspaces.values()) if (w.id === workspace) return w;
  return undefined;
}

/** The ids of the groups the member belongs to. */
function groupIdsOf(org: Organization, memberId: string): string[] {
  const ids: string[] = [];
  for (const group of org.groups.values()) if (group.memberIds.includes(memberId)) ids.push(group.id);
  return ids;
}

/** SPEC §3.1: direct org roles plus those of every group the member belongs to. */
function orgRolesOf(org: Organization, member: Member): string[] {
  const roles: string[] = [...member.orgRoles];
  for (const group of org.groups.values()) if (group.memberIds.includes(member.id)) roles.push(...group.orgRoles);
  return roles;
}

/** SPEC §3.3–§3.4: the member's roles in the workspace, or `undefined` when it is no member there at all. */
function workspaceRolesOf(org: Organization, member: Member, w: Workspace): string[] | undefined {
  let roles: string[] | undefined;
  for (const entry of w.members.values()) {
    if (entry.memberId === member.id) roles = [...(roles ?? []), ...(entry.roles ?? DEFAULT_ROLES)];
  }
  const groups = groupIdsOf(org, member.id);
  for (const grant of w.groupGrants.values()) {
    if (groups.includes(grant.groupId)) roles = [...(roles ?? []), ...(grant.roles ?? DEFAULT_ROLES)];
  }
  return roles;
}

/** Key rules shared by §3 and §4: revoked, then expiry judged at `options.now` (§7.1). */
function keyStandingReason(key: ApiKey, options: unknown): 'key_revoked' | 'now_required' | 'key_expired' | null {
  if (key.status === 'revoked') return 'key_revoked';
  if (key.expiresAt !== undefined) {
    const now = nowOf(options);
    if (now === undefined) return 'now_required';
    if (now >= Date.parse(key.expiresAt)) return 'key_expired';
  }
  return null;
}

function referenceReasonUnsafe(org: Organization, principal: unknown, action: unknown, workspace: unknown, options: unknown): DenyReason | null {
  const scope = typeof action === 'string' ? scopeOf(action) : undefined;
  if (scope === undefined) return 'unknown_action';
  const member = memberOf(org, principal);
  const key = keyOf(org, principal);
  if (member === undefined && key === undefined) return 'unknown_principal';
  if (malformedOptions(options)) return 'malformed_options';

  if (key !== undefined) {
    const standing = keyStandingReason(key, options);
    if (standing !== null) return standing;
    if (action !== 'studio.use') return 'no_grant'; // D5
    return workspace === key.workspaceId ? null : 'not_a_member';
  }
  if (member === undefined) return 'unknown_principal';
  if (member.status === 'suspended') return 'suspended';
  const orgRoles = orgRolesOf(org, member);
  const organizationAdmin = orgRoles.includes('organization_admin');

  if (scope === 'organization') {
    for (const role of orgRoles) if (roleGrants(role, action as string)) return null;
    return 'no_grant';
  }
  const noWorkspace = workspace === undefined || workspace === null; // §7.16
  if (scope === 'both') {
    // admin.access, §2 and §7.9
    if (noWorkspace) {
      if (organizationAdmin) return null;
      for (const w of org.workspaces.values()) if ((workspaceRolesOf(org, member, w) ?? []).includes('workspace_admin')) return null;
      return 'no_grant';
    }
    const w = workspaceOf(org, workspace);
    if (w === undefined) return 'unknown_workspace';
    return organizationAdmin || (workspaceRolesOf(org, member, w) ?? []).includes('workspace_admin') ? null : 'no_grant';
  }
  if (noWorkspace) return 'workspace_required';
  const w = workspaceOf(org, workspace);
  if (w === undefined) return 'unknown_workspace';
  const held = workspaceRolesOf(org, member, w);
  let granted = organizationAdmin && WORKSPACE_ADMINISTRATION.includes(action as string); // D1
  for (const role of held ?? []) if (roleGrants(role, action as string)) granted = true;
  if (!granted) return held === undefined ? 'not_a_member' : 'no_grant';
  if (action === 'code.use' && !member.seats.includes('mistral_code')) return 'seat_required'; // D2
  return null;
}

/** The first reason of SPEC §7.15 that denies `can`, or `null` when allowed. */
export function referenceExplainReason(org: Organization, principal: unknown, action: unknown, workspace: unknown, options?: unknown): DenyReason | null {
  try {
    return referenceReasonUnsafe(org, principal, action, workspace, options);
  } catch {
    return 'unknown_principal'; // unreachable by construction; fail closed rather than throw
  }
}

export function referenceCan(org: Organization, principal: unknown, action: unknown, workspace: unknown, options?: unknown): boolean {
  return referenceExplainReason(org, principal, action, workspace, options) === null;
}

/** SPEC §7.17: a connector by its id, else by its unique name. */
function connectorOf(org: Organization, connector: unknown): Connector | undefined {
  if (typeof connector !== 'string') return undefined;
  for (const c of org.connectors.values()) if (c.id === connector) return c;
  for (const c of org.connectors.values()) if (c.name === connector) return c;
  return undefined;
}

/** SPEC §4 rules 1–4 for the whole connector, in §7.15 order; `null` when the connector's tools may be used. */
function toolsReasonUnsafe(org: Organization, principal: unknown, connector: unknown, workspace: unknown, options: unknown): ToolReason | null {
  const member = memberOf(org, principal);
  const key = keyOf(org, principal);
  if (member === undefined && key === undefined) return 'unknown_principal';
  const c = connectorOf(org, connector);
  if (c === undefined) return 'unknown_connector';
  const w = workspaceOf(org, workspace);
  if (w === undefined) return 'unknown_workspace';
  if (malformedOptions(options)) return 'malformed_options';
  const product = option(options, 'product');
  if (product !== undefined && product !== 'vibe' && product !== 'studio') return 'malformed_options'; // §7.10

  if (key !== undefined) {
    const standing = keyStandingReason(key, options);
    if (standing !== null) return standing;
    if (key.workspaceId !== w.id) return 'key_workspace';
    if (key.connectorScopes !== 'all' && !key.connectorScopes.includes(c.id)) return 'key_scope';
    if (product === 'vibe') return 'no_product_access'; // D5
  } else if (member !== undefined) {
    if (member.status === 'suspended') return 'suspended';
    const products = product === 'vibe' ? ['vibe.use'] : product === 'studio' ? ['studio.use'] : ['vibe.use', 'studio.use'];
    if (!products.some((p) => referenceCan(org, member.id, p, w.id))) return 'no_product_access'; // §4.1, §7.14
  }
  // §4.2, D6
  if (c.visibility === 'workspace' && !(c.workspaceIds ?? []).includes(w.id)) return 'not_visible';
  // §4.3: organization level before workspace level
  const orgPermission = org.connectorPermissions.get(c.id);
  if (orgPermission?.mode === 'blocked') return 'connector_blocked';
  const workspacePermission = w.connectorPermissions.get(c.id);
  if (workspacePermission?.mode === 'blocked') return 'connector_blocked';
  // §4.4: the member's own credential, the workspace's, the organization's; a key never a member's (§7.4)
  if (c.authentication !== 'none') {
    let connected = false;
    for (const credential of org.credentials.values()) {
      if (credential.connectorId !== c.id) continue;
      if (credential.holder === 'organization') connected = true;
      if (credential.holder === 'workspace' && credential.workspaceId === w.id) connected = true;
      if (credential.holder === 'member' && member !== undefined && credential.memberId === member.id) connected = true;
    }
    if (!connected) return 'not_connected';
  }
  return null;
}

/** A tool's own reason once the connector passes: `restricted` selections, organization before workspace (§4.3, D4). */
function toolSelectionReason(org: Organization, c: Connector, w: Workspace, tool: string): ToolReason | null {
  const orgPermission = org.connectorPermissions.get(c.id);
  if (orgPermission?.mode === 'restricted' && !(orgPermission.tools ?? []).includes(tool)) return 'tool_not_selected';
  const workspacePermission = w.connectorPermissions.get(c.id);
  if (workspacePermission?.mode === 'restricted' && !(workspacePermission.tools ?? []).includes(tool)) return 'tool_not_selected';
  if (c.capabilities === 'read_only' && c.tools.some((t) => t.name === tool && t.access === 'write')) return 'tool_not_selected'; // §4.5 (cannot load)
  return null;
}

/** The connector-wide reason of SPEC §7.15 (`explainTools(...).reason`), or `null`. */
export function referenceToolsReason(org: Organization, principal: unknown, connector: unknown, workspace: unknown, options?: unknown): ToolReason | null {
  try {
    return toolsReasonUnsafe(org, principal, connector, workspace, options);
  } catch {
    return 'unknown_principal';
  }
}

/** `explainTools` read from the SPEC: the connector-wide reason, and each tool of the connector with its own. */
export function referenceExplainTools(
  org: Organization,
  principal: unknown,
  connector: unknown,
  workspace: unknown,
  options?: unknown,
): { reason: ToolReason | null; tools: { name: string; reason: ToolReason | null }[] } {
  const reason = referenceToolsReason(org, principal, connector, workspace, options);
  const c = connectorOf(org, connector);
  const w = workspaceOf(org, workspace);
  const tools = (c?.tools ?? []).map((t) => ({
    name: t.name,
    reason: reason ?? (c !== undefined && w !== undefined ? toolSelectionReason(org, c, w, t.name) : 'unknown_workspace'),
  }));
  return { reason, tools };
}

/** SPEC §4: the ordered names of the tools available now; `[]` when none. */
export function referenceToolsAvailable(org: Organization, principal: unknown, connector: unknown, workspace: unknown, options?: unknown): string[] {
  return referenceExplainTools(org, principal, connector, workspace, options)
    .tools.filter((t) => t.reason === null)
    .map((t) => t.name);
}

/** `explainInvoke(...).reason` read from the SPEC: the connector's reasons, then `unknown_tool`, then the tool's own. */
export function referenceInvokeReason(
  org: Organization,
  principal: unknown,
  connector: unknown,
  tool: unknown,
  workspace: unknown,
  options?: unknown,
): ToolReason | null {
  const reason = referenceToolsReason(org, principal, connector, workspace, options);
  if (reason !== null) return reason;
  const c = connectorOf(org, connector);
  const w = workspaceOf(org, workspace);
  if (c === undefined || w === undefined) return 'unknown_connector';
  if (typeof tool !== 'string' || !c.tools.some((t) => t.name === tool)) return 'unknown_tool';
  return toolSelectionReason(org, c, w, tool);
}

export function referenceCanInvoke(org: Organization, principal: unknown, connector: unknown, tool: unknown, workspace: unknown, options?: unknown): boolean {
  return referenceInvokeReason(org, principal, connector, tool, workspace, options) === null;
}

/** SPEC §4: every connector with at least one available tool, in snapshot order. */
export function referenceToolsByConnector(org: Organization, principal: unknown, workspace: unknown, options?: unknown): { connector: { id: string; name: string }; tools: string[] }[] {
  const out: { connector: { id: string; name: string }; tools: string[] }[] = [];
  for (const c of org.connectors.values()) {
    const tools = referenceToolsAvailable(org, principal, c.id, workspace, options);
    if (tools.length > 0) out.push({ connector: { id: c.id, name: c.name }, tools });
  }
  return out;
}
