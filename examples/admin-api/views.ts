/**
 * What a reader of the Admin API sees (SPEC §5.1): the snapshot's own JSON, filtered, from the followed
 * policy's organization — no reload per request. An `organization_admin` sees everything; a
 * `workspace_admin` sees its workspaces whole (members with their roles, group grants, connector
 * permissions, workspace credentials, API keys' metadata) and the members, groups and connectors they
 * name (ids, emails, names, org roles), nothing of other workspaces; anyone else nothing. No view ever
 * holds an API key's secret hashes (SPEC §9.1): a key shows how many secrets it has and until when.
 */
import type { ApiKey, Connector, Credential, Group, Member, Organization, Policy, Workspace } from 'org-policy';

export type Reader =
  | { readonly kind: 'organization_admin' }
  | { readonly kind: 'workspace_admin'; readonly workspaceIds: ReadonlySet<string> }
  | { readonly kind: 'none' };

/** `org.settings.manage` is granted by `organization_admin` alone; `workspace.settings.manage` there, to others, by `workspace_admin` alone (SPEC §2). */
export function readerOf(policy: Policy, organization: Organization, actor: string): Reader {
  if (policy.can(actor, 'org.settings.manage')) return { kind: 'organization_admin' };
  const workspaceIds = new Set<string>();
  for (const id of organization.workspaces.keys()) if (policy.can(actor, 'workspace.settings.manage', id)) workspaceIds.add(id);
  return workspaceIds.size > 0 ? { kind: 'workspace_admin', workspaceIds } : { kind: 'none' };
}

// The entities as JSON (SPEC §6.1), fields in the snapshot's order.
const memberJson = (m: Member) => ({
  id: m.id,
  email: m.email,
  status: m.status,
  orgRoles: [...m.orgRoles],
  seats: [...m.seats],
  ...(m.externalId !== undefined ? { externalId: m.externalId } : {}),
  ...(m.displayName !== undefined ? { displayName: m.displayName } : {}),
});
/** What a workspace admin sees of a member its workspaces name. */
const namedMemberJson = (m: Member) => ({ id: m.id, email: m.email, ...(m.displayName !== undefined ? { displayName: m.displayName } : {}), orgRoles: [...m.orgRoles] });
const groupJson = (g: Group) => ({ id: g.id, name: g.name, memberIds: [...g.memberIds], orgRoles: [...g.orgRoles] });
const namedGroupJson = (g: Group) => ({ id: g.id, name: g.name, orgRoles: [...g.orgRoles] });
export const workspaceJson = (w: Workspace) => ({
  id: w.id,
  name: w.name,
  members: [...w.members.values()].map((m) => (m.roles ? { memberId: m.memberId, roles: [...m.roles] } : { memberId: m.memberId })),
  groupGrants: [...w.groupGrants.values()].map((g) => (g.roles ? { groupId: g.groupId, roles: [...g.roles] } : { groupId: g.groupId })),
  connectorPermissions: [...w.connectorPermissions.values()].map((p) => (p.tools ? { connectorId: p.connectorId, mode: p.mode, tools: [...p.tools] } : { connectorId: p.connectorId, mode: p.mode })),
});
const connectorJson = (c: Connector) => ({
  id: c.id,
  name: c.name,
  visibility: c.visibility,
  ...(c.workspaceIds ? { workspaceIds: [...c.workspaceIds] } : {}),
  authentication: c.authentication,
  origin: c.origin,
  capabilities: c.capabilities,
  tools: c.tools.map((t) => ({ name: t.name, access: t.access })),
});
const namedConnectorJson = (c: Connector) => ({ id: c.id, name: c.name });
const credentialJson = (c: Credential) => ({ ...c });
/** SPEC §9.1: never a hash — how many secrets, and when each ends (`null`: no end). */
export const apiKeyJson = (k: ApiKey) => ({
  id: k.id,
  name: k.name,
  workspaceId: k.workspaceId,
  status: k.status,
  ...(k.expiresAt !== undefined ? { expiresAt: k.expiresAt } : {}),
  connectorScopes: k.connectorScopes === 'all' ? ('all' as const) : [...k.connectorScopes],
  secrets: (k.secrets ?? []).map((s) => ({ notAfter: s.notAfter ?? null })),
});

/** What one reader may see of one organization, for the length of one request. */
export class View {
  private readonly memo = new Map<string, unknown>();

  constructor(
    readonly organization: Organization,
    readonly reader: Reader,
    readonly actor: string,
  ) {}

  /** Each list computed once per request, however many entities are checked against it. */
  private once<T>(name: string, compute: () => T): T {
    if (!this.memo.has(name)) this.memo.set(name, compute());
    return this.memo.get(name) as T;
  }

  private visible(name: 'members' | 'groups' | 'connectors'): ReadonlySet<string> {
    return this.once(`${name}:set`, () => new Set(name === 'members' ? this.memberIds() : name === 'groups' ? this.groupIds() : this.connectorIds()));
  }

  get isOrganizationAdmin() {
    return this.reader.kind === 'organization_admin';
  }

  private get adminOf(): ReadonlySet<string> {
    return this.reader.kind === 'workspace_admin' ? this.reader.workspaceIds : new Set();
  }

  /** The workspaces seen whole. */
  workspaceIds(): readonly string[] {
    return this.isOrganizationAdmin ? sortedKeys(this.organization.workspaces) : [...this.adminOf].sort(compare);
  }

  memberIds(): readonly string[] {
    if (this.isOrganizationAdmin) return sortedKeys(this.organization.members);
    return this.once('members', () => this.namedMemberIds());
  }

  private namedMemberIds(): readonly string[] {
    const ids = new Set<string>();
    for (const id of this.adminOf) for (const memberId of this.organization.workspaces.get(id)?.members.keys() ?? []) ids.add(memberId);
    return [...ids].filter((id) => this.organization.members.has(id)).sort(compare);
  }

  groupIds(): readonly string[] {
    if (this.isOrganizationAdmin) return sortedKeys(this.organization.groups);
    return this.once('groups', () => this.namedGroupIds());
  }

  private namedGroupIds(): readonly string[] {
    const ids = new Set<string>();
    for (const id of this.adminOf) for (const groupId of this.organization.workspaces.get(id)?.groupGrants.keys() ?? []) ids.add(groupId);
    return [...ids].filter((id) => this.organization.groups.has(id)).sort(compare);
  }

  /** Connectors a workspace seen whole names: its permissions, credentials and keys' scopes, and those visible in it. */
  connectorIds(): readonly string[] {
    if (this.isOrganizationAdmin) return sortedKeys(this.organization.connectors);
    return this.once('connectors', () => this.namedConnectorIds());
  }

  private namedConnectorIds(): readonly string[] {
    const ids = new Set<string>();
    for (const id of this.adminOf) for (const connectorId of this.organization.workspaces.get(id)?.connectorPermissions.keys() ?? []) ids.add(connectorId);
    for (const credential of this.credentials()) ids.add(credential.connectorId);
    for (const key of this.apiKeys()) if (key.connectorScopes !== 'all') for (const connectorId of key.connectorScopes) ids.add(connectorId);
    for (const connector of this.organization.connectors.values()) {
      if (connector.visibility === 'organization' || connector.workspaceIds?.some((id) => this.adminOf.has(id))) ids.add(connector.id);
    }
    return [...ids].filter((id) => this.organization.connectors.has(id)).sort(compare);
  }

  credentials(): readonly Credential[] {
    return this.once('credentials', () => {
      const all = [...this.organization.credentials.values()];
      return this.isOrganizationAdmin ? all : all.filter((c) => c.holder === 'workspace' && this.adminOf.has(c.workspaceId));
    });
  }

  apiKeys(): readonly ApiKey[] {
    return this.once('apiKeys', () => {
      const all = [...this.organization.apiKeys.values()];
      return this.isOrganizationAdmin ? all : all.filter((k) => this.adminOf.has(k.workspaceId));
    });
  }

  member(id: string) {
    const member = this.organization.members.get(id);
    if (member === undefined) return null;
    if (this.isOrganizationAdmin) return memberJson(member);
    return this.visible('members').has(id) ? namedMemberJson(member) : null;
  }

  group(id: string) {
    const group = this.organization.groups.get(id);
    if (group === undefined) return null;
    if (this.isOrganizationAdmin) return groupJson(group);
    return this.visible('groups').has(id) ? namedGroupJson(group) : null;
  }

  workspace(id: string) {
    const workspace = this.organization.workspaces.get(id);
    if (workspace === undefined || !(this.isOrganizationAdmin || this.adminOf.has(id))) return null;
    return workspaceJson(workspace);
  }

  connector(id: string) {
    const connector = this.organization.connectors.get(id);
    if (connector === undefined) return null;
    if (this.isOrganizationAdmin) return connectorJson(connector);
    return this.visible('connectors').has(id) ? namedConnectorJson(connector) : null;
  }

  credential(id: string) {
    const credential = this.organization.credentials.get(id);
    if (credential === undefined) return null;
    return this.isOrganizationAdmin || (credential.holder === 'workspace' && this.adminOf.has(credential.workspaceId)) ? credentialJson(credential) : null;
  }

  apiKey(id: string) {
    const key = this.organization.apiKeys.get(id);
    return key !== undefined && (this.isOrganizationAdmin || this.adminOf.has(key.workspaceId)) ? apiKeyJson(key) : null;
  }

  /** An entity a command named, as this reader may see it now (`null`: deleted, or not visible). */
  entity(kind: string, id: string): unknown {
    switch (kind) {
      case 'member':
        return this.member(id);
      case 'group':
        return this.group(id);
      case 'workspace':
        return this.workspace(id);
      case 'connector':
        return this.connector(id);
      case 'credential':
        return this.credential(id);
      case 'api_key':
        return this.apiKey(id);
      case 'seat_pool': {
        const pool = this.isOrganizationAdmin ? this.organization.seatPools.get(id as never) : undefined;
        return pool === undefined ? null : { product: pool.product, size: pool.size };
      }
      case 'organization':
        return this.isOrganizationAdmin ? { id: this.organization.id, name: this.organization.name } : null;
      default:
        return null;
    }
  }

  /** `GET /api/admin/organization`: the snapshot's JSON, filtered. */
  organizationJson() {
    const o = this.organization;
    const head = { schemaVersion: o.schemaVersion, id: o.id, name: o.name, revision: o.revision };
    const lists = {
      members: this.memberIds().map((id) => this.member(id)),
      groups: this.groupIds().map((id) => this.group(id)),
      workspaces: this.workspaceIds().map((id) => this.workspace(id)),
      connectors: this.connectorIds().map((id) => this.connector(id)),
    };
    if (!this.isOrganizationAdmin) return { ...head, ...lists, credentials: this.credentials().map(credentialJson), apiKeys: this.apiKeys().map(apiKeyJson) };
    return {
      ...head,
      ...lists,
      connectorPermissions: [...o.connectorPermissions.values()].map((p) => (p.tools ? { connectorId: p.connectorId, mode: p.mode, tools: [...p.tools] } : { connectorId: p.connectorId, mode: p.mode })),
      credentials: this.credentials().map(credentialJson),
      apiKeys: this.apiKeys().map(apiKeyJson),
      seatPools: [...o.seatPools.values()].map((p) => ({ product: p.product, size: p.size })),
    };
  }
}

/** Ids compare exactly, by UTF-16 code units (SPEC §7.11): the order pages follow. */
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const sorted = new WeakMap<ReadonlyMap<string, unknown>, readonly string[]>();
/** A collection's ids in order, once per version of the collection (a change that leaves it alone keeps it). */
function sortedKeys(map: ReadonlyMap<string, unknown>): readonly string[] {
  let ids = sorted.get(map);
  if (ids === undefined) sorted.set(map, (ids = [...map.keys()].sort(compare)));
  return ids;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

/** Ids after the cursor's (which need not exist any more), at most `limit`; the cursor is the last id, base64url. */
export function page(ids: readonly string[], cursor: string | null, limit: number): { readonly ids: readonly string[]; readonly nextCursor: string | null } {
  let start = 0;
  if (cursor !== null) {
    let high = ids.length;
    while (start < high) {
      const middle = (start + high) >>> 1;
      if (compare(ids[middle]!, cursor) <= 0) start = middle + 1;
      else high = middle;
    }
  }
  const slice = ids.slice(start, start + limit);
  return { ids: slice, nextCursor: start + limit < ids.length ? encodeCursor(slice[slice.length - 1]!) : null };
}

export const encodeCursor = (id: string) => Buffer.from(id, 'utf8').toString('base64url');

/** The id a cursor stands for, or `null` when it is not one this service wrote. */
export function decodeCursor(cursor: string): string | null {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  return encodeCursor(id) === cursor ? id : null;
}
