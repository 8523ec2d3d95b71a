import type { Path } from './problems.js';
import { isRecord, problem, quote } from './problems.js';
import type { Problem } from './types.js';

/**
 * The load rules that a schema cannot state (SPEC §6): ids unique and resolved, canonical lists,
 * seats within pools, permissions that fit their connector, at least one active organization admin.
 * Reads the raw input defensively, so that it reports alongside the schema's problems; whatever is
 * malformed is left to the schema's report. `unreadable` lists the paths that could not be read (see
 * `plainCopy`): references into a collection not read in full are not checked, nor is the admin rule
 * when a member or group was not — whether they hold is unknown, not false.
 */
export function checkOrganization(input: unknown, unreadable: readonly Path[] = []): Problem[] {
  if (!isRecord(input)) return [];
  // A collection's ids are known unless it, one of its entries or an entry's id could not be read.
  const readable = (field: string) => !unreadable.some((p) => p[0] === field && (p.length === 1 || p.length === 2 || (p.length === 3 && p[2] === 'id')));
  const readInFull = (field: string) => !unreadable.some((p) => p[0] === field);
  const out: Problem[] = [];
  const at = (path: Path, code: Problem['code'], message: string) => out.push(problem(code, path, message));

  const members = indexById(input, 'members', 'member', at, readable('members'));
  const groups = indexById(input, 'groups', 'group', at, readable('groups'));
  const workspaces = indexById(input, 'workspaces', 'workspace', at, readable('workspaces'));
  const connectors = indexById(input, 'connectors', 'connector', at, readable('connectors'));
  indexById(input, 'credentials', 'credential', at, true);
  const apiKeys = indexById(input, 'apiKeys', 'API key', at, true);
  const pools = new Map<string, { index: number; size: unknown; held: number }>();

  entries(input.seatPools, (pool, i) => {
    const product = str(pool.product);
    if (product === undefined) return;
    if (pools.has(product)) at(['seatPools', i, 'product'], 'duplicate_entry', `a seat pool for ${quote(product)} is already defined`);
    else pools.set(product, { index: i, size: pool.size, held: 0 });
  });

  // SPEC §1: members and API keys share one id space.
  for (const [id, path] of apiKeys) {
    if (members.has(id)) at([...path, 'id'], 'duplicate_id', `API key id ${quote(id)} is already a member's id; a principal id names one or the other`);
  }

  const emails = new Map<string, number>();
  const externalIds = new Map<string, number>();
  entries(input.members, (member, i) => {
    const email = str(member.email);
    if (email !== undefined) {
      const folded = email.toLowerCase();
      if (emails.has(folded)) at(['members', i, 'email'], 'duplicate_email', `email ${quote(email)} is already used by members[${emails.get(folded)}]`);
      else emails.set(folded, i);
    }
    // SPEC §9.2: one identity-provider subject names one member.
    const externalId = str(member.externalId);
    if (externalId !== undefined) {
      if (externalIds.has(externalId)) at(['members', i, 'externalId'], 'duplicate_external_id', `externalId ${quote(externalId)} is already used by members[${externalIds.get(externalId)}]`);
      else externalIds.set(externalId, i);
    }
    roleList(member.orgRoles, ['members', i, 'orgRoles'], 'a member needs at least one organization role', at);
    uniqueStrings(member.seats, ['members', i, 'seats'], 'seat', at, (product, path) => {
      const pool = pools.get(product);
      if (pool) pool.held++;
      else at(path, 'seat_without_pool', `seat ${quote(product)} has no seat pool`);
    });
  });

  for (const [product, pool] of pools) {
    // No seat held exceeds nothing, even a (malformed, separately reported) negative size.
    if (typeof pool.size === 'number' && pool.held > 0 && pool.held > pool.size) {
      at(['seatPools', pool.index, 'size'], 'seats_exceeded', `${pool.held} ${product} seats are held but the pool has ${pool.size}`);
    }
  }

  entries(input.groups, (group, i) => {
    uniqueStrings(group.memberIds, ['groups', i, 'memberIds'], 'member', at, (id, path) => {
      if (!members.resolves(id)) at(path, 'dangling_reference', `member ${quote(id)} does not exist`);
    });
    if (Array.isArray(group.orgRoles)) uniqueStrings(group.orgRoles, ['groups', i, 'orgRoles'], 'role', at);
  });

  const toolsOf = new Map<string, Set<string>>();
  const names = new Map<string, number>();
  entries(input.connectors, (connector, i) => {
    const path = ['connectors', i];
    const id = str(connector.id);
    const tools = new Set<string>();
    if (id !== undefined && !toolsOf.has(id)) toolsOf.set(id, tools);
    const name = str(connector.name);
    if (name !== undefined) {
      if (names.has(name)) at([...path, 'name'], 'duplicate_name', `connector name ${quote(name)} is already used by connectors[${names.get(name)}]`);
      else names.set(name, i);
    }
    if (connector.visibility === 'organization' && connector.workspaceIds !== undefined) {
      at([...path, 'workspaceIds'], 'workspace_ids_not_allowed', 'an organization connector is visible in every workspace and takes no workspaceIds');
    } else if (connector.visibility === 'workspace') {
      uniqueStrings(connector.workspaceIds, [...path, 'workspaceIds'], 'workspace', at, (workspaceId, p) => {
        if (!workspaces.resolves(workspaceId)) at(p, 'dangling_reference', `workspace ${quote(workspaceId)} does not exist`);
      });
    }
    entries(connector.tools, (tool, t) => {
      const toolName = str(tool.name);
      if (toolName === undefined) return;
      if (tools.has(toolName)) at([...path, 'tools', t, 'name'], 'duplicate_entry', `tool ${quote(toolName)} is defined twice`);
      tools.add(toolName);
      if (connector.capabilities === 'read_only' && tool.access === 'write') {
        at([...path, 'tools', t, 'access'], 'write_tool_on_read_only', `tool ${quote(toolName)} writes, but the connector is read-only`);
      }
    });
  });

  const permissions = (list: unknown, base: Path) => {
    const seen = new Set<string>();
    entries(list, (permission, i) => {
      const path = [...base, i];
      const connectorId = str(permission.connectorId);
      const tools = connectorId === undefined ? undefined : toolsOf.get(connectorId);
      if (connectorId !== undefined) {
        if (!connectors.resolves(connectorId)) at([...path, 'connectorId'], 'dangling_reference', `connector ${quote(connectorId)} does not exist`);
        if (seen.has(connectorId)) at([...path, 'connectorId'], 'duplicate_entry', `connector ${quote(connectorId)} already has a permission here`);
        seen.add(connectorId);
      }
      if (permission.mode === 'restricted') {
        if (!Array.isArray(permission.tools) || permission.tools.length === 0) {
          at([...path, 'tools'], 'restricted_without_tools', 'a restricted permission selects at least one tool');
        }
        uniqueStrings(permission.tools, [...path, 'tools'], 'tool', at, (tool, p) => {
          if (tools && !tools.has(tool)) at(p, 'unknown_tool', `connector ${quote(connectorId)} has no tool ${quote(tool)}`);
        });
      } else if (permission.tools !== undefined && (permission.mode === 'allowed' || permission.mode === 'blocked')) {
        at([...path, 'tools'], 'tools_not_restricted', `tools are selected only with mode "restricted", not ${quote(permission.mode)}`);
      }
    });
  };
  permissions(input.connectorPermissions, ['connectorPermissions']);

  entries(input.workspaces, (workspace, w) => {
    const path = ['workspaces', w];
    grants(workspace.members, [...path, 'members'], 'memberId', members, 'member', at);
    grants(workspace.groupGrants, [...path, 'groupGrants'], 'groupId', groups, 'group', at);
    permissions(workspace.connectorPermissions, [...path, 'connectorPermissions']);
  });

  entries(input.credentials, (credential, i) => {
    const path = ['credentials', i];
    reference(credential.connectorId, [...path, 'connectorId'], connectors, 'connector', at);
    if (credential.holder === 'workspace') reference(credential.workspaceId, [...path, 'workspaceId'], workspaces, 'workspace', at);
    if (credential.holder === 'member') reference(credential.memberId, [...path, 'memberId'], members, 'member', at);
  });

  entries(input.apiKeys, (key, i) => {
    const path = ['apiKeys', i];
    reference(key.workspaceId, [...path, 'workspaceId'], workspaces, 'workspace', at);
    if (Array.isArray(key.connectorScopes)) {
      uniqueStrings(key.connectorScopes, [...path, 'connectorScopes'], 'connector', at, (id, p) => {
        if (!connectors.resolves(id)) at(p, 'dangling_reference', `connector ${quote(id)} does not exist`);
      });
    }
  });

  if (Array.isArray(input.members) && readInFull('members') && readInFull('groups') && !hasActiveAdmin(input)) {
    at(['members'], 'no_active_admin', 'the organization needs at least one active organization_admin (directly or through a group)');
  }
  return out;
}

type Report = (path: Path, code: Problem['code'], message: string) => void;

/** SPEC §7.6: held directly or through a group; suspended admins do not count. */
function hasActiveAdmin(input: Record<string, unknown>): boolean {
  const active = new Set<string>();
  let found = false;
  entries(input.members, (member) => {
    const id = str(member.id);
    if (member.status !== 'active' || id === undefined) return;
    active.add(id);
    if (Array.isArray(member.orgRoles) && member.orgRoles.includes('organization_admin')) found = true;
  });
  entries(input.groups, (group) => {
    if (!Array.isArray(group.orgRoles) || !group.orgRoles.includes('organization_admin')) return;
    if (Array.isArray(group.memberIds) && group.memberIds.some((id) => typeof id === 'string' && active.has(id))) found = true;
  });
  return found;
}

/** The ids of one collection; `resolves` answers "maybe" (true) for every id when the collection could not be read in full. */
interface Index extends ReadonlyMap<string, Path> {
  resolves(id: string): boolean;
}

function indexById(input: Record<string, unknown>, field: string, kind: string, at: Report, complete: boolean): Index {
  const ids = new Map<string, Path>();
  entries(input[field], (entity, i) => {
    const id = str(entity.id);
    if (id === undefined) return;
    if (ids.has(id)) at([field, i, 'id'], 'duplicate_id', `${kind} id ${quote(id)} is already used by ${field}[${ids.get(id)![1]}]`);
    else ids.set(id, [field, i]);
  });
  return Object.assign(ids, { resolves: (id: string) => !complete || ids.has(id) });
}


function grants(list: unknown, base: Path, key: 'memberId' | 'groupId', targets: Index, kind: string, at: Report) {
  const seen = new Set<string>();
  entries(list, (grant, i) => {
    const id = str(grant[key]);
    if (id !== undefined) {
      if (!targets.resolves(id)) at([...base, i, key], 'dangling_reference', `${kind} ${quote(id)} does not exist`);
      if (seen.has(id)) at([...base, i, key], 'duplicate_entry', `${kind} ${quote(id)} is already in this workspace`);
      seen.add(id);
    }
    if (grant.roles !== undefined) roleList(grant.roles, [...base, i, 'roles'], 'an explicit role list needs at least one role; leave it out for the default contributor', at);
  });
}

function roleList(roles: unknown, path: Path, emptyMessage: string, at: Report) {
  if (!Array.isArray(roles)) return;
  if (roles.length === 0) at(path, 'empty_roles', emptyMessage);
  uniqueStrings(roles, path, 'role', at);
}

function uniqueStrings(list: unknown, path: Path, kind: string, at: Report, each?: (value: string, path: Path) => void) {
  if (!Array.isArray(list)) return;
  const seen = new Set<string>();
  list.forEach((value, i) => {
    if (typeof value !== 'string') return;
    if (seen.has(value)) at([...path, i], 'duplicate_entry', `${kind} ${quote(value)} is listed twice`);
    else {
      seen.add(value);
      each?.(value, [...path, i]);
    }
  });
}

function reference(value: unknown, path: Path, targets: Index, kind: string, at: Report) {
  const id = str(value);
  if (id !== undefined && !targets.resolves(id)) at(path, 'dangling_reference', `${kind} ${quote(id)} does not exist`);
}

function entries(list: unknown, each: (entry: Record<string, unknown>, index: number) => void) {
  if (!Array.isArray(list)) return;
  list.forEach((entry, i) => {
    if (isRecord(entry)) each(entry, i);
  });
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
