/**
 * The incremental update: after random admin-like changes (and sequences of them), expressed as the
 * immer patches an admin command emits, `policy.update` answers exactly like a policy built from scratch
 * on the final snapshot — on every principal × action × workspace, and every connector's tools.
 */
import fc from 'fast-check';
import { enableMapSet, enablePatches, produceWithPatches, type Draft, type Patch } from 'immer';
import { describe, expect, it } from 'vitest';
import { ACTIONS, applyCommand, applyCommands, createPolicy, organizationBuilder, type Command, type Organization, type Policy } from 'org-policy';
import { adoptOrganization } from '../src/model/parse.js';
import { policyInternals } from '../src/policy/index.js';

enablePatches();
enableMapSet();

const MEMBERS = ['m0', 'm1', 'm2', 'm3', 'm4', '__proto__'];
const WORKSPACES = ['w0', 'w1', 'w2'];
const CONNECTORS = ['c0', 'c1', 'c2'];
const KEYS = ['k0', 'k1'];
const ROLES = ['user', 'dev', 'mistral_code_user', 'workspace_contributor', 'workspace_admin', 'observability_viewer'] as const;
const NOW = Date.parse('2026-06-01T00:00:00Z');

function baseOrganization(): Organization {
  return organizationBuilder('org')
    .member('m0', ['organization_admin'])
    .member('m1', ['member'], { seats: ['mistral_code'] })
    .member('m2', ['billing_manager'])
    .member('m3')
    .member('m4', ['member'], { status: 'suspended' })
    .member('__proto__')
    .group('g0', ['m1', 'm2'])
    .workspace('w0', { members: { m1: ['dev'], m2: null }, groups: { g0: ['user'] } })
    .workspace('w1', { members: { m3: ['workspace_admin'], '__proto__': null } })
    .workspace('w2', { members: { m1: null } })
    .connector('c0', { tools: ['search', 'create!', 'list'], authentication: 'none' })
    .connector('c1', { tools: ['read', 'write!'], authentication: 'oauth2' })
    .connector('c2', { tools: ['a', 'b'], authentication: 'api_key', visibility: 'workspace', workspaceIds: ['w1'] })
    .permission('c0', 'restricted', ['search', 'create'])
    .credential('cr0', 'c1', { workspace: 'w0' })
    .apiKey('k0', 'w0', { connectorScopes: 'all' })
    .apiKey('k1', 'w1', { expiresAt: '2026-03-01T00:00:00Z', connectorScopes: ['c2'] })
    .seatPool('mistral_code', 3)
    .organization();
}

type Change = (draft: Draft<Organization>) => void;
type Mutable = any;

/** Changes of the kinds admin commands make, each keeping the snapshot valid. */
const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ w: fc.constantFrom(...WORKSPACES), m: fc.constantFrom(...MEMBERS), roles: fc.option(fc.subarray([...ROLES], { minLength: 1 })) }).map(
    ({ w, m, roles }) =>
      (d: Mutable) => d.workspaces.get(w).members.set(m, roles === null ? { memberId: m } : { memberId: m, roles }),
  ),
  fc.record({ w: fc.constantFrom(...WORKSPACES), m: fc.constantFrom(...MEMBERS) }).map(({ w, m }) => (d: Mutable) => d.workspaces.get(w).members.delete(m)),
  fc.record({ m: fc.constantFrom(...MEMBERS.slice(1)), status: fc.constantFrom('active', 'suspended') }).map(({ m, status }) => (d: Mutable) => {
    d.members.get(m).status = status;
  }),
  fc.record({ m: fc.constantFrom(...MEMBERS.slice(1)), roles: fc.subarray(['member', 'billing_manager', 'organization_admin'], { minLength: 1 }) }).map(
    ({ m, roles }) =>
      (d: Mutable) => {
        d.members.get(m).orgRoles = roles;
      },
  ),
  fc.record({ m: fc.constantFrom('m1', 'm3'), seat: fc.boolean() }).map(({ m, seat }) => (d: Mutable) => {
    d.members.get(m).seats = seat ? ['mistral_code'] : [];
  }),
  fc.record({ g: fc.subarray(MEMBERS), roles: fc.constantFrom([], ['billing_manager']) }).map(({ g, roles }) => (d: Mutable) => {
    d.groups.get('g0').memberIds = g;
    d.groups.get('g0').orgRoles = roles;
  }),
  fc.record({ w: fc.constantFrom(...WORKSPACES), roles: fc.option(fc.subarray([...ROLES], { minLength: 1 })) }).map(({ w, roles }) => (d: Mutable) => {
    d.workspaces.get(w).groupGrants.set('g0', roles === null ? { groupId: 'g0' } : { groupId: 'g0', roles });
  }),
  fc.record({ w: fc.option(fc.constantFrom(...WORKSPACES)), c: fc.constantFrom('c0', 'c1'), mode: fc.constantFrom('allowed', 'restricted', 'blocked') }).map(
    ({ w, c, mode }) =>
      (d: Mutable) => {
        const tools = c === 'c0' ? ['list'] : ['read'];
        const permission = mode === 'restricted' ? { connectorId: c, mode, tools } : { connectorId: c, mode };
        (w === null ? d.connectorPermissions : d.workspaces.get(w).connectorPermissions).set(c, permission);
      },
  ),
  fc.record({ w: fc.option(fc.constantFrom(...WORKSPACES)), c: fc.constantFrom(...CONNECTORS) }).map(({ w, c }) => (d: Mutable) => {
    (w === null ? d.connectorPermissions : d.workspaces.get(w).connectorPermissions).delete(c);
  }),
  fc.record({ c: fc.constantFrom('c1', 'c2'), holder: fc.constantFrom('organization', 'w0', 'w1', 'm1', 'm3'), remove: fc.boolean() }).map(
    ({ c, holder, remove }) =>
      (d: Mutable) => {
        const id = `cr-${c}-${holder}`;
        if (remove) return void d.credentials.delete(id);
        const credential =
          holder === 'organization'
            ? { id, connectorId: c, holder }
            : holder.startsWith('w')
              ? { id, connectorId: c, holder: 'workspace', workspaceId: holder }
              : { id, connectorId: c, holder: 'member', memberId: holder };
        d.credentials.set(id, credential);
      },
  ),
  fc.record({ k: fc.constantFrom(...KEYS), status: fc.constantFrom('active', 'revoked'), expires: fc.boolean(), scopes: fc.constantFrom('all', ['c1'], ['c0', 'c2']) }).map(
    ({ k, status, expires, scopes }) =>
      (d: Mutable) => {
        const key = d.apiKeys.get(k);
        key.status = status;
        if (expires) key.expiresAt = '2026-07-01T00:00:00Z';
        else delete key.expiresAt;
        key.connectorScopes = scopes;
      },
  ),
  fc.record({ c: fc.constantFrom('c0', 'c1'), name: fc.constantFrom('renamed', 'other') }).map(({ c, name }) => (d: Mutable) => {
    d.connectors.get(c).name = `${name}-${c}`;
  }),
  fc.constant((d: Mutable) => {
    d.workspaces.get('w2').name = 'Renamed';
  }),
);

function apply(organization: Organization, step: Change): { next: Organization; patches: Patch[] } {
  const [next, patches] = produceWithPatches(organization, (draft) => {
    step(draft);
    (draft as Mutable).revision += 1;
  });
  return { next: adoptOrganization(next as Organization), patches };
}

const PRINCIPALS = [...MEMBERS, ...KEYS, 'nobody'];
const ASKED_WORKSPACES = [...WORKSPACES, 'w3', undefined, 'w-unknown'];
const OPTIONS = [{ now: NOW }, undefined];

/** Every answer of both policies over the grid, each labelled with its question, compared in one assertion. */
function answersOf(policy: Policy): unknown[] {
  const out: unknown[] = [];
  for (const principal of PRINCIPALS) {
    for (const options of OPTIONS) {
      for (const workspace of ASKED_WORKSPACES) {
        for (const { name } of ACTIONS) {
          const context = `${principal} ${name} ${String(workspace)} ${JSON.stringify(options)}`;
          out.push([context, policy.can(principal, name, workspace, options), policy.explain(principal, name, workspace, options)]);
        }
        if (workspace === undefined) continue;
        out.push([`toolsByConnector ${principal} ${workspace} ${JSON.stringify(options)}`, policy.toolsByConnector(principal, workspace, options)]);
        for (const connector of [...CONNECTORS, 'c3', 'c3-name', 'renamed-c0', 'other-c1']) {
          out.push([`explainTools ${principal} ${connector} ${workspace} ${JSON.stringify(options)}`, policy.explainTools(principal, connector, workspace, options)]);
        }
      }
    }
  }
  return out;
}

function expectSameAnswers(updated: Policy, rebuilt: Policy) {
  // One expect for the whole grid: the same comparisons, without vitest's per-assertion bookkeeping,
  // which cost more than the policies themselves (minutes for this file on a loaded machine).
  expect(answersOf(updated)).toEqual(answersOf(rebuilt));
}

describe('policy.update (incremental recompilation answers like a full build)', () => {
  it('one random change: the updated policy answers like createPolicy on the new snapshot', () => {
    fc.assert(
      fc.property(change, (step) => {
        const base = baseOrganization();
        const { next, patches } = apply(base, step);
        expectSameAnswers(createPolicy(base).update(next, patches), createPolicy(next));
      }),
      { numRuns: 400 },
    );
  });

  it('random sequences of changes, each applied by update() to the previous policy, end like a full build', () => {
    fc.assert(
      fc.property(fc.array(change, { minLength: 1, maxLength: 8 }), (steps) => {
        let organization = baseOrganization();
        let policy = createPolicy(organization);
        for (const step of steps) {
          const { next, patches } = apply(organization, step);
          policy = policy.update(next, patches);
          organization = next;
        }
        expectSameAnswers(policy, createPolicy(organization));
      }),
      { numRuns: 300 },
    );
  });

  it('the old policy keeps answering for the old snapshot after an update (readers never see a half-updated index)', () => {
    fc.assert(
      fc.property(change, (step) => {
        const base = baseOrganization();
        const old = createPolicy(base);
        const { next, patches } = apply(base, step);
        old.update(next, patches);
        expectSameAnswers(old, createPolicy(base));
      }),
      { numRuns: 100 },
    );
  });
});

/** Admin commands (SPEC §5) by an organization admin over the same id universe: most apply, some are refused. */
const pickOne = <T>(values: readonly T[]) => fc.constantFrom(...values);
const workspaceRoles = fc.option(fc.subarray([...ROLES], { minLength: 1, maxLength: 2 }), { nil: undefined }).map((r) => (r ? { roleNames: r } : {}));
const adminCommand: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ type: fc.constant('inviteMember'), memberId: pickOne(['m5', 'k0', 'constructor']), email: pickOne(['n@x.test', 'o@x.test']) }),
  fc.record({ type: pickOne(['suspendMember', 'reactivateMember', 'removeMember'] as const), memberId: pickOne(MEMBERS.slice(1)) }),
  fc.record({ type: fc.constant('setMemberOrgRoles'), memberId: pickOne(MEMBERS), roleNames: fc.subarray(['member', 'billing_manager', 'organization_admin'], { minLength: 1 }) }),
  fc.record({ type: pickOne(['assignSeat', 'releaseSeat'] as const), memberId: pickOne(MEMBERS), product: fc.constant('mistral_code' as const) }),
  fc.record({ type: fc.constant('createWorkspace'), workspaceId: pickOne(['w3', 'w2']), name: fc.constant('W') }),
  fc.record({ type: fc.constant('renameWorkspace'), workspaceId: pickOne(WORKSPACES), name: fc.constant('R') }),
  fc.record({ type: fc.constant('deleteWorkspace'), workspaceId: pickOne(WORKSPACES) }),
  fc
    .record({ type: fc.constant('addWorkspaceMembers'), workspaceId: pickOne(WORKSPACES), member: pickOne(MEMBERS), roles: workspaceRoles })
    .map(({ type, workspaceId, member, roles }) => ({ type, workspaceId, members: [{ memberId: member, ...roles }] })),
  fc.record({ type: fc.constant('removeWorkspaceMember'), workspaceId: pickOne(WORKSPACES), memberId: pickOne(MEMBERS) }),
  fc.record({ type: fc.constant('setGroupMembers'), groupId: pickOne(['g0', 'g1']), memberIds: fc.subarray(MEMBERS) }),
  fc.record({ type: fc.constant('createGroup'), groupId: pickOne(['g1', 'g0']), name: fc.constant('G'), memberIds: fc.subarray(MEMBERS), roleNames: fc.subarray(['member', 'billing_manager', 'organization_admin']) }),
  fc.record({ type: fc.constant('deleteGroup'), groupId: pickOne(['g0', 'g1']) }),
  fc.record({ type: fc.constant('setGroupOrgRoles'), groupId: pickOne(['g0', 'g1']), roleNames: fc.subarray(['member', 'billing_manager', 'organization_admin'], { minLength: 1 }) }),
  fc.record({ type: fc.constant('setGroupWorkspaceRoles'), workspaceId: pickOne(WORKSPACES), groupId: pickOne(['g0', 'g1']), roles: workspaceRoles }).map(({ roles, ...c }) => ({ ...c, ...roles })),
  fc.record({ type: fc.constant('removeGroupWorkspaceRoles'), workspaceId: pickOne(WORKSPACES), groupId: pickOne(['g0', 'g1']) }),
  fc.record({ type: fc.constant('setConnectorPermission'), connectorId: pickOne(['c0', 'c1']), mode: pickOne(['allowed', 'blocked'] as const) }),
  fc.record({ type: fc.constant('setConnectorPermission'), workspaceId: pickOne(WORKSPACES), connectorId: pickOne(CONNECTORS), mode: pickOne(['allowed', 'blocked'] as const) }),
  fc.record({ type: fc.constant('updateConnector'), connectorId: pickOne(['c0', 'c1']), tools: fc.subarray(['search', 'list', 'read']).map((names) => names.map((name) => ({ name, access: 'read' as const }))) }),
  fc.record({ type: fc.constant('removeConnector'), connectorId: pickOne([...CONNECTORS, 'c3']) }),
  fc.record({
    type: fc.constant('registerConnector'),
    connectorId: pickOne(['c3', 'c0']),
    name: pickOne(['c3-name', 'c1']),
    visibility: pickOne(['organization', 'workspace'] as const),
    workspaceIds: fc.subarray(WORKSPACES),
    authentication: pickOne(['none', 'oauth2'] as const),
    origin: fc.constant('custom' as const),
    capabilities: fc.constant('read_write' as const),
    tools: fc.constant([{ name: 'x', access: 'read' as const }, { name: 'y', access: 'write' as const }]),
  }).map(({ visibility, workspaceIds, ...c }) => ({ ...c, visibility, ...(visibility === 'workspace' ? { workspaceIds } : {}) })),
  fc.record({ type: fc.constant('addCredential'), credentialId: pickOne(['cr1', 'cr2']), connectorId: pickOne(['c1', 'c2']), holder: fc.constant('workspace' as const), workspaceId: pickOne(WORKSPACES) }),
  fc.record({ type: fc.constant('addCredential'), credentialId: pickOne(['cr1', 'cr2']), connectorId: pickOne(['c1', 'c2']), holder: fc.constant('organization' as const) }),
  fc.record({ type: fc.constant('removeCredential'), credentialId: pickOne(['cr0', 'cr1', 'cr2']) }),
  fc.record({ type: fc.constant('createApiKey'), keyId: pickOne(['k2', 'm3']), workspaceId: pickOne(WORKSPACES), name: fc.constant('key') }),
  fc.record({ type: fc.constant('revokeApiKey'), keyId: pickOne(KEYS) }),
  fc.record({ type: fc.constant('setApiKeyConnectorScopes'), keyId: pickOne(KEYS), connectorScopes: fc.oneof(fc.constant('all' as const), fc.subarray(CONNECTORS)) }),
  fc.record({ type: fc.constant('setApiKeyExpiry'), keyId: pickOne(KEYS), expiresAt: pickOne([null, '2026-07-01T00:00:00Z']) }),
) as fc.Arbitrary<Command>;

describe('policy.update driven by applyCommand (after random admin command sequences, update = full build)', () => {
  it('each applied command\'s patches, fed to update(), give a policy that answers like createPolicy on the final snapshot', () => {
    let applied = 0;
    fc.assert(
      fc.property(fc.array(adminCommand, { minLength: 1, maxLength: 10 }), (commands) => {
        let organization = baseOrganization();
        let policy = createPolicy(organization);
        for (const command of commands) {
          const result = applyCommand(organization, 'm0', command, { now: 0 });
          if (!result.ok) continue;
          applied++;
          policy = policy.update(result.snapshot, result.patches);
          organization = result.snapshot;
        }
        expectSameAnswers(policy, createPolicy(organization));
      }),
      { numRuns: 300 },
    );
    // The generator must mostly produce commands that apply, or the property says little.
    expect(applied).toBeGreaterThan(300);
  });
});

describe('policy.update of groups (one group recompiles its members only)', () => {
  it("keeps a member's groups in snapshot order, so explain lists group grants as a full build does", () => {
    let organization = baseOrganization();
    let policy = createPolicy(organization);
    const commands: Command[] = [
      { type: 'createGroup', groupId: 'g1', name: 'G1', memberIds: ['m1'], roleNames: ['member'] },
      { type: 'setGroupOrgRoles', groupId: 'g0', roleNames: ['member'] },
      // Touches g0 again: m1's groups must stay [g0, g1], not become [g1, g0].
      { type: 'setGroupMembers', groupId: 'g0', memberIds: ['m1', 'm3'] },
    ] as Command[];
    for (const command of commands) {
      const result = applyCommand(organization, 'm0', command, { now: 0 });
      expect(result.ok, JSON.stringify(command)).toBe(true);
      if (!result.ok) return;
      policy = policy.update(result.snapshot, result.patches);
      organization = result.snapshot;
    }
    const explained = policy.explain('m1', 'org.profile.manage_own');
    expect(explained.allowed && explained.grants.flatMap((g) => (g.via === 'group' ? [g.group] : []))).toEqual(['g0', 'g1']);
    expectSameAnswers(policy, createPolicy(organization));
  });
});

describe('policy.update of a group deleted and created again in one change', () => {
  it("moves it to the end of its members' groups, as a full build orders them", () => {
    // g0 then g1, both holding m1; one change deletes g0 and creates it again: now g1 comes first.
    const first = applyCommand(baseOrganization(), 'm0', { type: 'createGroup', groupId: 'g1', name: 'G1', memberIds: ['m1'], roleNames: ['member'] }, { now: 0 });
    if (!first.ok) throw new Error(first.error.message);
    const before = first.snapshot;
    const g0 = before.groups.get('g0')!;
    expect(g0.memberIds).toContain('m1');
    const batch = applyCommands(before, 'm0', [
      { type: 'deleteGroup', groupId: 'g0' },
      { type: 'createGroup', groupId: 'g0', name: g0.name, memberIds: [...g0.memberIds], roleNames: ['member'] },
    ], { now: 0 });
    if (!batch.ok) throw new Error(batch.error.message);
    expect([...batch.snapshot.groups.keys()]).toEqual(['g1', 'g0']);
    const updated = createPolicy(before).update(batch.change);
    const explained = updated.explain('m1', 'org.profile.manage_own');
    expect(explained.allowed && explained.grants.flatMap((g) => (g.via === 'group' ? [g.group] : []))).toEqual(['g1', 'g0']);
    expectSameAnswers(updated, createPolicy(batch.snapshot));
  });
});

describe('policy.update is incremental for one member, workspace, group or connector', () => {
  const connector = { name: 'c3-name', visibility: 'organization', authentication: 'none', origin: 'custom', capabilities: 'read_write', tools: [{ name: 'x', access: 'read' }] };
  const sequences: Command[][] = [
    [{ type: 'setGroupMembers', groupId: 'g0', memberIds: ['m3', '__proto__'] }],
    [{ type: 'createGroup', groupId: 'g1', name: 'G1', memberIds: ['m1', 'm3'], roleNames: ['billing_manager'] }],
    [{ type: 'deleteGroup', groupId: 'g0' }],
    [{ type: 'setGroupOrgRoles', groupId: 'g0', roleNames: ['organization_admin'] }],
    [{ type: 'setGroupWorkspaceRoles', workspaceId: 'w2', groupId: 'g0', roleNames: ['workspace_admin'] }],
    [{ type: 'removeGroupWorkspaceRoles', workspaceId: 'w0', groupId: 'g0' }],
    [{ type: 'createWorkspace', workspaceId: 'w3', name: 'W3' }, { type: 'addWorkspaceMembers', workspaceId: 'w3', members: [{ memberId: 'm3' }] }],
    [{ type: 'deleteWorkspace', workspaceId: 'w0' }],
    [{ type: 'deleteWorkspace', workspaceId: 'w1' }, { type: 'createWorkspace', workspaceId: 'w1', name: 'Again' }, { type: 'addWorkspaceMembers', workspaceId: 'w1', members: [{ memberId: 'm1', roleNames: ['dev'] }] }],
    [{ type: 'registerConnector', connectorId: 'c3', ...connector }],
    [{ type: 'removeConnector', connectorId: 'c1' }],
  ] as Command[][];

  it.each(sequences.map((commands) => [commands.map((c) => c.type).join(', '), commands] as const))('%s: the member rows are appended, not rebuilt, and answers equal a full build', (_, commands) => {
    let organization = baseOrganization();
    let policy = createPolicy(organization);
    const rows = policyInternals(policy)!.index.members.rows;
    for (const command of commands) {
      const result = applyCommand(organization, 'm0', command, { now: 0 });
      expect(result.ok, JSON.stringify(result.ok ? command : result.error)).toBe(true);
      if (!result.ok) return;
      policy = policy.update(result.snapshot, result.patches);
      organization = result.snapshot;
    }
    // A full build would have allocated a fresh buffer of rows.
    expect(policyInternals(policy)!.index.members.rows).toBe(rows);
    expectSameAnswers(policy, createPolicy(organization));
  });
});

describe('a policy a caller derived with patches of its own', () => {
  it('is never reused for that snapshot by the admin commands: wrong patches cannot change who may administer', () => {
    const organization = baseOrganization();
    const promoted = applyCommand(organization, 'm0', { type: 'setMemberOrgRoles', memberId: 'm1', roleNames: ['organization_admin'] }, { now: 0 });
    if (!promoted.ok) throw new Error(promoted.error.message);
    // No patches: this policy still says m1 is a plain member of the promoted snapshot.
    const wrong = createPolicy(organization).update(promoted.snapshot, []);
    expect(wrong.can('m1', 'org.members.manage')).toBe(false);
    const invited = applyCommand(promoted.snapshot, 'm1', { type: 'inviteMember', memberId: 'new', email: 'new@example.com' }, { now: 0 });
    expect(invited.ok, JSON.stringify(!invited.ok && invited.error)).toBe(true);
  });

  it('a snapshot a replica reached with update(change) is administered on that policy, which answers as a full build', () => {
    const organization = baseOrganization();
    const promoted = applyCommand(organization, 'm0', { type: 'setMemberOrgRoles', memberId: 'm1', roleNames: ['organization_admin'] }, { now: 0 });
    if (!promoted.ok) throw new Error(promoted.error.message);
    const replica = createPolicy(organization).update(JSON.parse(JSON.stringify(promoted.change)));
    const invited = applyCommand(replica.organization, 'm1', { type: 'inviteMember', memberId: 'new', email: 'new@example.com' }, { now: 0 });
    expect(invited.ok).toBe(true);
    expectSameAnswers(replica, createPolicy(promoted.snapshot));
  });
});
