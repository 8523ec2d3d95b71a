import type { z } from 'zod';
import * as schema from './schema.js';
import type { ApiKey, ConnectorPermission, Connector, Credential, Group, GroupGrant, Member, SeatPool, Workspace, WorkspaceMember } from './types.js';

/**
 * One entity of the snapshot at a time, between its JSON (SPEC §6.1) and its parsed form: what a change
 * (SPEC §8) carries and applies, without writing or reading the whole snapshot.
 */

export const memberJson = (m: Member) => ({
  id: m.id,
  email: m.email,
  status: m.status,
  orgRoles: [...m.orgRoles],
  seats: [...m.seats],
  ...(m.externalId !== undefined ? { externalId: m.externalId } : {}),
  ...(m.displayName !== undefined ? { displayName: m.displayName } : {}),
});
export const groupJson = (g: Group) => ({ id: g.id, name: g.name, memberIds: [...g.memberIds], orgRoles: [...g.orgRoles] });
export const workspaceMemberJson = (m: WorkspaceMember) => (m.roles ? { memberId: m.memberId, roles: [...m.roles] } : { memberId: m.memberId });
export const groupGrantJson = (g: GroupGrant) => (g.roles ? { groupId: g.groupId, roles: [...g.roles] } : { groupId: g.groupId });
export const permissionJson = (p: ConnectorPermission) =>
  p.tools ? { connectorId: p.connectorId, mode: p.mode, tools: [...p.tools] } : { connectorId: p.connectorId, mode: p.mode };
export const workspaceJson = (w: Workspace) => ({
  id: w.id,
  name: w.name,
  members: [...w.members.values()].map(workspaceMemberJson),
  groupGrants: [...w.groupGrants.values()].map(groupGrantJson),
  connectorPermissions: [...w.connectorPermissions.values()].map(permissionJson),
});
export const connectorJson = (c: Connector) => ({
  id: c.id,
  name: c.name,
  visibility: c.visibility,
  ...(c.workspaceIds ? { workspaceIds: [...c.workspaceIds] } : {}),
  authentication: c.authentication,
  origin: c.origin,
  capabilities: c.capabilities,
  tools: c.tools.map((t) => ({ name: t.name, access: t.access })),
});
export const credentialJson = (c: Credential) => ({ ...c });
export const apiKeyJson = (k: ApiKey) => ({
  id: k.id,
  name: k.name,
  workspaceId: k.workspaceId,
  status: k.status,
  ...(k.expiresAt !== undefined ? { expiresAt: k.expiresAt } : {}),
  connectorScopes: k.connectorScopes === 'all' ? ('all' as const) : [...k.connectorScopes],
  ...(k.secrets !== undefined ? { secrets: k.secrets.map((s) => (s.notAfter !== undefined ? { sha256: s.sha256, notAfter: s.notAfter } : { sha256: s.sha256 })) } : {}),
});
export const seatPoolJson = (p: SeatPool) => ({ product: p.product, size: p.size });

/** The organization's keyed collections: the schema of one entry, how it is written, the field that is its key. */
export const COLLECTIONS = {
  members: { entry: schema.memberSchema, json: memberJson, key: 'id' },
  groups: { entry: schema.groupSchema, json: groupJson, key: 'id' },
  workspaces: { entry: schema.workspaceSchema, json: workspaceJson, key: 'id' },
  connectors: { entry: schema.connectorSchema, json: connectorJson, key: 'id' },
  connectorPermissions: { entry: schema.connectorPermissionSchema, json: permissionJson, key: 'connectorId' },
  credentials: { entry: schema.credentialSchema, json: credentialJson, key: 'id' },
  apiKeys: { entry: schema.apiKeySchema, json: apiKeyJson, key: 'id' },
  seatPools: { entry: schema.seatPoolSchema, json: seatPoolJson, key: 'product' },
} as const satisfies Record<string, { entry: z.ZodType; json: (value: never) => unknown; key: string }>;

/** A workspace's own keyed collections. */
export const WORKSPACE_COLLECTIONS = {
  members: { entry: schema.workspaceMemberSchema, json: workspaceMemberJson, key: 'memberId' },
  groupGrants: { entry: schema.groupGrantSchema, json: groupGrantJson, key: 'groupId' },
  connectorPermissions: { entry: schema.connectorPermissionSchema, json: permissionJson, key: 'connectorId' },
} as const satisfies Record<string, { entry: z.ZodType; json: (value: never) => unknown; key: string }>;

export type CollectionName = keyof typeof COLLECTIONS;
export type WorkspaceCollectionName = keyof typeof WORKSPACE_COLLECTIONS;

export const isCollection = (name: unknown): name is CollectionName => typeof name === 'string' && Object.hasOwn(COLLECTIONS, name);
export const isWorkspaceCollection = (name: unknown): name is WorkspaceCollectionName =>
  typeof name === 'string' && Object.hasOwn(WORKSPACE_COLLECTIONS, name);
