/**
 * SPEC §4 (connector tools), in its order, with the seed's sentences on App Connections, credentials
 * and the three permission modes ([C], the Admin › Connectors page), D4, D6, §7.4, §7.8, §7.10, §7.14, §7.15, §7.17–§7.19,
 * and every connector problem that `parseOrganization` must report (SPEC §6, §7.12).
 */
import { describe, expect, it } from 'vitest';
import { createPolicy, organizationBuilder, parseOrganization, type OrganizationBuilder, type Policy } from 'org-policy';

const NOW = Date.parse('2026-06-01T00:00:00Z');

/**
 * One organization with one principal per kind of product access in workspace `ws`, and a connector
 * `docs` that needs no credential, so that each test adds only the rule it checks.
 */
function acme(): OrganizationBuilder {
  return organizationBuilder('acme')
    .member('admin', 'organization_admin')
    .member('vibe') //            `user`: vibe.use only
    .member('studio') //          `dev`: studio.use only
    .member('contrib') //         default contributor: both
    .member('observer') //        observability.view only
    .member('coder', 'member', { seats: ['mistral_code'] }) // code.use only
    .member('gone', 'member', { status: 'suspended' })
    .member('outsider') //        in no workspace
    .seatPool('mistral_code', 1)
    .workspace('ws', {
      members: { vibe: 'user', studio: 'dev', contrib: null, observer: 'observability_viewer', coder: 'mistral_code_user', gone: null },
    })
    .workspace('other', { members: { contrib: null, vibe: 'user' } })
    .connector('docs', { name: 'docs', authentication: 'none', tools: ['search', 'fetch', 'write!', 'delete!'] });
}

const policyOf = (builder: OrganizationBuilder): Policy => createPolicy(builder.organization());
const ALL_DOCS = ['search', 'fetch', 'write', 'delete'];

describe('SPEC §4.1 product: a member needs vibe.use or studio.use in the workspace', () => {
  const policy = policyOf(acme());

  it('a `user` (vibe.use), a `dev` (studio.use) and a default contributor get the tools', () => {
    for (const member of ['vibe', 'studio', 'contrib']) expect(policy.toolsAvailable(member, 'docs', 'ws')).toEqual(ALL_DOCS);
  });

  it('an observability viewer or a Mistral Code user alone gets none: no_product_access', () => {
    for (const member of ['observer', 'coder']) {
      expect(policy.toolsAvailable(member, 'docs', 'ws')).toEqual([]);
      expect(policy.explainTools(member, 'docs', 'ws').reason).toBe('no_product_access');
    }
  });

  it('a member who is not in the workspace gets none: no_product_access', () => {
    expect(policy.toolsAvailable('outsider', 'docs', 'ws')).toEqual([]);
    expect(policy.explainTools('outsider', 'docs', 'ws').reason).toBe('no_product_access');
  });

  it('§7.14: an organization_admin who is not a member of the workspace gets no tools there (D1 gives no product action)', () => {
    expect(policy.toolsAvailable('admin', 'docs', 'ws')).toEqual([]);
    expect(policy.explainInvoke('admin', 'docs', 'search', 'ws')).toEqual({ allowed: false, reason: 'no_product_access' });
  });

  it('§7.14: an organization_admin who is a member of the workspace uses tools like any contributor', () => {
    const withAdmin = policyOf(acme().workspace('admins', { members: { admin: null } }));
    expect(withAdmin.toolsAvailable('admin', 'docs', 'admins')).toEqual(ALL_DOCS);
  });

  it('a suspended member gets none: suspended', () => {
    expect(policy.toolsAvailable('gone', 'docs', 'ws')).toEqual([]);
    expect(policy.explainTools('gone', 'docs', 'ws').reason).toBe('suspended');
  });

  it('product access is per workspace: `vibe` is a `user` in ws and in other, `studio` only in ws', () => {
    expect(policy.toolsAvailable('vibe', 'docs', 'other')).toEqual(ALL_DOCS);
    expect(policy.explainTools('studio', 'docs', 'other').reason).toBe('no_product_access');
  });
});

describe('SPEC §4.1 options.product narrows to the one product named (vibe | studio)', () => {
  const policy = policyOf(acme());

  it("product 'vibe' keeps members with vibe.use; product 'studio' keeps members with studio.use", () => {
    expect(policy.toolsAvailable('vibe', 'docs', 'ws', { product: 'vibe' })).toEqual(ALL_DOCS);
    expect(policy.toolsAvailable('vibe', 'docs', 'ws', { product: 'studio' })).toEqual([]);
    expect(policy.explainTools('vibe', 'docs', 'ws', { product: 'studio' }).reason).toBe('no_product_access');
    expect(policy.toolsAvailable('studio', 'docs', 'ws', { product: 'studio' })).toEqual(ALL_DOCS);
    expect(policy.toolsAvailable('studio', 'docs', 'ws', { product: 'vibe' })).toEqual([]);
    expect(policy.toolsAvailable('contrib', 'docs', 'ws', { product: 'vibe' })).toEqual(ALL_DOCS);
    expect(policy.toolsAvailable('contrib', 'docs', 'ws', { product: 'studio' })).toEqual(ALL_DOCS);
  });

  it('§7.10: a product other than exactly vibe or studio is malformed input: no tools, malformed_options', () => {
    for (const product of ['code', 'Vibe', 'VIBE', ' vibe', '', 1, null, true, {}, ['vibe']]) {
      const options = { product } as never;
      expect(policy.toolsAvailable('contrib', 'docs', 'ws', options)).toEqual([]);
      expect(policy.canInvoke('contrib', 'docs', 'search', 'ws', options)).toBe(false);
      expect(policy.explainTools('contrib', 'docs', 'ws', options).reason).toBe('malformed_options');
    }
  });

  it('§7.1: options that are not an object (or undefined/null) are malformed_options', () => {
    for (const options of [5, 'now', true]) {
      expect(policy.toolsAvailable('contrib', 'docs', 'ws', options as never)).toEqual([]);
      expect(policy.explainTools('contrib', 'docs', 'ws', options as never).reason).toBe('malformed_options');
    }
    expect(policy.toolsAvailable('contrib', 'docs', 'ws', null)).toEqual(ALL_DOCS);
    expect(policy.toolsAvailable('contrib', 'docs', 'ws', { product: undefined })).toEqual(ALL_DOCS);
  });
});

describe('SPEC §4.1 API keys: own workspace, active, unexpired at options.now, connector in scope; Studio only (D5)', () => {
  const keys = () =>
    acme()
      .connector('crm', { authentication: 'none', tools: ['lookup'] })
      .apiKey('k-all', 'ws')
      .apiKey('k-docs', 'ws', { connectorScopes: ['docs'] })
      .apiKey('k-crm', 'ws', { connectorScopes: ['crm'] })
      .apiKey('k-none', 'ws', { connectorScopes: [] })
      .apiKey('k-revoked', 'ws', { status: 'revoked', expiresAt: '2026-01-01T00:00:00Z' })
      .apiKey('k-expiring', 'ws', { expiresAt: '2026-06-01T00:00:00Z' })
      .apiKey('k-other', 'other');
  const policy = policyOf(keys());

  it('a key in its own workspace with the connector in scope gets the tools; scopes "all" cover every connector', () => {
    expect(policy.toolsAvailable('k-all', 'docs', 'ws')).toEqual(ALL_DOCS);
    expect(policy.toolsAvailable('k-all', 'crm', 'ws')).toEqual(['lookup']);
    expect(policy.toolsAvailable('k-docs', 'docs', 'ws')).toEqual(ALL_DOCS);
  });

  it('"API key Connector scopes": a connector outside the key\'s scopes gives none: key_scope', () => {
    expect(policy.toolsAvailable('k-crm', 'docs', 'ws')).toEqual([]);
    expect(policy.explainTools('k-crm', 'docs', 'ws').reason).toBe('key_scope');
    expect(policy.explainTools('k-none', 'docs', 'ws').reason).toBe('key_scope');
    expect(policy.toolsAvailable('k-docs', 'crm', 'ws')).toEqual([]);
  });

  it('a key in another workspace gets none: key_workspace', () => {
    expect(policy.toolsAvailable('k-all', 'docs', 'other')).toEqual([]);
    expect(policy.explainTools('k-all', 'docs', 'other').reason).toBe('key_workspace');
    expect(policy.toolsAvailable('k-other', 'docs', 'other')).toEqual(ALL_DOCS);
  });

  it('a revoked key gets none: key_revoked (before now_required)', () => {
    expect(policy.toolsAvailable('k-revoked', 'docs', 'ws', { now: NOW - 10 ** 10 })).toEqual([]);
    expect(policy.explainTools('k-revoked', 'docs', 'ws').reason).toBe('key_revoked');
  });

  it('expiry is judged at options.now: expired when now >= expiresAt (§7.1)', () => {
    expect(policy.toolsAvailable('k-expiring', 'docs', 'ws', { now: NOW - 1 })).toEqual(ALL_DOCS);
    expect(policy.toolsAvailable('k-expiring', 'docs', 'ws', { now: NOW })).toEqual([]);
    expect(policy.explainTools('k-expiring', 'docs', 'ws', { now: NOW }).reason).toBe('key_expired');
    expect(policy.explainTools('k-expiring', 'docs', 'ws', { now: '2026-06-01T02:00:00+02:00' }).reason).toBe('key_expired');
    expect(policy.toolsAvailable('k-expiring', 'docs', 'ws', { now: '2026-05-31T23:59:59Z' })).toEqual(ALL_DOCS);
  });

  it('a key with an expiresAt asked without a usable now is denied: now_required', () => {
    for (const options of [undefined, {}, { now: '2026-05-01T00:00:00' }, { now: new Date(NOW - 1) }, { now: Number.NaN }]) {
      expect(policy.toolsAvailable('k-expiring', 'docs', 'ws', options as never)).toEqual([]);
      expect(policy.explainTools('k-expiring', 'docs', 'ws', options as never).reason).toBe('now_required');
    }
  });

  it("D5: keys use Studio only — product 'vibe' gives a key nothing (no_product_access), 'studio' changes nothing", () => {
    expect(policy.toolsAvailable('k-all', 'docs', 'ws', { product: 'vibe' })).toEqual([]);
    expect(policy.explainTools('k-all', 'docs', 'ws', { product: 'vibe' }).reason).toBe('no_product_access');
    expect(policy.toolsAvailable('k-all', 'docs', 'ws', { product: 'studio' })).toEqual(ALL_DOCS);
  });

  it('§7.15 key order: key_revoked, now_required, key_expired, key_workspace, key_scope, no_product_access', () => {
    const ordered = policyOf(
      acme()
        .apiKey('k-r', 'other', { status: 'revoked', expiresAt: '2026-01-01T00:00:00Z', connectorScopes: [] })
        .apiKey('k-e', 'other', { expiresAt: '2026-01-01T00:00:00Z', connectorScopes: [] })
        .apiKey('k-w', 'other', { connectorScopes: [] })
        .apiKey('k-s', 'ws', { connectorScopes: [] }),
    );
    const reason = (key: string, options?: object) => ordered.explainTools(key, 'docs', 'ws', { product: 'vibe', ...options }).reason;
    expect(reason('k-r')).toBe('key_revoked');
    expect(reason('k-e')).toBe('now_required');
    expect(reason('k-e', { now: NOW })).toBe('key_expired');
    expect(reason('k-w')).toBe('key_workspace');
    expect(reason('k-s')).toBe('key_scope');
    expect(ordered.explainTools('k-s', 'docs', 'ws', { product: 'vibe' }).tools.every((t) => t.reason === 'key_scope')).toBe(true);
  });
});

describe('SPEC §4.2 visibility (D6)', () => {
  const policy = policyOf(
    acme()
      .workspace('third', { members: { contrib: null } })
      .connector('lab', { visibility: 'workspace', workspaceIds: ['ws', 'other'], authentication: 'none', tools: ['run'] }),
  );

  it('an organization connector is visible in every workspace', () => {
    for (const workspace of ['ws', 'other', 'third']) expect(policy.toolsAvailable('contrib', 'docs', workspace)).toEqual(ALL_DOCS);
  });

  it('a workspace connector is visible only in the workspaces it belongs to: not_visible elsewhere', () => {
    expect(policy.toolsAvailable('contrib', 'lab', 'ws')).toEqual(['run']);
    expect(policy.toolsAvailable('contrib', 'lab', 'other')).toEqual(['run']);
    expect(policy.toolsAvailable('contrib', 'lab', 'third')).toEqual([]);
    expect(policy.explainTools('contrib', 'lab', 'third')).toEqual({ reason: 'not_visible', tools: [{ name: 'run', reason: 'not_visible' }] });
  });

  it('§7.18: a workspace connector with no workspace loads and is visible nowhere', () => {
    const nowhere = policyOf(acme().connector('orphan', { visibility: 'workspace', authentication: 'none', tools: ['x'] }));
    for (const workspace of ['ws', 'other']) expect(nowhere.explainTools('contrib', 'orphan', workspace).reason).toBe('not_visible');
  });

  it('§7.15: product access is checked before visibility, visibility before the permission', () => {
    const blockedLab = policyOf(
      acme()
        .workspace('third', { members: { contrib: null } })
        .connector('lab', { visibility: 'workspace', workspaceIds: ['ws'], authentication: 'none', tools: ['run'] })
        .permission('lab', 'blocked'),
    );
    expect(blockedLab.explainTools('observer', 'lab', 'other').reason).toBe('no_product_access');
    expect(blockedLab.explainTools('contrib', 'lab', 'third').reason).toBe('not_visible');
    expect(blockedLab.explainTools('contrib', 'lab', 'ws').reason).toBe('connector_blocked');
  });
});

describe('SPEC §4.3 permission: the three modes of the Permissions tab [C]', () => {
  it('"Allowed — All tools are available for users in this Workspace."', () => {
    const policy = policyOf(acme().permission('docs', 'allowed', undefined, 'ws'));
    expect(policy.toolsAvailable('contrib', 'docs', 'ws')).toEqual(ALL_DOCS);
  });

  it('"Restricted — Only selected tools are available", kept in the connector\'s order whatever the selection\'s (§7.8)', () => {
    const policy = policyOf(acme().permission('docs', 'restricted', ['delete', 'search'], 'ws'));
    expect(policy.toolsAvailable('contrib', 'docs', 'ws')).toEqual(['search', 'delete']);
    expect(policy.explainTools('contrib', 'docs', 'ws')).toEqual({
      reason: null,
      tools: [
        { name: 'search', reason: null },
        { name: 'fetch', reason: 'tool_not_selected' },
        { name: 'write', reason: 'tool_not_selected' },
        { name: 'delete', reason: null },
      ],
    });
    expect(policy.canInvoke('contrib', 'docs', 'fetch', 'ws')).toBe(false);
    expect(policy.explainInvoke('contrib', 'docs', 'fetch', 'ws')).toEqual({ allowed: false, reason: 'tool_not_selected' });
    expect(policy.toolsAvailable('contrib', 'docs', 'other')).toEqual(ALL_DOCS);
  });

  it('"Blocked — The Connector is turned off for users in this Workspace" ("Use Blocked when a Connector must not be used in a Workspace")', () => {
    const policy = policyOf(acme().permission('docs', 'blocked', undefined, 'ws'));
    expect(policy.toolsAvailable('contrib', 'docs', 'ws')).toEqual([]);
    expect(policy.explainTools('contrib', 'docs', 'ws').reason).toBe('connector_blocked');
    expect(policy.explainInvoke('contrib', 'docs', 'search', 'ws')).toEqual({ allowed: false, reason: 'connector_blocked' });
    expect(policy.toolsAvailable('contrib', 'docs', 'other')).toEqual(ALL_DOCS);
  });

  it('"Connector administration applies at the Organization and Workspace levels": an organization setting holds in every workspace', () => {
    const blocked = policyOf(acme().permission('docs', 'blocked'));
    for (const workspace of ['ws', 'other']) expect(blocked.explainTools('contrib', 'docs', workspace).reason).toBe('connector_blocked');
    const restricted = policyOf(acme().permission('docs', 'restricted', ['fetch']));
    for (const workspace of ['ws', 'other']) expect(restricted.toolsAvailable('contrib', 'docs', workspace)).toEqual(['fetch']);
  });

  it('D4: where nothing is set, the mode is allowed', () => {
    expect(policyOf(acme()).toolsAvailable('contrib', 'docs', 'ws')).toEqual(ALL_DOCS);
  });

  it('D4: the effective set is the intersection of the organization and workspace selections', () => {
    const policy = policyOf(acme().permission('docs', 'restricted', ['search', 'fetch', 'write']).permission('docs', 'restricted', ['write', 'delete', 'fetch'], 'ws'));
    expect(policy.toolsAvailable('contrib', 'docs', 'ws')).toEqual(['fetch', 'write']);
    expect(policy.toolsAvailable('contrib', 'docs', 'other')).toEqual(['search', 'fetch', 'write']);
    expect(policy.explainTools('contrib', 'docs', 'ws').tools.map((t) => t.reason)).toEqual(['tool_not_selected', null, null, 'tool_not_selected']);
  });

  it('D4: a workspace narrows and never widens — allowed in the workspace keeps the organization\'s restriction', () => {
    const policy = policyOf(acme().permission('docs', 'restricted', ['search']).permission('docs', 'allowed', undefined, 'ws'));
    expect(policy.toolsAvailable('contrib', 'docs', 'ws')).toEqual(['search']);
    const unblocked = policyOf(acme().permission('docs', 'blocked').permission('docs', 'allowed', undefined, 'ws'));
    expect(unblocked.explainTools('contrib', 'docs', 'ws').reason).toBe('connector_blocked');
    const reselected = policyOf(acme().permission('docs', 'restricted', ['search']).permission('docs', 'restricted', ['fetch'], 'ws'));
    expect(reselected.toolsAvailable('contrib', 'docs', 'ws')).toEqual([]);
    expect(reselected.explainTools('contrib', 'docs', 'ws').reason).toBeNull();
  });

  it('D4: an organization allowed and a workspace restriction give the workspace\'s selection', () => {
    const policy = policyOf(acme().permission('docs', 'allowed').permission('docs', 'restricted', ['delete'], 'ws'));
    expect(policy.toolsAvailable('contrib', 'docs', 'ws')).toEqual(['delete']);
  });

  it('§7.15: blocked is reported before not_connected; a permission never makes a connection', () => {
    const policy = policyOf(acme().connector('gh', { tools: ['issues'] }).permission('gh', 'blocked', undefined, 'ws'));
    expect(policy.explainTools('contrib', 'gh', 'ws').reason).toBe('connector_blocked');
    expect(policy.explainTools('contrib', 'gh', 'other').reason).toBe('not_connected');
  });
});

describe('SPEC §4.4 connection: credentials and App Connections [C]', () => {
  const connected = () =>
    acme()
      .member('dana')
      .workspace('third', { members: { dana: null, contrib: null } })
      .connector('github', { tools: ['search_repositories', 'create_issue!'] })
      .connector('slack', { authentication: 'api_key', tools: ['search_messages'] })
      .connector('jira', { tools: ['get_issue'] })
      .apiKey('k-ws', 'ws')
      .apiKey('k-third', 'third');

  it('"If you are not connected, the Includes section shows You\'re not connected": no credential, no tools (not_connected)', () => {
    const policy = policyOf(connected());
    for (const connector of ['github', 'slack']) {
      expect(policy.toolsAvailable('contrib', connector, 'ws')).toEqual([]);
      expect(policy.explainTools('contrib', connector, 'ws').reason).toBe('not_connected');
      expect(policy.explainTools('k-ws', connector, 'ws').reason).toBe('not_connected');
    }
  });

  it('a connector whose authentication is none needs no credential', () => {
    expect(policyOf(connected()).toolsAvailable('contrib', 'docs', 'ws')).toEqual(ALL_DOCS);
  });

  it('"Once connected, members can use the app through Mistral without signing in individually": the App Connection serves every member and key, in every workspace', () => {
    const policy = policyOf(connected().credential('gh-app', 'github', 'organization'));
    for (const [principal, workspace] of [['contrib', 'ws'], ['vibe', 'other'], ['dana', 'third'], ['k-ws', 'ws'], ['k-third', 'third']] as const) {
      expect(policy.toolsAvailable(principal, 'github', workspace)).toEqual(['search_repositories', 'create_issue']);
    }
    expect(policy.explainTools('contrib', 'slack', 'ws').reason).toBe('not_connected');
  });

  it('"Use Connector credentials when … Workspaces need a specific account connection": a workspace credential serves that workspace only', () => {
    const policy = policyOf(connected().credential('gh-ws', 'github', { workspace: 'ws' }));
    expect(policy.toolsAvailable('contrib', 'github', 'ws')).toHaveLength(2);
    expect(policy.toolsAvailable('k-ws', 'github', 'ws')).toHaveLength(2);
    expect(policy.explainTools('contrib', 'github', 'other').reason).toBe('not_connected');
    expect(policy.explainTools('k-third', 'github', 'third').reason).toBe('not_connected');
  });

  it('"… when users … need a specific account connection": a member credential serves that member only, in every workspace where it may use tools (§7.4)', () => {
    const policy = policyOf(connected().credential('gh-contrib', 'github', { member: 'contrib' }));
    for (const workspace of ['ws', 'other', 'third']) expect(policy.toolsAvailable('contrib', 'github', workspace)).toHaveLength(2);
    expect(policy.explainTools('vibe', 'github', 'ws').reason).toBe('not_connected');
    expect(policy.explainTools('dana', 'github', 'third').reason).toBe('not_connected');
    expect(policy.explainTools('observer', 'github', 'ws').reason).toBe('no_product_access');
  });

  it('§7.4: an API key never uses a member\'s credential; it uses the workspace\'s, then the organization\'s', () => {
    const memberOnly = policyOf(connected().credential('gh-contrib', 'github', { member: 'contrib' }).credential('gh-dana', 'github', { member: 'dana' }));
    expect(memberOnly.explainTools('k-ws', 'github', 'ws').reason).toBe('not_connected');
    const workspace = policyOf(connected().credential('gh-ws', 'github', { workspace: 'ws' }));
    expect(workspace.toolsAvailable('k-ws', 'github', 'ws')).toHaveLength(2);
    const organization = policyOf(connected().credential('gh-app', 'github', 'organization'));
    expect(organization.toolsAvailable('k-ws', 'github', 'ws')).toHaveLength(2);
  });

  it('resolution member > workspace > organization: any one level connects, and a credential of another connector does not', () => {
    const levels = [
      (b: OrganizationBuilder) => b.credential('c', 'github', { member: 'contrib' }),
      (b: OrganizationBuilder) => b.credential('c', 'github', { workspace: 'ws' }),
      (b: OrganizationBuilder) => b.credential('c', 'github', 'organization'),
      (b: OrganizationBuilder) => b.credential('a', 'github', { member: 'contrib' }).credential('b', 'github', { workspace: 'ws' }).credential('c', 'github', 'organization'),
    ];
    for (const level of levels) expect(policyOf(level(connected())).toolsAvailable('contrib', 'github', 'ws')).toHaveLength(2);
    const elsewhere = policyOf(connected().credential('j', 'jira', 'organization').credential('s', 'slack', { member: 'contrib' }));
    expect(elsewhere.explainTools('contrib', 'github', 'ws').reason).toBe('not_connected');
  });

  it('"shared bot access": the App Connection does not change what the permission allows', () => {
    const policy = policyOf(connected().credential('gh-app', 'github', 'organization').permission('github', 'restricted', ['search_repositories'], 'ws'));
    expect(policy.toolsAvailable('contrib', 'github', 'ws')).toEqual(['search_repositories']);
    expect(policy.toolsAvailable('contrib', 'github', 'other')).toEqual(['search_repositories', 'create_issue']);
  });
});

describe('SPEC §4.5 capabilities: a read_only connector exposes only read tools', () => {
  it('"Capabilities: Read-only": every tool of a read-only connector is a read tool, and all of them are available', () => {
    const policy = policyOf(acme().connector('atlassian', { capabilities: 'read_only', authentication: 'none', tools: ['search_confluence', 'get_jira_issue'] }));
    expect(policy.toolsAvailable('contrib', 'atlassian', 'ws')).toEqual(['search_confluence', 'get_jira_issue']);
  });

  it('defining a write tool on a read_only connector is a validation error', () => {
    const result = acme().connector('atlassian', { capabilities: 'read_only', tools: ['search', 'create!'] }).parse();
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems).toContainEqual(expect.objectContaining({ code: 'write_tool_on_read_only', path: ['connectors', 1, 'tools', 1, 'access'] }));
  });

  it('a read_write connector exposes its read and its write tools', () => {
    expect(policyOf(acme()).toolsAvailable('contrib', 'docs', 'ws')).toEqual(['search', 'fetch', 'write', 'delete']);
  });
});

describe('SPEC §7.17: a connector is named by its id, or else by its unique name', () => {
  // The seed's Overview: "Connector name: atlassian", "Connector ID: 0198e70f-…".
  const ATLASSIAN_ID = '0198e70f-57b0-77f6-a752-0a7f5ea2da35';
  const policy = policyOf(
    acme()
      .connector(ATLASSIAN_ID, { name: 'atlassian', authentication: 'none', tools: ['search_confluence'] })
      // A connector whose id is another connector's name: the id wins.
      .connector('atlassian', { name: 'shadow', authentication: 'none', tools: ['shadow_tool'] }),
  );

  it('by id and by name give the same answers', () => {
    expect(policy.toolsAvailable('contrib', ATLASSIAN_ID, 'ws')).toEqual(['search_confluence']);
    expect(policy.toolsAvailable('contrib', 'shadow', 'ws')).toEqual(['shadow_tool']);
    expect(policy.canInvoke('contrib', 'shadow', 'shadow_tool', 'ws')).toBe(true);
    expect(policy.explainInvoke('contrib', 'shadow', 'shadow_tool', 'ws')).toEqual({ allowed: true, reason: null });
  });

  it('an id is tried first: "atlassian" names the connector whose id it is', () => {
    expect(policy.toolsAvailable('contrib', 'atlassian', 'ws')).toEqual(['shadow_tool']);
  });

  it('§7.11: names and ids compare exactly — no case folding or trimming', () => {
    for (const name of ['Shadow', ' shadow', 'shadow ', ATLASSIAN_ID.toUpperCase()]) {
      expect(policy.toolsAvailable('contrib', name, 'ws')).toEqual([]);
      expect(policy.explainTools('contrib', name, 'ws')).toEqual({ reason: 'unknown_connector', tools: [] });
    }
  });
});

describe('SPEC §7.15: reason codes of explainTools and explainInvoke, in order', () => {
  const policy = policyOf(acme().connector('gh', { tools: ['issues'] }).permission('gh', 'blocked', undefined, 'other'));

  it('unknown_principal, unknown_connector, unknown_workspace, malformed_options come first, in this order', () => {
    expect(policy.explainTools('nobody', 'nope', 'nowhere', 5 as never).reason).toBe('unknown_principal');
    expect(policy.explainTools(7 as never, 'docs', 'ws').reason).toBe('unknown_principal');
    expect(policy.explainTools('contrib', 'nope', 'nowhere', 5 as never)).toEqual({ reason: 'unknown_connector', tools: [] });
    expect(policy.explainTools('contrib', 'docs', 'nowhere', 5 as never).reason).toBe('unknown_workspace');
    expect(policy.explainTools('contrib', 'docs', null as never).reason).toBe('unknown_workspace');
    expect(policy.explainTools('contrib', 'docs', 'ws', 5 as never).reason).toBe('malformed_options');
  });

  it('a member: suspended, no_product_access, then not_visible, connector_blocked, not_connected; then tool_not_selected per tool', () => {
    expect(policy.explainTools('gone', 'gh', 'other').reason).toBe('suspended');
    expect(policy.explainTools('observer', 'gh', 'ws').reason).toBe('no_product_access');
    expect(policy.explainTools('vibe', 'gh', 'other').reason).toBe('connector_blocked');
    expect(policy.explainTools('vibe', 'gh', 'ws').reason).toBe('not_connected');
  });

  it('connector_blocked: organization level before workspace level, and both before a tool\'s own reason', () => {
    const both = policyOf(acme().permission('docs', 'blocked').permission('docs', 'restricted', ['search'], 'ws'));
    expect(both.explainTools('contrib', 'docs', 'ws')).toEqual({ reason: 'connector_blocked', tools: ALL_DOCS.map((name) => ({ name, reason: 'connector_blocked' })) });
  });

  it('explainTools lists each of the connector\'s tools with reason null when available', () => {
    expect(policy.explainTools('contrib', 'docs', 'ws')).toEqual({ reason: null, tools: ALL_DOCS.map((name) => ({ name, reason: null })) });
  });

  it('explainInvoke: unknown_tool comes after the connector\'s reasons', () => {
    expect(policy.explainInvoke('observer', 'docs', 'nope', 'ws')).toEqual({ allowed: false, reason: 'no_product_access' });
    expect(policy.explainInvoke('vibe', 'gh', 'nope', 'other')).toEqual({ allowed: false, reason: 'connector_blocked' });
    expect(policy.explainInvoke('vibe', 'gh', 'nope', 'ws')).toEqual({ allowed: false, reason: 'not_connected' });
    expect(policy.explainInvoke('contrib', 'docs', 'nope', 'ws')).toEqual({ allowed: false, reason: 'unknown_tool' });
    expect(policy.explainInvoke('contrib', 'docs', 42 as never, 'ws')).toEqual({ allowed: false, reason: 'unknown_tool' });
    expect(policy.explainInvoke('nobody', 'docs', 'nope', 'ws')).toEqual({ allowed: false, reason: 'unknown_principal' });
  });

  it('explainInvoke: unknown_tool before tool_not_selected, and an allowed call has reason null', () => {
    const restricted = policyOf(acme().permission('docs', 'restricted', ['search']));
    expect(restricted.explainInvoke('contrib', 'docs', 'SEARCH', 'ws')).toEqual({ allowed: false, reason: 'unknown_tool' });
    expect(restricted.explainInvoke('contrib', 'docs', 'fetch', 'ws')).toEqual({ allowed: false, reason: 'tool_not_selected' });
    expect(restricted.explainInvoke('contrib', 'docs', 'search', 'ws')).toEqual({ allowed: true, reason: null });
  });
});

describe('SPEC §4 toolsByConnector: a gateway\'s whole tool list', () => {
  const policy = policyOf(
    acme()
      .connector('github', { tools: ['search_repositories', 'create_issue!'] })
      .connector('lab', { visibility: 'workspace', workspaceIds: ['other'], authentication: 'none', tools: ['run'] })
      .connector('slack', { tools: ['search_messages', 'send_message!'] })
      .credential('gh-app', 'github', 'organization')
      .credential('slack-ws', 'slack', { workspace: 'ws' })
      .permission('slack', 'restricted', ['send_message', 'search_messages'], 'ws'),
  );

  it('[{ connector: { id, name }, tools }] in snapshot order, connectors with no available tool left out', () => {
    expect(policy.toolsByConnector('contrib', 'ws')).toEqual([
      { connector: { id: 'docs', name: 'docs' }, tools: ALL_DOCS },
      { connector: { id: 'github', name: 'github' }, tools: ['search_repositories', 'create_issue'] },
      { connector: { id: 'slack', name: 'slack' }, tools: ['search_messages', 'send_message'] },
    ]);
    expect(policy.toolsByConnector('contrib', 'other').map((c) => c.connector.id)).toEqual(['docs', 'github', 'lab']);
  });

  it('agrees with toolsAvailable for every connector', () => {
    for (const principal of ['contrib', 'vibe', 'observer', 'gone', 'admin']) {
      for (const workspace of ['ws', 'other']) {
        const expected = [...policy.organization.connectors.values()]
          .map((c) => ({ connector: { id: c.id, name: c.name }, tools: [...policy.toolsAvailable(principal, c.id, workspace)] }))
          .filter((c) => c.tools.length > 0);
        expect(policy.toolsByConnector(principal, workspace)).toEqual(expected);
      }
    }
  });

  it('fail closed: an unknown principal or workspace, or malformed options, give []', () => {
    expect(policy.toolsByConnector('nobody', 'ws')).toEqual([]);
    expect(policy.toolsByConnector('contrib', 'nowhere')).toEqual([]);
    expect(policy.toolsByConnector('contrib', 'ws', { product: 'code' } as never)).toEqual([]);
    expect(policy.toolsByConnector(undefined as never, undefined as never)).toEqual([]);
  });
});

describe('SPEC §6, §7.12: parseOrganization reports every connector problem', () => {
  /** Raw snapshot JSON, edited freely to break one rule at a time. */
  type Json = Record<string, any>;
  const valid = () =>
    acme()
      .connector('github', { tools: ['search', 'create!'] })
      .connector('lab', { visibility: 'workspace', workspaceIds: ['ws'], tools: ['run'] })
      .apiKey('k', 'ws', { connectorScopes: ['github'] });
  const problemsOf = (edit: (json: Json) => void) => {
    const json = valid().toJSON() as Json;
    edit(json);
    const result = parseOrganization(json);
    return result.ok ? [] : result.problems.map(({ code, path }) => ({ code, path }));
  };

  it('the fixture itself is valid', () => {
    expect(valid().parse().ok).toBe(true);
  });

  it.each([
    [
      'a restricted list naming a tool the connector lacks, organization level (§7.8)',
      (j: Json) => j.connectorPermissions.push({ connectorId: 'github', mode: 'restricted', tools: ['search', 'merge'] }),
      { code: 'unknown_tool', path: ['connectorPermissions', 0, 'tools', 1] },
    ],
    [
      'a restricted list naming a tool the connector lacks, workspace level',
      (j: Json) => j.workspaces[0].connectorPermissions.push({ connectorId: 'github', mode: 'restricted', tools: ['merge'] }),
      { code: 'unknown_tool', path: ['workspaces', 0, 'connectorPermissions', 0, 'tools', 0] },
    ],
    ['a write tool on a read_only connector', (j: Json) => (j.connectors[1].capabilities = 'read_only'), { code: 'write_tool_on_read_only', path: ['connectors', 1, 'tools', 1, 'access'] }],
    ['a credential for an unknown connector', (j: Json) => j.credentials.push({ id: 'c1', connectorId: 'gitlab', holder: 'organization' }), { code: 'dangling_reference', path: ['credentials', 0, 'connectorId'] }],
    [
      'a workspace credential for an unknown workspace',
      (j: Json) => j.credentials.push({ id: 'c1', connectorId: 'github', holder: 'workspace', workspaceId: 'nowhere' }),
      { code: 'dangling_reference', path: ['credentials', 0, 'workspaceId'] },
    ],
    [
      'a member credential for an unknown member',
      (j: Json) => j.credentials.push({ id: 'c1', connectorId: 'github', holder: 'member', memberId: 'nobody' }),
      { code: 'dangling_reference', path: ['credentials', 0, 'memberId'] },
    ],
    ['a credential with an unknown holder', (j: Json) => j.credentials.push({ id: 'c1', connectorId: 'github', holder: 'team' }), { code: 'invalid_value', path: ['credentials', 0, 'holder'] }],
    [
      'a workspace credential without its workspace',
      (j: Json) => j.credentials.push({ id: 'c1', connectorId: 'github', holder: 'workspace' }),
      { code: 'missing_field', path: ['credentials', 0, 'workspaceId'] },
    ],
    [
      'two credentials with one id',
      (j: Json) => j.credentials.push({ id: 'c1', connectorId: 'github', holder: 'organization' }, { id: 'c1', connectorId: 'lab', holder: 'organization' }),
      { code: 'duplicate_id', path: ['credentials', 1, 'id'] },
    ],
    ['a duplicate connector name', (j: Json) => (j.connectors[2].name = 'github'), { code: 'duplicate_name', path: ['connectors', 2, 'name'] }],
    ['a duplicate connector id', (j: Json) => (j.connectors[2].id = 'github'), { code: 'duplicate_id', path: ['connectors', 2, 'id'] }],
    ['workspaceIds on an organization connector', (j: Json) => (j.connectors[0].workspaceIds = ['ws']), { code: 'workspace_ids_not_allowed', path: ['connectors', 0, 'workspaceIds'] }],
    ['a workspace connector naming an unknown workspace', (j: Json) => j.connectors[2].workspaceIds.push('nowhere'), { code: 'dangling_reference', path: ['connectors', 2, 'workspaceIds', 1] }],
    ['a workspace connector naming a workspace twice', (j: Json) => j.connectors[2].workspaceIds.push('ws'), { code: 'duplicate_entry', path: ['connectors', 2, 'workspaceIds', 1] }],
    ['a name that is not a slug (upper case)', (j: Json) => (j.connectors[1].name = 'GitHub'), { code: 'invalid_format', path: ['connectors', 1, 'name'] }],
    ['a name that is not a slug (leading dash)', (j: Json) => (j.connectors[1].name = '-github'), { code: 'invalid_format', path: ['connectors', 1, 'name'] }],
    ['a name that is not a slug (space)', (j: Json) => (j.connectors[1].name = 'git hub'), { code: 'invalid_format', path: ['connectors', 1, 'name'] }],
    ['an empty name', (j: Json) => (j.connectors[1].name = ''), { code: 'invalid_format', path: ['connectors', 1, 'name'] }],
    ['two tools with one name', (j: Json) => j.connectors[1].tools.push({ name: 'search', access: 'write' }), { code: 'duplicate_entry', path: ['connectors', 1, 'tools', 2, 'name'] }],
    ['an empty tool name', (j: Json) => (j.connectors[1].tools[0].name = ''), { code: 'invalid_value', path: ['connectors', 1, 'tools', 0, 'name'] }],
    ['a tool access other than read or write', (j: Json) => (j.connectors[1].tools[0].access = 'execute'), { code: 'invalid_value', path: ['connectors', 1, 'tools', 0, 'access'] }],
    ['a visibility outside the SPEC', (j: Json) => (j.connectors[1].visibility = 'public'), { code: 'invalid_value', path: ['connectors', 1, 'visibility'] }],
    ['an authentication outside the SPEC', (j: Json) => (j.connectors[1].authentication = 'basic'), { code: 'invalid_value', path: ['connectors', 1, 'authentication'] }],
    ['an origin outside the SPEC', (j: Json) => (j.connectors[1].origin = 'community'), { code: 'invalid_value', path: ['connectors', 1, 'origin'] }],
    ['capabilities outside the SPEC', (j: Json) => (j.connectors[1].capabilities = 'write_only'), { code: 'invalid_value', path: ['connectors', 1, 'capabilities'] }],
    ['an unknown field on a connector (a typo in a security setting)', (j: Json) => (j.connectors[1].visiblity = 'workspace'), { code: 'unknown_field', path: ['connectors', 1, 'visiblity'] }],
    ['an unknown field on a tool', (j: Json) => (j.connectors[1].tools[0].readOnly = true), { code: 'unknown_field', path: ['connectors', 1, 'tools', 0, 'readOnly'] }],
    ['a permission mode outside the SPEC', (j: Json) => j.connectorPermissions.push({ connectorId: 'github', mode: 'deny' }), { code: 'invalid_value', path: ['connectorPermissions', 0, 'mode'] }],
    ['tools on an allowed permission', (j: Json) => j.connectorPermissions.push({ connectorId: 'github', mode: 'allowed', tools: ['search'] }), { code: 'tools_not_restricted', path: ['connectorPermissions', 0, 'tools'] }],
    [
      'tools on a blocked permission in a workspace',
      (j: Json) => j.workspaces[1].connectorPermissions.push({ connectorId: 'github', mode: 'blocked', tools: ['search'] }),
      { code: 'tools_not_restricted', path: ['workspaces', 1, 'connectorPermissions', 0, 'tools'] },
    ],
    ['a restricted permission without tools', (j: Json) => j.connectorPermissions.push({ connectorId: 'github', mode: 'restricted' }), { code: 'restricted_without_tools', path: ['connectorPermissions', 0, 'tools'] }],
    ['a restricted permission with an empty list', (j: Json) => j.connectorPermissions.push({ connectorId: 'github', mode: 'restricted', tools: [] }), { code: 'restricted_without_tools', path: ['connectorPermissions', 0, 'tools'] }],
    [
      'a restricted list naming a tool twice',
      (j: Json) => j.connectorPermissions.push({ connectorId: 'github', mode: 'restricted', tools: ['search', 'search'] }),
      { code: 'duplicate_entry', path: ['connectorPermissions', 0, 'tools', 1] },
    ],
    ['a permission for an unknown connector', (j: Json) => j.connectorPermissions.push({ connectorId: 'gitlab', mode: 'blocked' }), { code: 'dangling_reference', path: ['connectorPermissions', 0, 'connectorId'] }],
    [
      'two permissions for one connector at one level',
      (j: Json) => j.workspaces[0].connectorPermissions.push({ connectorId: 'github', mode: 'blocked' }, { connectorId: 'github', mode: 'allowed' }),
      { code: 'duplicate_entry', path: ['workspaces', 0, 'connectorPermissions', 1, 'connectorId'] },
    ],
    ['an API key scoped to an unknown connector', (j: Json) => j.apiKeys[0].connectorScopes.push('gitlab'), { code: 'dangling_reference', path: ['apiKeys', 0, 'connectorScopes', 1] }],
    ['an API key scoped to one connector twice', (j: Json) => j.apiKeys[0].connectorScopes.push('github'), { code: 'duplicate_entry', path: ['apiKeys', 0, 'connectorScopes', 1] }],
    ['an API key in an unknown workspace', (j: Json) => (j.apiKeys[0].workspaceId = 'nowhere'), { code: 'dangling_reference', path: ['apiKeys', 0, 'workspaceId'] }],
    ['an API key expiry without Z or an offset', (j: Json) => (j.apiKeys[0].expiresAt = '2027-01-01T00:00:00'), { code: 'invalid_format', path: ['apiKeys', 0, 'expiresAt'] }],
    ['an API key status outside the SPEC', (j: Json) => (j.apiKeys[0].status = 'paused'), { code: 'invalid_value', path: ['apiKeys', 0, 'status'] }],
    ['an API key whose id is a member\'s (one id space, §1)', (j: Json) => (j.apiKeys[0].id = 'contrib'), { code: 'duplicate_id', path: ['apiKeys', 0, 'id'] }],
  ])('%s', (_rule, edit, expected) => {
    expect(problemsOf(edit)).toContainEqual(expected);
  });

  it('every problem at once, never only the first', () => {
    const problems = problemsOf((j) => {
      j.connectors[1].name = 'GitHub';
      j.connectors[1].capabilities = 'read_only';
      j.connectors[0].workspaceIds = ['ws'];
      j.credentials.push({ id: 'c1', connectorId: 'gitlab', holder: 'organization' });
      j.connectorPermissions.push({ connectorId: 'github', mode: 'restricted', tools: ['merge'] });
    });
    expect(problems.map((p) => p.code).sort()).toEqual(['dangling_reference', 'invalid_format', 'unknown_tool', 'workspace_ids_not_allowed', 'write_tool_on_read_only']);
  });

  it('createPolicy refuses an invalid snapshot by throwing with the problems (loading is not a decision)', () => {
    const json = valid().toJSON() as Json;
    json.connectors[1].capabilities = 'read_only';
    expect(() => createPolicy(json)).toThrow(/write_tool_on_read_only/);
  });
});
