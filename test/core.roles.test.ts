/** SPEC §2: the built-in role catalog, row by row. */
import { describe, expect, it } from 'vitest';
import { ACTIONS, ROLES, actionScope, createPolicy, organizationBuilder, roleById, roleByName } from 'org-policy';

const ORG_ADMIN_ACTIONS = [
  'org.profile.manage_own', 'org.settings.manage', 'org.members.manage', 'org.groups.manage', 'org.security.manage',
  'org.billing.manage', 'org.usage.view', 'org.audit_logs.view', 'org.workspaces.manage', 'org.connectors.manage', 'admin.access',
];
const CONTRIBUTOR = ['vibe.use', 'studio.use', 'code.use'];

// [label, name, scope, actions, id] — the tables of SPEC §2, copied by hand.
const TABLE: [string, string, 'organization' | 'workspace', string[], string][] = [
  ['Member', 'member', 'organization', ['org.profile.manage_own'], '5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d1001'],
  ['Billing', 'billing_manager', 'organization', ['org.billing.manage', 'org.usage.view'], '5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d1002'],
  ['Admin', 'organization_admin', 'organization', ORG_ADMIN_ACTIONS, '5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d1003'],
  ['User', 'user', 'workspace', ['vibe.use'], '5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d2001'],
  ['Developer', 'dev', 'workspace', ['studio.use'], '5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d2002'],
  ['Mistral Vibe Code User', 'mistral_code_user', 'workspace', ['code.use'], '5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d2003'],
  ['Workspace Contributor', 'workspace_contributor', 'workspace', CONTRIBUTOR, '5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d2004'],
  ['Admin', 'workspace_admin', 'workspace', [...CONTRIBUTOR, 'workspace.members.manage', 'workspace.connectors.manage', 'workspace.api_keys.manage', 'workspace.settings.manage', 'admin.access'], '5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d2005'],
  ['Observability Viewer', 'observability_viewer', 'workspace', ['observability.view'], '5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d2006'],
];

describe('SPEC §2 role catalog (what GET /api/admin/roles returns)', () => {
  it('lists exactly the nine predefined roles, in the order of the tables', () => {
    expect(ROLES.map((r) => r.name)).toEqual(TABLE.map((row) => row[1]));
  });

  for (const [label, name, scope, actions, id] of TABLE) {
    it(`row "${label}" / ${name}: ${scope} role, id ${id}, grants ${actions.join(', ')}`, () => {
      const role = roleByName(name)!;
      expect(role).toMatchObject({ id, name, label, scope });
      expect([...role.actions].sort()).toEqual([...actions].sort());
      expect(roleById(id)).toBe(role);
    });

    it(`row ${name}: a holder is allowed exactly its actions, in the role's scope`, () => {
      const builder = organizationBuilder('o').member('admin', 'organization_admin');
      if (scope === 'organization') builder.member('holder', name as never);
      else builder.member('holder', 'member', { seats: ['mistral_code'] }).workspace('w', { members: { holder: [name as never] } }).seatPool('mistral_code', 1);
      const policy = createPolicy(builder.organization());
      // The actions of the role's own scope (admin.access is of both); the other scope is another role's business.
      for (const action of ACTIONS.filter((a) => a.scope === scope || a.scope === 'both')) {
        const workspace = scope === 'workspace' ? 'w' : undefined;
        expect(policy.can('holder', action.name, workspace), action.name).toBe(actions.includes(action.name));
      }
    });
  }

  it('role ids are permanent UUIDs, one per role', () => {
    expect(new Set(ROLES.map((r) => r.id)).size).toBe(ROLES.length);
    for (const role of ROLES) expect(role.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('look-ups never read an object\'s prototype and never coerce', () => {
    for (const probe of ['__proto__', 'constructor', 'toString', 'MEMBER', ' member', '', 1, null, undefined, {}, ['member']]) {
      expect(roleByName(probe)).toBeUndefined();
      expect(roleById(probe)).toBeUndefined();
    }
  });

  it('lists every action with its scope; admin.access is the one action of both scopes', () => {
    expect(ACTIONS.filter((a) => a.scope === 'both').map((a) => a.name)).toEqual(['admin.access']);
    expect(actionScope('vibe.use')).toBe('workspace');
    expect(actionScope('org.billing.manage')).toBe('organization');
    const granted = new Set(ROLES.flatMap((r) => [...r.actions]));
    expect(new Set(ACTIONS.map((a) => a.name))).toEqual(granted);
  });

  it('the catalog is frozen data', () => {
    expect(Object.isFrozen(ROLES)).toBe(true);
    expect(Object.isFrozen(ROLES[0])).toBe(true);
    expect(Object.isFrozen(ROLES[0]!.actions)).toBe(true);
    expect(Object.isFrozen(ACTIONS)).toBe(true);
  });

  it('"the tables are read literally": a billing_manager without member does not manage its own profile', () => {
    const policy = createPolicy(organizationBuilder().member('a', 'organization_admin').member('b', ['billing_manager']).organization());
    expect(policy.can('b', 'org.billing.manage')).toBe(true);
    expect(policy.can('b', 'org.profile.manage_own')).toBe(false);
  });

  it('"Billing … Cannot change Organization settings or invite members"', () => {
    const policy = createPolicy(organizationBuilder().member('a', 'organization_admin').member('b', ['billing_manager']).organization());
    expect(policy.can('b', 'org.settings.manage')).toBe(false);
    expect(policy.can('b', 'org.members.manage')).toBe(false);
  });
});
