/**
 * `toolsAvailable` peers (SPEC §4) for `npm run bench`: CASL and casbin encode the connector rules of the same
 * organization, each the way its library is meant to be used, and answer by asking the library once per tool
 * of the connector (the answer keeps the connector's tool order).
 *
 * What neither library expresses cheaply is done by a thin wrapper, shared by both and named here:
 * - The connector named by its id, else by its unique name (§7.17): a map lookup before the library.
 * - Malformed `options` and an `options.product` other than `vibe` / `studio` (§7.1, §7.10): `[]`. A valid
 *   product becomes a field of the request (`any` when none is given); what it grants is in the rules.
 * - API-key expiry judged at `options.now` (§7.1: a key with an `expiresAt` and no usable `now` is denied).
 * - Non-string principals, connectors and workspaces (§7.11): `[]` before the library (CASL's `$in` would match
 *   an array holding a workspace id; casbin would turn the array into a string).
 * Everything else is in the rules: product access per workspace (§4.1, §7.14, D5 for keys), visibility (D6),
 * the organization and workspace permission modes (D4), read-only connectors (§4.5), credentials (§4.4, a key
 * never a member's, §7.4), suspended members and revoked keys (no rules at all), a key's own workspace and
 * connector scopes, unknown workspaces, unknown principals (CASL: no cached ability; casbin: no role link).
 */
import { createMongoAbility, subject, type MongoAbility } from '@casl/ability';
import { newEnforcer, newModelFromString } from 'casbin';
import type { OrganizationJson } from 'org-policy';
import { ROLES } from 'org-policy';
import { effectiveRoles, malformed } from './peers.js';

type Json = any;

export interface ToolsPeer {
  readonly name: string;
  /** What the peer holds, e.g. how many rules (reported by bench/run.ts). */
  readonly size?: string;
  toolsAvailable(principal: unknown, connector: unknown, workspace: unknown, options: unknown): readonly string[];
}

/** The product a request asks for: `any` (vibe or studio, §4.1) unless `options.product` narrows it. */
type Product = 'any' | 'vibe' | 'studio';
interface Tool {
  readonly name: string;
  readonly access: 'read' | 'write';
}
interface Connector {
  readonly id: string;
  readonly name: string;
  readonly visibility: 'organization' | 'workspace';
  readonly workspaceIds?: readonly string[];
  readonly authentication: 'oauth2' | 'api_key' | 'none';
  readonly capabilities: 'read_only' | 'read_write';
  readonly tools: readonly Tool[];
}
interface Permission {
  readonly connectorId: string;
  readonly mode: 'allowed' | 'restricted' | 'blocked';
  readonly tools?: readonly string[];
}

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** §7.1: epoch ms, or ISO-8601 with `Z` or an offset; anything else is no `now`. */
function nowOf(options: unknown): number | undefined {
  const now = (options as { now?: unknown } | null | undefined)?.now;
  if (typeof now === 'number') return Number.isFinite(now) ? now : undefined;
  if (typeof now === 'string' && ISO_WITH_OFFSET.test(now)) {
    const ms = Date.parse(now);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

/** The wrapper of both peers (see the header): everything it decides before the library is asked. */
function toolsWrapper(org: Json) {
  const byId = new Map<string, Connector>();
  const byName = new Map<string, Connector>();
  for (const c of org.connectors as Connector[]) {
    byId.set(c.id, c);
    byName.set(c.name, c);
  }
  const expiresAt = new Map<string, number>();
  for (const k of org.apiKeys) if (k.expiresAt !== undefined) expiresAt.set(k.id, Date.parse(k.expiresAt));
  return {
    /** The connector asked about and the product field of the request, or `undefined` for `[]`. */
    request(principal: unknown, connector: unknown, workspace: unknown, options: unknown): { connector: Connector; product: Product } | undefined {
      if (typeof principal !== 'string' || typeof workspace !== 'string' || typeof connector !== 'string') return undefined;
      const c = byId.get(connector) ?? byName.get(connector);
      if (c === undefined || malformed(options)) return undefined;
      const asked = (options as { product?: unknown } | null | undefined)?.product;
      if (asked !== undefined && asked !== 'vibe' && asked !== 'studio') return undefined;
      const expiry = expiresAt.get(principal);
      if (expiry !== undefined) {
        const now = nowOf(options);
        if (now === undefined || now >= expiry) return undefined;
      }
      return { connector: c, product: asked ?? 'any' };
    },
  };
}

/** Which products each workspace role gives access to (§4.1: `vibe.use`, `studio.use`), from the role catalog. */
const ROLE_PRODUCTS = new Map<string, ('vibe' | 'studio')[]>(
  ROLES.filter((r) => r.scope === 'workspace').map((r) => {
    const actions = r.actions as readonly string[];
    return [r.name as string, [...(actions.includes('vibe.use') ? ['vibe' as const] : []), ...(actions.includes('studio.use') ? ['studio' as const] : [])]];
  }),
);

/** Org-level and per-workspace connector permissions, keyed by connector id. */
function permissions(org: Json) {
  const organization = new Map<string, Permission>((org.connectorPermissions ?? []).map((p: Permission) => [p.connectorId, p]));
  const workspace = new Map<string, Map<string, Permission>>(
    org.workspaces.map((w: Json) => [w.id, new Map<string, Permission>(w.connectorPermissions.map((p: Permission) => [p.connectorId, p]))]),
  );
  return { organization, workspace };
}

/** Credentials by holder (§4.4): connectors with an App Connection, per workspace, per member. */
function credentials(org: Json) {
  const organization = new Set<string>();
  const workspace = new Map<string, Set<string>>();
  const member = new Map<string, Set<string>>();
  const add = (map: Map<string, Set<string>>, holder: string, connectorId: string) => {
    let set = map.get(holder);
    if (!set) map.set(holder, (set = new Set()));
    set.add(connectorId);
  };
  for (const cr of org.credentials) {
    if (cr.holder === 'organization') organization.add(cr.connectorId);
    else if (cr.holder === 'workspace') add(workspace, cr.workspaceId, cr.connectorId);
    else add(member, cr.memberId, cr.connectorId);
  }
  return { organization, workspace, member };
}

const count = (n: number) => n.toLocaleString('en-US');

// ---------------------------------------------------------------------------------------------------------
// CASL

/**
 * The state of one connector in one workspace that every principal shares: whether it may be used there at all
 * (visible, D6; blocked at neither level, D4), whether it is connected without a member's own credential, and
 * the tools both `restricted` levels select (`undefined`: no selection, every tool).
 */
interface Placement {
  readonly usable: boolean;
  readonly connected: boolean;
  readonly selection: readonly string[] | undefined;
  /** `selection` as a grouping key; `*` for every tool. */
  readonly selectionKey: string;
}

function placements(org: Json): Map<string, Map<string, Placement>> {
  const perm = permissions(org);
  const creds = credentials(org);
  const out = new Map<string, Map<string, Placement>>();
  for (const w of org.workspaces) {
    const row = new Map<string, Placement>();
    for (const c of org.connectors as Connector[]) {
      const atOrg = perm.organization.get(c.id);
      const atWorkspace = perm.workspace.get(w.id)!.get(c.id);
      const visible = c.visibility === 'organization' || (c.workspaceIds ?? []).includes(w.id);
      const usable = visible && atOrg?.mode !== 'blocked' && atWorkspace?.mode !== 'blocked';
      const connected = c.authentication === 'none' || creds.organization.has(c.id) || (creds.workspace.get(w.id)?.has(c.id) ?? false);
      let selection: string[] | undefined;
      for (const level of [atOrg, atWorkspace]) {
        if (level?.mode !== 'restricted') continue;
        const chosen = new Set(level.tools);
        selection = (selection ?? c.tools.map((t) => t.name)).filter((name) => chosen.has(name));
      }
      row.set(c.id, { usable, connected, selection, selectionKey: selection === undefined ? '*' : selection.join('\n') });
    }
    out.set(w.id, row);
  }
  return out;
}

/**
 * The `can invoke Tool` rules of one principal: each rule a rectangle — connectors × workspaces (× the selected
 * tool names) — grouping the workspaces where a connector offers the same tools, then the connectors that share
 * those workspaces. Connectors without a selection need no `name` condition, so most of them fall into one rule.
 */
function invokeRules(
  workspaces: readonly string[],
  connectors: readonly Connector[],
  place: Map<string, Map<string, Placement>>,
  connectedAnyway: (connectorId: string) => boolean,
): Json[] {
  const rectangles = new Map<string, { connectors: string[]; workspaces: string[]; names: readonly string[] | undefined }>();
  for (const c of connectors) {
    const bySelection = new Map<string, { workspaces: string[]; names: readonly string[] | undefined }>();
    const own = connectedAnyway(c.id);
    for (const w of workspaces) {
      const p = place.get(w)!.get(c.id)!;
      if (!p.usable || !(p.connected || own)) continue;
      const group = bySelection.get(p.selectionKey);
      if (group) group.workspaces.push(w);
      else bySelection.set(p.selectionKey, { workspaces: [w], names: p.selection });
    }
    for (const [selectionKey, group] of bySelection) {
      if (group.names !== undefined && group.names.length === 0) continue;
      const key = `${selectionKey}\t${group.workspaces.join('\n')}`;
      const rectangle = rectangles.get(key);
      if (rectangle) rectangle.connectors.push(c.id);
      else rectangles.set(key, { connectors: [c.id], workspaces: group.workspaces, names: group.names });
    }
  }
  const oneOrIn = (values: readonly string[]) => (values.length === 1 ? values[0] : { $in: values });
  return [...rectangles.values()].map((r) => ({
    action: 'invoke',
    subject: 'Tool',
    conditions: {
      connector: oneOrIn(r.connectors),
      workspace: oneOrIn(r.workspaces),
      ...(r.names !== undefined ? { name: { $in: r.names } } : {}),
    },
  }));
}

/**
 * CASL: one `MongoAbility` per principal, built once and cached, over a `Tool` subject
 * `{ connector, workspace, name, access, product }`.
 * - Members: `can invoke Tool` rectangles (see `invokeRules`) over the workspaces where the member has a product
 *   (§4.1), counting its own credentials (§4.4); then `cannot` rules for the product asked: `product: 'studio'`
 *   in its vibe-only workspaces, `product: 'vibe'` in its studio-only ones.
 * - API keys: the same rectangles in the key's own workspace over its connector scopes, without any member's
 *   credential (§7.4), and `cannot invoke Tool { product: 'vibe' }` (D5).
 * - Everyone: `cannot invoke Tool { connector: { $in: read-only connectors }, access: 'write' }` (§4.5).
 * Suspended members and revoked keys get an ability without rules.
 */
export function caslToolsPeer(json: OrganizationJson): ToolsPeer {
  const org = json as Json;
  const connectors = org.connectors as Connector[];
  const place = placements(org);
  const creds = credentials(org);
  const readOnly = connectors.filter((c) => c.capabilities === 'read_only').map((c) => c.id);
  const readOnlyRule = { action: 'invoke', subject: 'Tool', inverted: true, conditions: { connector: { $in: readOnly }, access: 'write' } };
  const abilities = new Map<string, MongoAbility>();
  let rules = 0;
  const hold = (id: string, list: Json[]) => {
    if (list.length > 0) list.push(readOnlyRule);
    rules += list.length;
    abilities.set(id, createMongoAbility(list));
  };
  for (const [id, e] of effectiveRoles(org)) {
    if (!e.active) {
      hold(id, []);
      continue;
    }
    const withProduct: string[] = [];
    const vibeOnly: string[] = [];
    const studioOnly: string[] = [];
    for (const [w, held] of e.workspaceRoles) {
      const products = new Set([...held].flatMap((role) => ROLE_PRODUCTS.get(role) ?? []));
      const vibe = products.has('vibe');
      const studio = products.has('studio');
      if (vibe || studio) withProduct.push(w);
      if (vibe && !studio) vibeOnly.push(w);
      if (studio && !vibe) studioOnly.push(w);
    }
    const own = creds.member.get(id);
    const list = invokeRules(withProduct, connectors, place, (c) => own?.has(c) ?? false);
    if (list.length > 0 && vibeOnly.length > 0) list.push({ action: 'invoke', subject: 'Tool', inverted: true, conditions: { workspace: { $in: vibeOnly }, product: 'studio' } });
    if (list.length > 0 && studioOnly.length > 0) list.push({ action: 'invoke', subject: 'Tool', inverted: true, conditions: { workspace: { $in: studioOnly }, product: 'vibe' } });
    hold(id, list);
  }
  for (const k of org.apiKeys) {
    if (k.status === 'revoked') {
      hold(k.id, []);
      continue;
    }
    const scoped = k.connectorScopes === 'all' ? connectors : connectors.filter((c) => k.connectorScopes.includes(c.id));
    const list = invokeRules([k.workspaceId], scoped, place, () => false);
    if (list.length > 0) list.push({ action: 'invoke', subject: 'Tool', inverted: true, conditions: { product: 'vibe' } });
    hold(k.id, list);
  }
  const wrapper = toolsWrapper(org);
  return {
    name: 'CASL tools (cached abilities)',
    size: `${count(rules)} rules in ${count(abilities.size)} abilities`,
    toolsAvailable(principal, connector, workspace, options) {
      const request = wrapper.request(principal, connector, workspace, options);
      if (request === undefined) return [];
      const ability = abilities.get(principal as string);
      if (ability === undefined) return [];
      const c = request.connector;
      const out: string[] = [];
      for (const tool of c.tools) {
        const asked = subject('Tool', { connector: c.id, workspace, name: tool.name, access: tool.access, product: request.product });
        if (ability.can('invoke', asked)) out.push(tool.name);
      }
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// casbin

/**
 * Request `(principal, workspace, connector, connector/tool, product)`. Four `p` lines say which product role
 * answers which product asked; the data is in role links, which casbin looks up by hash:
 * - g  (in a workspace): member → its workspace roles (groups expanded, default contributor); workspace role →
 *   `product:vibe` / `product:studio` (from the catalog); an active key → `product:studio` in its workspace (D5).
 * - g2 (in a workspace): connector → `usable` (visible, D6, and not blocked there), `connected` (no credential
 *   needed, an App Connection or the workspace's), `unrestricted` (no workspace selection); tool → `selected`.
 * - g3: principal → the connectors it may use (a key's scopes; `scope:all` → every connector).
 * - g4: member → connectors it holds its own credential for (keys never, §7.4).
 * - g5: tool → `offered` by the organization level (not blocked; selected when restricted; read tools only on a
 *   read-only connector, §4.5).
 */
const TOOLS_MODEL = `
[request_definition]
r = sub, dom, con, obj, act
[policy_definition]
p = sub, act
[role_definition]
g = _, _, _
g2 = _, _, _
g3 = _, _
g4 = _, _
g5 = _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = r.act == p.act && g(r.sub, p.sub, r.dom) && g3(r.sub, r.con) && g2(r.con, "usable", r.dom) && (g2(r.con, "connected", r.dom) || g4(r.sub, r.con)) && g5(r.obj, "offered") && (g2(r.con, "unrestricted", r.dom) || g2(r.obj, "selected", r.dom))
`;
const ALL_CONNECTORS = 'scope:all';
const toolPath = (connectorId: string, tool: string) => `${connectorId}/${tool}`;

/** casbin: RBAC with domains (a workspace is a domain) and four more role-link tables; `enforceSync` per tool. */
export async function casbinToolsPeer(json: OrganizationJson): Promise<ToolsPeer> {
  const org = json as Json;
  const connectors = org.connectors as Connector[];
  const perm = permissions(org);
  const creds = credentials(org);
  const enforcer = await newEnforcer(newModelFromString(TOOLS_MODEL));
  const p = [
    ['product:vibe', 'vibe'],
    ['product:vibe', 'any'],
    ['product:studio', 'studio'],
    ['product:studio', 'any'],
  ];
  const g: string[][] = [];
  const g2: string[][] = [];
  const g3: string[][] = connectors.map((c) => [ALL_CONNECTORS, c.id]);
  const g4: string[][] = [];
  const g5: string[][] = [];
  for (const w of org.workspaces) {
    for (const [role, products] of ROLE_PRODUCTS) for (const product of products) g.push([`role:${role}`, `product:${product}`, w.id]);
    for (const c of connectors) {
      const atWorkspace = perm.workspace.get(w.id)!.get(c.id);
      const visible = c.visibility === 'organization' || (c.workspaceIds ?? []).includes(w.id);
      if (visible && atWorkspace?.mode !== 'blocked') g2.push([c.id, 'usable', w.id]);
      if (c.authentication === 'none' || creds.organization.has(c.id) || creds.workspace.get(w.id)?.has(c.id)) g2.push([c.id, 'connected', w.id]);
      if (atWorkspace?.mode === 'restricted') for (const tool of atWorkspace.tools ?? []) g2.push([toolPath(c.id, tool), 'selected', w.id]);
      else g2.push([c.id, 'unrestricted', w.id]);
    }
  }
  for (const c of connectors) {
    const atOrg = perm.organization.get(c.id);
    if (atOrg?.mode === 'blocked') continue;
    for (const tool of c.tools) {
      if (atOrg?.mode === 'restricted' && !(atOrg.tools ?? []).includes(tool.name)) continue;
      if (c.capabilities === 'read_only' && tool.access === 'write') continue;
      g5.push([toolPath(c.id, tool.name), 'offered']);
    }
  }
  for (const [id, e] of effectiveRoles(org)) {
    if (!e.active) continue;
    g3.push([id, ALL_CONNECTORS]);
    for (const [w, held] of e.workspaceRoles) for (const role of held) g.push([id, `role:${role}`, w]);
    for (const c of creds.member.get(id) ?? []) g4.push([id, c]);
  }
  for (const k of org.apiKeys) {
    if (k.status === 'revoked') continue;
    g.push([k.id, 'product:studio', k.workspaceId]);
    if (k.connectorScopes === 'all') g3.push([k.id, ALL_CONNECTORS]);
    else for (const c of k.connectorScopes) g3.push([k.id, c]);
  }
  const model = enforcer.getModel();
  model.addPolicies('p', 'p', p);
  model.addPolicies('g', 'g', g);
  model.addPolicies('g', 'g2', g2);
  model.addPolicies('g', 'g3', g3);
  model.addPolicies('g', 'g4', g4);
  model.addPolicies('g', 'g5', g5);
  await enforcer.buildRoleLinks();
  const wrapper = toolsWrapper(org);
  const lines = [g, g2, g3, g4, g5].reduce((n, list) => n + list.length, 0);
  return {
    name: 'casbin tools (RBAC with domains)',
    size: `${p.length} p lines, ${count(lines)} g lines (g ${count(g.length)}, g2 ${count(g2.length)}, g3 ${count(g3.length)}, g4 ${count(g4.length)}, g5 ${count(g5.length)})`,
    toolsAvailable(principal, connector, workspace, options) {
      const request = wrapper.request(principal, connector, workspace, options);
      if (request === undefined) return [];
      const c = request.connector;
      const out: string[] = [];
      for (const tool of c.tools) {
        if (enforcer.enforceSync(principal, workspace, c.id, toolPath(c.id, tool.name), request.product)) out.push(tool.name);
      }
      return out;
    },
  };
}
