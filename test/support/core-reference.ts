/**
 * A plain reading of SPEC §2–§3 and §7.1/§7.9/§7.15–16 over the snapshot JSON: arrays and loops, no
 * index, no bitsets, nothing shared with src/policy. Slow on purpose; the compiled policy must agree.
 */
import { ROLES } from 'org-policy';

type AnyJson = any;
const WORKSPACE_ADMINISTRATION = ['workspace.members.manage', 'workspace.connectors.manage', 'workspace.api_keys.manage', 'workspace.settings.manage'];

function roleGrants(role: string, action: string): boolean {
  return ROLES.some((r) => r.name === role && (r.actions as readonly string[]).includes(action));
}

function timeOf(options: unknown): number | undefined {
  let now: unknown;
  try {
    now = (options as { now?: unknown } | null | undefined)?.now;
  } catch {
    return undefined;
  }
  if (typeof now === 'number') return Number.isFinite(now) ? now : undefined;
  if (typeof now === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(now)) {
    const ms = Date.parse(now);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

/** The first reason of SPEC §7.15 that denies, or `null` when allowed. */
export function referenceReason(org: AnyJson, principal: unknown, action: unknown, workspace: unknown, options: unknown): string | null {
  const catalog = new Map<string, string>([
    ...ROLES.flatMap((r) => r.actions.map((a) => [a, a === 'admin.access' ? 'both' : r.scope] as [string, string])),
  ]);
  if (typeof action !== 'string' || !catalog.has(action)) return 'unknown_action';
  const scope = catalog.get(action)!;
  const member = typeof principal === 'string' ? org.members.find((m: AnyJson) => m.id === principal) : undefined;
  const key = typeof principal === 'string' ? org.apiKeys.find((k: AnyJson) => k.id === principal) : undefined;
  if (!member && !key) return 'unknown_principal';
  if (options !== undefined && options !== null && typeof options !== 'object') return 'malformed_options';
  const noWorkspace = workspace === undefined || workspace === null;
  const workspaceJson = typeof workspace === 'string' ? org.workspaces.find((w: AnyJson) => w.id === workspace) : undefined;

  if (key) {
    if (key.status === 'revoked') return 'key_revoked';
    if (key.expiresAt !== undefined) {
      const now = timeOf(options);
      if (now === undefined) return 'now_required';
      if (now >= Date.parse(key.expiresAt)) return 'key_expired';
    }
    if (action !== 'studio.use') return 'no_grant';
    return workspace === key.workspaceId ? null : 'not_a_member';
  }

  if (member.status === 'suspended') return 'suspended';
  const groups = org.groups.filter((g: AnyJson) => g.memberIds.includes(member.id));
  const orgRoles: string[] = [...member.orgRoles, ...groups.flatMap((g: AnyJson) => g.orgRoles)];
  const organizationAdmin = orgRoles.includes('organization_admin');
  const rolesIn = (w: AnyJson): string[] | undefined => {
    let held: string[] | undefined;
    const direct = w.members.find((m: AnyJson) => m.memberId === member.id);
    if (direct) held = [...(direct.roles ?? ['workspace_contributor'])];
    for (const grant of w.groupGrants) {
      if (groups.some((g: AnyJson) => g.id === grant.groupId)) held = [...(held ?? []), ...(grant.roles ?? ['workspace_contributor'])];
    }
    return held;
  };

  if (scope === 'organization') return orgRoles.some((r) => roleGrants(r, action)) ? null : 'no_grant';
  if (scope === 'both') {
    if (noWorkspace) {
      const anywhere = org.workspaces.some((w: AnyJson) => (rolesIn(w) ?? []).includes('workspace_admin'));
      return organizationAdmin || anywhere ? null : 'no_grant';
    }
    if (!workspaceJson) return 'unknown_workspace';
    return organizationAdmin || (rolesIn(workspaceJson) ?? []).includes('workspace_admin') ? null : 'no_grant';
  }
  if (noWorkspace) return 'workspace_required';
  if (!workspaceJson) return 'unknown_workspace';
  const held = rolesIn(workspaceJson);
  const granted = (held ?? []).some((r) => roleGrants(r, action)) || (organizationAdmin && WORKSPACE_ADMINISTRATION.includes(action));
  if (!granted) return held === undefined ? 'not_a_member' : 'no_grant';
  if (action === 'code.use' && !member.seats.includes('mistral_code')) return 'seat_required';
  return null;
}

export function referenceCan(org: AnyJson, principal: unknown, action: unknown, workspace: unknown, options: unknown): boolean {
  return referenceReason(org, principal, action, workspace, options) === null;
}
