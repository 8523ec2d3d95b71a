/**
 * Cedar (`@cedar-policy/cedar-wasm`, the official WASM build of the Cedar authorizer) as the third peer of
 * the benchmark, encoding the same organization the way Cedar is meant to be used:
 *
 * - A Cedar schema (entity types, actions and what they apply to); the policies are validated against it,
 *   strictly, at build (the entities built here conform to it too). It is not passed with each request:
 *   Cedar would then check every entity against it on every call, which measured 15–30 % slower here.
 * - Entities, built once from the snapshot: `Role` (a catalog role: members and groups are `in` their
 *   organization roles), `WorkspaceRole` (one role held in one workspace; a member or group added without
 *   roles is `in` that workspace's `workspace_contributor`, SPEC §3.4), `Group` (`in` its organization roles
 *   and the `WorkspaceRole`s it is granted), `Member` (`in` its organization roles, its direct
 *   `WorkspaceRole`s and its groups; status and seats as attributes), `Workspace` (`in Organization`, one
 *   `WorkspaceRole` attribute per workspace role) and `ApiKey` (its workspace, status and expiry as
 *   attributes). Group grants stay groups, nothing is expanded ahead of time: Cedar's `in` follows member →
 *   group → role in a workspace, and for `admin.access` on to `Role::"workspace_admin"`, which every
 *   workspace's admin group is `in` (the only `WorkspaceRole`s with a parent).
 * - 16 policies generated from the role catalog: one `permit` per role (its actions — on the Organization
 *   for an organization role; on a Workspace `when { principal in resource.<role> }` for a workspace role),
 *   D1, `admin.access` for a workspace admin anywhere, D5 for keys, and `forbid`s for suspended members, D2
 *   (the seat), revoked keys and expired keys (`context.now`, epoch ms, against `principal.expiresAt`).
 * - Per query `statefulIsAuthorized` on the policy set pre-parsed once (`preparsePolicySet`). Cedar takes the
 *   entities with every request (its cache holds policies and schemas, not entities), and the whole set is
 *   out of the question per call (scale L: 100k members, 1M memberships), so each request carries the
 *   principal's own slice — itself, its groups, the workspace-admin groups these are in — built once per
 *   principal and cached, plus the resource Workspace (one cached entity per workspace). The other
 *   `WorkspaceRole`s have no attributes and no parents: naming them as parents is all a request needs.
 *
 * The thin wrapper around Cedar, as for the other peers (bench/peers.ts):
 * - Input that cannot be written as a Cedar request — a non-string principal, action or workspace, an action
 *   the schema does not declare — and malformed `options` (§7.1) decide `false` before Cedar.
 * - "Which scope does this action have": the resource is the Organization for an organization action or when
 *   no workspace is given, else the named Workspace (§3.2).
 * - `options.now` goes into the request context when it is a number (as the other peers read it).
 * Unknown principals (asked as a `Member` Cedar has no entity for) and workspaces, suspended members, revoked
 * and expired keys, D1, D2, D5 and groups are decided by Cedar's policies.
 */
import {
  getCedarVersion,
  preparsePolicySet,
  statefulIsAuthorized,
  validate,
  type EntityJson,
  type EntityUidJson,
  type StatefulAuthorizationCall,
} from '@cedar-policy/cedar-wasm/nodejs';
import type { OrganizationJson } from 'org-policy';
import { ACTIONS, ROLES } from 'org-policy';
import { D1, malformed, SCOPE, type Peer } from './peers.js';

type Json = any;
type Uid = { type: string; id: string };

const WORKSPACE_ROLE_NAMES = ROLES.filter((r) => r.scope === 'workspace').map((r) => r.name as string);
const quote = (s: string) => JSON.stringify(s);
const actionList = (names: readonly string[]) => `[${names.map((a) => `Action::${quote(a)}`).join(', ')}]`;

function schemaText(): string {
  const byScope = (scope: string) => ACTIONS.filter((a) => a.scope === scope).map((a) => quote(a.name)).join(', ');
  const context = 'context: { now?: Long }';
  return `
entity Role;
entity WorkspaceRole in [Role];
entity Group in [Role, WorkspaceRole];
entity Member in [Role, WorkspaceRole, Group] = { status: String, seats: Set<String> };
entity ApiKey = { workspace: Workspace, status: String, expiresAt?: Long };
entity Organization;
entity Workspace in [Organization] = { ${WORKSPACE_ROLE_NAMES.map((r) => `${r}: WorkspaceRole`).join(', ')} };
action ${byScope('organization')} appliesTo { principal: [Member, ApiKey], resource: [Organization], ${context} };
action ${byScope('workspace')} appliesTo { principal: [Member, ApiKey], resource: [Workspace], ${context} };
action ${byScope('both')} appliesTo { principal: [Member, ApiKey], resource: [Organization, Workspace], ${context} };
`;
}

function policies(organizationId: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const role of ROLES) {
    const actions = actionList(role.actions as readonly string[]);
    out[`role:${role.name}`] =
      role.scope === 'organization'
        ? `permit (principal in Role::${quote(role.name)}, action in ${actions}, resource is Organization);`
        : `permit (principal, action in ${actions}, resource is Workspace) when { principal in resource.${role.name} };`;
  }
  out['D1: organization admins administer every workspace'] =
    `permit (principal in Role::"organization_admin", action in ${actionList(D1)}, resource is Workspace in Organization::${quote(organizationId)});`;
  out['admin.access: a workspace admin anywhere'] = `permit (principal in Role::"workspace_admin", action == Action::"admin.access", resource is Organization);`;
  out['D5: a key uses Studio in its own workspace'] =
    `permit (principal is ApiKey, action == Action::"studio.use", resource is Workspace) when { principal.workspace == resource };`;
  out['suspended members'] = `forbid (principal is Member, action, resource) unless { principal.status == "active" };`;
  out['D2: code.use needs a seat'] = `forbid (principal is Member, action == Action::"code.use", resource) unless { principal.seats.contains("mistral_code") };`;
  out['revoked keys'] = `forbid (principal is ApiKey, action, resource) unless { principal.status == "active" };`;
  out['expired keys'] =
    `forbid (principal is ApiKey, action, resource) when { principal has expiresAt && !(context has now && context.now < principal.expiresAt) };`;
  return out;
}

const entity = (uid: Uid, attrs: Record<string, unknown>, parents: Uid[]): EntityJson => ({ uid, attrs, parents }) as EntityJson;
const ref = (uid: Uid) => ({ __entity: uid });

/** A number `now` as a Cedar Long (i64); comparisons with integral `expiresAt` are unchanged by the floor. */
function contextOf(options: unknown): Record<string, number> {
  const now = (options as { now?: unknown } | null | undefined)?.now;
  if (typeof now !== 'number' || Number.isNaN(now) || now === Infinity) return {};
  return { now: Math.max(-(2 ** 53), Math.min(2 ** 53, Math.floor(now))) };
}

let builds = 0;

export async function cedarPeer(json: OrganizationJson): Promise<Peer> {
  const org = json as Json;
  const schema = schemaText();
  const policySet = { staticPolicies: policies(org.id) };
  const checked = validate({ schema, policies: policySet, validationSettings: { mode: 'strict' } });
  if (checked.type !== 'success') throw new Error(`cedar: ${JSON.stringify(checked.errors)}`);
  if (checked.validationErrors.length) throw new Error(`cedar: ${JSON.stringify(checked.validationErrors)}`);
  const id = `org-policy-bench-${builds++}`;
  const parsed = preparsePolicySet(id, policySet);
  if (parsed.type !== 'success') throw new Error(`cedar: ${JSON.stringify(parsed.errors)}`);

  const organization: Uid = { type: 'Organization', id: org.id };
  const role = (name: string): Uid => ({ type: 'Role', id: name });
  // One WorkspaceRole per (workspace, role). Only a workspace's admins are a group `in` something
  // (`Role::"workspace_admin"`: the admins of some workspace, who may open the Admin Panel); the other
  // WorkspaceRoles have no attributes and no parents, so a request never needs them as entities: being
  // named as a member's or a group's parent is all there is to them.
  const workspaceAdmins = new Map<string, EntityJson>();
  const workspaceRole = (workspaceId: string, name: string): Uid => {
    const uid: Uid = { type: 'WorkspaceRole', id: `${workspaceId}/${name}` };
    if (name === 'workspace_admin' && !workspaceAdmins.has(uid.id)) workspaceAdmins.set(uid.id, entity(uid, {}, [role(name)]));
    return uid;
  };
  const workspaces = new Map<string, EntityJson>();
  const resources = new Map<string, Uid>();
  for (const w of org.workspaces) {
    const uid: Uid = { type: 'Workspace', id: w.id };
    const attrs: Record<string, unknown> = {};
    for (const name of WORKSPACE_ROLE_NAMES) attrs[name] = ref(workspaceRole(w.id, name));
    workspaces.set(w.id, entity(uid, attrs, [organization]));
    resources.set(w.id, uid);
  }

  // Parents of members and groups, straight from the snapshot (no role is expanded through a group).
  const memberParents = new Map<string, Uid[]>();
  const memberGroups = new Map<string, string[]>();
  for (const m of org.members) {
    memberParents.set(m.id, m.orgRoles.map(role));
    memberGroups.set(m.id, []);
  }
  const groupParents = new Map<string, Uid[]>(org.groups.map((g: Json) => [g.id, g.orgRoles.map(role)]));
  for (const g of org.groups) for (const memberId of g.memberIds) memberGroups.get(memberId)!.push(g.id);
  for (const w of org.workspaces) {
    for (const m of w.members) for (const r of m.roles ?? ['workspace_contributor']) memberParents.get(m.memberId)!.push(workspaceRole(w.id, r));
    for (const grant of w.groupGrants) for (const r of grant.roles ?? ['workspace_contributor']) groupParents.get(grant.groupId)!.push(workspaceRole(w.id, r));
  }
  const groups = new Map<string, EntityJson>();
  for (const [id, parents] of groupParents) groups.set(id, entity({ type: 'Group', id }, {}, parents));

  // Each principal's slice: itself, its groups, and the workspace-admin WorkspaceRoles these are in.
  interface Slice {
    readonly uid: Uid;
    readonly entities: EntityJson[];
  }
  const slices = new Map<string, Slice>();
  for (const m of org.members) {
    const uid: Uid = { type: 'Member', id: m.id };
    const groupIds = memberGroups.get(m.id)!;
    const parents = [...memberParents.get(m.id)!, ...groupIds.map((g) => ({ type: 'Group', id: g }))];
    const entities: EntityJson[] = [entity(uid, { status: m.status, seats: m.seats }, parents)];
    const seen = new Set<string>();
    const addRoles = (ps: readonly Uid[]) => {
      for (const p of ps) {
        if (p.type !== 'WorkspaceRole' || seen.has(p.id)) continue;
        seen.add(p.id);
        const e = workspaceAdmins.get(p.id);
        if (e) entities.push(e);
      }
    };
    addRoles(parents);
    for (const g of groupIds) {
      const e = groups.get(g)!;
      entities.push(e);
      addRoles(e.parents as Uid[]);
    }
    slices.set(m.id, { uid, entities });
  }
  for (const k of org.apiKeys) {
    const uid: Uid = { type: 'ApiKey', id: k.id };
    const attrs: Record<string, unknown> = { workspace: ref({ type: 'Workspace', id: k.workspaceId }), status: k.status };
    if (k.expiresAt) attrs.expiresAt = Date.parse(k.expiresAt);
    slices.set(k.id, { uid, entities: [entity(uid, attrs, [])] });
  }
  const actions = new Map<string, Uid>(ACTIONS.map((a) => [a.name, { type: 'Action', id: a.name }]));

  return {
    name: `Cedar ${getCedarVersion()} (WASM, pre-parsed)`,
    can(principal, action, workspace, options) {
      if (typeof principal !== 'string' || typeof action !== 'string' || malformed(options)) return false;
      const actionUid = actions.get(action);
      if (!actionUid) return false;
      const slice = slices.get(principal);
      const principalUid = slice?.uid ?? { type: 'Member', id: principal }; // unknown: Cedar finds no such entity
      let resource: Uid;
      let entities = slice?.entities ?? [];
      if (workspace === undefined || workspace === null || SCOPE.get(action) === 'organization') {
        resource = organization;
      } else if (typeof workspace === 'string') {
        resource = resources.get(workspace) ?? { type: 'Workspace', id: workspace };
        const w = workspaces.get(workspace);
        if (w) entities = [...entities, w];
      } else return false;
      const call: StatefulAuthorizationCall = {
        principal: principalUid as EntityUidJson,
        action: actionUid as EntityUidJson,
        resource: resource as EntityUidJson,
        context: contextOf(options),
        validateRequest: false,
        preparsedPolicySetId: id,
        entities,
      };
      const answer = statefulIsAuthorized(call);
      return answer.type === 'success' && answer.response.decision === 'allow';
    },
  };
}
