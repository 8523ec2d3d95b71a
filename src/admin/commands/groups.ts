import type { Findings } from '../errors.js';
import type { AuditTarget } from '../types.js';
import { groupExists, inWorkspace, membersExist, orgAction, q, type CommandSpecs, type Path } from './spec.js';

type GroupCommand =
  | 'createGroup'
  | 'renameGroup'
  | 'deleteGroup'
  | 'setGroupMembers'
  | 'addGroupMembers'
  | 'removeGroupMembers'
  | 'setGroupOrgRoles'
  | 'setGroupWorkspaceRoles'
  | 'removeGroupWorkspaceRoles';

/** SPEC §5 groups: org.groups.manage; a group's roles in a workspace: workspace.members.manage there. */
export const groupCommands: CommandSpecs<GroupCommand> = {
  createGroup: {
    authority: orgAction('org.groups.manage'),
    invariants: ['admin'],
    plan: (o, c, f) => {
      if (o.groups.has(c.groupId)) f.validation('id_taken', ['groupId'], `group id ${q(c.groupId)} is already taken`);
      membersExist(o, c.memberIds ?? [], ['memberIds'], f);
      return (d) => void d.groups.set(c.groupId, { id: c.groupId, name: c.name, memberIds: [...(c.memberIds ?? [])], orgRoles: c.roleNames ?? [] });
    },
  },
  renameGroup: {
    authority: orgAction('org.groups.manage'),
    plan: (o, c, f) => {
      groupExists(o, c.groupId, f);
      return (d) => void (d.groups.get(c.groupId)!.name = c.name);
    },
  },
  deleteGroup: {
    authority: orgAction('org.groups.manage'),
    invariants: ['admin'],
    plan: (o, c, f) => {
      groupExists(o, c.groupId, f);
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
    authority: orgAction('org.groups.manage'),
    invariants: ['admin'],
    plan: (o, c, f) => {
      groupExists(o, c.groupId, f);
      membersExist(o, c.memberIds, ['memberIds'], f);
      return (d) => void (d.groups.get(c.groupId)!.memberIds = [...c.memberIds]);
    },
    // Replacing the list changes those who joined and those who left.
    changed: (o, c) => {
      const before = new Set(o.groups.get(c.groupId)!.memberIds);
      const after = new Set(c.memberIds);
      return membershipTargets(c.groupId, [...c.memberIds.filter((m) => !before.has(m)), ...[...before].filter((m) => !after.has(m))]);
    },
  },
  // Deltas, so that concurrent membership changes (SCIM clients) never overwrite each other. Idempotent:
  // adding a member already in the group, or removing one who is not, changes nothing and is no error.
  addGroupMembers: {
    authority: orgAction('org.groups.manage'),
    plan: (o, c, f) => {
      groupExists(o, c.groupId, f);
      membersExist(o, c.memberIds, ['memberIds'], f);
      return (d) => {
        const current = o.groups.get(c.groupId)!.memberIds;
        const added = newMembers(current, c.memberIds);
        if (added.length > 0) d.groups.get(c.groupId)!.memberIds = [...current, ...added];
      };
    },
    changed: (o, c) => membershipTargets(c.groupId, newMembers(o.groups.get(c.groupId)!.memberIds, c.memberIds)),
  },
  removeGroupMembers: {
    authority: orgAction('org.groups.manage'),
    invariants: ['admin'],
    plan: (o, c, f) => {
      const group = groupExists(o, c.groupId, f);
      noDuplicates(c.memberIds, ['memberIds'], f);
      return (d) => {
        const leaving = new Set(c.memberIds);
        if (group!.memberIds.some((m) => leaving.has(m))) d.groups.get(c.groupId)!.memberIds = group!.memberIds.filter((m) => !leaving.has(m));
      };
    },
    changed: (o, c) => {
      const leaving = new Set(c.memberIds);
      return membershipTargets(c.groupId, o.groups.get(c.groupId)!.memberIds.filter((m) => leaving.has(m)));
    },
  },
  setGroupOrgRoles: {
    authority: orgAction('org.groups.manage'),
    invariants: ['admin'],
    plan: (o, c, f) => {
      groupExists(o, c.groupId, f);
      // SPEC §7.5: a group's organization roles may be [].
      return (d) => void (d.groups.get(c.groupId)!.orgRoles = c.roleNames ?? []);
    },
  },
  setGroupWorkspaceRoles: {
    authority: inWorkspace('workspace.members.manage'),
    plan: (o, c, f) => {
      groupExists(o, c.groupId, f);
      // SPEC §5: replaces the grant; no roles is the default contributor (SPEC §3.4).
      return (d) =>
        void d.workspaces.get(c.workspaceId)!.groupGrants.set(c.groupId, c.roleNames ? { groupId: c.groupId, roles: c.roleNames } : { groupId: c.groupId });
    },
  },
  removeGroupWorkspaceRoles: {
    authority: inWorkspace('workspace.members.manage'),
    plan: (o, c, f) => {
      if (!o.workspaces.get(c.workspaceId)?.groupGrants.has(c.groupId)) {
        f.notFound('no_group_grant', ['groupId'], `group ${q(c.groupId)} holds no roles in workspace ${q(c.workspaceId)}`);
      }
      return (d) => void d.workspaces.get(c.workspaceId)!.groupGrants.delete(c.groupId);
    },
  },
};

/** The ids of `adding` not yet in `current`, in the order given (one Set: linear in both lists). */
function newMembers(current: readonly string[], adding: readonly string[]): string[] {
  const present = new Set(current);
  return adding.filter((m) => !present.has(m));
}

function noDuplicates(ids: readonly string[], path: Path, f: Findings) {
  const seen = new Set<string>();
  ids.forEach((id, i) => {
    if (seen.has(id)) f.validation('duplicate_entry', [...path, i], `member ${q(id)} is listed twice`);
    seen.add(id);
  });
}

function* membershipTargets(groupId: string, memberIds: readonly string[]): Iterable<AuditTarget> {
  yield { kind: 'group', id: groupId };
  for (const id of memberIds) yield { kind: 'member', id };
}
