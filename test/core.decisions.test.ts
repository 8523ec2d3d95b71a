/** SPEC §3 and the DECISIONs D1, D2, D3, D5, with the §7 readings of can/explain. Connector rules (D4, D6) live in connectors.test.ts. */
import { describe, expect, it } from 'vitest';
import { createPolicy, organizationBuilder } from 'org-policy';

const acme = () =>
  organizationBuilder('acme')
    .member('ada', 'organization_admin')
    .member('bill', ['billing_manager'])
    .member('cleo', 'member', { seats: ['mistral_code'] })
    .member('dan')
    .member('sus', 'member', { status: 'suspended' })
    .member('gadmin')
    .group('eng', ['cleo', 'dan'])
    .group('it', ['gadmin'], ['organization_admin'])
    .workspace('lab', { members: { cleo: ['workspace_admin'], dan: null, bill: null, sus: ['workspace_admin'] } })
    .workspace('ops', { groups: { eng: ['dev', 'mistral_code_user'] } })
    .workspace('empty')
    .apiKey('key', 'lab')
    .apiKey('timed', 'lab', { expiresAt: '2027-01-01T00:00:00Z' })
    .apiKey('offset', 'lab', { expiresAt: '2027-01-01T02:00:00+02:00' })
    .apiKey('revoked', 'lab', { status: 'revoked' })
    .seatPool('mistral_code', 1);

const policy = createPolicy(acme().organization());

describe('SPEC §3.1 "Permissions are additive"', () => {
  it('a member gets the union of its direct roles and its groups\' roles', () => {
    // cleo: workspace_admin directly in lab; dev + mistral_code_user through eng in ops
    expect(policy.can('cleo', 'workspace.members.manage', 'lab')).toBe(true);
    expect(policy.can('cleo', 'studio.use', 'ops')).toBe(true);
    expect(policy.can('cleo', 'code.use', 'ops')).toBe(true);
    expect(policy.can('cleo', 'vibe.use', 'ops')).toBe(false);
  });

  it('explain names every grant, direct and through each group', () => {
    const both = createPolicy(
      organizationBuilder().member('a', 'organization_admin').member('m').group('g1', ['m']).group('g2', ['m'])
        .workspace('w', { members: { m: ['dev'] }, groups: { g1: ['workspace_contributor'], g2: null } }).organization(),
    );
    expect(both.explain('m', 'studio.use', 'w')).toEqual({
      allowed: true,
      grants: [
        { via: 'direct', role: 'dev', scope: 'workspace', workspace: 'w' },
        { via: 'group', group: 'g1', role: 'workspace_contributor', scope: 'workspace', workspace: 'w' },
        { via: 'group', group: 'g2', role: 'workspace_contributor', scope: 'workspace', workspace: 'w', default: true },
      ],
    });
  });
});

describe('SPEC §3.2 "Two scopes … They are independent"', () => {
  it('organization actions come from organization roles only; an organization action ignores the workspace', () => {
    expect(policy.can('bill', 'org.billing.manage')).toBe(true);
    expect(policy.can('bill', 'org.billing.manage', 'lab')).toBe(true);
    expect(policy.can('bill', 'org.billing.manage', 'no-such-workspace')).toBe(true);
    expect(policy.can('cleo', 'org.members.manage')).toBe(false); // workspace_admin gives nothing at the organization level
  });

  it('"A user can be a Member of the Organization and a Workspace admin of one Workspace"', () => {
    expect(policy.can('cleo', 'org.profile.manage_own')).toBe(true);
    expect(policy.can('cleo', 'workspace.settings.manage', 'lab')).toBe(true);
    expect(policy.can('cleo', 'workspace.settings.manage', 'ops')).toBe(false);
  });
});

describe('SPEC §3.3 workspace roles only where the member is a member', () => {
  it('a member of no workspace holds no workspace action', () => {
    expect(policy.explain('bill', 'vibe.use', 'ops')).toEqual({ allowed: false, reason: 'not_a_member' });
  });
  it('membership through a group granted roles there counts', () => {
    expect(policy.can('dan', 'studio.use', 'ops')).toBe(true);
  });
});

describe('SPEC §3.4 "New Workspace members get Workspace contributor by default, regardless of their Organization role"', () => {
  it('a member added without roles gets exactly workspace_contributor, marked default', () => {
    expect(policy.explain('dan', 'vibe.use', 'lab')).toEqual({
      allowed: true,
      grants: [{ via: 'direct', role: 'workspace_contributor', scope: 'workspace', workspace: 'lab', default: true }],
    });
    expect(policy.can('dan', 'observability.view', 'lab')).toBe(false);
    expect(policy.can('dan', 'workspace.members.manage', 'lab')).toBe(false);
  });
  it('"Even an Organization admin or billing manager starts as a Workspace contributor"', () => {
    expect(policy.can('bill', 'vibe.use', 'lab')).toBe(true);
    expect(policy.can('bill', 'workspace.members.manage', 'lab')).toBe(false);
    expect(policy.can('bill', 'observability.view', 'lab')).toBe(false);
  });
});

describe('SPEC §3.5 fail closed', () => {
  it('an unknown principal, workspace or action decides false', () => {
    expect(policy.explain('nobody', 'vibe.use', 'lab')).toEqual({ allowed: false, reason: 'unknown_principal' });
    expect(policy.explain('dan', 'vibe.use', 'nowhere')).toEqual({ allowed: false, reason: 'unknown_workspace' });
    expect(policy.explain('dan', 'vibe.fly', 'lab')).toEqual({ allowed: false, reason: 'unknown_action' });
  });
  it('a suspended member decides false for everything, even what its roles grant', () => {
    expect(policy.explain('sus', 'org.profile.manage_own')).toEqual({ allowed: false, reason: 'suspended' });
    expect(policy.can('sus', 'workspace.members.manage', 'lab')).toBe(false);
    expect(policy.can('sus', 'admin.access')).toBe(false);
  });
  it('a workspace action asked without a workspace is false (workspace_required)', () => {
    expect(policy.explain('dan', 'vibe.use')).toEqual({ allowed: false, reason: 'workspace_required' });
    expect(policy.explain('dan', 'vibe.use', null)).toEqual({ allowed: false, reason: 'workspace_required' });
  });
  it('malformed input never throws: non-string principals, actions, workspaces and odd options', () => {
    for (const odd of [undefined, null, 1, {}, [], Symbol('x'), () => 0]) {
      expect(policy.can(odd as never, 'vibe.use', 'lab')).toBe(false);
      expect(policy.can('dan', odd as never, 'lab')).toBe(false);
      expect(policy.explain('dan', 'vibe.use', odd as never).allowed).toBe(false);
    }
    expect(policy.explain('dan', 'vibe.use', 'lab', 5 as never)).toEqual({ allowed: false, reason: 'malformed_options' });
    expect(policy.explain('dan', 'vibe.use', 'lab', 'now' as never)).toEqual({ allowed: false, reason: 'malformed_options' });
    expect(policy.can('dan', 'vibe.use', 'lab', null)).toBe(true);
  });
  it('§7.16: any non-string workspace other than undefined/null is an unknown workspace', () => {
    expect(policy.explain('dan', 'vibe.use', 42 as never)).toEqual({ allowed: false, reason: 'unknown_workspace' });
    expect(policy.explain('cleo', 'admin.access', {} as never)).toEqual({ allowed: false, reason: 'unknown_workspace' });
  });
  it('§7.11: ids compare exactly — no case folding, trimming or coercion', () => {
    expect(policy.can('Dan', 'vibe.use', 'lab')).toBe(false);
    expect(policy.can(' dan', 'vibe.use', 'lab')).toBe(false);
    expect(policy.can('dan', 'vibe.use', 'LAB')).toBe(false);
    expect(policy.can('dan', 'VIBE.USE', 'lab')).toBe(false);
  });
  it('ids such as __proto__ and constructor are ordinary ids, and unknown ones never reach a prototype', () => {
    const tricky = createPolicy(
      organizationBuilder().member('__proto__', 'organization_admin').member('constructor').workspace('toString', { members: { constructor: null } }).organization(),
    );
    expect(tricky.can('__proto__', 'org.members.manage')).toBe(true);
    expect(tricky.can('constructor', 'vibe.use', 'toString')).toBe(true);
    expect(tricky.can('hasOwnProperty', 'vibe.use', 'toString')).toBe(false);
    expect(tricky.can('constructor', 'vibe.use', 'valueOf')).toBe(false);
    expect(policy.can('__proto__', 'vibe.use', 'lab')).toBe(false);
    expect(policy.can('dan', 'vibe.use', '__proto__')).toBe(false);
  });
});

describe('SPEC §3.6, DECISION D5: "keys are how programs call Studio APIs; they never administer"', () => {
  it('an API key may use studio.use in its own workspace and nothing else', () => {
    expect(policy.explain('key', 'studio.use', 'lab')).toEqual({ allowed: true, grants: [{ via: 'api_key', role: null, scope: 'workspace', workspace: 'lab' }] });
    expect(policy.explain('key', 'vibe.use', 'lab')).toEqual({ allowed: false, reason: 'no_grant' });
    expect(policy.explain('key', 'workspace.api_keys.manage', 'lab')).toEqual({ allowed: false, reason: 'no_grant' });
    expect(policy.explain('key', 'admin.access')).toEqual({ allowed: false, reason: 'no_grant' });
    expect(policy.explain('key', 'org.usage.view')).toEqual({ allowed: false, reason: 'no_grant' });
    expect(policy.explain('key', 'studio.use', 'ops')).toEqual({ allowed: false, reason: 'not_a_member' });
    expect(policy.explain('key', 'studio.use')).toEqual({ allowed: false, reason: 'not_a_member' });
    expect(policy.explain('key', 'studio.use', 'nowhere')).toEqual({ allowed: false, reason: 'not_a_member' });
  });
  it('a revoked key decides false (key_revoked)', () => {
    expect(policy.explain('revoked', 'studio.use', 'lab')).toEqual({ allowed: false, reason: 'key_revoked' });
  });
});

describe('SPEC §7.1 time: now comes from the caller', () => {
  const before = Date.UTC(2026, 11, 31);
  const at = Date.UTC(2027, 0, 1);
  it('a key with an expiry asked without a usable now is denied (now_required)', () => {
    expect(policy.explain('timed', 'studio.use', 'lab')).toEqual({ allowed: false, reason: 'now_required' });
    expect(policy.explain('timed', 'studio.use', 'lab', {})).toEqual({ allowed: false, reason: 'now_required' });
    expect(policy.explain('timed', 'studio.use', 'lab', { now: new Date(before) as never })).toEqual({ allowed: false, reason: 'now_required' });
    expect(policy.explain('timed', 'studio.use', 'lab', { now: '2026-12-31T00:00:00' })).toEqual({ allowed: false, reason: 'now_required' });
    expect(policy.explain('timed', 'studio.use', 'lab', { now: 'yesterday' })).toEqual({ allowed: false, reason: 'now_required' });
    expect(policy.explain('timed', 'studio.use', 'lab', { now: Number.NaN })).toEqual({ allowed: false, reason: 'now_required' });
  });
  it('now is epoch milliseconds, or ISO-8601 with Z or an offset', () => {
    expect(policy.can('timed', 'studio.use', 'lab', { now: before })).toBe(true);
    expect(policy.can('timed', 'studio.use', 'lab', { now: '2026-12-31T00:00:00Z' })).toBe(true);
    expect(policy.can('timed', 'studio.use', 'lab', { now: '2027-01-01T00:59:59+01:00' })).toBe(true);
    expect(policy.can('timed', 'studio.use', 'lab', { now: '2027-01-01T01:00:00+01:00' })).toBe(false);
  });
  it('a key is expired when now >= expiresAt (key_expired), whatever the offset expiresAt was written with', () => {
    expect(policy.explain('timed', 'studio.use', 'lab', { now: at })).toEqual({ allowed: false, reason: 'key_expired' });
    expect(policy.can('timed', 'studio.use', 'lab', { now: at - 1 })).toBe(true);
    expect(policy.can('offset', 'studio.use', 'lab', { now: at - 1 })).toBe(true);
    expect(policy.can('offset', 'studio.use', 'lab', { now: at })).toBe(false);
  });
  it('a member\'s decision never reads now', () => {
    expect(policy.can('dan', 'vibe.use', 'lab', { now: 'garbage' as never })).toBe(true);
    expect(policy.can('dan', 'vibe.use', 'lab', { now: at })).toBe(true);
  });
});

describe('DECISION D1: an organization_admin administers every workspace, with no product action from its org role', () => {
  it('"Full control of the Organization": the four workspace.*.manage actions in every workspace, member or not', () => {
    for (const action of ['workspace.members.manage', 'workspace.connectors.manage', 'workspace.api_keys.manage', 'workspace.settings.manage']) {
      for (const workspace of ['lab', 'ops', 'empty']) {
        expect(policy.explain('ada', action, workspace)).toEqual({ allowed: true, grants: [{ via: 'direct', role: 'organization_admin', scope: 'organization' }] });
      }
    }
  });
  it('held through a group, D1 is explained as the group\'s organization_admin grant', () => {
    expect(policy.explain('gadmin', 'workspace.members.manage', 'lab')).toEqual({
      allowed: true,
      grants: [{ via: 'group', group: 'it', role: 'organization_admin', scope: 'organization' }],
    });
  });
  it('"Even an Organization admin … starts as a Workspace contributor": no vibe, studio, code or observability from the org role (§7.14)', () => {
    for (const action of ['vibe.use', 'studio.use', 'code.use', 'observability.view']) {
      expect(policy.explain('ada', action, 'lab')).toEqual({ allowed: false, reason: 'not_a_member' });
    }
  });
  it('D1 needs a workspace that exists', () => {
    expect(policy.explain('ada', 'workspace.members.manage', 'nowhere')).toEqual({ allowed: false, reason: 'unknown_workspace' });
  });
});

describe('DECISION D2: code.use needs a mistral_code seat, whichever role grants it ("requires a seat")', () => {
  it('granted by mistral_code_user (through a group) with a seat: allowed; without: seat_required', () => {
    expect(policy.can('cleo', 'code.use', 'ops')).toBe(true);
    expect(policy.explain('dan', 'code.use', 'ops')).toEqual({ allowed: false, reason: 'seat_required' });
  });
  it('granted by the default contributor without a seat: seat_required', () => {
    expect(policy.explain('dan', 'code.use', 'lab')).toEqual({ allowed: false, reason: 'seat_required' });
  });
  it('no role granting code.use is no_grant, which comes before seat_required (§7.15)', () => {
    const p = createPolicy(organizationBuilder().member('a', 'organization_admin').member('m').workspace('w', { members: { m: ['dev'] } }).organization());
    expect(p.explain('m', 'code.use', 'w')).toEqual({ allowed: false, reason: 'no_grant' });
  });
});

describe('DECISION D3: workspace_admin is a contributor plus administration, without observability', () => {
  it('a workspace admin has vibe, studio, code (with a seat), the four manage actions and admin.access, not observability.view', () => {
    for (const action of ['vibe.use', 'studio.use', 'code.use', 'workspace.members.manage', 'workspace.connectors.manage', 'workspace.api_keys.manage', 'workspace.settings.manage', 'admin.access']) {
      expect(policy.can('cleo', action, 'lab'), action).toBe(true);
    }
    expect(policy.explain('cleo', 'observability.view', 'lab')).toEqual({ allowed: false, reason: 'no_grant' });
  });
});

describe('SPEC §2, §7.9 admin.access: "You need an Organization admin or Workspace admin role to access Admin"', () => {
  it('without a workspace: an organization_admin, or a workspace_admin of at least one workspace', () => {
    expect(policy.can('ada', 'admin.access')).toBe(true);
    expect(policy.can('gadmin', 'admin.access')).toBe(true);
    expect(policy.explain('cleo', 'admin.access')).toEqual({
      allowed: true,
      grants: [{ via: 'direct', role: 'workspace_admin', scope: 'workspace', workspace: 'lab' }],
    });
    expect(policy.explain('dan', 'admin.access')).toEqual({ allowed: false, reason: 'no_grant' });
    expect(policy.explain('bill', 'admin.access')).toEqual({ allowed: false, reason: 'no_grant' });
  });
  it('with a workspace: true for that workspace\'s admins and organization admins (D1), false for a contributor', () => {
    expect(policy.can('cleo', 'admin.access', 'lab')).toBe(true);
    expect(policy.explain('cleo', 'admin.access', 'ops')).toEqual({ allowed: false, reason: 'no_grant' });
    expect(policy.can('ada', 'admin.access', 'empty')).toBe(true);
    expect(policy.explain('dan', 'admin.access', 'lab')).toEqual({ allowed: false, reason: 'no_grant' });
    expect(policy.explain('dan', 'admin.access', 'nowhere')).toEqual({ allowed: false, reason: 'unknown_workspace' });
  });
});

describe('SPEC §7.15 reason codes come in a fixed order: the first that applies is the reason', () => {
  it('unknown_action before unknown_principal before malformed_options', () => {
    expect(policy.explain('nobody', 'nope', 'lab', 5 as never)).toEqual({ allowed: false, reason: 'unknown_action' });
    expect(policy.explain('nobody', 'vibe.use', 'lab', 5 as never)).toEqual({ allowed: false, reason: 'unknown_principal' });
    expect(policy.explain(7 as never, 'vibe.use', 'lab')).toEqual({ allowed: false, reason: 'unknown_principal' });
    expect(policy.explain('revoked', 'vibe.use', 'lab', 5 as never)).toEqual({ allowed: false, reason: 'malformed_options' });
  });
  it('for a key: key_revoked, now_required, key_expired, then no_grant, then not_a_member', () => {
    const keys = createPolicy(acme().apiKey('both', 'lab', { status: 'revoked', expiresAt: '2020-01-01T00:00:00Z' }).organization());
    expect(keys.explain('both', 'vibe.use', 'ops')).toEqual({ allowed: false, reason: 'key_revoked' });
    expect(keys.explain('timed', 'vibe.use', 'ops')).toEqual({ allowed: false, reason: 'now_required' });
    expect(keys.explain('timed', 'vibe.use', 'ops', { now: Date.UTC(2030, 0, 1) })).toEqual({ allowed: false, reason: 'key_expired' });
    expect(keys.explain('key', 'vibe.use', 'ops')).toEqual({ allowed: false, reason: 'no_grant' });
  });
  it('for a member: suspended before anything about the action or workspace', () => {
    expect(policy.explain('sus', 'vibe.use', 'nowhere')).toEqual({ allowed: false, reason: 'suspended' });
    expect(policy.explain('sus', 'vibe.use')).toEqual({ allowed: false, reason: 'suspended' });
  });
  it('for a workspace action: workspace_required, unknown_workspace, not_a_member or no_grant, then seat_required', () => {
    expect(policy.explain('dan', 'code.use')).toEqual({ allowed: false, reason: 'workspace_required' });
    expect(policy.explain('dan', 'code.use', 'nowhere')).toEqual({ allowed: false, reason: 'unknown_workspace' });
    expect(policy.explain('dan', 'code.use', 'empty')).toEqual({ allowed: false, reason: 'not_a_member' });
    expect(policy.explain('dan', 'observability.view', 'ops')).toEqual({ allowed: false, reason: 'no_grant' });
    expect(policy.explain('dan', 'code.use', 'ops')).toEqual({ allowed: false, reason: 'seat_required' });
  });
  it('denials and grants are frozen values', () => {
    const denied = policy.explain('dan', 'vibe.use');
    const allowed = policy.explain('dan', 'vibe.use', 'lab');
    expect(Object.isFrozen(denied)).toBe(true);
    expect(Object.isFrozen(allowed)).toBe(true);
    expect(allowed.allowed && Object.isFrozen(allowed.grants[0])).toBe(true);
  });
});

describe('SPEC §6: createPolicy compiles a parsed snapshot, and refuses anything else with every problem', () => {
  it('throws an OrganizationError listing the problems (loading is not a decision)', () => {
    expect(() => createPolicy({ schemaVersion: 1, id: 'o', name: 'o', members: [{ id: 'm', email: 'm@x', status: 'active', orgRoles: ['member'] }], bogus: 1 })).toThrow(
      /2 problems[\s\S]*bogus[\s\S]*no_active_admin/,
    );
    expect(() => createPolicy(null)).toThrow(/Invalid organization snapshot/);
  });
  it('accepts the JSON of a valid snapshot and a parsed one alike', () => {
    const json = acme().toJSON();
    expect(createPolicy(json).can('dan', 'vibe.use', 'lab')).toBe(true);
    expect(createPolicy(acme().organization()).can('dan', 'vibe.use', 'lab')).toBe(true);
  });
  it('methods do not depend on this: they can be passed around on their own', () => {
    const { can, explain } = policy;
    expect(can('dan', 'vibe.use', 'lab')).toBe(true);
    expect(explain('dan', 'vibe.use', 'lab').allowed).toBe(true);
    expect(Object.isFrozen(policy)).toBe(true);
  });
});
