/** SPEC §2: the built-in role catalog, row by row — what `GET /api/admin/roles` returns [R]. */
import { describe, expect, it } from 'vitest';
import { ACTIONS, DEFAULT_ORGANIZATION_ROLE, DEFAULT_WORKSPACE_ROLE, ROLES, actionScope, createPolicy, isAction, organizationBuilder, roleById, roleByName } from 'org-policy';

const ORG_ADMIN_ACTIONS = [
  'org.profile.manage_own',
  'org.settings.manage',
  'org.members.manage',
  'org.groups.manage',
  'org.security.manage',
  'org.billing.manage',
  'org.usage.view',
  'org.audit_logs.view',
  'org.workspaces.manage',
  'org.connectors.manage',
  'admin.access',
];
const CONTRIBUTOR = ['vibe.use', 'studio.use', 'code.use'];

/** Each row: UI label, API name, scope, the exact actions of the SPEC §2 tables, the fixed UUID. */
const TABLE = [
  { label: 'Member', name: 'member', scope: 'organization', id: '5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d1001', actions: ['org.profile.manage_own'],
    seed: '"Member — Product usage. Manages their own profile and preferences."' },
  { label: 'Billing', name: 'billing_manager', scope: 'organization', id: '5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d1002', actions: ['org.billing.manage', 'org.usage.view'],
    seed: '"Billing — Subscriptions, invoices, payment methods, and usage reports. Cannot change Organization settings or invite members."' },
  { label: 'Admin', name: 'organization_admin', scope: 'organization', id: '5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d1003', actions: ORG_ADMIN_ACTIONS,
    seed: '"Admin — Full control of the Organization: settings, members, security, billing, and audit logs."' },
  { label: 'User', name: 'user', scope: 'workspace', id: '5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d2001', actions: ['vibe.use'],
    seed: '"User — Access to Vibe and its features. No Studio access."' },
  { label: 'Developer', name: 'dev', scope: 'workspace', id: '5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d2002', actions: ['studio.use'],
    seed: '"Developer — Access to Studio and all its primitives … No Vibe access."' },
  { label: 'Mistral Vibe Code User', name: 'mistral_code_user', scope: 'workspace', id: '5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d2003', actions: ['code.use'],
    seed: '"Mistral Vibe Code User — Access to Mistral Code (requires a seat)."' },
  { label: 'Workspace Contributor', name: 'workspace_contributor', scope: 'workspace', id: '5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d2004', actions: CONTRIBUTOR,
    seed: '"Workspace Contributor — All product features (user, dev, and mistral_code_user combined). No management, administration, or observability."' },
  { label: 'Admin', name: 'workspace_admin', scope: 'workspace', id: '5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d2005',
    actions: [...CONTRIBUTOR, 'workspace.members.manage', 'workspace.connectors.manage', 'workspace.api_keys.manage', 'workspace.settings.manage', 'admin.access'],
    seed: '"Admin — Everything a Workspace Contributor has, plus Workspace administration." (D3: no observability)' },
  { label: 'Observability Viewer', name: 'observability_viewer', scope: 'workspace', id: '5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d2006', actions: ['observability.view'],
    seed: '"Observability Viewer — Access to the Observability suite."' },
] as const;

describe('SPEC §2 role tables, one row at a time', () => {
  for (const row of TABLE) {
    it(`${row.name}: label "${row.label}", ${row.scope} scope, id ${row.id}, exactly [${row.actions.join(', ')}] — ${row.seed}`, () => {
      const role = roleByName(row.name);
      expect(role).toBeDefined();
      expect(role!.label).toBe(row.label);
      expect(role!.scope).toBe(row.scope);
      expect(role!.id).toBe(row.id);
      expect([...role!.actions].sort()).toEqual([...row.actions].sort());
      expect(new Set(role!.actions).size).toBe(role!.actions.length);
      expect(roleById(row.id)).toBe(role);
    });
  }

  it('the catalog holds exactly the nine roles of the two tables, organization roles first, in table order', () => {
    expect(ROLES.map((r) => r.name)).toEqual(TABLE.map((r) => r.name));
    expect(ROLES.map((r) => ({ id: r.id, name: r.name, label: r.label, scope: r.scope }))).toEqual(
      TABLE.map((r) => ({ id: r.id, name: r.name, label: r.label, scope: r.scope })),
    );
  });

  it('role UUIDs are unique and "identical in every organization and release" (SPEC §1): the ids of the §2 id table', () => {
    expect(new Set(ROLES.map((r) => r.id)).size).toBe(9);
    for (const r of ROLES) expect(r.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('"Use the role_names field … to assign roles by name": every API name is unique', () => {
    expect(new Set(ROLES.map((r) => r.name)).size).toBe(ROLES.length);
  });

  it('every action a role grants is of that role\'s scope (admin.access counts as both)', () => {
    for (const r of ROLES) {
      for (const action of r.actions) expect([r.scope, 'both']).toContain(actionScope(action));
    }
  });

  it('D1 is a rule of can, not catalog content: organization_admin lists no workspace.*.manage action', () => {
    expect(roleByName('organization_admin')!.actions.some((a) => a.startsWith('workspace.'))).toBe(false);
  });

  it('D3: workspace_admin does not include observability.view; observability_viewer holds only it', () => {
    expect(roleByName('workspace_admin')!.actions).not.toContain('observability.view');
    expect(roleByName('observability_viewer')!.actions).toEqual(['observability.view']);
  });

  it('"Everything a Workspace Contributor has": workspace_admin ⊇ workspace_contributor = user ∪ dev ∪ mistral_code_user', () => {
    const admin = roleByName('workspace_admin')!.actions as readonly string[];
    const contributor = roleByName('workspace_contributor')!.actions as readonly string[];
    for (const a of contributor) expect(admin).toContain(a);
    const union = ['user', 'dev', 'mistral_code_user'].flatMap((n) => roleByName(n)!.actions);
    expect([...contributor].sort()).toEqual([...union].sort());
  });

  it('default roles: new members get member (§5), new workspace members workspace_contributor ("by default, regardless of their Organization role")', () => {
    expect(DEFAULT_ORGANIZATION_ROLE).toBe('member');
    expect(DEFAULT_WORKSPACE_ROLE).toBe('workspace_contributor');
  });
});

describe('SPEC §2 look-ups by name and by UUID ("Assign roles by name with role_names, or by UUID with roles")', () => {
  it('an unknown name or id is undefined', () => {
    expect(roleByName('owner')).toBeUndefined();
    expect(roleByName('Member')).toBeUndefined(); // UI label, not the API name; ids compare exactly (§7.11)
    expect(roleByName(' member')).toBeUndefined();
    expect(roleByName('')).toBeUndefined();
    expect(roleById('5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d1009')).toBeUndefined();
    expect(roleById('5B0C1A52-1F0E-4D3A-9A61-0C2F7F0D1001')).toBeUndefined();
  });

  it('a name is not an id and an id is not a name', () => {
    expect(roleById('member')).toBeUndefined();
    expect(roleByName('5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d1001')).toBeUndefined();
  });

  it('__proto__, constructor, toString, hasOwnProperty never reach an object prototype', () => {
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect(roleByName(key)).toBeUndefined();
      expect(roleById(key)).toBeUndefined();
      expect(isAction(key)).toBe(false);
    }
  });

  it('non-strings are never coerced (SPEC §7.11)', () => {
    const role = roleByName('member')!;
    for (const value of [undefined, null, 1001, true, {}, [], ['member'], Symbol('member'), { toString: () => 'member' }, new String('member')]) {
      expect(roleByName(value)).toBeUndefined();
      expect(roleById(value)).toBeUndefined();
      expect(isAction(value)).toBe(false);
    }
    expect(roleById(role.id)).toBe(role);
  });
});

describe('SPEC §2 the list of actions with their scope', () => {
  const expected: Record<string, 'organization' | 'workspace' | 'both'> = {
    ...Object.fromEntries(ORG_ADMIN_ACTIONS.map((a) => [a, 'organization'])),
    'admin.access': 'both',
    'vibe.use': 'workspace',
    'studio.use': 'workspace',
    'code.use': 'workspace',
    'observability.view': 'workspace',
    'workspace.members.manage': 'workspace',
    'workspace.connectors.manage': 'workspace',
    'workspace.api_keys.manage': 'workspace',
    'workspace.settings.manage': 'workspace',
  };

  it('ACTIONS lists every action of the two tables once, each with its scope', () => {
    expect(ACTIONS.length).toBe(Object.keys(expected).length);
    expect(new Set(ACTIONS.map((a) => a.name)).size).toBe(ACTIONS.length);
    for (const action of ACTIONS) {
      expect(expected[action.name]).toBe(action.scope);
      expect(actionScope(action.name)).toBe(action.scope);
      expect(isAction(action.name)).toBe(true);
    }
  });

  it('"admin.access is the one action of both scopes"', () => {
    expect(ACTIONS.filter((a) => a.scope === 'both').map((a) => a.name)).toEqual(['admin.access']);
  });

  it('every action is granted by some role (nothing in the list is unreachable)', () => {
    for (const action of ACTIONS) expect(ROLES.some((r) => (r.actions as readonly string[]).includes(action.name))).toBe(true);
  });

  it('action names compare exactly', () => {
    expect(isAction('Vibe.use')).toBe(false);
    expect(isAction('vibe.use ')).toBe(false);
    expect(isAction('vibe')).toBe(false);
  });
});

describe('SPEC §2 the catalog is data the library exports, frozen', () => {
  it('ROLES, each role, each action list and ACTIONS are frozen', () => {
    expect(Object.isFrozen(ROLES)).toBe(true);
    expect(Object.isFrozen(ACTIONS)).toBe(true);
    for (const r of ROLES) {
      expect(Object.isFrozen(r)).toBe(true);
      expect(Object.isFrozen(r.actions)).toBe(true);
    }
  });

  it('a caller cannot add an action to a role', () => {
    const member = roleByName('member')!;
    expect(() => (member.actions as unknown as string[]).push('org.settings.manage')).toThrow(TypeError);
    expect(() => {
      (member as { label: string }).label = 'Owner';
    }).toThrow(TypeError);
    expect(member.actions).toEqual(['org.profile.manage_own']);
  });

  it('the catalog is plain JSON (what GET /api/admin/roles returns)', () => {
    expect(JSON.parse(JSON.stringify(ROLES))).toEqual(ROLES.map((r) => ({ id: r.id, name: r.name, label: r.label, scope: r.scope, actions: [...r.actions] })));
  });
});

describe('SPEC §2 "The tables are read literally"', () => {
  const policy = createPolicy(
    organizationBuilder()
      .member('admin', 'organization_admin')
      .member('billing', ['billing_manager'])
      .member('both', ['billing_manager', 'member'])
      .organization(),
  );

  it('a billing_manager without member does not hold org.profile.manage_own', () => {
    expect(policy.can('billing', 'org.profile.manage_own')).toBe(false);
    expect(policy.explain('billing', 'org.profile.manage_own')).toEqual({ allowed: false, reason: 'no_grant' });
    expect(policy.can('both', 'org.profile.manage_own')).toBe(true);
  });

  it('"Cannot change Organization settings or invite members"', () => {
    expect(policy.can('billing', 'org.settings.manage')).toBe(false);
    expect(policy.can('billing', 'org.members.manage')).toBe(false);
    expect(policy.can('billing', 'org.billing.manage')).toBe(true);
    expect(policy.can('billing', 'org.usage.view')).toBe(true);
  });

  it('every role\'s organization actions decide as its row says (catalog and can agree)', () => {
    for (const name of ['member', 'billing_manager', 'organization_admin'] as const) {
      const p = createPolicy(organizationBuilder().member('admin', 'organization_admin').member('m', name).organization());
      for (const action of ACTIONS) {
        if (action.scope !== 'organization') continue;
        expect(p.can('m', action.name)).toBe((roleByName(name)!.actions as readonly string[]).includes(action.name));
      }
    }
  });

  it('every workspace role decides in its workspace as its row says (with a seat, so D2 is out of the way)', () => {
    for (const role of ROLES.filter((r) => r.scope === 'workspace')) {
      const p = createPolicy(
        organizationBuilder()
          .member('admin', 'organization_admin')
          .member('m', 'member', { seats: ['mistral_code'] })
          .seatPool('mistral_code', 1)
          .workspace('w', { members: { m: [role.name as 'user'] } })
          .organization(),
      );
      for (const action of ACTIONS) {
        if (action.scope === 'organization') continue;
        expect(p.can('m', action.name, 'w'), `${role.name} ${action.name}`).toBe((role.actions as readonly string[]).includes(action.name));
      }
    }
  });
});
