/**
 * SPEC §5 model-based: random sequences of ≥ 50 admin commands by random actors (organization admins,
 * workspace admins, billing managers, plain members, API keys, unknown ids). After every step: the
 * §5 invariants hold (the result parses again, an active organization_admin remains), a refused command
 * returns the very same frozen, unchanged snapshot, the actor check agrees with a plain reading of the
 * §5 table, and the policy built from the new snapshot agrees with a simple model.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  ROLES,
  applyChange,
  applyCommand,
  createPolicy,
  organizationBuilder,
  parseOrganization,
  serializeOrganization,
  type Command,
  type Organization,
} from 'org-policy';
import { memberNamedBy } from '../src/model/indexes.js';

const MEMBERS = ['ada', 'wa', 'bm', 'pm', '__proto__', 'constructor', 'ghost'] as const;
const ACTORS = [...MEMBERS, 'k1', 'k2', 'toString'] as const;
const WORKSPACES = ['w1', 'w2', '__proto__', 'ghost'] as const;
const GROUPS = ['g1', 'constructor', 'ghost'] as const;
const CONNECTORS = ['c1', 'c2', 'ghost'] as const;
const KEYS = ['k1', 'k2', 'toString', 'ghost'] as const;
const CREDENTIALS = ['cr1', 'cr2', 'ghost'] as const;
const ROLE_NAMES = [...ROLES.map((r) => r.name), 'nope'];
const ROLE_IDS = [...ROLES.map((r) => r.id), '00000000-0000-0000-0000-000000000000'];

function start(): Organization {
  return organizationBuilder('model')
    .member('ada', 'organization_admin')
    .member('wa')
    .member('bm', ['member', 'billing_manager'])
    .member('pm')
    .workspace('w1', { members: { wa: 'workspace_admin', pm: null } })
    .workspace('w2')
    .connector('c1', { tools: ['search', 'write!'] })
    .apiKey('k1', 'w1')
    .seatPool('mistral_code', 1)
    .organization();
}

const pick = <T>(values: readonly T[]) => fc.constantFrom(...values);
/** Mostly the ones who may administer, so that sequences build up state; every kind of actor appears. */
const arbActor = fc.oneof(
  { weight: 6, arbitrary: fc.constant('ada') },
  { weight: 3, arbitrary: fc.constant('wa') },
  { weight: 1, arbitrary: fc.constant('bm') },
  { weight: 3, arbitrary: pick(ACTORS) },
);
/** roleNames, roleIds (UUIDs), both, or neither — valid or not. */
const roleFields = fc.oneof(
  { weight: 4, arbitrary: fc.subarray(ROLE_NAMES, { maxLength: 3 }).map((roleNames) => ({ roleNames })) },
  { weight: 2, arbitrary: fc.subarray(ROLE_IDS, { maxLength: 2 }).map((roleIds) => ({ roleIds })) },
  { weight: 1, arbitrary: fc.constant({ roleNames: ['member'], roleIds: [ROLE_IDS[0]!] }) },
  { weight: 2, arbitrary: fc.constant({}) },
);
const orgRoleNames = fc.subarray(['member', 'billing_manager', 'organization_admin'], { minLength: 1 });
const tools = fc.subarray(['search', 'write', 'delete']);

const arbCommand: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ type: fc.constant('inviteMember'), memberId: pick(MEMBERS), email: pick(['a@x.test', 'B@x.test', 'bad', 'wa@example.com']) }).chain((c) => roleFields.map((r) => ({ ...c, ...r }))),
  fc.record({ type: pick(['suspendMember', 'reactivateMember', 'removeMember'] as const), memberId: pick(MEMBERS) }),
  fc.record({ type: fc.constant('changeMemberEmail'), memberId: pick(MEMBERS), email: pick(['n@x.test', 'ada@example.com']) }),
  fc.record({ type: fc.constant('setMemberOrgRoles'), memberId: pick(MEMBERS), roleNames: orgRoleNames }),
  fc.record({ type: fc.constant('setMemberOrgRoles'), memberId: pick(MEMBERS) }).chain((c) => roleFields.map((r) => ({ ...c, ...r }))),
  fc.record({ type: pick(['assignSeat', 'releaseSeat'] as const), memberId: pick(MEMBERS), product: fc.constant('mistral_code' as const) }),
  fc.record({ type: fc.constant('setSeatPoolSize'), product: fc.constant('mistral_code' as const), size: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ type: fc.constant('createWorkspace'), workspaceId: pick(WORKSPACES), name: fc.constant('W') }),
  fc.record({ type: fc.constant('renameWorkspace'), workspaceId: pick(WORKSPACES), name: fc.constant('R') }),
  fc.record({ type: fc.constant('deleteWorkspace'), workspaceId: pick(WORKSPACES) }),
  fc.record({
    type: fc.constant('addWorkspaceMembers'),
    workspaceId: pick(WORKSPACES),
    members: fc.array(fc.record({ memberId: pick(MEMBERS) }).chain((m) => roleFields.map((r) => ({ ...m, ...r }))), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ type: fc.constant('setWorkspaceMemberRoles'), workspaceId: pick(WORKSPACES), memberId: pick(MEMBERS) }).chain((c) => roleFields.map((r) => ({ ...c, ...r }))),
  fc.record({ type: fc.constant('removeWorkspaceMember'), workspaceId: pick(WORKSPACES), memberId: pick(MEMBERS) }),
  fc.record({ type: fc.constant('createGroup'), groupId: pick(GROUPS), name: fc.constant('G'), memberIds: fc.subarray([...MEMBERS]) }),
  fc.record({ type: fc.constant('setGroupMembers'), groupId: pick(GROUPS), memberIds: fc.subarray([...MEMBERS]) }),
  fc.record({ type: pick(['addGroupMembers', 'removeGroupMembers'] as const), groupId: pick(GROUPS), memberIds: fc.subarray([...MEMBERS], { minLength: 1, maxLength: 3 }) }),
  fc.record({ type: fc.constant('setGroupOrgRoles'), groupId: pick(GROUPS) }).chain((c) => roleFields.map((r) => ({ ...c, ...r }))),
  fc.record({ type: pick(['deleteGroup'] as const), groupId: pick(GROUPS) }),
  fc.record({ type: fc.constant('setGroupWorkspaceRoles'), workspaceId: pick(WORKSPACES), groupId: pick(GROUPS) }).chain((c) => roleFields.map((r) => ({ ...c, ...r }))),
  fc.record({ type: fc.constant('removeGroupWorkspaceRoles'), workspaceId: pick(WORKSPACES), groupId: pick(GROUPS) }),
  fc.record({
    type: fc.constant('registerConnector'),
    connectorId: pick(CONNECTORS),
    name: pick(['c1', 'c2', 'other']),
    visibility: fc.constant('organization' as const),
    authentication: fc.constant('none' as const),
    origin: fc.constant('custom' as const),
    capabilities: fc.constant('read_write' as const),
    tools: fc.constant([{ name: 'search', access: 'read' as const }]),
  }),
  fc.record({ type: fc.constant('updateConnector'), connectorId: pick(CONNECTORS), tools: tools.map((names) => names.map((name) => ({ name, access: 'read' as const }))) }),
  fc.record({ type: fc.constant('removeConnector'), connectorId: pick(CONNECTORS) }),
  fc.record({ type: fc.constant('setConnectorPermission'), connectorId: pick(CONNECTORS), mode: fc.constant('restricted' as const), tools }),
  fc.record({ type: fc.constant('setConnectorPermission'), workspaceId: pick(WORKSPACES), connectorId: pick(CONNECTORS), mode: pick(['allowed', 'blocked'] as const) }),
  fc.record({ type: fc.constant('addCredential'), credentialId: pick(CREDENTIALS), connectorId: pick(CONNECTORS), holder: fc.constant('organization' as const) }),
  fc.record({ type: fc.constant('addCredential'), credentialId: pick(CREDENTIALS), connectorId: pick(CONNECTORS), holder: fc.constant('workspace' as const), workspaceId: pick(WORKSPACES) }),
  fc.record({ type: fc.constant('addCredential'), credentialId: pick(CREDENTIALS), connectorId: pick(CONNECTORS), holder: fc.constant('member' as const), memberId: pick(MEMBERS) }),
  fc.record({ type: fc.constant('removeCredential'), credentialId: pick(CREDENTIALS) }),
  fc.record({ type: fc.constant('createApiKey'), keyId: pick(KEYS), workspaceId: pick(WORKSPACES), name: fc.constant('key') }),
  fc.record({ type: pick(['revokeApiKey'] as const), keyId: pick(KEYS) }),
  fc.record({ type: fc.constant('setApiKeyConnectorScopes'), keyId: pick(KEYS), connectorScopes: fc.oneof(fc.constant('all' as const), fc.subarray([...CONNECTORS])) }),
  fc.record({ type: fc.constant('setApiKeyExpiry'), keyId: pick(KEYS), expiresAt: pick([null, '2027-01-01T00:00:00Z']) }),
) as fc.Arbitrary<Command>;

// ---------------------------------------------------------------------------------------------
// A plain reading of the SPEC over the JSON snapshot: no compiled index, no `can`.

type Written = ReturnType<typeof serializeOrganization>;
/** What `serializeOrganization` writes: every list present (it always writes them all). */
type Json = { [K in keyof Written]-?: Exclude<Written[K], undefined> };
const write = (org: Organization) => serializeOrganization(org) as Json;

function orgRolesOf(json: Json, memberId: string): Set<string> {
  const roles = new Set<string>();
  const member = json.members.find((m) => m.id === memberId);
  if (!member) return roles;
  for (const role of member.orgRoles) roles.add(role);
  for (const group of json.groups) if (group.memberIds?.includes(memberId)) for (const role of group.orgRoles ?? []) roles.add(role);
  return roles;
}

function workspaceRolesOf(json: Json, memberId: string, workspaceId: string): Set<string> | undefined {
  const workspace = json.workspaces.find((w) => w.id === workspaceId);
  if (!workspace) return undefined;
  let roles: Set<string> | undefined;
  const add = (list: readonly string[] | undefined) => {
    roles ??= new Set();
    for (const role of list ?? ['workspace_contributor']) roles.add(role);
  };
  const direct = workspace.members?.find((m) => m.memberId === memberId);
  if (direct) add(direct.roles);
  for (const grant of workspace.groupGrants ?? []) {
    if (json.groups.find((g) => g.id === grant.groupId)?.memberIds?.includes(memberId)) add(grant.roles);
  }
  return roles;
}

const isActiveMember = (json: Json, id: string) => json.members.some((m) => m.id === id && m.status === 'active');

/** SPEC §2: the organization roles that grant each management action of the §5 table. */
function holdsOrg(json: Json, actor: string, action: 'members' | 'groups' | 'workspaces' | 'connectors' | 'billing'): boolean {
  if (!isActiveMember(json, actor)) return false;
  const roles = orgRolesOf(json, actor);
  return roles.has('organization_admin') || (action === 'billing' && roles.has('billing_manager'));
}

/** SPEC §5 "… there", D1, §7.3, §7.20: an organization admin or a workspace_admin of an existing workspace. */
function holdsWorkspace(json: Json, actor: string, workspaceId: unknown): boolean {
  if (typeof workspaceId !== 'string' || !json.workspaces.some((w) => w.id === workspaceId) || !isActiveMember(json, actor)) return false;
  return orgRolesOf(json, actor).has('organization_admin') || (workspaceRolesOf(json, actor, workspaceId)?.has('workspace_admin') ?? false);
}

/** The §5 table read plainly: may `actor` run `command` on `json`? */
function modelMayRun(json: Json, actor: string, command: Command): boolean {
  const c = command as Record<string, unknown> & { type: string };
  switch (c.type) {
    case 'inviteMember':
    case 'suspendMember':
    case 'reactivateMember':
    case 'removeMember':
    case 'changeMemberEmail':
    case 'setMemberOrgRoles':
    case 'assignSeat':
    case 'releaseSeat':
      return holdsOrg(json, actor, 'members');
    case 'setSeatPoolSize':
      return holdsOrg(json, actor, 'billing');
    case 'createWorkspace':
    case 'renameWorkspace':
    case 'deleteWorkspace':
      return holdsOrg(json, actor, 'workspaces');
    case 'addWorkspaceMembers':
    case 'setWorkspaceMemberRoles':
    case 'removeWorkspaceMember':
    case 'setGroupWorkspaceRoles':
    case 'removeGroupWorkspaceRoles':
      return holdsWorkspace(json, actor, c.workspaceId);
    case 'createGroup':
    case 'setGroupMembers':
    case 'addGroupMembers':
    case 'removeGroupMembers':
    case 'setGroupOrgRoles':
    case 'deleteGroup':
      return holdsOrg(json, actor, 'groups');
    case 'registerConnector':
    case 'updateConnector':
    case 'removeConnector':
      return holdsOrg(json, actor, 'connectors');
    case 'setConnectorPermission':
      // no workspaceId: the organization level; a workspaceId: that workspace's
      return c.workspaceId === undefined ? holdsOrg(json, actor, 'connectors') : holdsWorkspace(json, actor, c.workspaceId);
    case 'addCredential':
      return credentialModel(json, actor, c.holder, c.workspaceId, c.memberId);
    case 'removeCredential': {
      const credential = json.credentials.find((x) => x.id === c.credentialId) as Record<string, unknown> | undefined;
      if (!credential) return holdsOrg(json, actor, 'connectors');
      return credentialModel(json, actor, credential.holder, credential.workspaceId, credential.memberId);
    }
    case 'createApiKey':
      return holdsWorkspace(json, actor, c.workspaceId);
    default: {
      const key = json.apiKeys.find((k) => k.id === c.keyId);
      return key !== undefined && holdsWorkspace(json, actor, key.workspaceId);
    }
  }
}

function credentialModel(json: Json, actor: string, holder: unknown, workspaceId: unknown, memberId: unknown): boolean {
  if (holder === 'organization') return holdsOrg(json, actor, 'connectors');
  if (holder === 'workspace') return holdsWorkspace(json, actor, workspaceId);
  return actor === memberId && isActiveMember(json, actor); // §7.4
}

const VIBE_ROLES = new Set(['user', 'workspace_contributor', 'workspace_admin']);

/** A few decisions of the new policy against the plain reading. */
function expectPolicyAgrees(org: Organization, json: Json) {
  const policy = createPolicy(org);
  for (const principal of ACTORS) {
    const active = isActiveMember(json, principal);
    const orgRoles = orgRolesOf(json, principal);
    expect(policy.can(principal, 'org.members.manage'), `${principal} org.members.manage`).toBe(active && orgRoles.has('organization_admin'));
    expect(policy.can(principal, 'org.billing.manage')).toBe(active && (orgRoles.has('organization_admin') || orgRoles.has('billing_manager')));
    for (const workspace of WORKSPACES) {
      const roles = workspaceRolesOf(json, principal, workspace);
      const vibe = active && roles !== undefined && [...roles].some((r) => VIBE_ROLES.has(r));
      expect(policy.can(principal, 'vibe.use', workspace), `${principal} vibe.use ${workspace}`).toBe(vibe);
      expect(policy.can(principal, 'workspace.members.manage', workspace)).toBe(holdsWorkspace(json, principal, workspace));
      const key = json.apiKeys.find((k) => k.id === principal);
      if (key) expect(policy.can(principal, 'studio.use', workspace, { now: 0 })).toBe(key.status === 'active' && key.workspaceId === workspace);
    }
  }
}

function hasActiveAdmin(json: Json): boolean {
  return json.members.some((m) => m.status === 'active' && orgRolesOf(json, m.id).has('organization_admin'));
}

/** The replica's policy and a fresh build of the writer's snapshot give the same answer to every question. */
function expectReplicaAgrees(replica: ReturnType<typeof createPolicy>, org: Organization) {
  const fresh = createPolicy(org);
  for (const principal of ACTORS) {
    for (const workspace of [...WORKSPACES, undefined]) {
      for (const action of ACTIONS) {
        expect(replica.can(principal, action.name, workspace, { now: 0 })).toBe(fresh.can(principal, action.name, workspace, { now: 0 }));
      }
      if (workspace === undefined) continue;
      for (const connector of CONNECTORS) {
        expect(replica.toolsAvailable(principal, connector, workspace, { now: 0 })).toEqual(fresh.toolsAvailable(principal, connector, workspace, { now: 0 }));
      }
    }
  }
}

describe('SPEC §5 model-based: random command sequences by random actors', () => {
  it('invariants hold after every step; refusals return the same frozen snapshot; actor check and policy agree with a plain model; a replica fed every change through JSON answers as the writer (§8.5)', () => {
    let steps = 0;
    let applied = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(arbActor, arbCommand), { minLength: 50, maxLength: 60 }), (sequence) => {
        let org = start();
        let json = write(org);
        // SPEC §8.5: a replica that receives every change through JSON answers as the writer.
        let replica = createPolicy(org);
        for (const [actor, command] of sequence) {
          steps++;
          const before = JSON.stringify(json);
          const result = applyCommand(org, actor, command, { now: steps });
          const mayRun = modelMayRun(json, actor, command);
          expect(JSON.parse(JSON.stringify(result.event)).actor).toBe(actor);
          if (!result.ok) {
            expect(result.snapshot).toBe(org);
            expect(Object.isFrozen(result.snapshot)).toBe(true);
            expect(JSON.stringify(serializeOrganization(result.snapshot))).toBe(before);
            expect(result.error.class === 'forbidden', `${actor} ${JSON.stringify(command)} → ${result.error.code}`).toBe(!mayRun);
            expect(result.event.result).toEqual({ status: 'refused', class: result.error.class, code: result.error.code });
            continue;
          }
          applied++;
          expect(mayRun, `${actor} ran ${JSON.stringify(command)}`).toBe(true);
          expect(Object.isFrozen(result.snapshot)).toBe(true);
          expect(result.snapshot.revision).toBe(org.revision + 1);
          const nextJson = write(result.snapshot);
          // SPEC §5 invariants, and §7.19: everything the library writes loads again
          const reparsed = parseOrganization(nextJson);
          expect(reparsed.ok, JSON.stringify(!reparsed.ok && reparsed.problems)).toBe(true);
          expect(hasActiveAdmin(nextJson)).toBe(true);
          expect(JSON.stringify(serializeOrganization(org))).toBe(before); // the input is never touched
          replica = replica.update(JSON.parse(JSON.stringify(result.change)));
          expect(replica.revision).toBe(result.snapshot.revision);
          expect(JSON.stringify(serializeOrganization(replica.organization))).toBe(JSON.stringify(nextJson));
          org = result.snapshot;
          json = nextJson;
          if (steps % 5 === 0) expectPolicyAgrees(org, json);
        }
        expectPolicyAgrees(org, json);
        expectReplicaAgrees(replica, org);
      }),
      { numRuns: 300 },
    );
    expect(steps).toBeGreaterThanOrEqual(15_000);
    console.info(`admin model: ${steps} steps, ${applied} applied`);
    expect(applied).toBeGreaterThan(steps / 10);
  });

  it('law: the look-up of where a member is named (what removeMember changes) agrees with a search of the snapshot after every step', () => {
    const searched = (org: Organization, id: string) => ({
      groups: [...org.groups.values()].filter((g) => g.memberIds.includes(id)).map((g) => g.id).sort(),
      workspaces: [...org.workspaces.values()].filter((w) => w.members.has(id)).map((w) => w.id).sort(),
      credentials: [...org.credentials.values()].filter((c) => c.holder === 'member' && c.memberId === id).map((c) => c.id).sort(),
    });
    fc.assert(
      fc.property(fc.array(fc.tuple(arbActor, arbCommand), { minLength: 50, maxLength: 60 }), fc.nat(20), (sequence, firstLook) => {
        let org = start();
        // A replica's snapshots carry it over through applyChange (SPEC §8), the writer's through applyCommand.
        let replica = start();
        let step = 0;
        for (const [actor, command] of sequence) {
          const result = applyCommand(org, actor, command, { now: ++step });
          org = result.snapshot;
          if (result.ok) {
            const next = applyChange(replica, JSON.parse(JSON.stringify(result.change)));
            if (!next.ok) throw new Error(next.error.message);
            replica = next.organization;
          }
          // From a random step on, so the look-up is built on different snapshots and carried over from there.
          if (step >= firstLook) {
            for (const id of MEMBERS) {
              expect(memberNamedBy(org, id)).toEqual(searched(org, id));
              expect(memberNamedBy(replica, id)).toEqual(searched(replica, id));
            }
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});

