/** SPEC §6: loading a snapshot lists every problem — path, stable code, sentence. Connector problems: connectors.test.ts. */
import { describe, expect, it } from 'vitest';
import { OrganizationError, createPolicy, organizationBuilder, organizationJsonSchema, parseOrganization, serializeOrganization, type Problem } from 'org-policy';

const valid = () =>
  organizationBuilder('o')
    .member('ada', 'organization_admin', { seats: ['mistral_code'] })
    .member('bob')
    .group('g', ['bob'])
    .workspace('w', { members: { bob: null, ada: ['dev'] }, groups: { g: ['user'] } })
    .connector('c', { tools: ['read'] })
    .apiKey('k', 'w', { expiresAt: '2027-01-01T00:00:00Z' })
    .seatPool('mistral_code', 1)
    .toJSON() as any;

function problems(mutate: (json: any) => void): Problem[] {
  const json = valid();
  mutate(json);
  const result = parseOrganization(json);
  if (result.ok) throw new Error('expected problems');
  return [...result.problems];
}
const codes = (list: Problem[]) => list.map((p) => [p.code, p.path.join('.')]);

describe('SPEC §6 load rules', () => {
  it('a valid snapshot parses, deep-frozen, with Maps keyed by id in snapshot order', () => {
    const result = parseOrganization(valid());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const org = result.organization;
    expect([...org.members.keys()]).toEqual(['ada', 'bob']);
    expect(Object.isFrozen(org)).toBe(true);
    expect(Object.isFrozen(org.members.get('bob'))).toBe(true);
    expect(Object.isFrozen(org.workspaces.get('w')!.members.get('bob'))).toBe(true);
    expect(() => (org.members as Map<string, unknown>).set('x', {})).toThrow();
    expect(org.revision).toBe(0);
  });

  const cases: [string, (json: any) => void, [string, string][]][] = [
    ['unknown fields, at any depth ("a typo in a security setting must not pass silently")', (j) => {
      j.secutiry = true;
      j.members[1].role = 'x';
      j.workspaces[0].members[0].rolse = ['dev'];
    }, [['unknown_field', 'members.1.role'], ['unknown_field', 'workspaces.0.members.0.rolse'], ['unknown_field', 'secutiry']]],
    ['a missing field', (j) => delete j.members[1].status, [['missing_field', 'members.1.status']]],
    ['a wrong type', (j) => (j.members[1].orgRoles = 'member'), [['invalid_type', 'members.1.orgRoles']]],
    ['a value outside an enum', (j) => (j.members[1].status = 'deleted'), [['invalid_value', 'members.1.status']]],
    ['an unsupported schemaVersion', (j) => (j.schemaVersion = 2), [['unsupported_version', 'schemaVersion']]],
    ['an empty id (and the grant that named it now dangles)', (j) => (j.groups[0].id = ''), [['invalid_value', 'groups.0.id'], ['dangling_reference', 'workspaces.0.groupGrants.0.groupId']]],
    ['a duplicate id', (j) => j.members.push({ ...j.members[1], email: 'other@x' }), [['duplicate_id', 'members.2.id']]],
    ['a member and an API key sharing one id (one id space)', (j) => (j.apiKeys[0].id = 'bob'), [['duplicate_id', 'apiKeys.0.id']]],
    ['a duplicate email, compared case-insensitively', (j) => (j.members[1].email = 'ADA@example.com'), [['duplicate_email', 'members.1.email']]],
    ['a malformed email', (j) => (j.members[1].email = 'bob'), [['invalid_format', 'members.1.email']]],
    ['a dangling member id in a group', (j) => j.groups[0].memberIds.push('ghost'), [['dangling_reference', 'groups.0.memberIds.1']]],
    ['a dangling member in a workspace', (j) => j.workspaces[0].members.push({ memberId: 'ghost' }), [['dangling_reference', 'workspaces.0.members.2.memberId']]],
    ['a dangling group grant', (j) => j.workspaces[0].groupGrants.push({ groupId: 'ghost' }), [['dangling_reference', 'workspaces.0.groupGrants.1.groupId']]],
    ['a key in a workspace that does not exist', (j) => (j.apiKeys[0].workspaceId = 'ghost'), [['dangling_reference', 'apiKeys.0.workspaceId']]],
    ['a member twice in one workspace', (j) => j.workspaces[0].members.push({ memberId: 'bob', roles: ['dev'] }), [['duplicate_entry', 'workspaces.0.members.2.memberId']]],
    ['a duplicate role in a list (a snapshot is canonical)', (j) => j.members[1].orgRoles.push('member'), [['duplicate_entry', 'members.1.orgRoles.1']]],
    ['a duplicate member in a group', (j) => j.groups[0].memberIds.push('bob'), [['duplicate_entry', 'groups.0.memberIds.1']]],
    ['an unknown role', (j) => (j.members[1].orgRoles = ['superuser']), [['unknown_role', 'members.1.orgRoles.0']]],
    ['a workspace role held at the organization level', (j) => (j.members[1].orgRoles = ['dev']), [['wrong_scope_role', 'members.1.orgRoles.0']]],
    ['an organization role held in a workspace', (j) => (j.workspaces[0].members[1].roles = ['organization_admin']), [['wrong_scope_role', 'workspaces.0.members.1.roles.0']]],
    ['an organization role granted to a group in a workspace', (j) => (j.workspaces[0].groupGrants[0].roles = ['billing_manager']), [['wrong_scope_role', 'workspaces.0.groupGrants.0.roles.0']]],
    ['a member without organization roles', (j) => (j.members[1].orgRoles = []), [['empty_roles', 'members.1.orgRoles']]],
    ['an explicit empty workspace role list ("an error, not a default")', (j) => (j.workspaces[0].members[1].roles = []), [['empty_roles', 'workspaces.0.members.1.roles']]],
    ['an explicit empty group grant', (j) => (j.workspaces[0].groupGrants[0].roles = []), [['empty_roles', 'workspaces.0.groupGrants.0.roles']]],
    ['a seat with no pool', (j) => (j.seatPools = []), [['seat_without_pool', 'members.0.seats.0']]],
    ['more seats held than the pool\'s size', (j) => (j.members[1].seats = ['mistral_code']), [['seats_exceeded', 'seatPools.0.size']]],
    ['two pools for one product', (j) => j.seatPools.push({ product: 'mistral_code', size: 3 }), [['duplicate_entry', 'seatPools.1.product']]],
    ['a negative pool size (which the seat held now exceeds)', (j) => (j.seatPools[0].size = -1), [['invalid_value', 'seatPools.0.size'], ['seats_exceeded', 'seatPools.0.size']]],
    ['no active organization_admin', (j) => (j.members[0].orgRoles = ['member']), [['no_active_admin', 'members']]],
    ['a suspended organization_admin does not count (§7.6)', (j) => (j.members[0].status = 'suspended'), [['no_active_admin', 'members']]],
    ['expiresAt without Z or an offset', (j) => (j.apiKeys[0].expiresAt = '2027-01-01T00:00:00'), [['invalid_format', 'apiKeys.0.expiresAt']]],
    ['a negative revision', (j) => (j.revision = -1), [['invalid_value', 'revision']]],
  ];

  for (const [rule, mutate, expected] of cases) {
    it(`reports ${rule}`, () => {
      const found = problems(mutate);
      expect(codes(found)).toEqual(expected);
      for (const p of found) expect(p.message.length).toBeGreaterThan(10);
    });
  }

  it('an organization_admin held through a group counts; a group may have no organization roles', () => {
    const json = valid();
    json.members[0].orgRoles = ['member'];
    json.groups.push({ id: 'admins', name: 'admins', memberIds: ['ada'], orgRoles: ['organization_admin'] });
    expect(parseOrganization(json).ok).toBe(true);
  });

  it('lists every problem at once, never only the first', () => {
    const found = problems((j) => {
      j.extra = 1;
      j.members[1].orgRoles = ['dev', 'nope'];
      j.members[1].email = 'ADA@example.com';
      j.groups[0].memberIds = ['ghost'];
      j.workspaces[0].members[0].roles = [];
      j.members[0].status = 'suspended';
    });
    expect(codes(found)).toEqual([
      ['wrong_scope_role', 'members.1.orgRoles.0'],
      ['unknown_role', 'members.1.orgRoles.1'],
      ['unknown_field', 'extra'],
      ['duplicate_email', 'members.1.email'],
      ['dangling_reference', 'groups.0.memberIds.0'],
      ['empty_roles', 'workspaces.0.members.0.roles'],
      ['no_active_admin', 'members'],
    ]);
  });

  it('non-objects are refused with a problem, never a throw', () => {
    for (const input of [null, undefined, 42, 'snapshot', [], true]) {
      const result = parseOrganization(input);
      expect(result.ok).toBe(false);
    }
  });

  it('ids such as __proto__ and constructor load as ordinary ids', () => {
    const result = organizationBuilder('__proto__').member('__proto__', 'organization_admin').member('constructor').group('toString', ['constructor'])
      .workspace('hasOwnProperty', { members: { constructor: null }, groups: { toString: ['dev' as const] } }).parse();
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.organization.members.get('__proto__')!.orgRoles).toEqual(['organization_admin']);
    expect(Object.getPrototypeOf(result.organization)).toBe(Object.prototype);
  });

  it('serializeOrganization writes back exactly the wire format: revision always, absent roles kept absent', () => {
    const json = valid();
    delete json.revision;
    const result = parseOrganization(json);
    if (!result.ok) throw new Error('valid');
    const written = serializeOrganization(result.organization);
    expect(written.revision).toBe(0);
    expect(written.workspaces![0]!.members![0]).toEqual({ memberId: 'bob' });
    expect(written).toEqual({ ...json, revision: 0 });
    expect(parseOrganization(JSON.parse(JSON.stringify(written))).ok).toBe(true);
  });

  it('createPolicy throws an OrganizationError with every problem for an invalid input', () => {
    const json = valid();
    json.members[1].orgRoles = [];
    json.groups[0].memberIds = ['ghost'];
    try {
      createPolicy(json);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(OrganizationError);
      expect((error as OrganizationError).problems.map((p) => p.code)).toEqual(['empty_roles', 'dangling_reference']);
    }
  });

  it('the JSON Schema, generated from the zod schema, describes the wire format and refuses unknown fields', () => {
    const schema = organizationJsonSchema() as any;
    expect(schema.$schema).toContain('2020-12');
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['schemaVersion', 'members', 'groups', 'workspaces', 'connectors', 'connectorPermissions', 'credentials', 'apiKeys', 'seatPools']),
    );
    expect(schema.properties.members.items.additionalProperties).toBe(false);
    expect(schema.required).toEqual(expect.arrayContaining(['schemaVersion', 'id', 'name']));
  });
});
