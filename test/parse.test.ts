/**
 * SPEC §6 / §6.1 / §7.12 / §7.18 / §7.21: `parseOrganization` lists every problem — stable code and path —
 * never only the first, and never throws, whatever it is given; the parsed snapshot is deep-frozen;
 * `serializeOrganization` writes the same JSON back; `createPolicy` throws for an invalid input and
 * trusts a parsed one.
 */
import { describe, expect, it } from 'vitest';
import {
  OrganizationError,
  createPolicy,
  organizationBuilder,
  organizationJsonSchema,
  nameSchema,
  organizationSchema,
  parseOrganization,
  serializeOrganization,
  type ProblemCode,
} from 'org-policy';
import { adoptOrganization } from '../src/model/parse.js';

/** A valid organization touching every collection; each test breaks one thing in a fresh copy. */
const valid = () =>
  organizationBuilder('acme')
    .member('ada', 'organization_admin', { seats: ['mistral_code'] })
    .member('bob')
    .member('cy', ['billing_manager', 'member'])
    .group('eng', ['bob', 'cy'])
    .workspace('lab', { members: { bob: null, ada: ['dev'] }, groups: { eng: ['user'] } })
    .workspace('ops')
    .connector('jira', { tools: ['search', 'create!'] })
    .connector('wiki', { tools: ['read'], capabilities: 'read_only', visibility: 'workspace', workspaceIds: ['lab'] })
    .permission('jira', 'restricted', ['search'])
    .permission('jira', 'restricted', ['search'], 'lab')
    .credential('cred', 'jira', 'organization')
    .credential('wcred', 'wiki', { workspace: 'lab' })
    .credential('mcred', 'jira', { member: 'bob' })
    .apiKey('key', 'lab', { expiresAt: '2027-01-01T00:00:00Z', connectorScopes: ['jira'] })
    .seatPool('mistral_code', 2)
    .toJSON() as Json;

// The tests write malformed JSON on purpose: `any` is the honest type of "whatever a caller sent".
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
type Found = [ProblemCode, string];

function problemsOf(mutate: (json: Json) => void): Found[] {
  const json = valid();
  mutate(json);
  const result = parseOrganization(json);
  expect(result.ok).toBe(false);
  if (result.ok) return [];
  for (const p of result.problems) {
    expect(p.message.length).toBeGreaterThan(0);
    expect(Object.isFrozen(p)).toBe(true);
  }
  return result.problems.map((p) => [p.code, p.path.join('.')]);
}

describe('SPEC §6 the base fixture is valid', () => {
  it('parses', () => {
    const result = parseOrganization(valid());
    expect(result.ok ? [] : result.problems).toEqual([]);
  });
});

describe('SPEC §6 unknown fields: "a typo in a security setting must not pass silently"', () => {
  it.each<[string, (j: Json) => void, string]>([
    ['at the root', (j) => (j.extra = 1), 'extra'],
    ['in a member', (j) => (j.members[1].isAdmin = true), 'members.1.isAdmin'],
    ['in a workspace member entry', (j) => (j.workspaces[0].members[0].role = 'workspace_admin'), 'workspaces.0.members.0.role'],
    ['in a group grant', (j) => (j.workspaces[0].groupGrants[0].role_names = ['dev']), 'workspaces.0.groupGrants.0.role_names'],
    ['in a workspace permission', (j) => (j.workspaces[0].connectorPermissions[0].tool = 'search'), 'workspaces.0.connectorPermissions.0.tool'],
    ['in a connector tool', (j) => (j.connectors[0].tools[1].scope = 'all'), 'connectors.0.tools.1.scope'],
    ['in a credential', (j) => (j.credentials[0].secret = 'x'), 'credentials.0.secret'],
    ['in an API key', (j) => (j.apiKeys[0].expires = '2027'), 'apiKeys.0.expires'],
    ['in a seat pool', (j) => (j.seatPools[0].sizes = 3), 'seatPools.0.sizes'],
  ])('%s', (_where, mutate, path) => {
    expect(problemsOf(mutate)).toEqual([['unknown_field', path]]);
  });
});

describe('SPEC §6.1 missing fields, wrong types, bad enum values', () => {
  it.each<[string, (j: Json) => void, Found[]]>([
    ['no organization id', (j) => delete j.id, [['missing_field', 'id']]],
    ['no member email', (j) => delete j.members[1].email, [['missing_field', 'members.1.email']]],
    ['no member status', (j) => delete j.members[1].status, [['missing_field', 'members.1.status']]],
    ['no member orgRoles', (j) => delete j.members[1].orgRoles, [['missing_field', 'members.1.orgRoles']]],
    ['no permission mode', (j) => delete j.connectorPermissions[0].mode, [['missing_field', 'connectorPermissions.0.mode']]],
    ['no credential holder', (j) => delete j.credentials[0].holder, [['missing_field', 'credentials.0.holder']]],
    ['no API key connectorScopes', (j) => delete j.apiKeys[0].connectorScopes, [['missing_field', 'apiKeys.0.connectorScopes']]],
    ['orgRoles a string, not a list', (j) => (j.members[1].orgRoles = 'member'), [['invalid_type', 'members.1.orgRoles']]],
    ['a seat pool size as a string', (j) => (j.seatPools[0].size = '2'), [['invalid_type', 'seatPools.0.size']]],
    ['a numeric id', (j) => (j.id = 7), [['invalid_type', 'id']]],
    ['the root not an object', (j) => (j.name = null), [['invalid_type', 'name']]],
    ['member status "disabled"', (j) => (j.members[1].status = 'disabled'), [['invalid_value', 'members.1.status']]],
    ['connector visibility "public"', (j) => (j.connectors[0].visibility = 'public'), [['invalid_value', 'connectors.0.visibility']]],
    ['connector authentication "basic"', (j) => (j.connectors[0].authentication = 'basic'), [['invalid_value', 'connectors.0.authentication']]],
    ['connector origin "community"', (j) => (j.connectors[0].origin = 'community'), [['invalid_value', 'connectors.0.origin']]],
    ['tool access "admin"', (j) => (j.connectors[0].tools[0].access = 'admin'), [['invalid_value', 'connectors.0.tools.0.access']]],
    // Its tools are not reported as "not restricted" too: the mode itself is what is wrong.
    ['permission mode "deny"', (j) => (j.workspaces[0].connectorPermissions[0].mode = 'deny'), [['invalid_value', 'workspaces.0.connectorPermissions.0.mode']]],
    ['API key status "expired"', (j) => (j.apiKeys[0].status = 'expired'), [['invalid_value', 'apiKeys.0.status']]],
    ['credential holder "team"', (j) => (j.credentials[0].holder = 'team'), [['invalid_value', 'credentials.0.holder']]],
    ['connector scopes "some"', (j) => (j.apiKeys[0].connectorScopes = 'some'), [['invalid_value', 'apiKeys.0.connectorScopes']]],
    ['a negative revision', (j) => (j.revision = -1), [['invalid_value', 'revision']]],
    // cy's group membership then names a member that no longer exists: a second, true problem.
    ['an empty member id (SPEC §1: ids are non-empty strings)', (j) => (j.members[2].id = ''), [['invalid_value', 'members.2.id'], ['dangling_reference', 'groups.0.memberIds.1']]],
  ])('%s', (_what, mutate, expected) => {
    expect(problemsOf(mutate)).toEqual(expected);
  });

  it('a negative seat pool size is invalid_value (and not reported as "seats exceeded" as well)', () => {
    expect(problemsOf((j) => {
      j.members[0].seats = [];
      j.seatPools[0].size = -1;
    })).toEqual([['invalid_value', 'seatPools.0.size']]);
  });

  it('the root must be an object', () => {
    for (const input of [null, [], 'acme', 1]) {
      const result = parseOrganization(input);
      expect(result.ok ? [] : result.problems.map((p) => [p.code, p.path.join('.')])).toEqual([['invalid_type', '']]);
    }
    const nothing = parseOrganization(undefined);
    expect(nothing.ok ? [] : nothing.problems.map((p) => [p.code, p.path.join('.')])).toEqual([['missing_field', '']]);
  });
});

describe('SPEC §6 schemaVersion: "a schemaVersion" — this library reads version 1', () => {
  it.each([2, 0, '1', 1.5])('schemaVersion %j is unsupported_version', (version) => {
    expect(problemsOf((j) => (j.schemaVersion = version))).toEqual([['unsupported_version', 'schemaVersion']]);
  });
  it('no schemaVersion is missing_field', () => {
    expect(problemsOf((j) => delete j.schemaVersion)).toEqual([['missing_field', 'schemaVersion']]);
  });
});

describe('SPEC §6.1, §7.1, §7.12 formats', () => {
  it.each<[string, (j: Json) => void, string]>([
    ['expiresAt without an offset ("ISO-8601 with Z or an offset")', (j) => (j.apiKeys[0].expiresAt = '2027-01-01T00:00:00'), 'apiKeys.0.expiresAt'],
    ['expiresAt not a date', (j) => (j.apiKeys[0].expiresAt = 'next year'), 'apiKeys.0.expiresAt'],
    ['a connector name that is not a slug (capitals)', (j) => (j.connectors[0].name = 'Jira'), 'connectors.0.name'],
    ['a connector name with a space', (j) => (j.connectors[0].name = 'my jira'), 'connectors.0.name'],
    ['a connector name starting with a dash', (j) => (j.connectors[0].name = '-jira'), 'connectors.0.name'],
    ['an email without @', (j) => (j.members[1].email = 'bob.example.com'), 'members.1.email'],
  ])('%s', (_what, mutate, path) => {
    expect(problemsOf(mutate)).toEqual([['invalid_format', path]]);
  });

  it('expiresAt with Z or an offset loads', () => {
    for (const expiresAt of ['2027-01-01T00:00:00Z', '2027-01-01T02:00:00+02:00', '2027-01-01T00:00:00.123-05:30']) {
      const json = valid();
      json.apiKeys[0].expiresAt = expiresAt;
      expect(parseOrganization(json).ok).toBe(true);
    }
  });
});

describe('SPEC §6 "dangling or duplicate ids"', () => {
  it.each<[string, (j: Json) => void, Found[]]>([
    ['two members with one id', (j) => j.members.push({ ...j.members[1], email: 'other@example.com' }), [['duplicate_id', 'members.3.id']]],
    ['two groups with one id', (j) => j.groups.push({ ...j.groups[0], memberIds: [] }), [['duplicate_id', 'groups.1.id']]],
    ['two workspaces with one id', (j) => j.workspaces.push({ id: 'ops', name: 'Ops 2' }), [['duplicate_id', 'workspaces.2.id']]],
    ['two connectors with one id', (j) => j.connectors.push({ ...j.connectors[0], name: 'jira2' }), [['duplicate_id', 'connectors.2.id']]],
    ['two credentials with one id', (j) => j.credentials.push({ id: 'cred', connectorId: 'wiki', holder: 'organization' }), [['duplicate_id', 'credentials.3.id']]],
    ['two API keys with one id', (j) => j.apiKeys.push({ ...j.apiKeys[0] }), [['duplicate_id', 'apiKeys.1.id']]],
    ['a member and an API key sharing an id (SPEC §1: "members and API keys share one id space")', (j) => (j.apiKeys[0].id = 'bob'), [['duplicate_id', 'apiKeys.0.id']]],
    ['a group listing an unknown member', (j) => j.groups[0].memberIds.push('zed'), [['dangling_reference', 'groups.0.memberIds.2']]],
    ['a workspace member that is not a member', (j) => j.workspaces[1].members = [{ memberId: 'zed' }], [['dangling_reference', 'workspaces.1.members.0.memberId']]],
    ['a group grant of an unknown group', (j) => j.workspaces[1].groupGrants = [{ groupId: 'ghosts' }], [['dangling_reference', 'workspaces.1.groupGrants.0.groupId']]],
    ['an organization permission of an unknown connector', (j) => j.connectorPermissions.push({ connectorId: 'zed', mode: 'blocked' }), [['dangling_reference', 'connectorPermissions.1.connectorId']]],
    ['a workspace permission of an unknown connector', (j) => j.workspaces[1].connectorPermissions = [{ connectorId: 'zed', mode: 'allowed' }], [['dangling_reference', 'workspaces.1.connectorPermissions.0.connectorId']]],
    ['a credential of an unknown connector', (j) => (j.credentials[0].connectorId = 'zed'), [['dangling_reference', 'credentials.0.connectorId']]],
    ['a workspace credential of an unknown workspace', (j) => (j.credentials[1].workspaceId = 'zed'), [['dangling_reference', 'credentials.1.workspaceId']]],
    ['a member credential of an unknown member', (j) => (j.credentials[2].memberId = 'zed'), [['dangling_reference', 'credentials.2.memberId']]],
    ['an API key of an unknown workspace', (j) => (j.apiKeys[0].workspaceId = 'zed'), [['dangling_reference', 'apiKeys.0.workspaceId']]],
    ['an API key scoped to an unknown connector', (j) => j.apiKeys[0].connectorScopes.push('zed'), [['dangling_reference', 'apiKeys.0.connectorScopes.1']]],
    ['a workspace connector in an unknown workspace', (j) => j.connectors[1].workspaceIds.push('zed'), [['dangling_reference', 'connectors.1.workspaceIds.1']]],
  ])('%s', (_what, mutate, expected) => {
    expect(problemsOf(mutate)).toEqual(expected);
  });
});

describe('SPEC §1 / §6 uniqueness of emails and names', () => {
  it('emails are unique, "compared case-insensitively"', () => {
    expect(problemsOf((j) => (j.members[2].email = 'BOB@Example.COM'))).toEqual([['duplicate_email', 'members.2.email']]);
  });
  it('connector names are unique in the organization', () => {
    expect(problemsOf((j) => (j.connectors[1].name = 'jira'))).toEqual([['duplicate_name', 'connectors.1.name']]);
  });
});

describe('SPEC §6.1 "A snapshot is canonical: a duplicate inside a list … is an error"', () => {
  it.each<[string, (j: Json) => void, string]>([
    ['a member\'s org roles', (j) => j.members[1].orgRoles.push('member'), 'members.1.orgRoles.1'],
    ['a group\'s org roles', (j) => (j.groups[0].orgRoles = ['member', 'member']), 'groups.0.orgRoles.1'],
    ['a workspace member\'s roles', (j) => j.workspaces[0].members[1].roles.push('dev'), 'workspaces.0.members.1.roles.1'],
    ['a group grant\'s roles', (j) => j.workspaces[0].groupGrants[0].roles.push('user'), 'workspaces.0.groupGrants.0.roles.1'],
    ['a group\'s memberIds', (j) => j.groups[0].memberIds.push('bob'), 'groups.0.memberIds.2'],
    ['a member\'s seats', (j) => j.members[0].seats.push('mistral_code'), 'members.0.seats.1'],
    ['restricted tools at the organization level', (j) => j.connectorPermissions[0].tools.push('search'), 'connectorPermissions.0.tools.1'],
    ['restricted tools in a workspace', (j) => j.workspaces[0].connectorPermissions[0].tools.push('search'), 'workspaces.0.connectorPermissions.0.tools.1'],
    ['an API key\'s connector scopes', (j) => j.apiKeys[0].connectorScopes.push('jira'), 'apiKeys.0.connectorScopes.1'],
    ['two permissions for one connector at the organization level', (j) => j.connectorPermissions.push({ connectorId: 'jira', mode: 'blocked' }), 'connectorPermissions.1.connectorId'],
    ['two permissions for one connector in one workspace', (j) => j.workspaces[0].connectorPermissions.push({ connectorId: 'jira', mode: 'allowed' }), 'workspaces.0.connectorPermissions.1.connectorId'],
    ['one member twice in a workspace', (j) => j.workspaces[0].members.push({ memberId: 'bob', roles: ['dev'] }), 'workspaces.0.members.2.memberId'],
    ['one group granted twice in a workspace', (j) => j.workspaces[0].groupGrants.push({ groupId: 'eng' }), 'workspaces.0.groupGrants.1.groupId'],
    ['a tool name twice in a connector (§7.12)', (j) => j.connectors[0].tools.push({ name: 'search', access: 'read' }), 'connectors.0.tools.2.name'],
    ['a workspace twice in a connector\'s workspaceIds', (j) => j.connectors[1].workspaceIds.push('lab'), 'connectors.1.workspaceIds.1'],
    ['two seat pools for one product', (j) => j.seatPools.push({ product: 'mistral_code', size: 5 }), 'seatPools.1.product'],
  ])('%s', (_what, mutate, path) => {
    expect(problemsOf(mutate)).toEqual([['duplicate_entry', path]]);
  });
});

describe('SPEC §6 roles: unknown, of the wrong scope, empty lists', () => {
  it.each<[string, (j: Json) => void, Found[]]>([
    ['an unknown org role', (j) => (j.members[1].orgRoles = ['owner']), [['unknown_role', 'members.1.orgRoles.0']]],
    ['an unknown workspace role', (j) => (j.workspaces[0].members[1].roles = ['superuser']), [['unknown_role', 'workspaces.0.members.1.roles.0']]],
    ['an unknown group org role', (j) => (j.groups[0].orgRoles = ['root']), [['unknown_role', 'groups.0.orgRoles.0']]],
    ['a role UUID in a snapshot ("role UUIDs are accepted only in Admin API payloads")', (j) => (j.members[1].orgRoles = ['5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d1001']), [['unknown_role', 'members.1.orgRoles.0']]],
    ['a workspace role held as an org role', (j) => (j.members[1].orgRoles = ['dev']), [['wrong_scope_role', 'members.1.orgRoles.0']]],
    ['an org role held in a workspace', (j) => (j.workspaces[0].members[1].roles = ['organization_admin']), [['wrong_scope_role', 'workspaces.0.members.1.roles.0']]],
    ['an org role in a group grant', (j) => (j.workspaces[0].groupGrants[0].roles = ['billing_manager']), [['wrong_scope_role', 'workspaces.0.groupGrants.0.roles.0']]],
    ['a workspace role as a group org role', (j) => (j.groups[0].orgRoles = ['workspace_admin']), [['wrong_scope_role', 'groups.0.orgRoles.0']]],
    ['"a member without organization roles"', (j) => (j.members[1].orgRoles = []), [['empty_roles', 'members.1.orgRoles']]],
    ['an empty workspace member role list ("roles: [] is an error", not a default)', (j) => (j.workspaces[0].members[0] = { memberId: 'bob', roles: [] }), [['empty_roles', 'workspaces.0.members.0.roles']]],
    ['an empty group grant role list', (j) => (j.workspaces[0].groupGrants[0].roles = []), [['empty_roles', 'workspaces.0.groupGrants.0.roles']]],
  ])('%s', (_what, mutate, expected) => {
    expect(problemsOf(mutate)).toEqual(expected);
  });

  it('"groups may have none": a group with orgRoles [] loads', () => {
    const json = valid();
    json.groups[0].orgRoles = [];
    expect(parseOrganization(json).ok).toBe(true);
  });

  it('absent workspace roles are the default contributor (§3.4) and load, for members and group grants', () => {
    const json = valid();
    delete json.workspaces[0].members[1].roles;
    delete json.workspaces[0].groupGrants[0].roles;
    expect(parseOrganization(json).ok).toBe(true);
  });
});

describe('SPEC §4, §6 connector permissions and definitions', () => {
  it.each<[string, (j: Json) => void, Found[]]>([
    ['tools on an allowed permission', (j) => j.workspaces[1].connectorPermissions = [{ connectorId: 'jira', mode: 'allowed', tools: ['search'] }], [['tools_not_restricted', 'workspaces.1.connectorPermissions.0.tools']]],
    ['tools on a blocked permission', (j) => (j.connectorPermissions[0].mode = 'blocked'), [['tools_not_restricted', 'connectorPermissions.0.tools']]],
    ['restricted without tools', (j) => delete j.connectorPermissions[0].tools, [['restricted_without_tools', 'connectorPermissions.0.tools']]],
    ['restricted with an empty selection', (j) => (j.workspaces[0].connectorPermissions[0].tools = []), [['restricted_without_tools', 'workspaces.0.connectorPermissions.0.tools']]],
    ['restricted naming a missing tool at the organization level (§7.8)', (j) => (j.connectorPermissions[0].tools = ['delete']), [['unknown_tool', 'connectorPermissions.0.tools.0']]],
    ['restricted naming a missing tool in a workspace', (j) => j.workspaces[0].connectorPermissions[0].tools.push('delete'), [['unknown_tool', 'workspaces.0.connectorPermissions.0.tools.1']]],
    ['workspaceIds on an organization connector', (j) => (j.connectors[0].workspaceIds = ['lab']), [['workspace_ids_not_allowed', 'connectors.0.workspaceIds']]],
    ['a write tool on a read_only connector ("defining a write tool on one is a validation error")', (j) => j.connectors[1].tools.push({ name: 'edit', access: 'write' }), [['write_tool_on_read_only', 'connectors.1.tools.1.access']]],
    ['an empty tool name (§7.12)', (j) => (j.connectors[0].tools[1].name = ''), [['invalid_value', 'connectors.0.tools.1.name']]],
  ])('%s', (_what, mutate, expected) => {
    expect(problemsOf(mutate)).toEqual(expected);
  });

  it('§7.18: a workspace connector with no workspaceIds left is visible nowhere, and loads', () => {
    const json = valid();
    json.connectors[1].workspaceIds = [];
    json.credentials.splice(1, 1);
    expect(parseOrganization(json).ok).toBe(true);
  });
});

describe('SPEC §5, §6 seats: "a seat with no pool or more seats held than the pool\'s size"', () => {
  it('a seat with no pool', () => {
    expect(problemsOf((j) => (j.seatPools = []))).toEqual([['seat_without_pool', 'members.0.seats.0']]);
  });
  it('more seats than the pool holds', () => {
    expect(problemsOf((j) => {
      j.members[1].seats = ['mistral_code'];
      j.members[2].seats = ['mistral_code'];
    })).toEqual([['seats_exceeded', 'seatPools.0.size']]);
  });
  it('exactly as many seats as the pool holds loads', () => {
    const json = valid();
    json.members[1].seats = ['mistral_code'];
    expect(parseOrganization(json).ok).toBe(true);
  });
});

describe('SPEC §5, §7.6 "the organization keeps at least one active organization_admin"', () => {
  it('no organization_admin at all', () => {
    expect(problemsOf((j) => (j.members[0].orgRoles = ['member']))).toEqual([['no_active_admin', 'members']]);
  });
  it('a suspended admin does not count', () => {
    expect(problemsOf((j) => (j.members[0].status = 'suspended'))).toEqual([['no_active_admin', 'members']]);
  });
  it('an admin through a group counts', () => {
    const json = valid();
    json.members[0].orgRoles = ['member'];
    json.groups[0].orgRoles = ['organization_admin'];
    expect(parseOrganization(json).ok).toBe(true);
  });
  it('a group admin whose only members are suspended does not count', () => {
    expect(problemsOf((j) => {
      j.members[0].orgRoles = ['member'];
      j.groups.push({ id: 'admins', name: 'Admins', memberIds: ['cy'], orgRoles: ['organization_admin'] });
      j.members[2].status = 'suspended';
    })).toEqual([['no_active_admin', 'members']]);
  });
});

describe('SPEC §6 "fails with every problem listed, never with the first alone"', () => {
  it('several problems of different kinds in one snapshot are all reported', () => {
    const found = problemsOf((j) => {
      j.typo = true;
      j.members[1].status = 'gone';
      j.members[2].email = 'BOB@example.com';
      j.members[0].status = 'suspended';
      j.groups[0].memberIds.push('zed');
      j.workspaces[0].members[1].roles = ['organization_admin'];
      j.workspaces[0].groupGrants[0].roles = [];
      j.connectors[0].workspaceIds = ['ops'];
      j.connectorPermissions[0].mode = 'allowed';
      j.apiKeys[0].id = 'bob';
      j.apiKeys[0].expiresAt = '2027-01-01T00:00:00';
      j.seatPools[0].size = 0;
    });
    expect([...found].sort()).toEqual(
      ([
        ['unknown_field', 'typo'],
        ['invalid_value', 'members.1.status'],
        ['duplicate_email', 'members.2.email'],
        ['dangling_reference', 'groups.0.memberIds.2'],
        ['wrong_scope_role', 'workspaces.0.members.1.roles.0'],
        ['empty_roles', 'workspaces.0.groupGrants.0.roles'],
        ['workspace_ids_not_allowed', 'connectors.0.workspaceIds'],
        ['tools_not_restricted', 'connectorPermissions.0.tools'],
        ['duplicate_id', 'apiKeys.0.id'],
        ['invalid_format', 'apiKeys.0.expiresAt'],
        ['seats_exceeded', 'seatPools.0.size'],
        ['no_active_admin', 'members'],
      ] as Found[]).sort(),
    );
  });
});

describe('SPEC §1 ids are any non-empty strings: prototype names load as ordinary ids', () => {
  it('__proto__, constructor, toString, hasOwnProperty as member, group, workspace, connector and key ids', () => {
    const json = organizationBuilder('__proto__')
      .member('__proto__', 'organization_admin')
      .member('constructor')
      .group('toString', ['constructor'])
      .workspace('hasOwnProperty')
      .connector('valueOf', { name: 'value-of', tools: ['search'], authentication: 'none' })
      .apiKey('prototype', 'hasOwnProperty')
      .toJSON();
    // Written as JSON: in an object literal `__proto__:` sets the prototype instead of a key.
    (json.workspaces as Json)[0].members = [{ memberId: '__proto__', roles: ['dev'] }];
    (json.workspaces as Json)[0].groupGrants = [{ groupId: 'toString', roles: ['user'] }];
    const result = parseOrganization(json);
    expect(result.ok ? [] : result.problems).toEqual([]);
    if (!result.ok) return;
    const org = result.organization;
    expect([...org.members.keys()]).toEqual(['__proto__', 'constructor']);
    expect(org.groups.get('toString')!.memberIds).toEqual(['constructor']);
    expect(org.workspaces.get('hasOwnProperty')!.members.get('__proto__')!.roles).toEqual(['dev']);
    const policy = createPolicy(org);
    expect(policy.can('__proto__', 'studio.use', 'hasOwnProperty')).toBe(true);
    expect(policy.can('constructor', 'vibe.use', 'hasOwnProperty')).toBe(true);
    expect(policy.can('prototype', 'studio.use', 'hasOwnProperty')).toBe(true);
    expect(policy.toolsAvailable('constructor', 'valueOf', 'hasOwnProperty')).toEqual(['search']);
  });

  it('prototype names still collide with themselves (duplicate_id), not with Object.prototype', () => {
    const json = organizationBuilder().member('a', 'organization_admin').member('constructor').member('constructor', 'member', { email: 'c2@example.com' }).toJSON();
    const result = parseOrganization(json);
    expect(result.ok ? [] : result.problems.map((p) => [p.code, p.path.join('.')])).toEqual([['duplicate_id', 'members.2.id']]);
  });
});

describe('SPEC §6 the parsed snapshot is deep-frozen, keyed by id, in snapshot order', () => {
  const result = parseOrganization(valid());
  if (!result.ok) throw new Error('fixture');
  const org = result.organization;

  it('every level is frozen: the root, each Map, each entity, each list', () => {
    expect(Object.isFrozen(result)).toBe(true);
    expect(Object.isFrozen(org)).toBe(true);
    expect(Object.isFrozen(org.members.get('bob'))).toBe(true);
    expect(Object.isFrozen(org.members.get('bob')!.orgRoles)).toBe(true);
    expect(Object.isFrozen(org.workspaces.get('lab')!.members.get('ada'))).toBe(true);
    expect(Object.isFrozen(org.connectors.get('jira')!.tools[0])).toBe(true);
    expect(() => (org.members as Map<string, unknown>).set('x', {})).toThrow();
    expect(() => (org.members as Map<string, unknown>).delete('bob')).toThrow();
    expect(() => (org.workspaces.get('lab')!.members as Map<string, unknown>).clear()).toThrow();
    expect(() => (org.members.get('bob')!.orgRoles as string[]).push('organization_admin')).toThrow();
    expect(org.members.get('bob')!.orgRoles).toEqual(['member']);
  });

  it('collections are Maps keyed by id, in snapshot order', () => {
    expect([...org.members.keys()]).toEqual(['ada', 'bob', 'cy']);
    expect([...org.workspaces.keys()]).toEqual(['lab', 'ops']);
    expect([...org.connectorPermissions.keys()]).toEqual(['jira']);
    expect([...org.seatPools.keys()]).toEqual(['mistral_code']);
  });

  it('parsing never touches its input', () => {
    const json = valid();
    const copy = structuredClone(json);
    parseOrganization(json);
    expect(json).toEqual(copy);
    expect(Object.isFrozen(json)).toBe(false);
  });
});

describe('SPEC §6.1 serializeOrganization writes exactly the JSON it read', () => {
  it('round-trips the fixture', () => {
    const json = valid();
    const result = parseOrganization(json);
    if (!result.ok) throw new Error('fixture');
    expect(serializeOrganization(result.organization)).toEqual(json);
  });

  it('"a missing revision is 0, and the library always writes it"', () => {
    const json = valid();
    delete json.revision;
    const result = parseOrganization(json);
    if (!result.ok) throw new Error('fixture');
    expect(result.organization.revision).toBe(0);
    expect(serializeOrganization(result.organization)).toEqual({ ...json, revision: 0 });
    const seven = parseOrganization({ ...valid(), revision: 7 });
    expect(seven.ok && serializeOrganization(seven.organization).revision).toBe(7);
  });

  it('absent roles (the default contributor) are kept absent, never written as the role or as []', () => {
    const result = parseOrganization(valid());
    if (!result.ok) throw new Error('fixture');
    const out = serializeOrganization(result.organization);
    expect(out.workspaces![0]!.members![0]).toEqual({ memberId: 'bob' });
    expect('roles' in out.workspaces![0]!.members![0]!).toBe(false);
  });

  it('optional lists left out on input come back as the empty lists the library always writes, and that reloads to the same snapshot', () => {
    const minimal = { schemaVersion: 1, id: 'o', name: 'O', members: [{ id: 'a', email: 'a@x.io', status: 'active', orgRoles: ['organization_admin'] }] };
    const first = parseOrganization(minimal);
    if (!first.ok) throw new Error(JSON.stringify(first.problems));
    const written = serializeOrganization(first.organization);
    expect(written).toEqual({
      ...minimal,
      revision: 0,
      members: [{ ...minimal.members[0], seats: [] }],
      groups: [],
      workspaces: [],
      connectors: [],
      connectorPermissions: [],
      credentials: [],
      apiKeys: [],
      seatPools: [],
    });
    const second = parseOrganization(written);
    expect(second.ok && serializeOrganization(second.organization)).toEqual(written);
  });
});

describe('SPEC §6 createPolicy: "loading is not a decision"', () => {
  it('given an invalid input, throws an OrganizationError listing every problem', () => {
    const json = valid();
    json.members[1].orgRoles = ['dev'];
    json.extra = 1;
    let error: unknown;
    try {
      createPolicy(json);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OrganizationError);
    const problems = (error as OrganizationError).problems.map((p) => [p.code, p.path.join('.')]);
    expect(problems.sort()).toEqual([['unknown_field', 'extra'], ['wrong_scope_role', 'members.1.orgRoles.0']].sort());
    expect((error as Error).message).toContain('members[1].orgRoles[0]');
    expect((error as Error).message).toContain('wrong_scope_role');
    expect((error as Error).message).toContain('unknown_field');
  });

  it('given garbage, throws OrganizationError (never a TypeError)', () => {
    for (const input of [undefined, null, 42, 'acme', [], {}]) expect(() => createPolicy(input)).toThrow(OrganizationError);
  });

  it('given a valid JSON snapshot, parses it first and decides', () => {
    expect(createPolicy(valid()).can('bob', 'vibe.use', 'lab')).toBe(true);
  });

  it('given a parsed snapshot, compiles it as it is, without checking it again', () => {
    const result = parseOrganization(valid());
    if (!result.ok) throw new Error('fixture');
    expect(createPolicy(result.organization).organization).toBe(result.organization);

    // A snapshot that the schema accepts but a load rule refuses (no active admin), marked as parsed the
    // way admin commands mark their results: createPolicy trusts the mark and does not re-check it.
    const json = valid();
    json.members[0].status = 'suspended';
    expect(() => createPolicy(json)).toThrow(OrganizationError);
    const trusted = adoptOrganization(organizationSchema.parse(json));
    expect(() => createPolicy(trusted)).not.toThrow();
    expect(createPolicy(trusted).can('bob', 'vibe.use', 'lab')).toBe(true);
  });
});

describe('SPEC §6 organizationJsonSchema() describes the wire format', () => {
  const schema = organizationJsonSchema() as {
    type: string;
    additionalProperties: boolean;
    required: string[];
    properties: Record<string, { const?: unknown; type?: string; items?: { additionalProperties?: boolean; required?: string[]; properties?: Record<string, unknown> } }>;
  };

  it('an object with exactly the top-level properties of §6.1 and no others', () => {
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties).sort()).toEqual(
      ['schemaVersion', 'id', 'name', 'revision', 'members', 'groups', 'workspaces', 'connectors', 'connectorPermissions', 'credentials', 'apiKeys', 'seatPools'].sort(),
    );
    expect(schema.required).toEqual(expect.arrayContaining(['schemaVersion', 'id', 'name']));
    expect(schema.properties.schemaVersion!.const).toBe(1);
  });

  it('members are strict objects with the fields of §6.1 (and the optional externalId, displayName of §9)', () => {
    const member = schema.properties.members!.items!;
    expect(member.additionalProperties).toBe(false);
    expect(Object.keys(member.properties!).sort()).toEqual(['displayName', 'email', 'externalId', 'id', 'orgRoles', 'seats', 'status']);
    expect(member.required).toEqual(expect.arrayContaining(['id', 'email', 'status', 'orgRoles']));
    expect(member.required).not.toContain('externalId');
    expect(member.required).not.toContain('displayName');
  });

  it('is plain JSON', () => {
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });
});

describe('SPEC §7.21 names are non-empty, not only whitespace, and contain no control characters', () => {
  const KINDS: [string, string, (json: Json, name: unknown) => void][] = [
    ['the organization', 'name', (j, name) => (j.name = name)],
    ['a workspace', 'workspaces.0.name', (j, name) => (j.workspaces[0].name = name)],
    ['a group', 'groups.0.name', (j, name) => (j.groups[0].name = name)],
    ['an API key', 'apiKeys.0.name', (j, name) => (j.apiKeys[0].name = name)],
  ];
  const REFUSED: [string, string, ProblemCode[]][] = [
    ['empty', '', ['empty_name']],
    ['spaces only', '   ', ['empty_name']],
    ['Unicode spaces only (no-break, ideographic)', '\u00a0\u3000', ['empty_name']],
    ['a tab only', '\t', ['empty_name', 'control_character']],
    ['a newline only', '\n', ['empty_name', 'control_character']],
    ['a tab inside', 'Research\tLab', ['control_character']],
    ['a newline inside', 'Research\nLab', ['control_character']],
    ['a carriage return at the end', 'Research\r', ['control_character']],
    ['NUL', 'Research\u0000', ['control_character']],
    ['DEL (U+007F)', 'Re\u007fsearch', ['control_character']],
    ['a C1 control (U+0085, next line)', 'Re\u0085search', ['control_character']],
    ['a C1 control (U+009F)', '\u009fResearch', ['control_character']],
  ];
  const ACCEPTED = ['R', 'Research & Development', '  padded  ', 'Forschung – Ünïcödé 研究 🚀', 'zero\u200bwidth', 'x'.repeat(500)];

  for (const [kind, path, set] of KINDS) {
    it.each(REFUSED)(`${kind}: %s is refused`, (_what, name, codes) => {
      expect(problemsOf((j) => set(j, name))).toEqual(codes.map((code) => [code, path]));
    });
    it(`${kind}: ordinary names load`, () => {
      for (const name of ACCEPTED) {
        const json = valid();
        set(json, name);
        const result = parseOrganization(json);
        expect(result.ok ? [] : result.problems).toEqual([]);
      }
    });
  }

  it('messages say where, what, and which character', () => {
    const json = valid();
    json.workspaces[0].name = '  ';
    json.groups[0].name = 'eng\u0007';
    const result = parseOrganization(json);
    expect(result.ok ? [] : result.problems.map((p) => p.message)).toEqual([
      'groups[0].name must not contain control characters (U+0007 at index 3)',
      'workspaces[0].name must not be empty or only whitespace',
    ]);
  });

  it('every broken name is reported at once, beside the other problems', () => {
    const found = problemsOf((j) => {
      j.name = '';
      j.workspaces[1].name = ' ';
      j.groups[0].name = 'a\nb';
      j.apiKeys[0].name = '\u0000'; // NUL is not whitespace: a control character only
      j.members[1].status = 'gone';
    });
    expect([...found].sort()).toEqual(
      ([
        ['empty_name', 'name'],
        ['empty_name', 'workspaces.1.name'],
        ['control_character', 'groups.0.name'],
        ['control_character', 'apiKeys.0.name'],
        ['invalid_value', 'members.1.status'],
      ] as Found[]).sort(),
    );
  });

  it('a name that is not a string is invalid_type, as before', () => {
    expect(problemsOf((j) => (j.workspaces[0].name = 7))).toEqual([['invalid_type', 'workspaces.0.name']]);
  });

  it('nameSchema, exported for command payloads, carries the stable code in params.code', () => {
    const codes = (value: unknown) => {
      const result = nameSchema.safeParse(value);
      return result.success ? [] : result.error.issues.map((i) => (i.code === 'custom' ? (i.params as { code: string }).code : i.code));
    };
    expect(codes('Research')).toEqual([]);
    expect(codes(' ')).toEqual(['empty_name']);
    expect(codes('a\u009fb')).toEqual(['control_character']);
    expect(codes('\t')).toEqual(['empty_name', 'control_character']);
    expect(codes(1)).toEqual(['invalid_type']);
  });

  it('the JSON Schema states the same rule as a pattern, agreeing with the parser on every case', () => {
    const schema = organizationJsonSchema() as { properties: Record<string, { minLength?: number; pattern?: string; items?: { properties: Record<string, { pattern?: string }> } }> };
    const patterns = [
      schema.properties.name!.pattern,
      schema.properties.workspaces!.items!.properties.name!.pattern,
      schema.properties.groups!.items!.properties.name!.pattern,
      schema.properties.apiKeys!.items!.properties.name!.pattern,
    ];
    expect(schema.properties.name!.minLength).toBe(1);
    for (const pattern of patterns) {
      expect(pattern).toBe(patterns[0]);
      const regex = new RegExp(pattern!, 'u');
      for (const [, name] of REFUSED) expect(regex.test(name), JSON.stringify(name)).toBe(false);
      for (const name of ACCEPTED) expect(regex.test(name), name).toBe(true);
    }
  });
});

describe('SPEC §6 parseOrganization never throws: hostile inputs are problems, read once', () => {
  const codesOf = (input: unknown): Found[] => {
    const result = parseOrganization(input);
    expect(result.ok).toBe(false);
    return result.ok ? [] : result.problems.map((p) => [p.code, p.path.join('.')]);
  };
  const throwingGetter = <T extends object>(target: T, key: string, error: unknown = new Error('boom')): T =>
    Object.defineProperty(target, key, { enumerable: true, get: () => { throw error; } });

  it('a throwing getter is unreadable_value at its path, with what it threw', () => {
    const json = throwingGetter(valid(), 'name');
    const result = parseOrganization(json);
    expect(result.ok ? [] : result.problems).toEqual([{ code: 'unreadable_value', path: ['name'], message: 'name could not be read (it threw "boom")' }]);
    expect(codesOf(((j) => (throwingGetter(j.members[1], 'email'), j))(valid()))).toEqual([['unreadable_value', 'members.1.email']]);
  });

  it('a getter that throws something hostile (a Proxy whose every trap throws) is still described safely', () => {
    const hostile = new Proxy({}, {
      get: () => { throw new Error('get'); },
      getPrototypeOf: () => { throw new Error('getPrototypeOf'); },
    });
    const result = parseOrganization(throwingGetter(valid(), 'name', hostile));
    expect(result.ok ? [] : result.problems.map((p) => p.message)).toEqual(['name could not be read (it threw)']);
  });

  it('Proxies whose traps throw: ownKeys, get, at the root, on an entity, on a list', () => {
    const trap = () => { throw new Error('trap'); };
    expect(codesOf(new Proxy({}, { ownKeys: trap }))).toEqual([['unreadable_value', '']]);
    const fields = Object.keys(valid());
    expect(fields).toContain('members');
    expect(codesOf(new Proxy(valid(), { get: trap }))).toEqual(fields.map((field): Found => ['unreadable_value', field]));
    expect(codesOf(((j) => ((j.workspaces[0] = new Proxy(j.workspaces[0], { ownKeys: trap })), j))(valid()))).toEqual([['unreadable_value', 'workspaces.0']]);
    expect(codesOf(((j) => ((j.members = new Proxy(j.members, { get: trap })), j))(valid()))).toEqual([['unreadable_value', 'members']]);
    expect(codesOf(((j) => ((j.members = new Proxy(j.members, { getOwnPropertyDescriptor: trap, get: (t, k) => (k === '1' ? trap() : Reflect.get(t, k)) })), j))(valid()))).toEqual([
      ['unreadable_value', 'members.1'],
    ]);
  });

  it('a revoked Proxy is unreadable, not a TypeError', () => {
    const { proxy, revoke } = Proxy.revocable(valid(), {});
    revoke();
    expect(codesOf(proxy)).toEqual([['unreadable_value', '']]);
    const json = valid();
    const inner = Proxy.revocable(json.groups[0], {});
    inner.revoke();
    json.groups[0] = inner.proxy;
    expect(codesOf(json)).toEqual([['unreadable_value', 'groups.0']]);
  });

  it('an unreadable collection reports itself only: no dangling references or missing admin inferred from it', () => {
    const json = valid();
    json.members = new Proxy(json.members, { get: () => { throw new Error('members'); } });
    expect(codesOf(json)).toEqual([['unreadable_value', 'members']]);
    const admin = valid();
    throwingGetter(admin.members[0], 'orgRoles');
    expect(codesOf(admin)).toEqual([['unreadable_value', 'members.0.orgRoles']]);
    const workspace = valid();
    throwingGetter(workspace.workspaces[0], 'id');
    expect(codesOf(workspace)).toEqual([['unreadable_value', 'workspaces.0.id']]);
  });

  it('toJSON is never called: an own one is an unknown field, a throwing getter for it unreadable, an inherited one ignored', () => {
    const own = valid();
    own.toJSON = () => { throw new Error('toJSON'); };
    expect(codesOf(own)).toEqual([['unknown_field', 'toJSON']]);
    expect(codesOf(throwingGetter(valid(), 'toJSON'))).toEqual([['unreadable_value', 'toJSON'], ['unknown_field', 'toJSON']]);
    class Snapshot {
      toJSON(): never {
        throw new Error('toJSON');
      }
    }
    const inherited = Object.assign(new Snapshot(), valid());
    const result = parseOrganization(inherited);
    expect(result.ok ? [] : result.problems).toEqual([]);
  });

  it('a getter answering differently on each read is read once: what was checked is what is kept', () => {
    let reads = 0;
    const json = valid();
    Object.defineProperty(json, 'name', { enumerable: true, get: () => (reads++ === 0 ? 'Acme' : '') });
    const result = parseOrganization(json);
    expect(reads).toBe(1);
    expect(result.ok && result.organization.name).toBe('Acme');

    let roleReads = 0;
    const flipping = valid();
    Object.defineProperty(flipping.members[1], 'orgRoles', { enumerable: true, get: () => (roleReads++ === 0 ? ['member'] : ['organization_admin', 'dev']) });
    const flipped = parseOrganization(flipping);
    expect(roleReads).toBe(1);
    expect(flipped.ok && flipped.organization.members.get('bob')!.orgRoles).toEqual(['member']);

    let badFirst = 0;
    const refused = valid();
    Object.defineProperty(refused, 'name', { enumerable: true, get: () => (badFirst++ === 0 ? ' ' : 'Acme') });
    expect(codesOf(refused)).toEqual([['empty_name', 'name']]);
    expect(badFirst).toBe(1);
  });

  it('deep nesting is too_deep, never a stack overflow (an object 100 000 levels deep, an array as the root)', () => {
    const json = valid();
    let object: Json = (json.extra = {});
    for (let i = 0; i < 100_000; i++) object = object.x = {};
    const found = codesOf(json);
    expect(found.map(([code]) => code)).toEqual(['too_deep', 'unknown_field']);
    expect(found[0]![1]).toBe(['extra', ...Array<string>(31).fill('x')].join('.'));

    const root: Json[] = [];
    let array = root;
    for (let i = 0; i < 100_000; i++) array.push((array = []));
    expect(codesOf(root).map(([code]) => code)).toEqual(['too_deep', 'invalid_type']);
    expect(() => createPolicy(json)).toThrow(OrganizationError);
  });

  it('a circular reference is circular_reference, not an endless walk', () => {
    const json = valid();
    json.workspaces[0].self = json.workspaces[0];
    expect(codesOf(json)).toEqual([['circular_reference', 'workspaces.0.self'], ['unknown_field', 'workspaces.0.self']]);
    const list = valid();
    list.groups[0].memberIds.push(list.groups[0].memberIds);
    expect(codesOf(list)).toEqual([['circular_reference', 'groups.0.memberIds.2']]);
  });

  it('an object reached twice loads (a shared list), and a small graph sharing its nodes does not unfold exponentially', () => {
    const shared = valid();
    shared.workspaces[1].members = shared.workspaces[0].members;
    const result = parseOrganization(shared);
    expect(result.ok ? [] : result.problems).toEqual([]);

    // 31 levels, each node reached through both of its parents: 2^31 paths, 32 objects.
    const dag = valid();
    let node: Json = {};
    for (let i = 0; i < 30; i++) node = { left: node, right: node };
    dag.extra = node;
    expect(codesOf(dag)).toEqual([['unknown_field', 'extra']]);
  });

  it('an array-like whose length is absurd is unreadable, not an endless loop', () => {
    const json = valid();
    json.members = new Proxy(json.members, { get: (t, k) => (k === 'length' ? 1e15 : Reflect.get(t, k)) });
    expect(codesOf(json)).toEqual([['unreadable_value', 'members']]);
  });

  it('null, undefined and every non-object are typed problems', () => {
    const problems = (input: unknown) => codesOf(input);
    for (const input of [null, 42, 'acme', true, 10n, Symbol('org'), () => valid(), []]) expect(problems(input)).toEqual([['invalid_type', '']]);
    expect(problems(undefined)).toEqual([['missing_field', '']]);
    expect(codesOf(((j) => ((j.members[1].seats = () => 1), j))(valid()))).toEqual([['invalid_type', 'members.1.seats']]);
  });

  it('createPolicy given a hostile input throws OrganizationError listing the problem, never the getter\'s own error', () => {
    let error: unknown;
    try {
      createPolicy(throwingGetter(valid(), 'name'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OrganizationError);
    expect((error as OrganizationError).problems.map((p) => p.code)).toEqual(['unreadable_value']);
  });
});
