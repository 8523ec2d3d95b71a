import type { Draft } from 'immer';
import type { Organization } from '../../model/index.js';
import type { Findings } from '../errors.js';
import { connectorExists, orgAction, q, type CommandSpecs, type Mutable, type Raw } from './spec.js';

type ConnectorCommand = 'registerConnector' | 'updateConnector' | 'removeConnector' | 'setConnectorPermission';

/** SPEC §5 connectors: org.connectors.manage; a workspace's permission: workspace.connectors.manage there. */
export const connectorCommands: CommandSpecs<ConnectorCommand> = {
  registerConnector: {
    authority: orgAction('org.connectors.manage'),
    plan: (o, c, f) => {
      if (o.connectors.has(c.connectorId)) f.validation('id_taken', ['connectorId'], `connector id ${q(c.connectorId)} is already taken`);
      const { type: _type, connectorId: id, ...definition } = c;
      const connector = { id, ...definition };
      checkConnector(o, connector, id, f);
      return (d) => void d.connectors.set(id, stripUndefined(connector));
    },
  },
  updateConnector: {
    authority: orgAction('org.connectors.manage'),
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
    authority: orgAction('org.connectors.manage'),
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
  // One command for both levels (SPEC §4.3): the workspace level only narrows the organization's.
  setConnectorPermission: {
    authority: permissionAuthority,
    plan: (o, c, f) => {
      checkPermission(o, c, f);
      const permission = c.tools !== undefined ? { connectorId: c.connectorId, mode: c.mode, tools: [...c.tools] } : { connectorId: c.connectorId, mode: c.mode };
      return (d) => {
        const permissions = c.workspaceId === undefined ? d.connectorPermissions : d.workspaces.get(c.workspaceId)!.connectorPermissions;
        permissions.set(c.connectorId, permission);
      };
    },
  },
};

/**
 * No `workspaceId`: the organization level (org.connectors.manage). A `workspaceId`: that workspace
 * (workspace.connectors.manage there; SPEC §7.20: a missing one is forbidden for everyone). Anything
 * else names no level, so no one may.
 */
function permissionAuthority(raw: Raw) {
  if (raw.workspaceId === undefined) return { action: 'org.connectors.manage' } as const;
  return typeof raw.workspaceId === 'string' ? ({ action: 'workspace.connectors.manage', workspace: raw.workspaceId } as const) : 'nobody';
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
  const own = new Set(connector?.tools.map((t) => t.name));
  const seen = new Set<string>();
  c.tools.forEach((tool, i) => {
    if (seen.has(tool)) f.validation('duplicate_entry', ['tools', i], `tool ${q(tool)} is listed twice`);
    seen.add(tool);
    if (connector && !own.has(tool)) f.validation('unknown_tool', ['tools', i], `connector ${q(c.connectorId)} has no tool ${q(tool)}`);
  });
}

function stripUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = v;
  return out as { [K in keyof T]: Exclude<T[K], undefined> };
}
