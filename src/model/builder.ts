import type { OrganizationRoleName, WorkspaceRoleName } from '../roles/index.js';
import { loadOrganization, parseOrganization, type ParseResult } from './parse.js';
import type { Organization, OrganizationJson, PermissionMode, SeatProduct } from './types.js';

type Json = { -readonly [K in keyof OrganizationJson]-?: Exclude<OrganizationJson[K], undefined> };
type Elem<T> = T extends readonly (infer E)[] ? E : never;
type ConnectorJson = Elem<Json['connectors']>;
type ApiKeyJson = Elem<Json['apiKeys']>;

/** Workspace roles of one member or group; `null` gives the default contributor (roles left absent). */
export type WorkspaceRolesSpec = WorkspaceRoleName | readonly WorkspaceRoleName[] | null;

export interface ConnectorSpec {
  readonly name?: string;
  readonly visibility?: 'organization' | 'workspace';
  readonly workspaceIds?: readonly string[];
  readonly authentication?: 'oauth2' | 'api_key' | 'none';
  readonly origin?: 'featured' | 'custom';
  readonly capabilities?: 'read_only' | 'read_write';
  /** `'search'` is a read tool, `'create_issue!'` a write tool; or give `{ name, access }`. */
  readonly tools?: readonly (string | { name: string; access: 'read' | 'write' })[];
}

/**
 * A few readable lines for an organization snapshot, for tests, examples and docs:
 *
 * ```ts
 * const acme = organizationBuilder('acme')
 *   .member('ada', 'organization_admin')
 *   .member('bob')
 *   .workspace('research', { members: { bob: null } }) // bob: default contributor
 *   .organization();
 * ```
 * It writes the JSON of SPEC §6.1 and checks nothing itself: `parse()` or `organization()` do.
 */
export function organizationBuilder(id = 'org', name = id): OrganizationBuilder {
  return new OrganizationBuilder(id, name);
}

export class OrganizationBuilder {
  private readonly json: Json;

  constructor(id: string, name: string) {
    this.json = {
      schemaVersion: 1,
      id,
      name,
      revision: 0,
      members: [],
      groups: [],
      workspaces: [],
      connectors: [],
      connectorPermissions: [],
      credentials: [],
      apiKeys: [],
      seatPools: [],
    };
  }

  /** A member; email `<id>@example.com`, active, org role `member` unless given. */
  member(
    id: string,
    orgRoles: OrganizationRoleName | readonly OrganizationRoleName[] = 'member',
    options: { email?: string; status?: 'active' | 'suspended'; seats?: readonly SeatProduct[] } = {},
  ): this {
    this.json.members.push({
      id,
      email: options.email ?? `${id}@example.com`,
      status: options.status ?? 'active',
      orgRoles: list(orgRoles),
      seats: [...(options.seats ?? [])],
    });
    return this;
  }

  group(id: string, memberIds: readonly string[], orgRoles: readonly OrganizationRoleName[] = [], name = id): this {
    this.json.groups.push({ id, name, memberIds: [...memberIds], orgRoles: [...orgRoles] });
    return this;
  }

  /** A workspace with its direct members and group grants, keyed by member or group id. */
  workspace(
    id: string,
    options: { name?: string; members?: Record<string, WorkspaceRolesSpec>; groups?: Record<string, WorkspaceRolesSpec> } = {},
  ): this {
    this.json.workspaces.push({
      id,
      name: options.name ?? id,
      members: Object.entries(options.members ?? {}).map(([memberId, roles]) => (roles === null ? { memberId } : { memberId, roles: list(roles) })),
      groupGrants: Object.entries(options.groups ?? {}).map(([groupId, roles]) => (roles === null ? { groupId } : { groupId, roles: list(roles) })),
      connectorPermissions: [],
    });
    return this;
  }

  /** A connector: organization-wide, `oauth2`, featured, read-write, unless told otherwise. */
  connector(id: string, spec: ConnectorSpec = {}): this {
    const connector: ConnectorJson = {
      id,
      name: spec.name ?? id,
      visibility: spec.visibility ?? 'organization',
      authentication: spec.authentication ?? 'oauth2',
      origin: spec.origin ?? 'featured',
      capabilities: spec.capabilities ?? 'read_write',
      tools: (spec.tools ?? []).map((tool) =>
        typeof tool !== 'string' ? { ...tool } : tool.endsWith('!') ? { name: tool.slice(0, -1), access: 'write' as const } : { name: tool, access: 'read' as const },
      ),
    };
    if (spec.workspaceIds) connector.workspaceIds = [...spec.workspaceIds];
    this.json.connectors.push(connector);
    return this;
  }

  /** A connector permission at the organization level, or in `workspace` when given. */
  permission(connectorId: string, mode: PermissionMode, tools?: readonly string[], workspace?: string): this {
    const permission = tools ? { connectorId, mode, tools: [...tools] } : { connectorId, mode };
    if (workspace === undefined) this.json.connectorPermissions.push(permission);
    else this.json.workspaces.find((w) => w.id === workspace)?.connectorPermissions?.push(permission);
    return this;
  }

  /** A connection of `connectorId`: the organization's App Connection, a workspace's, or a member's own. */
  credential(id: string, connectorId: string, holder: 'organization' | { workspace: string } | { member: string }): this {
    this.json.credentials.push(
      holder === 'organization'
        ? { id, connectorId, holder }
        : 'workspace' in holder
          ? { id, connectorId, holder: 'workspace', workspaceId: holder.workspace }
          : { id, connectorId, holder: 'member', memberId: holder.member },
    );
    return this;
  }

  apiKey(
    id: string,
    workspaceId: string,
    options: { name?: string; status?: 'active' | 'revoked'; expiresAt?: string; connectorScopes?: 'all' | readonly string[] } = {},
  ): this {
    const key: ApiKeyJson = {
      id,
      name: options.name ?? id,
      workspaceId,
      status: options.status ?? 'active',
      connectorScopes: options.connectorScopes === undefined || options.connectorScopes === 'all' ? 'all' : [...options.connectorScopes],
    };
    if (options.expiresAt !== undefined) key.expiresAt = options.expiresAt;
    this.json.apiKeys.push(key);
    return this;
  }

  seatPool(product: SeatProduct, size: number): this {
    this.json.seatPools.push({ product, size });
    return this;
  }

  /** The snapshot as JSON (a deep copy: the builder can go on). */
  toJSON(): OrganizationJson {
    return structuredClone(this.json);
  }

  parse(): ParseResult {
    return parseOrganization(this.toJSON());
  }

  /** The parsed snapshot; throws an `OrganizationError` listing every problem if it is not valid. */
  organization(): Organization {
    return loadOrganization(this.toJSON());
  }
}

function list<T extends string>(value: T | readonly T[]): T[] {
  return typeof value === 'string' ? [value] : [...value];
}
