import type { Organization } from '../../model/index.js';
import type { Findings } from '../errors.js';
import { inWorkspace, memberExists, orgAction, q, type CommandSpecs } from './spec.js';

type WorkspaceCommand = 'createWorkspace' | 'renameWorkspace' | 'deleteWorkspace' | 'addWorkspaceMembers' | 'setWorkspaceMemberRoles' | 'removeWorkspaceMember';

/** SPEC §5 workspaces: org.workspaces.manage; their members: workspace.members.manage there. */
export const workspaceCommands: CommandSpecs<WorkspaceCommand> = {
  createWorkspace: {
    authority: orgAction('org.workspaces.manage'),
    plan: (o, c, f) => {
      if (o.workspaces.has(c.workspaceId)) f.validation('id_taken', ['workspaceId'], `workspace id ${q(c.workspaceId)} is already taken`);
      return (d) => void d.workspaces.set(c.workspaceId, { id: c.workspaceId, name: c.name, members: new Map(), groupGrants: new Map(), connectorPermissions: new Map() });
    },
  },
  renameWorkspace: {
    authority: orgAction('org.workspaces.manage'),
    plan: (o, c, f) => {
      workspaceExists(o, c.workspaceId, f);
      return (d) => void (d.workspaces.get(c.workspaceId)!.name = c.name);
    },
  },
  deleteWorkspace: {
    authority: orgAction('org.workspaces.manage'),
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
        if (seen.has(entry.memberId)) f.validation('duplicate_entry', ['members', i, 'memberId'], `member ${q(entry.memberId)} is listed twice`);
        seen.add(entry.memberId);
        // SPEC §7.2: only organization members can be added.
        memberExists(o, entry.memberId, ['members', i, 'memberId'], f);
      });
      // SPEC §7.20: add or update; the given roles, or the default contributor, replace — never merge.
      return (d) => {
        const workspace = d.workspaces.get(c.workspaceId)!;
        for (const entry of c.members) {
          workspace.members.set(entry.memberId, entry.roleNames ? { memberId: entry.memberId, roles: entry.roleNames } : { memberId: entry.memberId });
        }
      };
    },
  },
  setWorkspaceMemberRoles: {
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
};

function workspaceExists(o: Organization, id: string, f: Findings) {
  if (!o.workspaces.has(id)) f.notFound('workspace_not_found', ['workspaceId'], `workspace ${q(id)} does not exist`);
}

function workspaceMemberExists(o: Organization, workspaceId: string, memberId: string, f: Findings) {
  if (!o.workspaces.get(workspaceId)?.members.has(memberId)) {
    f.notFound('not_a_workspace_member', ['memberId'], `member ${q(memberId)} is not in workspace ${q(workspaceId)}`);
  }
}
