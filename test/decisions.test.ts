/**
 * SPEC §3 (`can` / `explain`), DECISIONs D1 D2 D3 D5, and the §7 readings of can/explain
 * (§7.1 time, §7.9 admin.access, §7.11 exact ids, §7.14, §7.15 reason codes and their order, §7.16).
 * D4 and D6 are connector decisions: test/connectors.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { createPolicy, organizationBuilder, type Explanation, type Grant, type Policy } from 'org-policy';

/** Every answer here is checked twice: `explain(...).allowed === can(...)` (SPEC §3.7 "the same decision"). */
function decision(policy: Policy, principal: unknown, action: unknown, workspace?: unknown, options?: unknown): Explanation {
  const ask = policy as unknown as { can: (...a: unknown[]) => boolean; explain: (...a: unknown[]) => Explanation };
  const args = options === undefined ? (workspace === undefined ? [principal, action] : [principal, action, workspace]) : [principal, action, workspace, options];
  const explanation = ask.explain(...args);
  expect(ask.can(...args)).toBe(explanation.allowed);
  return explanation;
}
const denied = (reason: string) => ({ allowed: false, reason });
/** Grants compared as a set: the SPEC names each grant, not their order. */
function grants(explanation: Explanation): Grant[] {
  expect(explanation.allowed).toBe(true);
  return explanation.allowed ? [...explanation.grants].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) : [];
}
const sorted = (list: Grant[]) => [...list].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

/** Every organization snapshot needs an active organization_admin (SPEC §5): `boss` is that admin where a test does not care. */
const org = () => organizationBuilder('acme').member('boss', 'organization_admin');

describe('SPEC §3.1 "Permissions are additive: the user gets the union of everything their roles grant"', () => {
  const policy = createPolicy(
    org()
      .member('m')
      .group('g', ['m'])
      .workspace('w', { members: { m: ['user'] }, groups: { g: ['dev'] } })
      .organization(),
  );

  it('a direct role and a group\'s role add up in one workspace', () => {
    expect(decision(policy, 'm', 'vibe.use', 'w').allowed).toBe(true);
    expect(decision(policy, 'm', 'studio.use', 'w').allowed).toBe(true);
    expect(decision(policy, 'm', 'observability.view', 'w')).toEqual(denied('no_grant'));
  });

  it('"A user can hold several roles in the same Organization": organization roles add up too, direct and through groups', () => {
    const p = createPolicy(org().member('m', ['billing_manager']).group('people', ['m'], ['member']).organization());
    expect(decision(p, 'm', 'org.billing.manage').allowed).toBe(true);
    expect(grants(decision(p, 'm', 'org.profile.manage_own'))).toEqual([{ via: 'group', group: 'people', role: 'member', scope: 'organization' }]);
  });

  it('"There are no deny rules": adding a group with fewer rights removes nothing', () => {
    const before = createPolicy(org().member('m').workspace('w', { members: { m: ['workspace_admin'] } }).organization());
    const after = createPolicy(org().member('m').group('g', ['m']).workspace('w', { members: { m: ['workspace_admin'] }, groups: { g: ['user'] } }).organization());
    for (const action of ['vibe.use', 'studio.use', 'workspace.members.manage', 'admin.access']) {
      expect(decision(before, 'm', action, 'w').allowed).toBe(true);
      expect(decision(after, 'm', action, 'w').allowed).toBe(true);
    }
  });
});

describe('SPEC §3.2 "Two scopes … They are independent"', () => {
  const policy = createPolicy(
    org()
      .member('bill', ['billing_manager'])
      .member('wsadmin')
      .workspace('w', { members: { wsadmin: ['workspace_admin'], bill: ['user'] } })
      .organization(),
  );

  it('organization actions come from organization roles only: a workspace_admin gets no organization action', () => {
    expect(decision(policy, 'wsadmin', 'org.members.manage')).toEqual(denied('no_grant'));
    expect(decision(policy, 'wsadmin', 'org.settings.manage', 'w')).toEqual(denied('no_grant'));
  });

  it('"A user can be a Member of the Organization and a Workspace admin of one Workspace"', () => {
    expect(decision(policy, 'wsadmin', 'org.profile.manage_own').allowed).toBe(true);
    expect(decision(policy, 'wsadmin', 'workspace.settings.manage', 'w').allowed).toBe(true);
  });

  it('an organization action asked with a workspace ignores the workspace — an unknown or malformed one included', () => {
    for (const workspace of ['w', 'nowhere', '', 42, {}, null, undefined]) {
      expect(decision(policy, 'bill', 'org.billing.manage', workspace).allowed).toBe(true);
      expect(decision(policy, 'bill', 'org.members.manage', workspace)).toEqual(denied('no_grant'));
    }
  });

  it('workspace actions come from the roles held in that workspace: billing_manager gives no product access', () => {
    expect(decision(policy, 'bill', 'vibe.use', 'w').allowed).toBe(true); // from `user` in w
    expect(decision(policy, 'bill', 'studio.use', 'w')).toEqual(denied('no_grant'));
  });
});

describe('SPEC §3.3 workspace roles are held only where the member is a member, directly or through a group', () => {
  const policy = createPolicy(
    org()
      .member('direct')
      .member('grouped')
      .member('outsider')
      .group('team', ['grouped'])
      .group('idle', ['outsider'])
      .workspace('w', { members: { direct: ['dev'] }, groups: { team: ['dev'] } })
      .workspace('v', { members: { outsider: ['dev'] } })
      .organization(),
  );

  it('a direct member and a member through a granted group hold the role in w', () => {
    expect(grants(decision(policy, 'direct', 'studio.use', 'w'))).toEqual([{ via: 'direct', role: 'dev', scope: 'workspace', workspace: 'w' }]);
    expect(grants(decision(policy, 'grouped', 'studio.use', 'w'))).toEqual([{ via: 'group', group: 'team', role: 'dev', scope: 'workspace', workspace: 'w' }]);
  });

  it('a role held in another workspace, or a group not granted here, gives nothing in w (not_a_member)', () => {
    expect(decision(policy, 'outsider', 'studio.use', 'w')).toEqual(denied('not_a_member'));
    expect(decision(policy, 'outsider', 'studio.use', 'v').allowed).toBe(true);
    expect(decision(policy, 'grouped', 'studio.use', 'v')).toEqual(denied('not_a_member'));
  });
});

describe('SPEC §3.4 "New Workspace members get Workspace contributor by default, regardless of their Organization role"', () => {
  const policy = createPolicy(
    org()
      .member('m', 'member', { seats: ['mistral_code'] })
      .member('bill', ['billing_manager'])
      .member('g1')
      .group('team', ['g1'])
      .seatPool('mistral_code', 1)
      .workspace('w', { members: { m: null, bill: null, boss: null }, groups: { team: null } })
      .organization(),
  );

  it('a member added without roles gets exactly workspace_contributor, marked default: true', () => {
    expect(decision(policy, 'm', 'vibe.use', 'w')).toEqual({
      allowed: true,
      grants: [{ via: 'direct', role: 'workspace_contributor', scope: 'workspace', workspace: 'w', default: true }],
    });
    expect(decision(policy, 'm', 'studio.use', 'w').allowed).toBe(true);
    expect(decision(policy, 'm', 'code.use', 'w').allowed).toBe(true);
    for (const action of ['observability.view', 'workspace.members.manage', 'workspace.settings.manage', 'admin.access']) {
      expect(decision(policy, 'm', action, 'w')).toEqual(denied('no_grant'));
    }
  });

  it('a group granted without roles gives its members the default contributor, via the group', () => {
    expect(grants(decision(policy, 'g1', 'studio.use', 'w'))).toEqual([
      { via: 'group', group: 'team', role: 'workspace_contributor', scope: 'workspace', workspace: 'w', default: true },
    ]);
    expect(decision(policy, 'g1', 'workspace.members.manage', 'w')).toEqual(denied('no_grant'));
  });

  it('"Even an Organization admin or billing manager starts as a Workspace contributor"', () => {
    expect(decision(policy, 'bill', 'vibe.use', 'w').allowed).toBe(true);
    expect(decision(policy, 'bill', 'observability.view', 'w')).toEqual(denied('no_grant'));
    expect(grants(decision(policy, 'boss', 'studio.use', 'w'))).toEqual([
      { via: 'direct', role: 'workspace_contributor', scope: 'workspace', workspace: 'w', default: true },
    ]);
    expect(decision(policy, 'boss', 'observability.view', 'w')).toEqual(denied('no_grant'));
  });
});

describe('SPEC §3.5 fail closed — denies and never throws', () => {
  const policy = createPolicy(org().member('m').member('sus', 'member', { status: 'suspended' }).workspace('w', { members: { m: null, sus: ['workspace_admin'] } }).organization());

  it('an unknown principal, workspace or action', () => {
    expect(decision(policy, 'ghost', 'vibe.use', 'w')).toEqual(denied('unknown_principal'));
    expect(decision(policy, 'm', 'vibe.use', 'nowhere')).toEqual(denied('unknown_workspace'));
    expect(decision(policy, 'm', 'vibe.fly', 'w')).toEqual(denied('unknown_action'));
  });

  it('a suspended member, whatever its roles', () => {
    expect(decision(policy, 'sus', 'vibe.use', 'w')).toEqual(denied('suspended'));
    expect(decision(policy, 'sus', 'workspace.members.manage', 'w')).toEqual(denied('suspended'));
    expect(decision(policy, 'sus', 'org.profile.manage_own')).toEqual(denied('suspended'));
    expect(decision(policy, 'sus', 'admin.access')).toEqual(denied('suspended'));
  });

  it('"A workspace action asked without a workspace is false"', () => {
    expect(decision(policy, 'm', 'vibe.use')).toEqual(denied('workspace_required'));
    expect(decision(policy, 'm', 'vibe.use', null)).toEqual(denied('workspace_required'));
  });

  it('malformed input: prototype names, non-strings, throwing getters, odd options', () => {
    const trap = new Proxy({}, { get: () => { throw new Error('trap'); } });
    const inputs: unknown[] = ['__proto__', 'constructor', 'toString', '', 'x'.repeat(1 << 20), 0, NaN, true, null, undefined, {}, [], Symbol('s'), trap];
    for (const value of inputs) {
      expect(() => decision(policy, value, 'vibe.use', 'w')).not.toThrow();
      expect(decision(policy, value, 'vibe.use', 'w').allowed).toBe(false);
      expect(decision(policy, 'm', value, 'w').allowed).toBe(false);
      if (value !== undefined && value !== null) expect(decision(policy, 'm', 'vibe.use', value).allowed).toBe(false);
      expect(() => decision(policy, 'm', 'vibe.use', 'w', value)).not.toThrow();
    }
  });
});

describe('SPEC §3.6, D5 "keys are how programs call Studio APIs; they never administer"', () => {
  const policy = createPolicy(org().workspace('w').workspace('v').apiKey('key', 'w').organization());

  it('an API key may use studio.use in its own workspace, explained as an api_key grant', () => {
    expect(decision(policy, 'key', 'studio.use', 'w')).toEqual({ allowed: true, grants: [{ via: 'api_key', role: null, scope: 'workspace', workspace: 'w' }] });
  });

  it('and nothing else: no Vibe, no Code, no observability, no administration, no organization action (no_grant)', () => {
    for (const action of ['vibe.use', 'code.use', 'observability.view', 'workspace.members.manage', 'workspace.connectors.manage', 'workspace.api_keys.manage', 'workspace.settings.manage', 'admin.access']) {
      expect(decision(policy, 'key', action, 'w')).toEqual(denied('no_grant'));
    }
    expect(decision(policy, 'key', 'org.settings.manage')).toEqual(denied('no_grant'));
    expect(decision(policy, 'key', 'admin.access')).toEqual(denied('no_grant'));
  });

  it('studio.use anywhere but its own workspace — another, none, unknown, malformed — is not_a_member (§7.15)', () => {
    for (const workspace of ['v', undefined, null, 'nowhere', 42]) {
      expect(decision(policy, 'key', 'studio.use', workspace)).toEqual(denied('not_a_member'));
    }
  });

  it('"its own workspace" is the one that owns the key, whatever order the snapshot lists workspaces in', () => {
    const json = org().workspace('w').apiKey('key', 'v').workspace('v').toJSON();
    const p = createPolicy(json);
    expect(decision(p, 'key', 'studio.use', 'w')).toEqual(denied('not_a_member'));
    expect(decision(p, 'key', 'studio.use', 'v').allowed).toBe(true);
  });
});

describe('SPEC §3.7 explain names each grant exactly', () => {
  it('role, scope, via direct or group, the group id, the workspace of a workspace role', () => {
    const p = createPolicy(
      org()
        .member('m', ['member', 'organization_admin'])
        .group('admins', ['m'], ['organization_admin'])
        .group('devs', ['m'])
        .workspace('w', { members: { m: ['workspace_admin', 'dev'] }, groups: { devs: ['dev'] } })
        .organization(),
    );
    expect(grants(decision(p, 'm', 'org.profile.manage_own'))).toEqual(
      sorted([
        { via: 'direct', role: 'member', scope: 'organization' },
        { via: 'direct', role: 'organization_admin', scope: 'organization' },
        { via: 'group', group: 'admins', role: 'organization_admin', scope: 'organization' },
      ]),
    );
    const studio = grants(decision(p, 'm', 'studio.use', 'w'));
    expect(studio).toEqual(
      sorted([
        { via: 'direct', role: 'workspace_admin', scope: 'workspace', workspace: 'w' },
        { via: 'direct', role: 'dev', scope: 'workspace', workspace: 'w' },
        { via: 'group', group: 'devs', role: 'dev', scope: 'workspace', workspace: 'w' },
      ]),
    );
  });

  it('a role that does not grant the action is not listed', () => {
    const p = createPolicy(org().member('m').workspace('w', { members: { m: ['user', 'dev'] } }).organization());
    expect(grants(decision(p, 'm', 'vibe.use', 'w'))).toEqual([{ via: 'direct', role: 'user', scope: 'workspace', workspace: 'w' }]);
  });

  it('explanations are frozen values', () => {
    const p = createPolicy(org().member('m').workspace('w', { members: { m: ['user'] } }).organization());
    const e = decision(p, 'm', 'vibe.use', 'w');
    expect(Object.isFrozen(e)).toBe(true);
    if (e.allowed) {
      expect(Object.isFrozen(e.grants)).toBe(true);
      expect(Object.isFrozen(e.grants[0])).toBe(true);
    }
  });
});

describe('DECISION D1: an organization_admin administers every workspace, and gets no product action from it', () => {
  const policy = createPolicy(
    org()
      .member('viaGroup')
      .group('it', ['viaGroup'], ['organization_admin'])
      .member('m')
      .workspace('w', { members: { m: ['user'] } })
      .workspace('mine', { members: { boss: ['user'] } })
      .organization(),
  );
  const MANAGE = ['workspace.members.manage', 'workspace.connectors.manage', 'workspace.api_keys.manage', 'workspace.settings.manage'];

  it('"Full control of the Organization": the four workspace.*.manage actions in a workspace it is not a member of, shown as the organization_admin grant', () => {
    for (const action of MANAGE) {
      expect(decision(policy, 'boss', action, 'w')).toEqual({ allowed: true, grants: [{ via: 'direct', role: 'organization_admin', scope: 'organization' }] });
    }
  });

  it('held through a group, D1 names the group', () => {
    expect(decision(policy, 'viaGroup', 'workspace.members.manage', 'w')).toEqual({
      allowed: true,
      grants: [{ via: 'group', group: 'it', role: 'organization_admin', scope: 'organization' }],
    });
  });

  it('"They are independent": no vibe.use, studio.use, code.use or observability.view from the org role (not_a_member)', () => {
    for (const action of ['vibe.use', 'studio.use', 'code.use', 'observability.view']) {
      expect(decision(policy, 'boss', action, 'w')).toEqual(denied('not_a_member'));
    }
  });

  it('a member workspace role and D1 both listed; product actions only from the workspace role', () => {
    expect(decision(policy, 'boss', 'vibe.use', 'mine').allowed).toBe(true);
    expect(decision(policy, 'boss', 'studio.use', 'mine')).toEqual(denied('no_grant'));
    expect(grants(decision(policy, 'boss', 'workspace.settings.manage', 'mine'))).toEqual([{ via: 'direct', role: 'organization_admin', scope: 'organization' }]);
  });

  it('D1 does not reach a workspace that does not exist (unknown_workspace)', () => {
    expect(decision(policy, 'boss', 'workspace.members.manage', 'nowhere')).toEqual(denied('unknown_workspace'));
  });
});

describe('DECISION D2: code.use needs a mistral_code seat, whichever role grants it ("requires a seat"; "seats control access to paid products")', () => {
  const build = (seats: boolean) =>
    createPolicy(
      org()
        .member('m', 'member', seats ? { seats: ['mistral_code'] } : {})
        .seatPool('mistral_code', 1)
        .group('team', ['m'])
        .workspace('code', { members: { m: ['mistral_code_user'] } })
        .workspace('contrib', { members: { m: ['workspace_contributor'] } })
        .workspace('admin', { members: { m: ['workspace_admin'] } })
        .workspace('default', { members: { m: null } })
        .workspace('group', { groups: { team: ['mistral_code_user'] } })
        .workspace('user', { members: { m: ['user'] } })
        .organization(),
    );
  const GRANTING = ['code', 'contrib', 'admin', 'default', 'group'];

  it('with a seat, every role that grants code.use allows it', () => {
    const p = build(true);
    for (const w of GRANTING) expect(decision(p, 'm', 'code.use', w).allowed).toBe(true);
  });

  it('without a seat, each of them is seat_required — the default contributor is no way around the seat', () => {
    const p = build(false);
    for (const w of GRANTING) expect(decision(p, 'm', 'code.use', w)).toEqual(denied('seat_required'));
  });

  it('a seat grants nothing by itself: no role granting code.use is no_grant, no role at all not_a_member', () => {
    const p = build(true);
    expect(decision(p, 'm', 'code.use', 'user')).toEqual(denied('no_grant'));
    const q = createPolicy(org().member('m', 'member', { seats: ['mistral_code'] }).seatPool('mistral_code', 1).workspace('w').organization());
    expect(decision(q, 'm', 'code.use', 'w')).toEqual(denied('not_a_member'));
  });

  it('the seat gates only code.use: vibe.use and studio.use need none', () => {
    const p = build(false);
    expect(decision(p, 'm', 'vibe.use', 'contrib').allowed).toBe(true);
    expect(decision(p, 'm', 'studio.use', 'contrib').allowed).toBe(true);
  });
});

describe('DECISION D3: workspace_admin does not include observability.view ("No management, administration, or observability")', () => {
  const policy = createPolicy(
    org()
      .member('a')
      .member('ao')
      .workspace('w', { members: { a: ['workspace_admin'], ao: ['workspace_admin', 'observability_viewer'] } })
      .organization(),
  );

  it('a workspace_admin alone is no_grant for observability.view', () => {
    expect(decision(policy, 'a', 'observability.view', 'w')).toEqual(denied('no_grant'));
  });

  it('adding observability_viewer gives it (roles are additive)', () => {
    expect(grants(decision(policy, 'ao', 'observability.view', 'w'))).toEqual([{ via: 'direct', role: 'observability_viewer', scope: 'workspace', workspace: 'w' }]);
  });

  it('"Everything a Workspace Contributor has, plus Workspace administration"', () => {
    for (const action of ['vibe.use', 'studio.use', 'workspace.members.manage', 'workspace.connectors.manage', 'workspace.api_keys.manage', 'workspace.settings.manage', 'admin.access']) {
      expect(decision(policy, 'a', action, 'w').allowed).toBe(true);
    }
  });
});

describe('SPEC §2, §7.9 admin.access: "You need an Organization admin or Workspace admin role to access Admin"', () => {
  const policy = createPolicy(
    org()
      .member('wa')
      .member('ga')
      .member('contrib')
      .member('bill', ['billing_manager'])
      .group('admins', ['ga'])
      .workspace('w', { members: { wa: ['workspace_admin'], contrib: null, bill: null } })
      .workspace('v', { groups: { admins: ['workspace_admin'] } })
      .organization(),
  );

  it('without a workspace: an organization_admin', () => {
    expect(decision(policy, 'boss', 'admin.access')).toEqual({ allowed: true, grants: [{ via: 'direct', role: 'organization_admin', scope: 'organization' }] });
  });

  it('without a workspace: a workspace_admin of at least one workspace, directly or through a group', () => {
    expect(decision(policy, 'wa', 'admin.access')).toEqual({ allowed: true, grants: [{ via: 'direct', role: 'workspace_admin', scope: 'workspace', workspace: 'w' }] });
    expect(decision(policy, 'ga', 'admin.access', null)).toEqual({
      allowed: true,
      grants: [{ via: 'group', group: 'admins', role: 'workspace_admin', scope: 'workspace', workspace: 'v' }],
    });
  });

  it('without a workspace: a contributor or a billing manager is no_grant', () => {
    expect(decision(policy, 'contrib', 'admin.access')).toEqual(denied('no_grant'));
    expect(decision(policy, 'bill', 'admin.access')).toEqual(denied('no_grant'));
  });

  it('with a workspace: true for that workspace\'s admins and for organization admins (D1), false for a contributor', () => {
    expect(decision(policy, 'wa', 'admin.access', 'w').allowed).toBe(true);
    expect(decision(policy, 'boss', 'admin.access', 'w')).toEqual({ allowed: true, grants: [{ via: 'direct', role: 'organization_admin', scope: 'organization' }] });
    expect(decision(policy, 'contrib', 'admin.access', 'w')).toEqual(denied('no_grant'));
  });

  it('with a workspace: the admin of another workspace is no_grant here (never not_a_member for admin.access)', () => {
    expect(decision(policy, 'wa', 'admin.access', 'v')).toEqual(denied('no_grant'));
    expect(decision(policy, 'ga', 'admin.access', 'w')).toEqual(denied('no_grant'));
  });

  it('with an unknown or malformed workspace: unknown_workspace, even for an organization admin', () => {
    expect(decision(policy, 'boss', 'admin.access', 'nowhere')).toEqual(denied('unknown_workspace'));
    expect(decision(policy, 'wa', 'admin.access', 7)).toEqual(denied('unknown_workspace'));
    expect(decision(policy, 'contrib', 'admin.access', 'nowhere')).toEqual(denied('unknown_workspace'));
  });
});

describe('SPEC §7.1 time: options.now, epoch ms or ISO-8601 with Z or an offset; the core reads no clock', () => {
  const EXPIRY = Date.UTC(2027, 0, 1); // 2027-01-01T00:00:00Z
  const policy = createPolicy(
    org()
      .workspace('w')
      .apiKey('z', 'w', { expiresAt: '2027-01-01T00:00:00Z' })
      .apiKey('offset', 'w', { expiresAt: '2027-01-01T02:00:00+02:00' })
      .apiKey('forever', 'w')
      .member('m')
      .workspace('mw', { members: { m: ['dev'] } })
      .organization(),
  );

  it('epoch milliseconds: before the expiry allowed, at it and after expired ("now >= expiresAt")', () => {
    expect(decision(policy, 'z', 'studio.use', 'w', { now: EXPIRY - 1 }).allowed).toBe(true);
    expect(decision(policy, 'z', 'studio.use', 'w', { now: EXPIRY })).toEqual(denied('key_expired'));
    expect(decision(policy, 'z', 'studio.use', 'w', { now: EXPIRY + 86_400_000 })).toEqual(denied('key_expired'));
  });

  it('ISO-8601 with Z', () => {
    expect(decision(policy, 'z', 'studio.use', 'w', { now: '2026-12-31T23:59:59.999Z' }).allowed).toBe(true);
    expect(decision(policy, 'z', 'studio.use', 'w', { now: '2027-01-01T00:00:00Z' })).toEqual(denied('key_expired'));
  });

  it('ISO-8601 with an offset, on both sides (now and expiresAt): the same instant, whatever the zone', () => {
    expect(decision(policy, 'z', 'studio.use', 'w', { now: '2027-01-01T00:59:59+01:00' }).allowed).toBe(true);
    expect(decision(policy, 'z', 'studio.use', 'w', { now: '2027-01-01T01:00:00+01:00' })).toEqual(denied('key_expired'));
    expect(decision(policy, 'offset', 'studio.use', 'w', { now: EXPIRY - 1 }).allowed).toBe(true);
    expect(decision(policy, 'offset', 'studio.use', 'w', { now: '2026-12-31T19:00:00-05:00' })).toEqual(denied('key_expired'));
  });

  it('an ISO string without an offset, a Date, garbage, NaN: no usable now, so a key with an expiry is now_required', () => {
    for (const now of ['2026-06-01T00:00:00', '2026-06-01', new Date(EXPIRY - 1), 'yesterday', '', NaN, null, true, {}]) {
      expect(decision(policy, 'z', 'studio.use', 'w', { now })).toEqual(denied('now_required'));
    }
    expect(decision(policy, 'z', 'studio.use', 'w')).toEqual(denied('now_required'));
    expect(decision(policy, 'z', 'studio.use', 'w', {})).toEqual(denied('now_required'));
    expect(decision(policy, 'z', 'studio.use', 'w', null)).toEqual(denied('now_required'));
  });

  it('a throwing getter for now reads as no now (never throws)', () => {
    const options = { get now(): number { throw new Error('clock'); } };
    expect(decision(policy, 'z', 'studio.use', 'w', options)).toEqual(denied('now_required'));
  });

  it('a key without expiresAt never needs now', () => {
    expect(decision(policy, 'forever', 'studio.use', 'w').allowed).toBe(true);
    expect(decision(policy, 'forever', 'studio.use', 'w', { now: 'garbage' }).allowed).toBe(true);
  });

  it('"A member\'s decision never reads now"', () => {
    for (const now of [undefined, 0, 'garbage', new Date(0), EXPIRY * 10]) {
      expect(decision(policy, 'm', 'studio.use', 'mw', { now }).allowed).toBe(true);
    }
  });

  it('"Only options itself being neither an object nor undefined/null is malformed_options"', () => {
    for (const options of [5, 'now', true, 0n]) {
      expect(decision(policy, 'm', 'studio.use', 'mw', options)).toEqual(denied('malformed_options'));
      expect(decision(policy, 'forever', 'studio.use', 'w', options)).toEqual(denied('malformed_options'));
    }
    expect(decision(policy, 'm', 'studio.use', 'mw', { product: 'anything', extra: 1 }).allowed).toBe(true);
  });
});

describe('SPEC §7.11 ids compare exactly: no case folding, trimming or Unicode normalization; no coercion', () => {
  const nfc = 'caf\u00e9';
  const nfd = 'cafe\u0301';
  const policy = createPolicy(org().member(nfc).member('Ada').workspace('Lab', { members: { Ada: ['dev'], [nfc]: ['dev'] } }).organization());

  it('principals', () => {
    expect(decision(policy, 'Ada', 'studio.use', 'Lab').allowed).toBe(true);
    for (const id of ['ada', 'ADA', ' Ada', 'Ada ', nfd]) expect(decision(policy, id, 'studio.use', 'Lab')).toEqual(denied('unknown_principal'));
    expect(decision(policy, nfc, 'studio.use', 'Lab').allowed).toBe(true);
  });

  it('workspaces', () => {
    for (const w of ['lab', 'LAB', ' Lab', 'Lab\n']) expect(decision(policy, 'Ada', 'studio.use', w)).toEqual(denied('unknown_workspace'));
  });

  it('actions', () => {
    for (const a of ['Studio.use', ' studio.use', 'studio.use\u0000', 'studio_use']) expect(decision(policy, 'Ada', a, 'Lab')).toEqual(denied('unknown_action'));
  });

  it('a non-string principal is never coerced (unknown_principal), a String object included', () => {
    for (const p of [new String('Ada'), ['Ada'], { toString: () => 'Ada' }, 1]) expect(decision(policy, p, 'studio.use', 'Lab')).toEqual(denied('unknown_principal'));
  });

  it('a group or workspace id is not a principal', () => {
    const p = createPolicy(org().member('m').group('team', ['m']).workspace('w', { groups: { team: ['dev'] } }).organization());
    expect(decision(p, 'team', 'studio.use', 'w')).toEqual(denied('unknown_principal'));
    expect(decision(p, 'w', 'studio.use', 'w')).toEqual(denied('unknown_principal'));
  });
});

describe('SPEC §7.14 an organization_admin who is not a member of a workspace gets no tools there', () => {
  it('no product action (D1), so no tools (§4.1); a member of the workspace gets them', () => {
    const p = createPolicy(
      org()
        .member('m')
        .workspace('w', { members: { m: null } })
        .connector('docs', { tools: ['search'], authentication: 'none' })
        .organization(),
    );
    expect(decision(p, 'boss', 'vibe.use', 'w')).toEqual(denied('not_a_member'));
    expect(decision(p, 'boss', 'studio.use', 'w')).toEqual(denied('not_a_member'));
    expect(p.toolsAvailable('boss', 'docs', 'w')).toEqual([]);
    expect(p.canInvoke('boss', 'docs', 'search', 'w')).toBe(false);
    expect(p.toolsAvailable('m', 'docs', 'w')).toEqual(['search']);
  });
});

describe('SPEC §7.16 "No workspace is undefined or null; any other non-string is an unknown workspace"', () => {
  const policy = createPolicy(org().member('m').workspace('w', { members: { m: ['workspace_admin'] } }).organization());

  it('a workspace action: undefined and null are workspace_required', () => {
    expect(decision(policy, 'm', 'vibe.use', undefined)).toEqual(denied('workspace_required'));
    expect(decision(policy, 'm', 'vibe.use', null)).toEqual(denied('workspace_required'));
  });

  it('a workspace action: any other non-string, or the empty string, is unknown_workspace', () => {
    for (const w of [0, false, NaN, {}, [], ['w'], new String('w'), '']) expect(decision(policy, 'm', 'vibe.use', w)).toEqual(denied('unknown_workspace'));
  });

  it('admin.access: null is no workspace (allowed: an admin somewhere); 0 is an unknown workspace', () => {
    expect(decision(policy, 'm', 'admin.access', null).allowed).toBe(true);
    expect(decision(policy, 'm', 'admin.access', 0)).toEqual(denied('unknown_workspace'));
  });
});

describe('SPEC §7.15 reason codes, one at a time', () => {
  const policy = createPolicy(
    org()
      .member('m', 'member')
      .member('sus', 'member', { status: 'suspended' })
      .workspace('w', { members: { m: ['user'] }, groups: {} })
      .workspace('other')
      .workspace('contrib', { members: { m: null } })
      .apiKey('key', 'w')
      .apiKey('revoked', 'w', { status: 'revoked' })
      .apiKey('expiring', 'w', { expiresAt: '2027-01-01T00:00:00Z' })
      .organization(),
  );

  it.each([
    ['unknown_action', ['m', 'org.fly', 'w']],
    ['unknown_principal', ['nobody', 'vibe.use', 'w']],
    ['malformed_options', ['m', 'vibe.use', 'w', 1]],
    ['key_revoked', ['revoked', 'studio.use', 'w']],
    ['now_required', ['expiring', 'studio.use', 'w']],
    ['key_expired', ['expiring', 'studio.use', 'w', { now: '2027-01-01T00:00:00Z' }]],
    ['suspended', ['sus', 'vibe.use', 'w']],
    ['workspace_required', ['m', 'vibe.use']],
    ['unknown_workspace', ['m', 'vibe.use', 'nowhere']],
    ['not_a_member', ['m', 'vibe.use', 'other']],
    ['no_grant', ['m', 'studio.use', 'w']],
    ['seat_required', ['m', 'code.use', 'contrib']],
  ] as const)('%s', (reason, args) => {
    expect(decision(policy, ...(args as unknown as [unknown, unknown, unknown?, unknown?]))).toEqual(denied(reason));
  });
});

describe('SPEC §7.15 order: when two rules apply, the earlier one is the reason', () => {
  const policy = createPolicy(
    org()
      .member('m', ['billing_manager'])
      .member('sus', 'member', { status: 'suspended' })
      .workspace('w', { members: { m: ['user'], sus: ['user'] } })
      .workspace('contrib', { members: { m: null } })
      .workspace('other')
      .apiKey('revokedExpiring', 'w', { status: 'revoked', expiresAt: '2020-01-01T00:00:00Z' })
      .apiKey('expiring', 'w', { expiresAt: '2020-01-01T00:00:00Z' })
      .apiKey('key', 'w')
      .organization(),
  );
  const past = { now: '2026-01-01T00:00:00Z' };

  it('unknown_action before unknown_principal', () => expect(decision(policy, 'nobody', 'org.fly')).toEqual(denied('unknown_action')));
  it('unknown_action before malformed_options', () => expect(decision(policy, 'm', 'org.fly', undefined, 3)).toEqual(denied('unknown_action')));
  it('unknown_principal before malformed_options', () => expect(decision(policy, 'nobody', 'vibe.use', 'w', 3)).toEqual(denied('unknown_principal')));
  it('malformed_options before key_revoked', () => expect(decision(policy, 'revokedExpiring', 'studio.use', 'w', 'x')).toEqual(denied('malformed_options')));
  it('malformed_options before suspended', () => expect(decision(policy, 'sus', 'vibe.use', 'w', 3)).toEqual(denied('malformed_options')));
  it('key_revoked before now_required', () => expect(decision(policy, 'revokedExpiring', 'studio.use', 'w')).toEqual(denied('key_revoked')));
  it('key_revoked before key_expired', () => expect(decision(policy, 'revokedExpiring', 'studio.use', 'w', past)).toEqual(denied('key_revoked')));
  it('now_required before no_grant', () => expect(decision(policy, 'expiring', 'vibe.use', 'w')).toEqual(denied('now_required')));
  it('key_expired before no_grant and not_a_member', () => {
    expect(decision(policy, 'expiring', 'vibe.use', 'w', past)).toEqual(denied('key_expired'));
    expect(decision(policy, 'expiring', 'studio.use', 'other', past)).toEqual(denied('key_expired'));
  });
  it('for a key, no_grant before not_a_member', () => expect(decision(policy, 'key', 'vibe.use', 'other')).toEqual(denied('no_grant')));
  it('for a key, not_a_member covers no workspace and an unknown one (never workspace_required / unknown_workspace)', () => {
    expect(decision(policy, 'key', 'studio.use')).toEqual(denied('not_a_member'));
    expect(decision(policy, 'key', 'studio.use', 'nowhere')).toEqual(denied('not_a_member'));
  });
  it('suspended before workspace_required, unknown_workspace and no_grant', () => {
    expect(decision(policy, 'sus', 'vibe.use')).toEqual(denied('suspended'));
    expect(decision(policy, 'sus', 'vibe.use', 'nowhere')).toEqual(denied('suspended'));
    expect(decision(policy, 'sus', 'org.settings.manage')).toEqual(denied('suspended'));
  });
  it('workspace_required before not_a_member and no_grant', () => expect(decision(policy, 'm', 'observability.view')).toEqual(denied('workspace_required')));
  it('unknown_workspace before not_a_member', () => expect(decision(policy, 'm', 'code.use', 'nowhere')).toEqual(denied('unknown_workspace')));
  it('not_a_member before seat_required (no seat, no role there)', () => expect(decision(policy, 'm', 'code.use', 'other')).toEqual(denied('not_a_member')));
  it('no_grant before seat_required (no seat, a role there that does not grant code.use)', () => expect(decision(policy, 'm', 'code.use', 'w')).toEqual(denied('no_grant')));
  it('seat_required last (no seat, a role that grants code.use)', () => expect(decision(policy, 'm', 'code.use', 'contrib')).toEqual(denied('seat_required')));
  it('for admin.access, unknown_workspace before no_grant', () => expect(decision(policy, 'm', 'admin.access', 'nowhere')).toEqual(denied('unknown_workspace')));
  it('an organization action skips every workspace rule: no_grant, even with an unknown workspace', () => {
    expect(decision(policy, 'm', 'org.members.manage', 'nowhere')).toEqual(denied('no_grant'));
  });
});
