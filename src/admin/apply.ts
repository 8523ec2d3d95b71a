import { Immer, enableMapSet, enablePatches, type Draft } from 'immer';
import type { z } from 'zod';
import type { Organization } from '../model/index.js';
import { isParsedOrganization, loadOrganization } from '../model/index.js';
import { adoptOrganization } from '../model/parse.js';
import { problemsFromZod } from '../model/problems.js';
import type { organizationSchema } from '../model/schema.js';
import type { Action } from '../roles/index.js';
import { commandSchemas, isCommandType, type CommandType, type ParsedCommand } from './commands.js';
import { notePatched, policyFor } from './policy.js';
import type { AdminError, AdminErrorClass, AdminErrorCode, AdminProblem, ApplyOptions, AuditEvent, AuditTarget, CommandResult } from './types.js';

enablePatches();
enableMapSet();
// Our own instance: a host that turns immer's auto-freeze off globally does not get unfrozen snapshots from us.
const immer = new Immer({ autoFreeze: true });

type Mutable = z.output<typeof organizationSchema>;
type OrgDraft = Draft<Mutable>;
type Path = (string | number)[];
type Raw = Record<string, unknown>;

/** Who may run a command (SPEC §5 table): an action of the policy, or "that member itself" (§7.4). */
type Authority = { readonly action: Action; readonly workspace?: string } | { readonly self: string } | 'nobody';

/** Collects what is wrong with a payload before anything changes: nothing is ever half applied (§5). */
class Findings {
  readonly invalid: AdminProblem[] = [];
  readonly missing: AdminProblem[] = [];
  validation(code: AdminErrorCode, path: Path, message: string) {
    this.invalid.push(Object.freeze({ code, path: Object.freeze(path), message }));
  }
  notFound(code: AdminErrorCode, path: Path, message: string) {
    this.missing.push(Object.freeze({ code, path: Object.freeze(path), message }));
  }
}

type Recipe = (draft: OrgDraft) => void;
type Planner<T extends CommandType> = (org: Organization, command: ParsedCommand<T>, findings: Findings) => Recipe;

interface CommandSpec<T extends CommandType> {
  readonly authority: (raw: Raw, org: Organization) => Authority;
  readonly plan: Planner<T>;
  /** SPEC §5 invariants this command can break, checked on its result. */
  readonly invariants?: readonly ('admin' | 'seats')[];
}

const org = (action: Action) => () => ({ action }) as const;
const inWorkspace = (action: Action) => (raw: Raw) => (typeof raw.workspaceId === 'string' ? { action, workspace: raw.workspaceId } : 'nobody');
/** SPEC §7.20: a missing key has no workspace, so no one manages it: forbidden for everyone. */
const inKeyWorkspace = (raw: Raw, o: Organization): Authority => {
  const key = typeof raw.keyId === 'string' ? o.apiKeys.get(raw.keyId) : undefined;
  return key ? { action: 'workspace.api_keys.manage', workspace: key.workspaceId } : 'nobody';
};

function credentialAuthority(holder: unknown, workspaceId: unknown, memberId: unknown): Authority {
  if (holder === 'organization') return { action: 'org.connectors.manage' };
  if (holder === 'workspace') return typeof workspaceId === 'string' ? { action: 'workspace.connectors.manage', workspace: workspaceId } : 'nobody';
  if (holder === 'member') return typeof memberId === 'string' ? { self: memberId } : 'nobody';
  return 'nobody';
}

const q = (value: unknown) => JSON.stringify(value);

// ---------------------------------------------------------------------------------------------
// The commands of SPEC §5, each an authority and a plan (checks, then an immer recipe).

const SPECS: { readonly [T in CommandType]: CommandSpec<T> } = {
  inviteMember: {
    authority: org('org.members.manage'),
    plan: (o, c, f) => {
      if (o.members.has(c.id) || o.apiKeys.has(c.id)) f.validation('id_taken', ['id'], `id ${q(c.id)} is already taken`);
      emailUnique(o, c.email, undefined, f);
      return (d) => {
        // SPEC §5: new members get `member` unless roles are given.
        d.members.set(c.id, { id: c.id, email: c.email, status: 'active', orgRoles: c.roleNames ?? ['member'], seats: [] });
      };
    },
  },
  suspendMember: {
    authority: org('org.members.manage'),
    invariants: ['admin'],
    plan: (o, c, f) => {
      memberExists(o, c.memberId, ['memberId'], f);
      return (d) => void (d.members.get(c.memberId)!.status = 'suspended');
    },
  },
  reactivateMember: {
    authority: org('org.members.manage'),
    plan: (o, c, f) => {
      memberExists(o, c.memberId, ['memberId'], f);
      return (d) => void (d.members.get(c.memberId)!.status = 'active');
    },
  },
  removeMember: {
    authority: org('org.members.manage'),
    invariants: ['admin'],
    plan: (o, c, f) => {
      memberExists(o, c.memberId, ['memberId'], f);
      // SPEC §7.7: out of its workspaces and groups, its own credentials deleted.
      return (d) => {
        d.members.delete(c.memberId);
        for (const group of o.groups.values()) {
          if (group.memberIds.includes(c.memberId)) d.groups.get(group.id)!.memberIds = group.memberIds.filter((m) => m !== c.memberId);
        }
        for (const workspace of o.workspaces.values()) {
          if (workspace.members.has(c.memberId)) d.workspaces.get(workspace.id)!.members.delete(c.memberId);
        }
        for (const credential of o.credentials.values()) {
          if (credential.holder === 'member' && credential.memberId === c.memberId) d.credentials.delete(credential.id);
        }
      };
    },
  },
  changeMemberEmail: {
    authority: org('org.members.manage'),
    plan: (o, c, f) => {
      if (memberExists(o, c.memberId, ['memberId'], f)) emailUnique(o, c.email, c.memberId, f);
      return (d) => void (d.members.get(c.memberId)!.email = c.email);
    },
  },
  setMemberRoles: {
    authority: org('org.members.manage'),
    invariants: ['admin'],
    plan: (o, c, f) => {
      memberExists(o, c.memberId, ['memberId'], f);
      // SPEC §7.5: replaces, never merges.
      return (d) => void (d.members.get(c.memberId)!.orgRoles = c.roleNames!);
    },
  },
  assignSeat: {
    authority: org('org.members.manage'),
    invariants: ['seats'],
    plan: (o, c, f) => {
      const member = memberExists(o, c.memberId, ['memberId'], f);
      if (member?.seats.includes(c.product)) f.validation('seat_already_assigned', ['product'], `member ${q(c.memberId)} already holds a ${c.product} seat`);
      if (!o.seatPools.has(c.product)) f.notFound('seat_pool_not_found', ['product'], `there is no ${c.product} seat pool`);
      return (d) => void d.members.get(c.memberId)!.seats.push(c.product);
    },
  },
  releaseSeat: {
    authority: org('org.members.manage'),
    plan: (o, c, f) => {
      const member = memberExists(o, c.memberId, ['memberId'], f);
      if (member && !member.seats.includes(c.product)) f.validation('seat_not_assigned', ['product'], `member ${q(c.memberId)} holds no ${c.product} seat`);
      return (d) => {
        const m = d.members.get(c.memberId)!;
        m.seats = m.seats.filter((s) => s !== c.product);
      };
    },
  },
  setSeatPoolSize: {
    authority: org('org.billing.manage'),
    invariants: ['seats'],
    plan: (_o, c) => (d) => void d.seatPools.set(c.product, { product: c.product, size: c.size }),
  },
  createWorkspace: {
    authority: org('org.workspaces.manage'),
    plan: (o, c, f) => {
      if (o.workspaces.has(c.id)) f.validation('id_taken', ['id'], `workspace id ${q(c.id)} is already taken`);
      return (d) => void d.workspaces.set(c.id, { id: c.id, name: c.name, members: new Map(), groupGrants: new Map(), connectorPermissions: new Map() });
    },
  },
  renameWorkspace: {
    authority: org('org.workspaces.manage'),
    plan: (o, c, f) => {
      workspaceExists(o, c.workspaceId, f);
      return (d) => void (d.workspaces.get(c.workspaceId)!.name = c.name);
    },
  },
  deleteWorkspace: {
    authority: org('org.workspaces.manage'),
    plan: (o, c, f) => {
      workspaceExists(o, c.workspaceId, f);
      // SPEC §7.7, §7.18: its keys, credentials, entries and grants go with it; connectors forget it.
      return (d) => {
        d.workspaces.delete(c.workspaceId);
        for (const key of o.apiKeys.values()) if (key.workspaceId === c.workspaceId) d.apiKeys.delete(key.id);
        for (const credential of o.credentials.values()) {
          if (credential.holder === 'workspace' && credential.workspaceId === c.workspaceId) d.credentials.delete(credential.id);
        }
        for (const connector of o.connectors.values()) {
          if (connector.workspaceIds?.includes(c.workspaceId)) {
            d.connectors.get(connector.id)!.workspaceIds = connector.workspaceIds.filter((w) => w !== c.workspaceId);
          }
        }
      };
    },
  },
  addWorkspaceMembers: {
    authority: inWorkspace('workspace.members.manage'),
    plan: (o, c, f) => {
      const seen = new Set<string>();
      c.members.forEach((entry, i) => {
        if (seen.has(entry.user_uuid)) f.validation('duplicate_entry', ['members', i, 'user_uuid'], `member ${q(entry.user_uuid)} is listed twice`);
        seen.add(entry.user_uuid);
        // SPEC §7.2: only organization members can be added.
        memberExists(o, entry.user_uuid, ['members', i, 'user_uuid'], f);
      });
      // SPEC §7.20: add or update; the given roles, or the default contributor, replace — never merge.
      return (d) => {
        const workspace = d.workspaces.get(c.workspaceId)!;
        for (const entry of c.members) {
          workspace.members.set(entry.user_uuid, entry.roleNames ? { memberId: entry.user_uuid, roles: entry.roleNames } : { memberId: entry.user_uuid });
        }
      };
    },
  },
  changeWorkspaceMemberRoles: {
    authority: inWorkspace('workspace.members.manage'),
    plan: (o, c, f) => {
      workspaceMemberExists(o, c.workspaceId, c.memberId, f);
      return (d) => void d.workspaces.get(c.workspaceId)!.members.set(c.memberId, { memberId: c.memberId, roles: c.roleNames! });
    },
  },
  removeWorkspaceMember: {
    authority: inWorkspace('workspace.members.manage'),
    plan: (o, c, f) => {
      workspaceMemberExists(o, c.workspaceId, c.memberId, f);
      return (d) => void d.workspaces.get(c.workspaceId)!.members.delete(c.memberId);
    },
  },
  createGroup: {
    authority: org('org.groups.manage'),
    invariants: ['admin'],
    plan: (o, c, f) => {
      if (o.groups.has(c.id)) f.validation('id_taken', ['id'], `group id ${q(c.id)} is already taken`);
      membersExist(o, c.memberIds ?? [], ['memberIds'], f);
      return (d) => void d.groups.set(c.id, { id: c.id, name: c.name, memberIds: [...(c.memberIds ?? [])], orgRoles: c.roleNames ?? [] });
    },
  },
  renameGroup: {
    authority: org('org.groups.manage'),
    plan: (o, c, f) => {
      groupExists(o, c.groupId, ['groupId'], f);
      return (d) => void (d.groups.get(c.groupId)!.name = c.name);
    },
  },
  deleteGroup: {
    authority: org('org.groups.manage'),
    invariants: ['admin'],
    plan: (o, c, f) => {
      groupExists(o, c.groupId, ['groupId'], f);
      // SPEC §5: deleting a group removes its grants.
      return (d) => {
        d.groups.delete(c.groupId);
        for (const workspace of o.workspaces.values()) {
          if (workspace.groupGrants.has(c.groupId)) d.workspaces.get(workspace.id)!.groupGrants.delete(c.groupId);
        }
      };
    },
  },
  setGroupMembers: {
    authority: org('org.groups.manage'),
    invariants: ['admin'],
    plan: (o, c, f) => {
      groupExists(o, c.groupId, ['groupId'], f);
      membersExist(o, c.memberIds, ['memberIds'], f);
      return (d) => void (d.groups.get(c.groupId)!.memberIds = [...c.memberIds]);
    },
  },
  setGroupRoles: {
    authority: org('org.groups.manage'),
    invariants: ['admin'],
    plan: (o, c, f) => {
      groupExists(o, c.groupId, ['groupId'], f);
      // SPEC §7.5: a group's organization roles may be [].
      return (d) => void (d.groups.get(c.groupId)!.orgRoles = c.roleNames ?? []);
    },
  },
  grantGroupWorkspaceRoles: {
    authority: inWorkspace('workspace.members.manage'),
    plan: (o, c, f) => {
      groupExists(o, c.groupId, ['groupId'], f);
      return (d) =>
        void d.workspaces.get(c.workspaceId)!.groupGrants.set(c.groupId, c.roleNames ? { groupId: c.groupId, roles: c.roleNames } : { groupId: c.groupId });
    },
  },
  removeGroupGrant: {
    authority: inWorkspace('workspace.members.manage'),
    plan: (o, c, f) => {
      if (!o.workspaces.get(c.workspaceId)?.groupGrants.has(c.groupId)) {
        f.notFound('no_group_grant', ['groupId'], `group ${q(c.groupId)} holds no roles in workspace ${q(c.workspaceId)}`);
      }
      return (d) => void d.workspaces.get(c.workspaceId)!.groupGrants.delete(c.groupId);
    },
  },
  registerConnector: {
    authority: org('org.connectors.manage'),
    plan: (o, c, f) => {
      if (o.connectors.has(c.id)) f.validation('id_taken', ['id'], `connector id ${q(c.id)} is already taken`);
      const { type: _type, ...connector } = c;
      checkConnector(o, connector, c.id, f);
      return (d) => void d.connectors.set(c.id, stripUndefined(connector));
    },
  },
  updateConnector: {
    authority: org('org.connectors.manage'),
    plan: (o, c, f) => {
      const current = o.connectors.get(c.connectorId);
      if (!current) {
        f.notFound('connector_not_found', ['connectorId'], `connector ${q(c.connectorId)} does not exist`);
        return () => {};
      }
      const { type: _type, connectorId: _id, ...changes } = c;
      const visibility = changes.visibility ?? current.visibility;
      const merged = {
        id: current.id,
        name: changes.name ?? current.name,
        visibility,
        workspaceIds: visibility === 'organization' ? changes.workspaceIds : (changes.workspaceIds ?? current.workspaceIds?.slice()),
        authentication: changes.authentication ?? current.authentication,
        origin: changes.origin ?? current.origin,
        capabilities: changes.capabilities ?? current.capabilities,
        tools: changes.tools ?? current.tools.map((t) => ({ ...t })),
      };
      checkConnector(o, merged, c.connectorId, f);
      const kept = new Set(merged.tools.map((t) => t.name));
      return (d) => {
        d.connectors.set(c.connectorId, stripUndefined(merged));
        // SPEC §7.19: tools it lost leave every restricted list; a list left empty becomes blocked.
        const prune = (permissions: Draft<Mutable['connectorPermissions']>, base: ReadonlyMap<string, { readonly mode: string; readonly tools?: readonly string[] | undefined }>) => {
          const permission = base.get(c.connectorId);
          if (permission?.mode !== 'restricted' || permission.tools!.every((t) => kept.has(t))) return;
          const tools = permission.tools!.filter((t) => kept.has(t));
          permissions.set(c.connectorId, tools.length > 0 ? { connectorId: c.connectorId, mode: 'restricted', tools } : { connectorId: c.connectorId, mode: 'blocked' });
        };
        prune(d.connectorPermissions, o.connectorPermissions);
        for (const workspace of o.workspaces.values()) prune(d.workspaces.get(workspace.id)!.connectorPermissions, workspace.connectorPermissions);
      };
    },
  },
  removeConnector: {
    authority: org('org.connectors.manage'),
    plan: (o, c, f) => {
      connectorExists(o, c.connectorId, f);
      // SPEC §5: its permissions, credentials and key scopes go with it.
      return (d) => {
        d.connectors.delete(c.connectorId);
        d.connectorPermissions.delete(c.connectorId);
        for (const workspace of o.workspaces.values()) {
          if (workspace.connectorPermissions.has(c.connectorId)) d.workspaces.get(workspace.id)!.connectorPermissions.delete(c.connectorId);
        }
        for (const credential of o.credentials.values()) if (credential.connectorId === c.connectorId) d.credentials.delete(credential.id);
        for (const key of o.apiKeys.values()) {
          if (key.connectorScopes !== 'all' && key.connectorScopes.includes(c.connectorId)) {
            d.apiKeys.get(key.id)!.connectorScopes = key.connectorScopes.filter((s) => s !== c.connectorId);
          }
        }
      };
    },
  },
  setConnectorPermission: {
    authority: org('org.connectors.manage'),
    plan: (o, c, f) => {
      checkPermission(o, c, f);
      return (d) => void d.connectorPermissions.set(c.connectorId, permissionOf(c));
    },
  },
  setWorkspaceConnectorPermission: {
    authority: inWorkspace('workspace.connectors.manage'),
    plan: (o, c, f) => {
      checkPermission(o, c, f);
      return (d) => void d.workspaces.get(c.workspaceId)!.connectorPermissions.set(c.connectorId, permissionOf(c));
    },
  },
  addCredential: {
    authority: (raw) => credentialAuthority(raw.holder, raw.workspaceId, raw.memberId),
    plan: (o, c, f) => {
      if (o.credentials.has(c.id)) f.validation('id_taken', ['id'], `credential id ${q(c.id)} is already taken`);
      connectorExists(o, c.connectorId, f);
      const { type: _type, ...credential } = c;
      return (d) => void d.credentials.set(c.id, credential);
    },
  },
  removeCredential: {
    authority: (raw, o) => {
      const credential = typeof raw.credentialId === 'string' ? o.credentials.get(raw.credentialId) : undefined;
      // A credential that does not exist: the organization's connector managers may learn so (not_found).
      if (!credential) return { action: 'org.connectors.manage' };
      return credentialAuthority(credential.holder, 'workspaceId' in credential ? credential.workspaceId : undefined, 'memberId' in credential ? credential.memberId : undefined);
    },
    plan: (o, c, f) => {
      if (!o.credentials.has(c.credentialId)) f.notFound('credential_not_found', ['credentialId'], `credential ${q(c.credentialId)} does not exist`);
      return (d) => void d.credentials.delete(c.credentialId);
    },
  },
  createApiKey: {
    authority: inWorkspace('workspace.api_keys.manage'),
    plan: (o, c, f) => {
      // SPEC §1: members and API keys share one id space.
      if (o.apiKeys.has(c.id) || o.members.has(c.id)) f.validation('id_taken', ['id'], `id ${q(c.id)} is already taken`);
      const scopes = c.connectorScopes ?? 'all';
      if (scopes !== 'all') connectorsExist(o, scopes, ['connectorScopes'], f);
      return (d) =>
        void d.apiKeys.set(c.id, {
          id: c.id,
          name: c.name,
          workspaceId: c.workspaceId,
          status: 'active',
          ...(c.expiresAt !== undefined ? { expiresAt: c.expiresAt } : {}),
          connectorScopes: scopes === 'all' ? 'all' : [...scopes],
        });
    },
  },
  revokeApiKey: {
    authority: inKeyWorkspace,
    plan: (_o, c) => (d) => void (d.apiKeys.get(c.keyId)!.status = 'revoked'),
  },
  setApiKeyConnectorScopes: {
    authority: inKeyWorkspace,
    plan: (o, c, f) => {
      if (c.connectorScopes !== 'all') connectorsExist(o, c.connectorScopes, ['connectorScopes'], f);
      return (d) => void (d.apiKeys.get(c.keyId)!.connectorScopes = c.connectorScopes === 'all' ? 'all' : [...c.connectorScopes]);
    },
  },
  setApiKeyExpiry: {
    authority: inKeyWorkspace,
    plan: (_o, c) => (d) => {
      const key = d.apiKeys.get(c.keyId)!;
      if (c.expiresAt === null) delete key.expiresAt;
      else key.expiresAt = c.expiresAt;
    },
  },
};

// ---------------------------------------------------------------------------------------------
// Checks shared by several commands.

function memberExists(o: Organization, id: string, path: Path, f: Findings) {
  const member = o.members.get(id);
  if (!member) f.notFound('member_not_found', path, `member ${q(id)} does not exist`);
  return member;
}

function membersExist(o: Organization, ids: readonly string[], path: Path, f: Findings) {
  const seen = new Set<string>();
  ids.forEach((id, i) => {
    if (seen.has(id)) f.validation('duplicate_entry', [...path, i], `member ${q(id)} is listed twice`);
    seen.add(id);
    memberExists(o, id, [...path, i], f);
  });
}

function connectorsExist(o: Organization, ids: readonly string[], path: Path, f: Findings) {
  const seen = new Set<string>();
  ids.forEach((id, i) => {
    if (seen.has(id)) f.validation('duplicate_entry', [...path, i], `connector ${q(id)} is listed twice`);
    seen.add(id);
    if (!o.connectors.has(id)) f.notFound('connector_not_found', [...path, i], `connector ${q(id)} does not exist`);
  });
}

function workspaceExists(o: Organization, id: string, f: Findings) {
  if (!o.workspaces.has(id)) f.notFound('workspace_not_found', ['workspaceId'], `workspace ${q(id)} does not exist`);
}

function groupExists(o: Organization, id: string, path: Path, f: Findings) {
  if (!o.groups.has(id)) f.notFound('group_not_found', path, `group ${q(id)} does not exist`);
}

function connectorExists(o: Organization, id: string, f: Findings) {
  const connector = o.connectors.get(id);
  if (!connector) f.notFound('connector_not_found', ['connectorId'], `connector ${q(id)} does not exist`);
  return connector;
}

function workspaceMemberExists(o: Organization, workspaceId: string, memberId: string, f: Findings) {
  if (!o.workspaces.get(workspaceId)?.members.has(memberId)) {
    f.notFound('not_a_workspace_member', ['memberId'], `member ${q(memberId)} is not in workspace ${q(workspaceId)}`);
  }
}

/** SPEC §1: emails are unique, compared case-insensitively. */
function emailUnique(o: Organization, email: string, self: string | undefined, f: Findings) {
  const folded = email.toLowerCase();
  for (const member of o.members.values()) {
    if (member.id !== self && member.email.toLowerCase() === folded) {
      f.validation('duplicate_email', ['email'], `email ${q(email)} is already used by another member`);
      return;
    }
  }
}

interface ConnectorDefinition {
  readonly name: string;
  readonly visibility: 'organization' | 'workspace';
  readonly workspaceIds?: readonly string[] | undefined;
  readonly capabilities: 'read_only' | 'read_write';
  readonly tools: readonly { readonly name: string; readonly access: 'read' | 'write' }[];
}

/** SPEC §7.12, §7.18: a slug name unique in the organization, tools unique, workspace connectors placed somewhere real. */
function checkConnector(o: Organization, c: ConnectorDefinition, selfId: string, f: Findings) {
  for (const other of o.connectors.values()) {
    if (other.id !== selfId && other.name === c.name) f.validation('duplicate_name', ['name'], `connector name ${q(c.name)} is already used`);
  }
  if (c.visibility === 'organization' && c.workspaceIds !== undefined) {
    f.validation('workspace_ids_not_allowed', ['workspaceIds'], 'an organization connector is visible in every workspace and takes no workspaceIds');
  }
  if (c.visibility === 'workspace') {
    if (!c.workspaceIds || c.workspaceIds.length === 0) {
      f.validation('workspace_required', ['workspaceIds'], 'a workspace connector is registered with at least one workspace');
    } else {
      const seen = new Set<string>();
      c.workspaceIds.forEach((id, i) => {
        if (seen.has(id)) f.validation('duplicate_entry', ['workspaceIds', i], `workspace ${q(id)} is listed twice`);
        seen.add(id);
        if (!o.workspaces.has(id)) f.notFound('workspace_not_found', ['workspaceIds', i], `workspace ${q(id)} does not exist`);
      });
    }
  }
  const names = new Set<string>();
  c.tools.forEach((tool, i) => {
    if (names.has(tool.name)) f.validation('duplicate_entry', ['tools', i, 'name'], `tool ${q(tool.name)} is defined twice`);
    names.add(tool.name);
    if (c.capabilities === 'read_only' && tool.access === 'write') {
      f.validation('write_tool_on_read_only', ['tools', i, 'access'], `tool ${q(tool.name)} writes, but the connector is read-only`);
    }
  });
}

/** SPEC §4.3, §7.8: `restricted` selects at least one of the connector's own tools; other modes select none. */
function checkPermission(o: Organization, c: { connectorId: string; mode: string; tools?: readonly string[] | undefined }, f: Findings) {
  const connector = connectorExists(o, c.connectorId, f);
  if (c.mode !== 'restricted') {
    if (c.tools !== undefined) f.validation('tools_not_restricted', ['tools'], `tools are selected only with mode "restricted", not ${q(c.mode)}`);
    return;
  }
  if (!c.tools || c.tools.length === 0) {
    f.validation('restricted_without_tools', ['tools'], 'a restricted permission selects at least one tool');
    return;
  }
  const seen = new Set<string>();
  c.tools.forEach((tool, i) => {
    if (seen.has(tool)) f.validation('duplicate_entry', ['tools', i], `tool ${q(tool)} is listed twice`);
    seen.add(tool);
    if (connector && !connector.tools.some((t) => t.name === tool)) f.validation('unknown_tool', ['tools', i], `connector ${q(c.connectorId)} has no tool ${q(tool)}`);
  });
}

function permissionOf(c: { connectorId: string; mode: 'allowed' | 'restricted' | 'blocked'; tools?: string[] | undefined }) {
  return c.tools !== undefined ? { connectorId: c.connectorId, mode: c.mode, tools: [...c.tools] } : { connectorId: c.connectorId, mode: c.mode };
}

function stripUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = v;
  return out as { [K in keyof T]: Exclude<T[K], undefined> };
}

// ---------------------------------------------------------------------------------------------
// Invariants (SPEC §5) on a command's result.

/** SPEC §7.6: held directly or through a group; suspended admins do not count. */
export function hasActiveOrganizationAdmin(o: Organization): boolean {
  for (const member of o.members.values()) {
    if (member.status === 'active' && member.orgRoles.includes('organization_admin')) return true;
  }
  for (const group of o.groups.values()) {
    if (!group.orgRoles.includes('organization_admin')) continue;
    if (group.memberIds.some((id) => o.members.get(id)?.status === 'active')) return true;
  }
  return false;
}

function seatsWithinPools(o: Organization): string | null {
  const held = new Map<string, number>();
  for (const member of o.members.values()) for (const seat of member.seats) held.set(seat, (held.get(seat) ?? 0) + 1);
  for (const [product, count] of held) {
    const size = o.seatPools.get(product as 'mistral_code')?.size ?? 0;
    if (count > size) return `${count} ${product} seats would be held but the pool has ${size}`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// The entry point.

/**
 * SPEC §5: applies one admin command to a snapshot. The actor is checked first, through the same `can`
 * the gateways use; then the payload (every problem at once); then the targets; then the invariants.
 * Applied: a new frozen snapshot sharing structure with the input, `revision` one higher, its patches
 * and inverse patches, and an audit event. Refused: the very input snapshot, untouched, and an audit event.
 */
export function applyCommand(snapshot: Organization, actor: string, command: unknown, options: ApplyOptions = {}): CommandResult {
  const base = isParsedOrganization(snapshot) ? snapshot : loadOrganization(snapshot);
  const at = options.now ?? null;
  const raw: Raw = command !== null && typeof command === 'object' && !Array.isArray(command) ? (command as Raw) : {};
  const type = isCommandType(raw.type) ? raw.type : null;
  const targets = auditTargets(raw, type);
  const refuse = (error: AdminError): CommandResult => {
    const event = auditEvent(base.id, actor, type, targets, at, { status: 'refused', class: error.class, code: error.code });
    return Object.freeze({ ok: false, error: freezeError(error), snapshot: base, event });
  };

  if (type === null) {
    return refuse(single('validation', 'unknown_command', ['type'], `${q(raw.type)} is not an admin command`));
  }
  const spec = SPECS[type] as unknown as CommandSpec<CommandType>;
  if (!authorized(base, actor, spec.authority(raw, base), options)) {
    return refuse(single('forbidden', 'forbidden', [], `${q(actor)} may not run ${type} here`));
  }

  const parsed = commandSchemas[type].safeParse(command, { reportInput: true });
  if (!parsed.success) return refuse(fromProblems('validation', problemsFromAdminZod(parsed.error.issues)));
  const findings = new Findings();
  const recipe = spec.plan(base, parsed.data as ParsedCommand, findings);
  if (findings.invalid.length > 0) return refuse(fromProblems('validation', findings.invalid));
  if (findings.missing.length > 0) return refuse(fromProblems('not_found', findings.missing));

  const [produced, patches, inversePatches] = immer.produceWithPatches(base as unknown as Mutable, (draft) => {
    recipe(draft);
    draft.revision = base.revision + 1;
  });
  const next = produced as unknown as Organization;
  for (const invariant of spec.invariants ?? []) {
    if (invariant === 'admin' && !hasActiveOrganizationAdmin(next)) {
      return refuse(single('invariant', 'last_organization_admin', [], 'the organization must keep at least one active organization_admin'));
    }
    if (invariant === 'seats') {
      const excess = seatsWithinPools(next);
      if (excess !== null) return refuse(single('invariant', 'seats_exceeded', type === 'setSeatPoolSize' ? ['size'] : ['product'], excess));
    }
  }
  const adopted = adoptOrganization(next);
  notePatched(base, adopted, patches);
  const event = auditEvent(base.id, actor, type, targets, at, { status: 'applied', revision: adopted.revision });
  return Object.freeze({ ok: true, snapshot: adopted, patches: Object.freeze(patches), inversePatches: Object.freeze(inversePatches), event });
}

/** SPEC §5, §7.3: one source of truth — the policy's own `can`. API keys never administer (D5). */
function authorized(o: Organization, actor: string, authority: Authority, options: ApplyOptions): boolean {
  if (authority === 'nobody' || typeof actor !== 'string') return false;
  if ('self' in authority) {
    // SPEC §7.4: that member itself, not while suspended.
    return actor === authority.self && o.members.get(actor)?.status === 'active';
  }
  return policyFor(o).can(actor, authority.action, authority.workspace, options.now === undefined ? undefined : { now: options.now });
}

function problemsFromAdminZod(issues: readonly z.core.$ZodIssue[]): AdminProblem[] {
  const out: AdminProblem[] = [];
  for (const issue of issues) {
    const code = issue.code === 'custom' ? (issue.params as { code?: AdminErrorCode } | undefined)?.code : undefined;
    if (code !== undefined) out.push(Object.freeze({ code, path: Object.freeze([...(issue.path as Path)]), message: issue.message }));
    else out.push(...(problemsFromZod([issue]) as AdminProblem[]));
  }
  return out;
}

function single(cls: AdminErrorClass, code: AdminErrorCode, path: Path, message: string): AdminError {
  return { class: cls, code, path, message };
}

function fromProblems(cls: AdminErrorClass, problems: readonly AdminProblem[]): AdminError {
  const first = problems[0]!;
  return { class: cls, code: first.code, path: first.path, message: first.message, problems };
}

function freezeError(error: AdminError): AdminError {
  return Object.freeze({
    ...error,
    path: Object.freeze([...error.path]),
    ...(error.problems ? { problems: Object.freeze([...error.problems]) } : {}),
  });
}

const TARGET_FIELDS: readonly [string, AuditTarget['kind']][] = [
  ['memberId', 'member'],
  ['workspaceId', 'workspace'],
  ['groupId', 'group'],
  ['connectorId', 'connector'],
  ['credentialId', 'credential'],
  ['keyId', 'api_key'],
  ['product', 'seat_pool'],
];

const CREATED_KIND: Partial<Record<CommandType, AuditTarget['kind']>> = {
  inviteMember: 'member',
  createWorkspace: 'workspace',
  createGroup: 'group',
  registerConnector: 'connector',
  addCredential: 'credential',
  createApiKey: 'api_key',
};

/** The ids a command names, read defensively from the raw command (a refused one is audited too). */
function auditTargets(raw: Raw, type: CommandType | null): AuditTarget[] {
  const out: AuditTarget[] = [];
  const add = (kind: AuditTarget['kind'], id: unknown) => {
    if (typeof id === 'string' && !out.some((t) => t.kind === kind && t.id === id)) out.push(Object.freeze({ kind, id }));
  };
  const created = type === null ? undefined : CREATED_KIND[type];
  if (created) add(created, raw.id);
  for (const [field, kind] of TARGET_FIELDS) add(kind, raw[field]);
  if (Array.isArray(raw.members)) for (const entry of raw.members) if (entry !== null && typeof entry === 'object') add('member', (entry as Raw).user_uuid);
  if (Array.isArray(raw.memberIds)) for (const id of raw.memberIds) add('member', id);
  return out;
}

function auditEvent(organizationId: string, actor: string, command: CommandType | null, targets: AuditTarget[], at: ApplyOptions['now'] | null, result: AuditEvent['result']): AuditEvent {
  return Object.freeze({
    organizationId,
    actor: typeof actor === 'string' ? actor : String(actor),
    command,
    targets: Object.freeze(targets),
    at: at ?? null,
    result: Object.freeze(result),
  });
}
