/**
 * The peers org-policy is measured against, each encoding the same organization the way its library is meant to be used.
 * What the peer cannot express is done by a thin wrapper around it, and named here:
 * - API-key expiry and revocation (time is not a rule either library evaluates on its own): wrapper.
 * - "Which scope does this action have" (to ignore the workspace of an organization action, §3.2): wrapper.
 * - Malformed options (§7.1): wrapper.
 * Everything else — additive roles, groups, the default contributor, D1, D2 (seats), D5, suspended
 * members, unknown ids — is in the rules themselves.
 */
import { createMongoAbility, type MongoAbility } from '@casl/ability';
import { newEnforcer, newModelFromString } from 'casbin';
import type { OrganizationJson } from 'org-policy';
import { ACTIONS, ROLES } from 'org-policy';

type Json = any;
export const SCOPE = new Map<string, string>(ACTIONS.map((a) => [a.name, a.scope]));
const ROLE_ACTIONS = new Map<string, readonly string[]>(ROLES.map((r) => [r.name, r.actions as readonly string[]]));
export const D1 = ['workspace.members.manage', 'workspace.connectors.manage', 'workspace.api_keys.manage', 'workspace.settings.manage', 'admin.access'];

interface Effective {
  readonly active: boolean;
  readonly seat: boolean;
  readonly orgRoles: Set<string>;
  /** workspace → roles held there (direct, groups, default contributor). */
  readonly workspaceRoles: Map<string, Set<string>>;
}

/** Roles per member and workspace, read from the snapshot: the input both peers are fed. */
export function effectiveRoles(org: Json): Map<string, Effective> {
  const out = new Map<string, Effective>();
  for (const m of org.members) {
    out.set(m.id, { active: m.status === 'active', seat: m.seats.includes('mistral_code'), orgRoles: new Set(m.orgRoles), workspaceRoles: new Map() });
  }
  const hold = (memberId: string, workspaceId: string, roles: readonly string[] | undefined) => {
    const e = out.get(memberId)!;
    let set = e.workspaceRoles.get(workspaceId);
    if (!set) e.workspaceRoles.set(workspaceId, (set = new Set()));
    for (const r of roles ?? ['workspace_contributor']) set.add(r);
  };
  const groups = new Map<string, Json>(org.groups.map((g: Json) => [g.id, g]));
  for (const g of org.groups) for (const id of g.memberIds) for (const r of g.orgRoles) out.get(id)!.orgRoles.add(r);
  for (const w of org.workspaces) {
    for (const m of w.members) hold(m.memberId, w.id, m.roles);
    for (const grant of w.groupGrants) for (const id of groups.get(grant.groupId).memberIds) hold(id, w.id, grant.roles);
  }
  return out;
}

function actionsOf(roles: Iterable<string>, seat: boolean): string[] {
  const set = new Set<string>();
  for (const r of roles) for (const a of ROLE_ACTIONS.get(r) ?? []) set.add(a);
  if (!seat) set.delete('code.use'); // D2
  return [...set];
}

interface KeyGate {
  readonly revoked: boolean;
  readonly expiresAt: number | undefined;
}
function keyGates(org: Json): Map<string, KeyGate> {
  return new Map(org.apiKeys.map((k: Json) => [k.id, { revoked: k.status === 'revoked', expiresAt: k.expiresAt ? Date.parse(k.expiresAt) : undefined }]));
}
function nowOf(options: unknown): number | undefined {
  const now = (options as { now?: unknown } | null | undefined)?.now;
  return typeof now === 'number' ? now : undefined; // the streams pass numbers or garbage
}
function keyAllowed(gate: KeyGate | undefined, options: unknown): boolean {
  if (!gate) return true;
  if (gate.revoked) return false;
  if (gate.expiresAt === undefined) return true;
  const now = nowOf(options);
  return now !== undefined && now < gate.expiresAt;
}
export const malformed = (options: unknown) => options !== undefined && options !== null && typeof options !== 'object';

export interface Peer {
  readonly name: string;
  can(principal: unknown, action: unknown, workspace: unknown, options: unknown): boolean;
}

/** CASL: one `MongoAbility` per principal, built once and cached (the documented way to use CASL). */
export function caslPeer(json: OrganizationJson): Peer {
  const org = json as Json;
  const roles = effectiveRoles(org);
  const allWorkspaces = org.workspaces.map((w: Json) => w.id);
  const abilities = new Map<string, MongoAbility>();
  for (const [id, e] of roles) {
    if (!e.active) {
      abilities.set(id, createMongoAbility([]));
      continue;
    }
    const rules: Json[] = [];
    const orgActions = actionsOf(e.orgRoles, e.seat);
    if (orgActions.length) rules.push({ action: orgActions, subject: 'Organization' });
    const byActions = new Map<string, string[]>();
    let workspaceAdmin = false;
    for (const [w, held] of e.workspaceRoles) {
      const actions = actionsOf(held, e.seat).sort();
      if (held.has('workspace_admin')) workspaceAdmin = true;
      const key = actions.join(',');
      const list = byActions.get(key);
      if (list) list.push(w);
      else byActions.set(key, [w]);
    }
    for (const [key, ws] of byActions) rules.push({ action: key.split(','), subject: 'Workspace', conditions: { id: { $in: ws } } });
    if (e.orgRoles.has('organization_admin')) rules.push({ action: D1, subject: 'Workspace', conditions: { id: { $in: allWorkspaces } } });
    if (workspaceAdmin) rules.push({ action: 'admin.access', subject: 'Organization' });
    abilities.set(id, createMongoAbility(rules, { detectSubjectType: (o: Json) => o.kind }));
  }
  const gates = keyGates(org);
  for (const k of org.apiKeys) {
    abilities.set(k.id, createMongoAbility([{ action: 'studio.use', subject: 'Workspace', conditions: { id: k.workspaceId } }], { detectSubjectType: (o: Json) => o.kind }));
  }
  return {
    name: 'CASL (cached abilities)',
    can(principal, action, workspace, options) {
      if (typeof action !== 'string' || !SCOPE.has(action)) return false;
      const ability = abilities.get(principal as string);
      if (!ability || malformed(options) || !keyAllowed(gates.get(principal as string), options)) return false;
      if (workspace === undefined || workspace === null || SCOPE.get(action) === 'organization') return ability.can(action, 'Organization');
      return ability.can(action, { kind: 'Workspace', id: workspace } as Json);
    },
  };
}

const CASBIN_MODEL = `
[request_definition]
r = sub, dom, act
[policy_definition]
p = sub, dom, act
[role_definition]
g = _, _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = g(r.sub, p.sub, r.dom) && (p.dom == "*" || p.dom == r.dom) && r.act == p.act
`;
const ORG_DOMAIN = '#organization';

/** casbin: RBAC with domains — a workspace is a domain, the organization one more; groups expanded into g lines. */
export async function casbinPeer(json: OrganizationJson): Promise<Peer> {
  const org = json as Json;
  const enforcer = await newEnforcer(newModelFromString(CASBIN_MODEL));
  const p: string[][] = [];
  for (const role of ROLES) {
    const domain = role.scope === 'organization' ? ORG_DOMAIN : '*';
    for (const a of role.actions) {
      p.push([`role:${role.name}`, domain, a]);
      if (a !== 'code.use') p.push([`role:${role.name}:noseat`, domain, a]); // D2
    }
  }
  for (const a of D1) p.push(['role:d1', '*', a]);
  p.push(['role:admin_anywhere', ORG_DOMAIN, 'admin.access']);
  p.push(['role:api_key', '*', 'studio.use']);
  const g: string[][] = [];
  const workspaceIds = org.workspaces.map((w: Json) => w.id);
  for (const [id, e] of effectiveRoles(org)) {
    if (!e.active) continue;
    for (const r of e.orgRoles) g.push([id, `role:${r}`, ORG_DOMAIN]);
    let workspaceAdmin = false;
    for (const [w, held] of e.workspaceRoles) {
      for (const r of held) g.push([id, e.seat ? `role:${r}` : `role:${r}:noseat`, w]);
      if (held.has('workspace_admin')) workspaceAdmin = true;
    }
    if (e.orgRoles.has('organization_admin')) for (const w of workspaceIds) g.push([id, 'role:d1', w]);
    if (workspaceAdmin) g.push([id, 'role:admin_anywhere', ORG_DOMAIN]);
  }
  for (const k of org.apiKeys) g.push([k.id, 'role:api_key', k.workspaceId]);
  const model = enforcer.getModel();
  model.addPolicies('p', 'p', p);
  model.addPolicies('g', 'g', g);
  await enforcer.buildRoleLinks();
  const gates = keyGates(org);
  return {
    name: 'casbin (RBAC with domains)',
    can(principal, action, workspace, options) {
      if (typeof principal !== 'string' || typeof action !== 'string' || !SCOPE.has(action)) return false;
      if (malformed(options) || !keyAllowed(gates.get(principal), options)) return false;
      let domain: string;
      if (workspace === undefined || workspace === null || SCOPE.get(action) === 'organization') domain = ORG_DOMAIN;
      else if (typeof workspace === 'string' && workspace !== ORG_DOMAIN) domain = workspace;
      else return false;
      return enforcer.enforceSync(principal, domain, action);
    },
  };
}
