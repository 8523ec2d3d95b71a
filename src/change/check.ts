import { memberNamedBy, membersWithEmail, membersWithExternalId, seatsHeld } from '../model/indexes.js';
import { quote } from '../model/problems.js';
import type { Connector, ConnectorPermission, Organization, Problem, ProblemCode } from '../model/types.js';
import type { Touched } from './wire.js';

type Path = (string | number)[];

/**
 * The load rules of SPEC §6 for the entities a change touched — and for whatever still refers to an
 * entity it removed — on the snapshot the change produced. Each entity's own shape was checked when its
 * patch was parsed; these are the rules across entities. The cost follows the change, not the
 * organization: an email or a seat count is a look-up (`model/indexes.ts`); only removing a member,
 * group, workspace or connector looks through the collections that may name it.
 */
export function checkTouched(before: Organization, after: Organization, touched: Touched): Problem[] {
  const out: Problem[] = [];
  const at = (path: Path, code: ProblemCode, message: string) => out.push(Object.freeze({ code, path: Object.freeze(path), message }));
  const ids = (collection: keyof Organization & string) => (touched.entities.get(collection as never) ?? new Set<string>()) as Set<string>;

  let adminsMayChange = false;
  for (const id of ids('members')) {
    adminsMayChange = true;
    const member = after.members.get(id);
    if (!member) {
      memberStillNamed(after, id, at);
      continue;
    }
    const path = ['members', id];
    if (after.apiKeys.has(id)) at([...path, 'id'], 'duplicate_id', `member id ${quote(id)} is already an API key's id; a principal id names one or the other`);
    if (membersWithEmail(after, member.email).length > 1) at([...path, 'email'], 'duplicate_email', `email ${quote(member.email)} is already used by another member`);
    if (member.externalId !== undefined && membersWithExternalId(after, member.externalId).length > 1) {
      at([...path, 'externalId'], 'duplicate_external_id', `externalId ${quote(member.externalId)} is already used by another member`);
    }
    roleList(member.orgRoles, [...path, 'orgRoles'], at, true);
    unique(member.seats, [...path, 'seats'], 'seat', at, (seat, p) => {
      const pool = after.seatPools.get(seat);
      if (!pool) at(p, 'seat_without_pool', `seat ${quote(seat)} has no seat pool`);
    });
  }
  const products = new Set([...ids('seatPools')]);
  for (const id of ids('members')) for (const seat of [...(before.members.get(id)?.seats ?? []), ...(after.members.get(id)?.seats ?? [])]) products.add(seat);
  for (const product of products) {
    const pool = after.seatPools.get(product as never);
    const held = seatsHeld(after, product as never);
    if (pool && held > 0 && held > pool.size) at(['seatPools', product, 'size'], 'seats_exceeded', `${held} ${product} seats are held but the pool has ${pool.size}`);
    if (!pool && held > 0 && ids('seatPools').has(product)) at(['seatPools', product], 'seat_without_pool', `${held} ${product} seats are held but their pool is gone`);
  }

  for (const id of ids('groups')) {
    adminsMayChange = true;
    const group = after.groups.get(id);
    if (!group) {
      for (const workspace of after.workspaces.values()) {
        if (workspace.groupGrants.has(id)) at(['workspaces', workspace.id, 'groupGrants', id], 'dangling_reference', `group ${quote(id)} does not exist`);
      }
      continue;
    }
    unique(group.memberIds, ['groups', id, 'memberIds'], 'member', at, (memberId, p) => {
      if (!after.members.has(memberId)) at(p, 'dangling_reference', `member ${quote(memberId)} does not exist`);
    });
    unique(group.orgRoles, ['groups', id, 'orgRoles'], 'role', at);
  }

  for (const id of ids('connectors')) {
    const connector = after.connectors.get(id);
    if (!connector) {
      connectorStillNamed(after, id, at);
      continue;
    }
    checkConnector(after, connector, at);
    // Permissions on it, wherever they are, must still fit its tools.
    const permission = after.connectorPermissions.get(id);
    if (permission) checkPermission(after, permission, ['connectorPermissions', id], at);
    for (const workspace of after.workspaces.values()) {
      const local = workspace.connectorPermissions.get(id);
      if (local) checkPermission(after, local, ['workspaces', workspace.id, 'connectorPermissions', id], at);
    }
  }
  for (const id of ids('connectorPermissions')) {
    const permission = after.connectorPermissions.get(id);
    if (permission) checkPermission(after, permission, ['connectorPermissions', id], at);
  }

  for (const id of ids('workspaces')) {
    const workspace = after.workspaces.get(id);
    if (!workspace) {
      workspaceStillNamed(after, id, at);
      continue;
    }
    for (const memberId of workspace.members.keys()) checkWorkspaceEntry(after, id, 'members', memberId, at);
    for (const groupId of workspace.groupGrants.keys()) checkWorkspaceEntry(after, id, 'groupGrants', groupId, at);
    for (const connectorId of workspace.connectorPermissions.keys()) checkWorkspaceEntry(after, id, 'connectorPermissions', connectorId, at);
  }
  for (const [id, part] of touched.workspaceParts) {
    if (!after.workspaces.has(id)) continue;
    for (const [collection, keys] of part.entries) for (const key of keys) checkWorkspaceEntry(after, id, collection, key, at);
  }

  for (const id of ids('credentials')) {
    const credential = after.credentials.get(id);
    if (!credential) continue;
    const path = ['credentials', id];
    if (!after.connectors.has(credential.connectorId)) at([...path, 'connectorId'], 'dangling_reference', `connector ${quote(credential.connectorId)} does not exist`);
    if (credential.holder === 'workspace' && !after.workspaces.has(credential.workspaceId)) {
      at([...path, 'workspaceId'], 'dangling_reference', `workspace ${quote(credential.workspaceId)} does not exist`);
    }
    if (credential.holder === 'member' && !after.members.has(credential.memberId)) {
      at([...path, 'memberId'], 'dangling_reference', `member ${quote(credential.memberId)} does not exist`);
    }
  }

  for (const id of ids('apiKeys')) {
    const key = after.apiKeys.get(id);
    if (!key) continue;
    const path = ['apiKeys', id];
    if (after.members.has(id)) at([...path, 'id'], 'duplicate_id', `API key id ${quote(id)} is already a member's id; a principal id names one or the other`);
    if (!after.workspaces.has(key.workspaceId)) at([...path, 'workspaceId'], 'dangling_reference', `workspace ${quote(key.workspaceId)} does not exist`);
    if (key.connectorScopes !== 'all') {
      unique(key.connectorScopes, [...path, 'connectorScopes'], 'connector', at, (connectorId, p) => {
        if (!after.connectors.has(connectorId)) at(p, 'dangling_reference', `connector ${quote(connectorId)} does not exist`);
      });
    }
  }

  if (adminsMayChange && !hasActiveAdmin(after)) {
    at(['members'], 'no_active_admin', 'the organization needs at least one active organization_admin (directly or through a group)');
  }
  return out;
}

/** SPEC §7.6, stopping at the first active admin found (usually among the first members). */
function hasActiveAdmin(organization: Organization): boolean {
  for (const member of organization.members.values()) if (member.status === 'active' && member.orgRoles.includes('organization_admin')) return true;
  for (const group of organization.groups.values()) {
    if (!group.orgRoles.includes('organization_admin')) continue;
    for (const id of group.memberIds) if (organization.members.get(id)?.status === 'active') return true;
  }
  return false;
}

type Report = (path: Path, code: ProblemCode, message: string) => void;

function checkWorkspaceEntry(after: Organization, workspaceId: string, collection: 'members' | 'groupGrants' | 'connectorPermissions', key: string, at: Report) {
  const workspace = after.workspaces.get(workspaceId)!;
  const path = ['workspaces', workspaceId, collection, key];
  if (collection === 'connectorPermissions') {
    const permission = workspace.connectorPermissions.get(key);
    if (permission) checkPermission(after, permission, path, at);
    return;
  }
  const entry = collection === 'members' ? workspace.members.get(key) : workspace.groupGrants.get(key);
  if (!entry) return;
  const exists = collection === 'members' ? after.members.has(key) : after.groups.has(key);
  if (!exists) at(path, 'dangling_reference', `${collection === 'members' ? 'member' : 'group'} ${quote(key)} does not exist`);
  if (entry.roles !== undefined) roleList(entry.roles, [...path, 'roles'], at, true);
}

function checkConnector(after: Organization, connector: Connector, at: Report) {
  const path = ['connectors', connector.id];
  for (const other of after.connectors.values()) {
    if (other.id !== connector.id && other.name === connector.name) at([...path, 'name'], 'duplicate_name', `connector name ${quote(connector.name)} is already used by connector ${quote(other.id)}`);
  }
  if (connector.visibility === 'organization' && connector.workspaceIds !== undefined) {
    at([...path, 'workspaceIds'], 'workspace_ids_not_allowed', 'an organization connector is visible in every workspace and takes no workspaceIds');
  } else if (connector.workspaceIds) {
    unique(connector.workspaceIds, [...path, 'workspaceIds'], 'workspace', at, (id, p) => {
      if (!after.workspaces.has(id)) at(p, 'dangling_reference', `workspace ${quote(id)} does not exist`);
    });
  }
  const names = new Set<string>();
  connector.tools.forEach((tool, t) => {
    if (names.has(tool.name)) at([...path, 'tools', t, 'name'], 'duplicate_entry', `tool ${quote(tool.name)} is defined twice`);
    names.add(tool.name);
    if (connector.capabilities === 'read_only' && tool.access === 'write') {
      at([...path, 'tools', t, 'access'], 'write_tool_on_read_only', `tool ${quote(tool.name)} writes, but the connector is read-only`);
    }
  });
}

function checkPermission(after: Organization, permission: ConnectorPermission, path: Path, at: Report) {
  const connector = after.connectors.get(permission.connectorId);
  if (!connector) at([...path, 'connectorId'], 'dangling_reference', `connector ${quote(permission.connectorId)} does not exist`);
  if (permission.mode === 'restricted') {
    if (!permission.tools || permission.tools.length === 0) at([...path, 'tools'], 'restricted_without_tools', 'a restricted permission selects at least one tool');
    unique(permission.tools ?? [], [...path, 'tools'], 'tool', at, (tool, p) => {
      if (connector && !connector.tools.some((t) => t.name === tool)) at(p, 'unknown_tool', `connector ${quote(permission.connectorId)} has no tool ${quote(tool)}`);
    });
  } else if (permission.tools !== undefined) {
    at([...path, 'tools'], 'tools_not_restricted', `tools are selected only with mode "restricted", not ${quote(permission.mode)}`);
  }
}

function memberStillNamed(after: Organization, id: string, at: Report) {
  const named = memberNamedBy(after, id);
  for (const group of named.groups) at(['groups', group, 'memberIds'], 'dangling_reference', `member ${quote(id)} does not exist`);
  for (const workspace of named.workspaces) at(['workspaces', workspace, 'members', id], 'dangling_reference', `member ${quote(id)} does not exist`);
  for (const credential of named.credentials) at(['credentials', credential, 'memberId'], 'dangling_reference', `member ${quote(id)} does not exist`);
}

function workspaceStillNamed(after: Organization, id: string, at: Report) {
  for (const key of after.apiKeys.values()) if (key.workspaceId === id) at(['apiKeys', key.id, 'workspaceId'], 'dangling_reference', `workspace ${quote(id)} does not exist`);
  for (const credential of after.credentials.values()) {
    if (credential.holder === 'workspace' && credential.workspaceId === id) at(['credentials', credential.id, 'workspaceId'], 'dangling_reference', `workspace ${quote(id)} does not exist`);
  }
  for (const connector of after.connectors.values()) {
    if (connector.workspaceIds?.includes(id)) at(['connectors', connector.id, 'workspaceIds'], 'dangling_reference', `workspace ${quote(id)} does not exist`);
  }
}

function connectorStillNamed(after: Organization, id: string, at: Report) {
  if (after.connectorPermissions.has(id)) at(['connectorPermissions', id], 'dangling_reference', `connector ${quote(id)} does not exist`);
  for (const workspace of after.workspaces.values()) {
    if (workspace.connectorPermissions.has(id)) at(['workspaces', workspace.id, 'connectorPermissions', id], 'dangling_reference', `connector ${quote(id)} does not exist`);
  }
  for (const credential of after.credentials.values()) {
    if (credential.connectorId === id) at(['credentials', credential.id, 'connectorId'], 'dangling_reference', `connector ${quote(id)} does not exist`);
  }
  for (const key of after.apiKeys.values()) {
    if (key.connectorScopes !== 'all' && key.connectorScopes.includes(id)) at(['apiKeys', key.id, 'connectorScopes'], 'dangling_reference', `connector ${quote(id)} does not exist`);
  }
}

function roleList(roles: readonly string[], path: Path, at: Report, nonEmpty: boolean) {
  if (nonEmpty && roles.length === 0) at(path, 'empty_roles', 'a role list needs at least one role');
  unique(roles, path, 'role', at);
}

function unique(list: readonly string[], path: Path, kind: string, at: Report, each?: (value: string, path: Path) => void) {
  const seen = new Set<string>();
  list.forEach((value, i) => {
    if (seen.has(value)) at([...path, i], 'duplicate_entry', `${kind} ${quote(value)} is listed twice`);
    else {
      seen.add(value);
      each?.(value, [...path, i]);
    }
  });
}
