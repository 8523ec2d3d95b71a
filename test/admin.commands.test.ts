/**
 * SPEC §5 admin commands: an example for each row of the table, allowed and forbidden, each payload
 * shape of the Admin API (role names, role UUIDs, both, unknown, wrong scope), the cascades of §7.7,
 * §7.18, §7.19 and the readings of §7.2–§7.5, §7.20.
 */
import { describe, expect, it } from 'vitest';
import {
  applyCommand,
  createPolicy,
  listRoles,
  organizationBuilder,
  parseOrganization,
  roleByName,
  serializeOrganization,
  workspaceMemberEntrySchema,
  type AdminErrorClass,
  type AdminErrorCode,
  type CommandResult,
  type Organization,
} from 'org-policy';
import { policyFor } from '../src/admin/policy.js';

const NOW = '2026-11-25T08:00:00Z';
const uuid = (name: string) => roleByName(name)!.id;

function acme(): Organization {
  return organizationBuilder('acme')
    .member('ada', 'organization_admin', { seats: ['mistral_code'] })
    .member('bruno', ['member', 'billing_manager'])
    .member('wanda')
    .member('carl')
    .member('dora')
    .member('sue', 'member', { status: 'suspended' })
    .group('eng', ['carl'])
    .workspace('w1', { members: { wanda: 'workspace_admin', carl: null }, groups: { eng: 'dev' } })
    .workspace('w2', { members: { dora: 'dev' } })
    .connector('jira', { tools: ['search', 'create!'] })
    .connector('wiki', { visibility: 'workspace', workspaceIds: ['w1'], tools: ['read'] })
    .permission('jira', 'restricted', ['search', 'create'])
    .permission('jira', 'restricted', ['create'], 'w1')
    .credential('c-org', 'jira', 'organization')
    .credential('c-ws', 'jira', { workspace: 'w1' })
    .credential('c-carl', 'jira', { member: 'carl' })
    .apiKey('k1', 'w1', { connectorScopes: ['jira', 'wiki'] })
    .apiKey('k2', 'w2')
    .seatPool('mistral_code', 2)
    .organization();
}

const ORG = acme();

function applied(result: CommandResult): Organization {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.error)}`);
  expect(result.snapshot.revision).toBe(ORG.revision + 1);
  expect(result.event.result).toEqual({ status: 'applied', revision: result.snapshot.revision });
  expect(parseOrganization(serializeOrganization(result.snapshot)).ok).toBe(true);
  return result.snapshot;
}

function refused(result: CommandResult, cls: AdminErrorClass, code: AdminErrorCode, input: Organization = ORG) {
  if (result.ok) throw new Error('applied, expected a refusal');
  expect(result.error.class).toBe(cls);
  expect(result.error.code).toBe(code);
  expect(result.snapshot).toBe(input);
  expect(result.event.result).toEqual({ status: 'refused', class: cls, code });
  return result.error;
}

const run = (actor: string, command: unknown, org = ORG) => applyCommand(org, actor, command, { now: NOW });

describe('SPEC §5 members: invite, suspend, reactivate, remove, email — org.members.manage', () => {
  it('an organization admin invites a member; new members get org role member unless roles are given', () => {
    const next = applied(run('ada', { type: 'inviteMember', memberId: 'eve', email: 'eve@acme.test' }));
    expect(next.members.get('eve')).toEqual({ id: 'eve', email: 'eve@acme.test', status: 'active', orgRoles: ['member'], seats: [] });
    const billing = applied(run('ada', { type: 'inviteMember', memberId: 'fay', email: 'fay@acme.test', roleNames: ['billing_manager'] }));
    expect(billing.members.get('fay')!.orgRoles).toEqual(['billing_manager']);
  });
  it('billing managers, plain members, workspace admins, API keys and unknown ids may not invite', () => {
    for (const actor of ['bruno', 'carl', 'wanda', 'k1', 'nobody']) refused(run(actor, { type: 'inviteMember', memberId: 'eve', email: 'eve@acme.test' }), 'forbidden', 'forbidden');
  });
  it('§7.13 a well-formed email; §1 emails unique case-insensitively; the id not taken by a member or key', () => {
    refused(run('ada', { type: 'inviteMember', memberId: 'eve', email: 'not an email' }), 'validation', 'invalid_format');
    refused(run('ada', { type: 'inviteMember', memberId: 'eve', email: 'CARL@example.com' }), 'validation', 'duplicate_email');
    refused(run('ada', { type: 'inviteMember', memberId: 'carl', email: 'x@acme.test' }), 'validation', 'id_taken');
    refused(run('ada', { type: 'inviteMember', memberId: 'k1', email: 'x@acme.test' }), 'validation', 'id_taken');
  });
  it('suspend and reactivate', () => {
    const suspended = applied(run('ada', { type: 'suspendMember', memberId: 'carl' }));
    expect(suspended.members.get('carl')!.status).toBe('suspended');
    expect(applied(run('ada', { type: 'reactivateMember', memberId: 'sue' })).members.get('sue')!.status).toBe('active');
    refused(run('wanda', { type: 'suspendMember', memberId: 'carl' }), 'forbidden', 'forbidden');
    refused(run('ada', { type: 'suspendMember', memberId: 'ghost' }), 'not_found', 'member_not_found');
  });
  it('§7.6 suspending or removing the last active organization_admin is an invariant error', () => {
    refused(run('ada', { type: 'suspendMember', memberId: 'ada' }), 'invariant', 'last_organization_admin');
    refused(run('ada', { type: 'removeMember', memberId: 'ada' }), 'invariant', 'last_organization_admin');
  });
  it('§7.7 removing a member takes it out of its workspaces and groups and deletes its own credentials', () => {
    const next = applied(run('ada', { type: 'removeMember', memberId: 'carl' }));
    expect(next.members.has('carl')).toBe(false);
    expect(next.groups.get('eng')!.memberIds).toEqual([]);
    expect(next.workspaces.get('w1')!.members.has('carl')).toBe(false);
    expect(next.credentials.has('c-carl')).toBe(false);
    expect(next.credentials.has('c-ws')).toBe(true);
    refused(run('bruno', { type: 'removeMember', memberId: 'carl' }), 'forbidden', 'forbidden');
  });
  it('§7.7 re-creating a removed id starts from nothing', () => {
    const removed = applied(run('ada', { type: 'removeMember', memberId: 'carl' }));
    const again = applyCommand(removed, 'ada', { type: 'inviteMember', memberId: 'carl', email: 'carl2@acme.test' });
    expect(again.ok && createPolicy(again.snapshot).can('carl', 'vibe.use', 'w1')).toBe(false);
  });
  it('change email', () => {
    expect(applied(run('ada', { type: 'changeMemberEmail', memberId: 'carl', email: 'c@acme.test' })).members.get('carl')!.email).toBe('c@acme.test');
    applied(run('ada', { type: 'changeMemberEmail', memberId: 'carl', email: 'CARL@example.com' })); // its own email, case changed
    refused(run('ada', { type: 'changeMemberEmail', memberId: 'carl', email: 'dora@example.com' }), 'validation', 'duplicate_email');
    refused(run('carl', { type: 'changeMemberEmail', memberId: 'carl', email: 'c@acme.test' }), 'forbidden', 'forbidden');
  });
});

describe('SPEC §5 setMemberOrgRoles (PATCH /api/admin/users/<uuid>): org roles by roleNames or roleIds', () => {
  it('by role names — replaces', () => {
    const next = applied(run('ada', { type: 'setMemberOrgRoles', memberId: 'bruno', roleNames: ['member'] }));
    expect(next.members.get('bruno')!.orgRoles).toEqual(['member']);
  });
  it('by role UUIDs', () => {
    const next = applied(run('ada', { type: 'setMemberOrgRoles', memberId: 'carl', roleIds: [uuid('organization_admin'), uuid('member')] }));
    expect(next.members.get('carl')!.orgRoles).toEqual(['organization_admin', 'member']);
  });
  it("one vocabulary: the Admin API's own JSON (role_names, roles as UUIDs) is not a command field", () => {
    const error = refused(run('ada', { type: 'setMemberOrgRoles', memberId: 'carl', role_names: ['member'] }), 'validation', 'unknown_field');
    expect(error.problems!.map((p) => [p.code, p.path])).toContainEqual(['unknown_field', ['role_names']]);
    refused(run('ada', { type: 'setMemberOrgRoles', memberId: 'carl', roles: [uuid('member')] }), 'validation', 'unknown_field');
    // A created entity is named by its kind's field too: inviteMember takes memberId, not id.
    const invite = refused(run('ada', { type: 'inviteMember', id: 'eve', email: 'eve@acme.test' }), 'validation', 'missing_field');
    expect(invite.problems!.map((p) => [p.code, p.path])).toEqual([
      ['missing_field', ['memberId']],
      ['unknown_field', ['id']],
    ]);
  });
  it('names and UUIDs at once: validation error', () => {
    refused(run('ada', { type: 'setMemberOrgRoles', memberId: 'carl', roleNames: ['member'], roleIds: [uuid('member')] }), 'validation', 'conflicting_role_fields');
  });
  it('unknown roles (name or UUID) and workspace-scoped roles are validation errors, all listed', () => {
    const error = refused(run('ada', { type: 'setMemberOrgRoles', memberId: 'carl', roleNames: ['member', 'owner', 'workspace_admin'] }), 'validation', 'unknown_role');
    expect(error.problems!.map((p) => [p.code, p.path])).toEqual([
      ['unknown_role', ['roleNames', 1]],
      ['wrong_scope_role', ['roleNames', 2]],
    ]);
    refused(run('ada', { type: 'setMemberOrgRoles', memberId: 'carl', roleIds: ['00000000-0000-0000-0000-000000000000'] }), 'validation', 'unknown_role');
    refused(run('ada', { type: 'setMemberOrgRoles', memberId: 'carl', roleIds: [uuid('dev')] }), 'validation', 'wrong_scope_role');
  });
  it('§7.5 an empty list is a validation error; missing both fields too', () => {
    refused(run('ada', { type: 'setMemberOrgRoles', memberId: 'carl', roleNames: [] }), 'validation', 'empty_roles');
    refused(run('ada', { type: 'setMemberOrgRoles', memberId: 'carl' }), 'validation', 'missing_field');
  });
  it('demoting the last organization_admin is an invariant error; with a group admin it is allowed', () => {
    refused(run('ada', { type: 'setMemberOrgRoles', memberId: 'ada', roleNames: ['member'] }), 'invariant', 'last_organization_admin');
    const withGroup = applied(run('ada', { type: 'createGroup', groupId: 'admins', name: 'Admins', memberIds: ['wanda'], roleNames: ['organization_admin'] }));
    expect(applyCommand(withGroup, 'ada', { type: 'setMemberOrgRoles', memberId: 'ada', roleNames: ['member'] }).ok).toBe(true);
  });
  it('§7.3 a workspace admin gives nothing at the organization level', () => {
    refused(run('wanda', { type: 'setMemberOrgRoles', memberId: 'wanda', roleNames: ['organization_admin'] }), 'forbidden', 'forbidden');
  });
});

describe('SPEC §5 seats and seat pools', () => {
  it('assign / release a seat: org.members.manage; no more seats than bought', () => {
    const one = applied(run('ada', { type: 'assignSeat', memberId: 'carl', product: 'mistral_code' }));
    expect(one.members.get('carl')!.seats).toEqual(['mistral_code']);
    refused(applyCommand(one, 'ada', { type: 'assignSeat', memberId: 'dora', product: 'mistral_code' }), 'invariant', 'seats_exceeded', one);
    expect(applied(run('ada', { type: 'releaseSeat', memberId: 'ada', product: 'mistral_code' })).members.get('ada')!.seats).toEqual([]);
    refused(run('bruno', { type: 'assignSeat', memberId: 'carl', product: 'mistral_code' }), 'forbidden', 'forbidden');
    refused(run('ada', { type: 'releaseSeat', memberId: 'carl', product: 'mistral_code' }), 'validation', 'seat_not_assigned');
  });
  it('set a pool size: org.billing.manage; §7.20 not below the seats in use', () => {
    expect(applied(run('bruno', { type: 'setSeatPoolSize', product: 'mistral_code', size: 5 })).seatPools.get('mistral_code')!.size).toBe(5);
    refused(run('bruno', { type: 'setSeatPoolSize', product: 'mistral_code', size: 0 }), 'invariant', 'seats_exceeded');
    refused(run('carl', { type: 'setSeatPoolSize', product: 'mistral_code', size: 5 }), 'forbidden', 'forbidden');
    refused(run('bruno', { type: 'setSeatPoolSize', product: 'mistral_code', size: -1 }), 'validation', 'invalid_value');
  });
});

describe('SPEC §5 workspaces: create, rename, delete — org.workspaces.manage', () => {
  it('create and rename', () => {
    const created = applied(run('ada', { type: 'createWorkspace', workspaceId: 'w3', name: 'Lab' }));
    expect(created.workspaces.get('w3')!.name).toBe('Lab');
    expect(applied(run('ada', { type: 'renameWorkspace', workspaceId: 'w1', name: 'One' })).workspaces.get('w1')!.name).toBe('One');
    refused(run('ada', { type: 'createWorkspace', workspaceId: 'w1', name: 'dup' }), 'validation', 'id_taken');
    refused(run('wanda', { type: 'renameWorkspace', workspaceId: 'w1', name: 'One' }), 'forbidden', 'forbidden');
  });
  it('§7.20 organization-level commands on a missing workspace: not_found', () => {
    refused(run('ada', { type: 'renameWorkspace', workspaceId: 'ghost', name: 'x' }), 'not_found', 'workspace_not_found');
    refused(run('ada', { type: 'deleteWorkspace', workspaceId: 'ghost' }), 'not_found', 'workspace_not_found');
  });
  it('§7.7, §7.18 deleting a workspace deletes its API keys, credentials, entries and grants and drops it from connectors', () => {
    const next = applied(run('ada', { type: 'deleteWorkspace', workspaceId: 'w1' }));
    expect(next.workspaces.has('w1')).toBe(false);
    expect(next.apiKeys.has('k1')).toBe(false);
    expect(next.apiKeys.has('k2')).toBe(true);
    expect(next.credentials.has('c-ws')).toBe(false);
    expect(next.connectors.get('wiki')!.workspaceIds).toEqual([]);
    refused(run('wanda', { type: 'deleteWorkspace', workspaceId: 'w1' }), 'forbidden', 'forbidden');
  });
});

describe('SPEC §5 addWorkspaceMembers (PATCH /api/admin/workspaces/<uuid>/users), setWorkspaceMemberRoles, removeWorkspaceMember — workspace.members.manage there', () => {
  it('role names and role UUIDs', () => {
    const next = applied(
      run('wanda', {
        type: 'addWorkspaceMembers',
        workspaceId: 'w1',
        members: [
          { memberId: 'dora', roleNames: ['workspace_admin'] },
          { memberId: 'bruno', roleIds: [uuid('observability_viewer'), uuid('user')] },
        ],
      }),
    );
    expect(next.workspaces.get('w1')!.members.get('dora')!.roles).toEqual(['workspace_admin']);
    expect(next.workspaces.get('w1')!.members.get('bruno')!.roles).toEqual(['observability_viewer', 'user']);
  });
  it('an entry is { memberId, roleNames? | roleIds? }; user_uuid is the HTTP edge\'s word, not the library\'s', () => {
    expect(workspaceMemberEntrySchema.parse({ memberId: 'u1', roleIds: [uuid('workspace_admin')] })).toEqual({ memberId: 'u1', roleNames: ['workspace_admin'] });
    expect(workspaceMemberEntrySchema.parse({ memberId: 'u2' })).toEqual({ memberId: 'u2', roleNames: undefined });
    const error = refused(run('wanda', { type: 'addWorkspaceMembers', workspaceId: 'w1', members: [{ user_uuid: 'dora' }] }), 'validation', 'missing_field');
    expect(error.problems!.map((p) => [p.code, p.path])).toEqual([
      ['missing_field', ['members', 0, 'memberId']],
      ['unknown_field', ['members', 0, 'user_uuid']],
    ]);
  });
  it('§3.4 no roles: the default contributor, kept absent', () => {
    const next = applied(run('ada', { type: 'addWorkspaceMembers', workspaceId: 'w2', members: [{ memberId: 'ada' }] }));
    expect(next.workspaces.get('w2')!.members.get('ada')).toEqual({ memberId: 'ada' });
    expect(createPolicy(next).can('ada', 'studio.use', 'w2')).toBe(true);
  });
  it('§7.20 adding a member already there replaces its roles — never a merge — or resets to the default', () => {
    const next = applied(run('wanda', { type: 'addWorkspaceMembers', workspaceId: 'w1', members: [{ memberId: 'wanda' }] }));
    expect(next.workspaces.get('w1')!.members.get('wanda')).toEqual({ memberId: 'wanda' });
  });
  it('both fields, unknown, empty and organization-scoped roles are validation errors, every one listed', () => {
    const error = refused(
      run('wanda', {
        type: 'addWorkspaceMembers',
        workspaceId: 'w1',
        members: [
          { memberId: 'dora', roleNames: ['dev'], roleIds: [uuid('dev')] },
          { memberId: 'bruno', roleNames: ['organization_admin'] },
          { memberId: 'carl', roleIds: ['nope'] },
          { memberId: 'ada', roleNames: [] },
        ],
      }),
      'validation',
      'conflicting_role_fields',
    );
    expect(error.problems!.map((p) => [p.code, p.path])).toEqual([
      ['conflicting_role_fields', ['members', 0, 'roleIds']],
      ['wrong_scope_role', ['members', 1, 'roleNames', 0]],
      ['unknown_role', ['members', 2, 'roleIds', 0]],
      ['empty_roles', ['members', 3, 'roleNames']],
    ]);
  });
  it('§7.2 only organization members: someone else is not_found; nothing half applied', () => {
    const error = refused(
      run('wanda', { type: 'addWorkspaceMembers', workspaceId: 'w1', members: [{ memberId: 'dora' }, { memberId: 'stranger' }] }),
      'not_found',
      'member_not_found',
    );
    expect(error.path).toEqual(['members', 1, 'memberId']);
  });
  it('§7.3 a workspace admin gives any workspace role in its own workspace, nothing in another', () => {
    applied(run('wanda', { type: 'addWorkspaceMembers', workspaceId: 'w1', members: [{ memberId: 'carl', roleNames: ['workspace_admin', 'observability_viewer'] }] }));
    refused(run('wanda', { type: 'addWorkspaceMembers', workspaceId: 'w2', members: [{ memberId: 'carl' }] }), 'forbidden', 'forbidden');
  });
  it('D1 an organization admin manages every workspace; contributors, billing managers and keys do not', () => {
    applied(run('ada', { type: 'addWorkspaceMembers', workspaceId: 'w2', members: [{ memberId: 'carl' }] }));
    for (const actor of ['carl', 'bruno', 'k1', 'sue']) {
      refused(run(actor, { type: 'addWorkspaceMembers', workspaceId: 'w1', members: [{ memberId: 'dora' }] }), 'forbidden', 'forbidden');
    }
  });
  it('§7.20 on a workspace that does not exist: forbidden for everyone, organization admins included', () => {
    for (const actor of ['ada', 'wanda', 'carl']) {
      refused(run(actor, { type: 'addWorkspaceMembers', workspaceId: 'ghost', members: [{ memberId: 'dora' }] }), 'forbidden', 'forbidden');
    }
  });
  it('change and remove a workspace member; org-scoped role here is an error', () => {
    const changed = applied(run('wanda', { type: 'setWorkspaceMemberRoles', workspaceId: 'w1', memberId: 'carl', roleNames: ['user'] }));
    expect(changed.workspaces.get('w1')!.members.get('carl')!.roles).toEqual(['user']);
    refused(run('wanda', { type: 'setWorkspaceMemberRoles', workspaceId: 'w1', memberId: 'carl', roleNames: ['billing_manager'] }), 'validation', 'wrong_scope_role');
    refused(run('wanda', { type: 'setWorkspaceMemberRoles', workspaceId: 'w1', memberId: 'dora', roleNames: ['user'] }), 'not_found', 'not_a_workspace_member');
    const removed = applied(run('wanda', { type: 'removeWorkspaceMember', workspaceId: 'w1', memberId: 'carl' }));
    expect(removed.workspaces.get('w1')!.members.has('carl')).toBe(false);
    refused(run('dora', { type: 'removeWorkspaceMember', workspaceId: 'w1', memberId: 'carl' }), 'forbidden', 'forbidden');
  });
});

describe('SPEC §5 groups — org.groups.manage', () => {
  it('create, rename, set members, set org roles ([] allowed, §7.5)', () => {
    let org = applied(run('ada', { type: 'createGroup', groupId: 'ops', name: 'Ops', memberIds: ['dora'] }));
    expect(org.groups.get('ops')).toEqual({ id: 'ops', name: 'Ops', memberIds: ['dora'], orgRoles: [] });
    const step = (command: unknown) => {
      const result = applyCommand(org, 'ada', command);
      if (!result.ok) throw new Error(JSON.stringify(result.error));
      org = result.snapshot;
    };
    step({ type: 'renameGroup', groupId: 'ops', name: 'Operations' });
    step({ type: 'setGroupMembers', groupId: 'ops', memberIds: ['carl', 'dora'] });
    step({ type: 'setGroupOrgRoles', groupId: 'ops', roleIds: [uuid('billing_manager')] });
    expect(org.groups.get('ops')).toEqual({ id: 'ops', name: 'Operations', memberIds: ['carl', 'dora'], orgRoles: ['billing_manager'] });
    step({ type: 'setGroupOrgRoles', groupId: 'ops', roleNames: [] });
    expect(org.groups.get('ops')!.orgRoles).toEqual([]);
  });
  it('not organization members, unknown groups, taken ids', () => {
    refused(run('ada', { type: 'setGroupMembers', groupId: 'eng', memberIds: ['ghost'] }), 'not_found', 'member_not_found');
    refused(run('ada', { type: 'renameGroup', groupId: 'ghost', name: 'x' }), 'not_found', 'group_not_found');
    refused(run('ada', { type: 'createGroup', groupId: 'eng', name: 'x' }), 'validation', 'id_taken');
    refused(run('ada', { type: 'setGroupOrgRoles', groupId: 'eng', roleNames: ['dev'] }), 'validation', 'wrong_scope_role');
  });
  it('deleting a group removes its grants', () => {
    const next = applied(run('ada', { type: 'deleteGroup', groupId: 'eng' }));
    expect(next.groups.has('eng')).toBe(false);
    expect(next.workspaces.get('w1')!.groupGrants.has('eng')).toBe(false);
  });
  it('§7.6 the last admin through a group: emptying, demoting or deleting it is an invariant error', () => {
    const org = organizationBuilder('o').member('ada').member('bob').group('admins', ['ada'], ['organization_admin']).organization();
    refused(applyCommand(org, 'ada', { type: 'setGroupMembers', groupId: 'admins', memberIds: [] }), 'invariant', 'last_organization_admin', org);
    refused(applyCommand(org, 'ada', { type: 'setGroupOrgRoles', groupId: 'admins', roleNames: ['member'] }), 'invariant', 'last_organization_admin', org);
    refused(applyCommand(org, 'ada', { type: 'deleteGroup', groupId: 'admins' }), 'invariant', 'last_organization_admin', org);
    expect(applyCommand(org, 'ada', { type: 'setGroupMembers', groupId: 'admins', memberIds: ['bob'] }).ok).toBe(true);
  });
  it('others may not', () => {
    for (const actor of ['bruno', 'wanda', 'carl', 'k1']) refused(run(actor, { type: 'createGroup', groupId: 'x', name: 'x' }), 'forbidden', 'forbidden');
  });
});

describe('SPEC §5 group membership deltas: addGroupMembers, removeGroupMembers — org.groups.manage', () => {
  it('add appends the new members in the order given; someone already there is a no-op, not an error', () => {
    const result = run('ada', { type: 'addGroupMembers', groupId: 'eng', memberIds: ['dora', 'carl', 'wanda'] });
    expect(applied(result).groups.get('eng')!.memberIds).toEqual(['carl', 'dora', 'wanda']);
    // the targets are what changed: carl was already in eng
    expect(result.event.targets).toEqual([
      { kind: 'group', id: 'eng' },
      { kind: 'member', id: 'dora' },
      { kind: 'member', id: 'wanda' },
    ]);
    const again = run('ada', { type: 'addGroupMembers', groupId: 'eng', memberIds: ['carl'] });
    expect(applied(again).groups.get('eng')).toBe(ORG.groups.get('eng'));
    expect(again.event.targets).toEqual([{ kind: 'group', id: 'eng' }]);
  });
  it('remove takes out the members listed; someone not there (or unknown) is a no-op', () => {
    const withTwo = applied(run('ada', { type: 'addGroupMembers', groupId: 'eng', memberIds: ['dora'] }));
    const result = applyCommand(withTwo, 'ada', { type: 'removeGroupMembers', groupId: 'eng', memberIds: ['carl', 'wanda', 'ghost'] }, { now: NOW });
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    expect(result.snapshot.groups.get('eng')!.memberIds).toEqual(['dora']);
    expect(result.event.targets).toEqual([
      { kind: 'group', id: 'eng' },
      { kind: 'member', id: 'carl' },
    ]);
    const none = applied(run('ada', { type: 'removeGroupMembers', groupId: 'eng', memberIds: ['dora'] }));
    expect(none.groups.get('eng')).toBe(ORG.groups.get('eng'));
  });
  it('two deltas computed on the same snapshot do not overwrite each other when applied in turn', () => {
    const first = applied(run('ada', { type: 'addGroupMembers', groupId: 'eng', memberIds: ['dora'] }));
    const second = applyCommand(first, 'ada', { type: 'addGroupMembers', groupId: 'eng', memberIds: ['wanda'] });
    expect(second.ok && second.snapshot.groups.get('eng')!.memberIds).toEqual(['carl', 'dora', 'wanda']);
  });
  it('a member added must be an organization member; a list names each member once and is not empty', () => {
    refused(run('ada', { type: 'addGroupMembers', groupId: 'eng', memberIds: ['ghost'] }), 'not_found', 'member_not_found');
    refused(run('ada', { type: 'addGroupMembers', groupId: 'ghost', memberIds: ['dora'] }), 'not_found', 'group_not_found');
    expect(refused(run('ada', { type: 'addGroupMembers', groupId: 'eng', memberIds: ['dora', 'dora'] }), 'validation', 'duplicate_entry').path).toEqual(['memberIds', 1]);
    expect(refused(run('ada', { type: 'removeGroupMembers', groupId: 'eng', memberIds: ['carl', 'carl'] }), 'validation', 'duplicate_entry').path).toEqual(['memberIds', 1]);
    refused(run('ada', { type: 'addGroupMembers', groupId: 'eng', memberIds: [] }), 'validation', 'invalid_value');
    refused(run('ada', { type: 'removeGroupMembers', groupId: 'ghost', memberIds: ['carl'] }), 'not_found', 'group_not_found');
  });
  it('§7.6 removing the last active admin from an admin group is an invariant error; others may not', () => {
    const org = organizationBuilder('o').member('ada').member('bob').group('admins', ['ada'], ['organization_admin']).organization();
    refused(applyCommand(org, 'ada', { type: 'removeGroupMembers', groupId: 'admins', memberIds: ['ada'] }), 'invariant', 'last_organization_admin', org);
    for (const actor of ['bruno', 'wanda', 'carl', 'k1']) {
      refused(run(actor, { type: 'addGroupMembers', groupId: 'eng', memberIds: ['dora'] }), 'forbidden', 'forbidden');
      refused(run(actor, { type: 'removeGroupMembers', groupId: 'eng', memberIds: ['carl'] }), 'forbidden', 'forbidden');
    }
  });
  it('setGroupMembers audits those who joined and those who left', () => {
    const result = run('ada', { type: 'setGroupMembers', groupId: 'eng', memberIds: ['dora'] });
    applied(result);
    expect(result.event.targets).toEqual([
      { kind: 'group', id: 'eng' },
      { kind: 'member', id: 'dora' },
      { kind: 'member', id: 'carl' },
    ]);
  });
});

describe('SPEC §5 group workspace grants — workspace.members.manage there', () => {
  it('grant with roles, with none (default contributor), and remove', () => {
    const granted = applied(run('wanda', { type: 'setGroupWorkspaceRoles', workspaceId: 'w1', groupId: 'eng', roleNames: ['user'] }));
    expect(granted.workspaces.get('w1')!.groupGrants.get('eng')).toEqual({ groupId: 'eng', roles: ['user'] });
    const byDefault = applied(run('ada', { type: 'setGroupWorkspaceRoles', workspaceId: 'w2', groupId: 'eng' }));
    expect(byDefault.workspaces.get('w2')!.groupGrants.get('eng')).toEqual({ groupId: 'eng' });
    const removed = applied(run('wanda', { type: 'removeGroupWorkspaceRoles', workspaceId: 'w1', groupId: 'eng' }));
    expect(removed.workspaces.get('w1')!.groupGrants.size).toBe(0);
  });
  it('forbidden elsewhere and for non-admins; an unknown group is not_found; a missing workspace forbidden', () => {
    refused(run('wanda', { type: 'setGroupWorkspaceRoles', workspaceId: 'w2', groupId: 'eng' }), 'forbidden', 'forbidden');
    refused(run('carl', { type: 'removeGroupWorkspaceRoles', workspaceId: 'w1', groupId: 'eng' }), 'forbidden', 'forbidden');
    refused(run('wanda', { type: 'setGroupWorkspaceRoles', workspaceId: 'w1', groupId: 'ghost' }), 'not_found', 'group_not_found');
    refused(run('ada', { type: 'removeGroupWorkspaceRoles', workspaceId: 'ghost', groupId: 'eng' }), 'forbidden', 'forbidden');
    refused(run('wanda', { type: 'removeGroupWorkspaceRoles', workspaceId: 'w1', groupId: 'nope' }), 'not_found', 'no_group_grant');
  });
});

describe('SPEC §5 connectors — org.connectors.manage', () => {
  const slack = { type: 'registerConnector', connectorId: 'slack', name: 'slack', visibility: 'organization', authentication: 'oauth2', origin: 'featured', capabilities: 'read_write', tools: [{ name: 'post', access: 'write' }] };
  it('register, and who may', () => {
    expect(applied(run('ada', slack)).connectors.get('slack')!.tools).toEqual([{ name: 'post', access: 'write' }]);
    for (const actor of ['wanda', 'bruno', 'k1']) refused(run(actor, slack), 'forbidden', 'forbidden');
  });
  it('§7.12 definitions: slug, unique name, unique tools, no write tool on read_only; §7.18 workspace connectors need a workspace', () => {
    const error = refused(
      run('ada', { ...slack, name: 'jira', capabilities: 'read_only', tools: [{ name: 'post', access: 'write' }, { name: 'post', access: 'read' }] }),
      'validation',
      'duplicate_name',
    );
    expect(error.problems!.map((p) => p.code)).toEqual(['duplicate_name', 'write_tool_on_read_only', 'duplicate_entry']);
    refused(run('ada', { ...slack, name: 'Not A Slug' }), 'validation', 'invalid_format');
    refused(run('ada', { ...slack, visibility: 'workspace' }), 'validation', 'workspace_required');
    refused(run('ada', { ...slack, visibility: 'workspace', workspaceIds: ['ghost'] }), 'not_found', 'workspace_not_found');
    refused(run('ada', { ...slack, workspaceIds: ['w1'] }), 'validation', 'workspace_ids_not_allowed');
    refused(run('ada', { ...slack, visibility: 'sometimes' }), 'validation', 'invalid_value');
  });
  it('§7.19 an update that loses tools removes them from restricted lists; an emptied list becomes blocked', () => {
    const next = applied(run('ada', { type: 'updateConnector', connectorId: 'jira', tools: [{ name: 'search', access: 'read' }] }));
    expect(next.connectorPermissions.get('jira')).toEqual({ connectorId: 'jira', mode: 'restricted', tools: ['search'] });
    expect(next.workspaces.get('w1')!.connectorPermissions.get('jira')).toEqual({ connectorId: 'jira', mode: 'blocked' });
    refused(run('ada', { type: 'updateConnector', connectorId: 'ghost', name: 'x' }), 'not_found', 'connector_not_found');
    refused(run('ada', { type: 'updateConnector', connectorId: 'wiki', workspaceIds: [] }), 'validation', 'workspace_required');
  });
  it('removing one removes its permissions, credentials and key scopes', () => {
    const next = applied(run('ada', { type: 'removeConnector', connectorId: 'jira' }));
    expect(next.connectors.has('jira')).toBe(false);
    expect(next.connectorPermissions.has('jira')).toBe(false);
    expect(next.workspaces.get('w1')!.connectorPermissions.has('jira')).toBe(false);
    expect([...next.credentials.keys()]).toEqual([]);
    expect(next.apiKeys.get('k1')!.connectorScopes).toEqual(['wiki']);
    refused(run('wanda', { type: 'removeConnector', connectorId: 'jira' }), 'forbidden', 'forbidden');
  });
  it('organization permission: restricted names only tools the connector has (§7.8)', () => {
    const next = applied(run('ada', { type: 'setConnectorPermission', connectorId: 'jira', mode: 'blocked' }));
    expect(next.connectorPermissions.get('jira')).toEqual({ connectorId: 'jira', mode: 'blocked' });
    refused(run('ada', { type: 'setConnectorPermission', connectorId: 'jira', mode: 'restricted', tools: ['delete'] }), 'validation', 'unknown_tool');
    refused(run('ada', { type: 'setConnectorPermission', connectorId: 'jira', mode: 'restricted' }), 'validation', 'restricted_without_tools');
    refused(run('ada', { type: 'setConnectorPermission', connectorId: 'jira', mode: 'allowed', tools: ['search'] }), 'validation', 'tools_not_restricted');
    refused(run('wanda', { type: 'setConnectorPermission', connectorId: 'jira', mode: 'blocked' }), 'forbidden', 'forbidden');
  });
  it('App Connections: an organization credential', () => {
    const next = applied(run('ada', { type: 'addCredential', credentialId: 'c-wiki', connectorId: 'wiki', holder: 'organization' }));
    expect(next.credentials.get('c-wiki')).toEqual({ id: 'c-wiki', connectorId: 'wiki', holder: 'organization' });
    refused(run('wanda', { type: 'addCredential', credentialId: 'c-wiki', connectorId: 'wiki', holder: 'organization' }), 'forbidden', 'forbidden');
    applied(run('ada', { type: 'removeCredential', credentialId: 'c-org' }));
    refused(run('ada', { type: 'removeCredential', credentialId: 'ghost' }), 'not_found', 'credential_not_found');
    refused(run('carl', { type: 'removeCredential', credentialId: 'ghost' }), 'forbidden', 'forbidden');
  });
});

describe('SPEC §5 workspace connector permission — workspace.connectors.manage there', () => {
  it('a workspace admin sets it in its workspace, not elsewhere; restricted names only existing tools', () => {
    const next = applied(run('wanda', { type: 'setConnectorPermission', workspaceId: 'w1', connectorId: 'jira', mode: 'restricted', tools: ['search'] }));
    expect(next.workspaces.get('w1')!.connectorPermissions.get('jira')).toEqual({ connectorId: 'jira', mode: 'restricted', tools: ['search'] });
    refused(run('wanda', { type: 'setConnectorPermission', workspaceId: 'w2', connectorId: 'jira', mode: 'blocked' }), 'forbidden', 'forbidden');
    refused(run('wanda', { type: 'setConnectorPermission', workspaceId: 'w1', connectorId: 'jira', mode: 'restricted', tools: ['x'] }), 'validation', 'unknown_tool');
    refused(run('ada', { type: 'setConnectorPermission', workspaceId: 'ghost', connectorId: 'jira', mode: 'blocked' }), 'forbidden', 'forbidden');
  });
});

describe('SPEC §5 setConnectorPermission: one command, workspaceId absent = the organization level', () => {
  it('without workspaceId it sets the organization level and needs org.connectors.manage', () => {
    const next = applied(run('ada', { type: 'setConnectorPermission', connectorId: 'jira', mode: 'allowed' }));
    expect(next.connectorPermissions.get('jira')).toEqual({ connectorId: 'jira', mode: 'allowed' });
    expect(next.workspaces.get('w1')!.connectorPermissions.get('jira')).toEqual(ORG.workspaces.get('w1')!.connectorPermissions.get('jira'));
    // a workspace admin manages its own workspace's level only
    refused(run('wanda', { type: 'setConnectorPermission', connectorId: 'jira', mode: 'allowed' }), 'forbidden', 'forbidden');
  });
  it('with workspaceId it sets that workspace and leaves the organization level alone', () => {
    const next = applied(run('wanda', { type: 'setConnectorPermission', workspaceId: 'w1', connectorId: 'jira', mode: 'blocked' }));
    expect(next.workspaces.get('w1')!.connectorPermissions.get('jira')).toEqual({ connectorId: 'jira', mode: 'blocked' });
    expect(next.connectorPermissions).toBe(ORG.connectorPermissions);
  });
  it('a workspaceId that is not a string names no level: forbidden for everyone, before the payload', () => {
    for (const workspaceId of [null, 7, ['w1']]) refused(run('ada', { type: 'setConnectorPermission', workspaceId, connectorId: 'jira', mode: 'blocked' }), 'forbidden', 'forbidden');
  });
});

describe('SPEC §7.21 names of workspaces, groups and API keys in commands', () => {
  const names: [string, string][] = [
    ['', 'empty_name'],
    ['   ', 'empty_name'],
    ['\t\n', 'empty_name'],
    ['Line\nbreak', 'control_character'],
    ['bell\u0007', 'control_character'],
    ['del\u007f', 'control_character'],
    ['c1\u0085', 'control_character'],
  ];
  const commands = (name: string) => [
    { type: 'createWorkspace', workspaceId: 'w9', name },
    { type: 'renameWorkspace', workspaceId: 'w1', name },
    { type: 'createGroup', groupId: 'g9', name },
    { type: 'renameGroup', groupId: 'eng', name },
    { type: 'createApiKey', keyId: 'k9', workspaceId: 'w1', name },
  ];
  it.each(names)('%j is a validation error (%s) with the path of the name', (name, code) => {
    for (const command of commands(name)) {
      const error = refused(run('ada', command), 'validation', code as AdminErrorCode);
      expect(error.path).toEqual(['name']);
    }
  });
  it('a name with letters, inner spaces and non-ASCII text is kept as given', () => {
    for (const command of commands('Équipe  R&D 🚀')) applied(run('ada', command));
    expect(applied(run('ada', { type: 'renameWorkspace', workspaceId: 'w1', name: ' Research ' })).workspaces.get('w1')!.name).toBe(' Research ');
  });
});

describe('SPEC §5, §7.4 credentials at three levels', () => {
  it('workspace credentials: workspace.connectors.manage there', () => {
    applied(run('wanda', { type: 'addCredential', credentialId: 'c2', connectorId: 'jira', holder: 'workspace', workspaceId: 'w1' }));
    applied(run('wanda', { type: 'removeCredential', credentialId: 'c-ws' }));
    refused(run('wanda', { type: 'addCredential', credentialId: 'c2', connectorId: 'jira', holder: 'workspace', workspaceId: 'w2' }), 'forbidden', 'forbidden');
    refused(run('carl', { type: 'removeCredential', credentialId: 'c-ws' }), 'forbidden', 'forbidden');
  });
  it("a member's own credentials: that member only — not an admin, not while suspended", () => {
    const next = applied(run('dora', { type: 'addCredential', credentialId: 'c-dora', connectorId: 'jira', holder: 'member', memberId: 'dora' }));
    expect(next.credentials.get('c-dora')).toEqual({ id: 'c-dora', connectorId: 'jira', holder: 'member', memberId: 'dora' });
    applied(run('carl', { type: 'removeCredential', credentialId: 'c-carl' }));
    refused(run('ada', { type: 'addCredential', credentialId: 'c-dora', connectorId: 'jira', holder: 'member', memberId: 'dora' }), 'forbidden', 'forbidden');
    refused(run('ada', { type: 'removeCredential', credentialId: 'c-carl' }), 'forbidden', 'forbidden');
    refused(run('sue', { type: 'addCredential', credentialId: 'c-sue', connectorId: 'jira', holder: 'member', memberId: 'sue' }), 'forbidden', 'forbidden');
    refused(run('dora', { type: 'addCredential', credentialId: 'c-carl', connectorId: 'jira', holder: 'member', memberId: 'dora' }), 'validation', 'id_taken');
    refused(run('dora', { type: 'addCredential', credentialId: 'c-x', connectorId: 'ghost', holder: 'member', memberId: 'dora' }), 'not_found', 'connector_not_found');
  });
});

describe('SPEC §5 API keys — workspace.api_keys.manage there', () => {
  it('create (scopes default to all), revoke, set scopes, set and clear expiry', () => {
    let org = applied(run('wanda', { type: 'createApiKey', keyId: 'k3', workspaceId: 'w1', name: 'ci' }));
    expect(org.apiKeys.get('k3')).toEqual({ id: 'k3', name: 'ci', workspaceId: 'w1', status: 'active', connectorScopes: 'all' });
    const step = (command: unknown) => {
      const result = applyCommand(org, 'wanda', command, { now: NOW });
      if (!result.ok) throw new Error(JSON.stringify(result.error));
      org = result.snapshot;
    };
    step({ type: 'setApiKeyConnectorScopes', keyId: 'k3', connectorScopes: ['jira'] });
    step({ type: 'setApiKeyExpiry', keyId: 'k3', expiresAt: '2027-01-01T00:00:00Z' });
    expect(org.apiKeys.get('k3')).toMatchObject({ connectorScopes: ['jira'], expiresAt: '2027-01-01T00:00:00Z' });
    step({ type: 'setApiKeyExpiry', keyId: 'k3', expiresAt: null });
    expect('expiresAt' in org.apiKeys.get('k3')!).toBe(false);
    step({ type: 'revokeApiKey', keyId: 'k3' });
    expect(org.apiKeys.get('k3')!.status).toBe('revoked');
    expect(createPolicy(org).can('k3', 'studio.use', 'w1')).toBe(false);
  });
  it('errors: another workspace, missing key (§7.20 forbidden for everyone), taken id, unknown scope, bad expiry', () => {
    refused(run('wanda', { type: 'revokeApiKey', keyId: 'k2' }), 'forbidden', 'forbidden');
    refused(run('ada', { type: 'revokeApiKey', keyId: 'ghost' }), 'forbidden', 'forbidden');
    refused(run('ada', { type: 'createApiKey', keyId: 'carl', workspaceId: 'w1', name: 'x' }), 'validation', 'id_taken');
    refused(run('ada', { type: 'createApiKey', keyId: 'k9', workspaceId: 'w1', name: 'x', connectorScopes: ['ghost'] }), 'not_found', 'connector_not_found');
    refused(run('ada', { type: 'setApiKeyExpiry', keyId: 'k1', expiresAt: '2027-01-01T00:00:00' }), 'validation', 'invalid_format');
    refused(run('ada', { type: 'createApiKey', keyId: 'k9', workspaceId: 'ghost', name: 'x' }), 'forbidden', 'forbidden');
  });
  it('D5 API keys never administer, not even their own workspace', () => {
    refused(run('k1', { type: 'revokeApiKey', keyId: 'k1' }), 'forbidden', 'forbidden');
    refused(run('k1', { type: 'createApiKey', keyId: 'k9', workspaceId: 'w1', name: 'x' }), 'forbidden', 'forbidden');
  });
});

describe('SPEC §5, §7.20 list roles: anyone, a read', () => {
  it('GET /api/admin/roles: every role with id, name, label, scope and actions', () => {
    const { roles } = listRoles();
    expect(roles.map((r) => r.name)).toEqual(['member', 'billing_manager', 'organization_admin', 'user', 'dev', 'mistral_code_user', 'workspace_contributor', 'workspace_admin', 'observability_viewer']);
    expect(roles.find((r) => r.name === 'dev')).toEqual({ id: '5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d2002', name: 'dev', label: 'Developer', scope: 'workspace', actions: ['studio.use'] });
    expect(JSON.parse(JSON.stringify(listRoles()))).toEqual(listRoles());
  });
});

describe('SPEC §5 results, refusals and audit events', () => {
  it('the actor is checked first: a forbidden actor learns only forbidden, even for an invalid payload', () => {
    const error = refused(run('carl', { type: 'setMemberOrgRoles', memberId: 'ghost', roleNames: ['nope'], roleIds: [] }), 'forbidden', 'forbidden');
    expect(error.problems).toBeUndefined();
  });
  it('an unknown command or a non-object is a validation error', () => {
    refused(run('ada', { type: 'dropTables' }), 'validation', 'unknown_command');
    for (const command of [null, undefined, 'suspendMember', 42, ['suspendMember']]) {
      expect(refused(run('ada', command), 'validation', 'invalid_type').path).toEqual([]);
    }
    refused(run('ada', { type: 'suspendMember', memberId: 'carl', extra: 1 }), 'validation', 'unknown_field');
  });
  it('audit events are plain serializable data with actor, command, targets, time as given, result', () => {
    const ok = run('ada', { type: 'suspendMember', memberId: 'carl' });
    expect(JSON.parse(JSON.stringify(ok.event))).toEqual({
      organizationId: 'acme',
      actor: 'ada',
      command: 'suspendMember',
      targets: [{ kind: 'member', id: 'carl' }],
      at: NOW,
      result: { status: 'applied', revision: 1 },
    });
    const no = applyCommand(ORG, 'carl', { type: 'suspendMember', memberId: 'dora' }, { now: 1764057600000 });
    expect(no.event).toEqual({
      organizationId: 'acme',
      actor: 'carl',
      command: 'suspendMember',
      targets: [{ kind: 'member', id: 'dora' }],
      at: 1764057600000,
      result: { status: 'refused', class: 'forbidden', code: 'forbidden' },
    });
    expect(applyCommand(ORG, 'ada', { type: 'suspendMember', memberId: 'carl' }).event.at).toBeNull();
  });
  it('results are frozen, share structure, and are accepted by createPolicy as parsed', () => {
    const result = run('ada', { type: 'suspendMember', memberId: 'carl' });
    if (!result.ok) throw new Error('refused');
    expect(Object.isFrozen(result.snapshot)).toBe(true);
    expect(Object.isFrozen(result.snapshot.members.get('carl'))).toBe(true);
    expect(result.snapshot.workspaces).toBe(ORG.workspaces);
    expect(result.snapshot.members.get('dora')).toBe(ORG.members.get('dora'));
    expect(createPolicy(result.snapshot).organization).toBe(result.snapshot);
    expect(createPolicy(result.snapshot).can('carl', 'vibe.use', 'w1')).toBe(false);
  });
});

describe('SPEC §5 no command is ever half applied', () => {
  it('ten members added at once where one is not an organization member: none is added', () => {
    const builder = organizationBuilder('o').member('ada', 'organization_admin').workspace('w');
    for (let i = 0; i < 9; i++) builder.member(`m${i}`);
    const org = builder.organization();
    const members = [...Array.from({ length: 9 }, (_, i) => ({ memberId: `m${i}` })), { memberId: 'stranger' }];
    const result = applyCommand(org, 'ada', { type: 'addWorkspaceMembers', workspaceId: 'w', members });
    refused(result, 'not_found', 'member_not_found', org);
    expect(org.workspaces.get('w')!.members.size).toBe(0);
  });
  it('ten members where one has an invalid role: none is changed, the problem is at its index', () => {
    const builder = organizationBuilder('o').member('ada', 'organization_admin');
    for (let i = 0; i < 10; i++) builder.member(`m${i}`);
    const org = builder.workspace('w', { members: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`m${i}`, 'user' as const])) }).organization();
    const members = Array.from({ length: 10 }, (_, i) => ({ memberId: `m${i}`, roleNames: [i === 7 ? 'billing_manager' : 'dev'] }));
    const error = refused(applyCommand(org, 'ada', { type: 'addWorkspaceMembers', workspaceId: 'w', members }), 'validation', 'wrong_scope_role', org);
    expect(error.path).toEqual(['members', 7, 'roleNames', 0]);
    expect([...org.workspaces.get('w')!.members.values()].every((m) => m.roles?.[0] === 'user')).toBe(true);
  });
});

describe('SPEC §5 one source of truth: the policy of a snapshot is compiled once and shared', () => {
  it('a sequence of commands on one snapshot reuses its policy; the result gets its own', () => {
    const first = policyFor(ORG);
    run('carl', { type: 'suspendMember', memberId: 'dora' });
    run('ada', { type: 'suspendMember', memberId: 'dora' });
    expect(policyFor(ORG)).toBe(first);
    const result = run('ada', { type: 'suspendMember', memberId: 'dora' });
    expect(result.ok && policyFor(result.snapshot)).not.toBe(first);
  });
});

