/**
 * SPEC §5 applyCommands: several commands by one actor, atomically — all applied in order or none —
 * with one audit event per command; and the next policy that every applied result offers, derived
 * with `policy.update` rather than rebuilt, so that no caller is left with a stale policy.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTIONS, applyChange, applyCommand, applyCommands, createPolicy, organizationBuilder, serializeOrganization, type Command, type Organization, type Policy } from 'org-policy';
import { policyFor } from '../src/admin/policy.js';
import { policyInternals } from '../src/policy/index.js';


const NOW = '2026-11-25T08:00:00Z';

function acme(): Organization {
  return organizationBuilder('acme')
    .member('ada', 'organization_admin')
    .member('wanda')
    .member('carl')
    .member('dora')
    .group('eng', ['carl'])
    .workspace('ws-a', { members: { wanda: 'workspace_admin', carl: null } })
    .workspace('ws-b', { members: { dora: 'dev' } })
    .connector('jira', { tools: ['search', 'create!'] })
    .apiKey('k1', 'ws-a')
    .organization();
}
const ORG = acme();

import { canonical, replay } from './replay.js';

describe('SPEC §5 applyCommands: all or nothing, in order', () => {
  it('applies every command on the snapshot the previous one produced; one audit event each', () => {
    const result = applyCommands(
      ORG,
      'ada',
      [
        { type: 'createWorkspace', workspaceId: 'ws-c', name: 'Lab' },
        { type: 'addWorkspaceMembers', workspaceId: 'ws-c', members: [{ memberId: 'dora', roleNames: ['workspace_admin'] }] },
        { type: 'addGroupMembers', groupId: 'eng', memberIds: ['dora'] },
      ],
      { now: NOW },
    );
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    // SPEC §8.1: one change, one revision
    expect(result.snapshot.revision).toBe(ORG.revision + 1);
    expect(result.snapshot.workspaces.get('ws-c')!.members.get('dora')).toEqual({ memberId: 'dora', roles: ['workspace_admin'] });
    expect(result.events.map((e) => [e.command, e.result])).toEqual([
      ['createWorkspace', { status: 'applied', revision: 1 }],
      ['addWorkspaceMembers', { status: 'applied', revision: 1 }],
      ['addGroupMembers', { status: 'applied', revision: 1 }],
    ]);
    expect(result.events.every((e) => e.actor === 'ada' && e.at === NOW && Object.isFrozen(e))).toBe(true);
    // the patches replay the whole batch; the inverse undoes it
    expect(replay(ORG, result.patches, result.snapshot.revision)).toEqual(serializeOrganization(result.snapshot));
    expect(canonical(replay(result.snapshot, result.inversePatches, ORG.revision))).toEqual(canonical(ORG));
    expect(Object.isFrozen(result) && Object.isFrozen(result.snapshot) && Object.isFrozen(result.patches)).toBe(true);
  });

  it('one refused command refuses the batch: the input snapshot, the index, earlier events rolled back', () => {
    const result = applyCommands(ORG, 'ada', [
      { type: 'suspendMember', memberId: 'carl' },
      { type: 'createGroup', groupId: 'ops', name: 'Ops' },
      { type: 'setGroupMembers', groupId: 'ops', memberIds: ['ghost'] },
      { type: 'suspendMember', memberId: 'dora' },
    ]);
    if (result.ok) throw new Error('applied, expected a refusal');
    expect(result.index).toBe(2);
    expect(result.error).toMatchObject({ class: 'not_found', code: 'member_not_found', path: ['memberIds', 0] });
    expect(result.snapshot).toBe(ORG);
    expect(result.events.map((e) => [e.command, e.result])).toEqual([
      ['suspendMember', { status: 'rolled_back' }],
      ['createGroup', { status: 'rolled_back' }],
      ['setGroupMembers', { status: 'refused', class: 'not_found', code: 'member_not_found' }],
    ]);
    expect(result.events[0]!.targets).toEqual([{ kind: 'member', id: 'carl' }]);
    expect(JSON.parse(JSON.stringify(result))).toMatchObject({ ok: false, index: 2 });
  });

  it('each command is authorized on the snapshot before it: an actor who gives up its role loses it for the rest', () => {
    const result = applyCommands(ORG, 'wanda', [
      { type: 'setWorkspaceMemberRoles', workspaceId: 'ws-a', memberId: 'wanda', roleNames: ['user'] },
      { type: 'setWorkspaceMemberRoles', workspaceId: 'ws-a', memberId: 'carl', roleNames: ['workspace_admin'] },
    ]);
    expect(!result.ok && [result.index, result.error.class]).toEqual([1, 'forbidden']);
    // the same commands one by one agree
    const first = applyCommand(ORG, 'wanda', { type: 'setWorkspaceMemberRoles', workspaceId: 'ws-a', memberId: 'wanda', roleNames: ['user'] });
    expect(first.ok && applyCommand(first.snapshot, 'wanda', { type: 'setWorkspaceMemberRoles', workspaceId: 'ws-a', memberId: 'carl', roleNames: ['workspace_admin'] }).ok).toBe(false);
  });

  it('the invariants hold after each command: a batch that passes through no admin is refused there', () => {
    const org = organizationBuilder('o').member('ada', 'organization_admin').member('bob').organization();
    const result = applyCommands(org, 'ada', [
      { type: 'setMemberOrgRoles', memberId: 'ada', roleNames: ['member'] },
      { type: 'setMemberOrgRoles', memberId: 'bob', roleNames: ['organization_admin'] },
    ]);
    expect(!result.ok && [result.index, result.error.code]).toEqual([0, 'last_organization_admin']);
  });

  it('an empty list is refused: a change holds one or more commands (SPEC §8.1)', () => {
    const result = applyCommands(ORG, 'ada', []);
    expect(!result.ok && [result.index, result.error.code]).toEqual([null, 'invalid_value']);
    expect(result.snapshot).toBe(ORG);
  });

  it('a list that is not an array, or cannot be read, is a validation error; nothing runs', () => {
    for (const commands of [null, { type: 'suspendMember', memberId: 'carl' }, 'x']) {
      const result = applyCommands(ORG, 'ada', commands);
      expect(!result.ok && [result.index, result.error.class, result.error.code]).toEqual([null, 'validation', 'invalid_type']);
      expect(result.snapshot).toBe(ORG);
      expect(result.events).toHaveLength(1);
      expect(result.events[0]).toMatchObject({ command: null, result: { status: 'refused', class: 'validation', code: 'invalid_type' } });
    }
    const hostile = [
      { type: 'suspendMember', memberId: 'carl' },
      {
        type: 'suspendMember',
        get memberId(): string {
          throw new Error('boom');
        },
      },
    ];
    const result = applyCommands(ORG, 'ada', hostile);
    expect(!result.ok && [result.index, result.error.code, result.error.path]).toEqual([1, 'unreadable_value', ['memberId']]);
    expect(result.snapshot).toBe(ORG);
  });

  it('the list is read once: a command swapped in after the first read is not the one applied', () => {
    let reads = 0;
    const list = new Proxy([{ type: 'suspendMember', memberId: 'carl' }], {
      get: (target, key, receiver) => (key === '0' && reads++ > 0 ? { type: 'removeMember', memberId: 'carl' } : Reflect.get(target, key, receiver)),
    });
    const result = applyCommands(ORG, 'ada', list);
    expect(result.ok && result.snapshot.members.get('carl')!.status).toBe('suspended');
  });
});

describe('SPEC §8 the result offers its change for replicas', () => {
  it('applyCommand: result.change applied by a replica gives the same snapshot', () => {
    const result = applyCommand(ORG, 'ada', { type: 'removeMember', memberId: 'carl' }, { now: NOW });
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    expect(result.change).toMatchObject({ organizationId: 'acme', revision: 1, events: [JSON.parse(JSON.stringify(result.event))] });
    const replica = applyChange(ORG, result.change);
    expect(replica.ok && serializeOrganization(replica.organization)).toEqual(serializeOrganization(result.snapshot));
    expect(Object.getOwnPropertyDescriptor(result, 'change')).toMatchObject({ enumerable: false });
    expect(result.change).toBe(result.change);
  });
  it('applyCommands: one change for the batch, one event per command', () => {
    const result = applyCommands(ORG, 'ada', [
      { type: 'createWorkspace', workspaceId: 'ws-c', name: 'Lab' },
      { type: 'addWorkspaceMembers', workspaceId: 'ws-c', members: [{ memberId: 'dora' }] },
    ]);
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    expect(result.change.revision).toBe(ORG.revision + 1);
    expect(result.change.events).toHaveLength(2);
    const replica = applyChange(ORG, JSON.parse(JSON.stringify(result.change)));
    expect(replica.ok && serializeOrganization(replica.organization)).toEqual(serializeOrganization(result.snapshot));
  });
  it('a replica replays the commands in the order they happened: removed and added back, the member moves to the end', () => {
    const result = applyCommands(ORG, 'ada', [
      { type: 'removeWorkspaceMember', workspaceId: 'ws-a', memberId: 'wanda' },
      { type: 'addWorkspaceMembers', workspaceId: 'ws-a', members: [{ memberId: 'wanda' }] },
    ]);
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    expect([...result.snapshot.workspaces.get('ws-a')!.members.keys()]).toEqual(['carl', 'wanda']);
    const replica = applyChange(ORG, result.change);
    expect(replica.ok && [...replica.organization.workspaces.get('ws-a')!.members.keys()]).toEqual(['carl', 'wanda']);
  });
});

describe('SPEC §5 the result offers the next policy (no stale policy after a command)', () => {
  it('applyCommand: result.policy answers for the new snapshot, built once, by update rather than a full build', () => {
    const before = policyFor(ORG);
    const result = applyCommand(ORG, 'ada', { type: 'addWorkspaceMembers', workspaceId: 'ws-b', members: [{ memberId: 'carl', roleNames: ['dev'] }] });
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    expect(before.can('carl', 'studio.use', 'ws-b')).toBe(false);
    expect(result.policy.can('carl', 'studio.use', 'ws-b')).toBe(true);
    expect(result.policy.organization).toBe(result.snapshot);
    expect(result.policy).toBe(result.policy);
    // policy.update appends changed member rows to the previous buffer; a full build allocates a new one
    expect(policyInternals(result.policy)!.index.members.rows).toBe(policyInternals(before)!.index.members.rows);
  });

  it('it is not part of the data: not enumerable, absent from JSON and spreads, the result still frozen', () => {
    const result = applyCommand(ORG, 'ada', { type: 'suspendMember', memberId: 'carl' }, { now: NOW });
    if (!result.ok) throw new Error('refused');
    expect(Object.keys(result)).toEqual(['ok', 'snapshot', 'patches', 'inversePatches', 'event']);
    expect('policy' in { ...result }).toBe(false);
    expect(Object.keys(JSON.parse(JSON.stringify(result)) as object)).toEqual(['ok', 'snapshot', 'patches', 'inversePatches', 'event']);
    expect(Object.getOwnPropertyDescriptor(result, 'policy')).toMatchObject({ enumerable: false, configurable: false });
    expect(Object.isFrozen(result)).toBe(true);
    expect(result.policy.can('carl', 'vibe.use', 'ws-a')).toBe(false);
  });

  it('a refused result offers none: the input policy still holds', () => {
    const result = applyCommand(ORG, 'carl', { type: 'suspendMember', memberId: 'dora' });
    expect(result.ok).toBe(false);
    expect('policy' in result).toBe(false);
  });

  it('applyCommands: result.policy is the policy of the last snapshot', () => {
    const result = applyCommands(ORG, 'ada', [
      { type: 'createGroup', groupId: 'admins', name: 'Admins', memberIds: ['dora'], roleNames: ['organization_admin'] },
      { type: 'removeWorkspaceMember', workspaceId: 'ws-a', memberId: 'carl' },
    ]);
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    expect(result.policy.can('dora', 'org.members.manage')).toBe(true);
    expect(result.policy.can('carl', 'vibe.use', 'ws-a')).toBe(false);
    expect(result.policy.organization).toBe(result.snapshot);
  });

  it('law: for random batches, result.policy answers exactly like createPolicy(result.snapshot), and result.change replays it', () => {
    // Mostly commands that apply, so that most batches do; ws-c exists only once a batch creates it.
    const MEMBERS = ['wanda', 'carl', 'dora'];
    const WORKSPACES = ['ws-a', 'ws-b'];
    const pick = <T>(values: readonly T[]) => fc.constantFrom(...values);
    const command: fc.Arbitrary<Command> = fc.oneof(
      fc.record({ type: fc.constant('createWorkspace'), workspaceId: fc.constant('ws-c'), name: fc.constant('W') }),
      fc.record({ type: fc.constant('deleteWorkspace'), workspaceId: pick(['ws-b', 'ws-c']) }),
      fc.record({ type: fc.constant('addWorkspaceMembers'), workspaceId: pick(WORKSPACES), members: fc.array(fc.record({ memberId: pick(MEMBERS) }), { minLength: 1, maxLength: 2 }) }),
      fc.record({ type: fc.constant('setWorkspaceMemberRoles'), workspaceId: pick(WORKSPACES), memberId: pick(MEMBERS), roleNames: fc.subarray(['user', 'dev', 'workspace_admin'], { minLength: 1 }) }),
      fc.record({ type: fc.constant('removeWorkspaceMember'), workspaceId: pick(WORKSPACES), memberId: pick(MEMBERS) }),
      fc.record({ type: pick(['addGroupMembers', 'removeGroupMembers'] as const), groupId: fc.constant('eng'), memberIds: fc.subarray(MEMBERS, { minLength: 1 }) }),
      fc.record({ type: fc.constant('setGroupWorkspaceRoles'), groupId: fc.constant('eng'), workspaceId: pick(WORKSPACES), roleNames: fc.subarray(['user', 'dev'], { minLength: 1 }) }),
      fc.record({ type: fc.constant('setMemberOrgRoles'), memberId: pick(MEMBERS), roleNames: fc.subarray(['member', 'billing_manager', 'organization_admin'], { minLength: 1 }) }),
      fc.record({ type: pick(['suspendMember', 'reactivateMember'] as const), memberId: pick(MEMBERS) }),
      fc.record({ type: fc.constant('setConnectorPermission'), connectorId: fc.constant('jira'), mode: pick(['allowed', 'blocked'] as const) }),
      fc.record({ type: fc.constant('setConnectorPermission'), workspaceId: pick(WORKSPACES), connectorId: fc.constant('jira'), mode: pick(['allowed', 'blocked'] as const) }),
    ) as fc.Arbitrary<Command>;
    let applied = 0;
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 4 }), (commands) => {
        const result = applyCommands(ORG, 'ada', commands);
        if (!result.ok) return;
        applied++;
        expectSameAnswers(result.policy, createPolicy(result.snapshot), ['ada', ...MEMBERS, 'k1', 'ghost'], [...WORKSPACES, 'ws-c']);
        // SPEC §8.1: the batch's one change, applied by a replica, gives the same snapshot
        const replica = applyChange(ORG, result.change);
        expect(replica.ok && serializeOrganization(replica.organization)).toEqual(serializeOrganization(result.snapshot));
      }),
      { numRuns: 300 },
    );
    // most batches must apply, or the law says little
    expect(applied).toBeGreaterThan(100);
  });
});

function expectSameAnswers(derived: Policy, rebuilt: Policy, principals: readonly string[], workspaces: readonly string[]) {
  for (const principal of principals) {
    for (const workspace of [...workspaces, undefined]) {
      for (const { name } of ACTIONS) expect(derived.explain(principal, name, workspace), `${principal} ${name} ${String(workspace)}`).toEqual(rebuilt.explain(principal, name, workspace));
      if (workspace !== undefined) expect(derived.toolsByConnector(principal, workspace)).toEqual(rebuilt.toolsByConnector(principal, workspace));
    }
  }
}
