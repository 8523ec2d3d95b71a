/**
 * SPEC §8.2: a change that does not fit the snapshot it is applied to is refused whole, with a typed
 * error, and the snapshot is left as it was. The changes here are written by hand (checksummed with
 * `changeChecksum`, so that each test reaches the rule it names).
 */
import { describe, expect, it } from 'vitest';
import { applyChange, changeChecksum, organizationBuilder, serializeOrganization, type Change, type Organization, type WirePatch } from 'org-policy';

const base = (): Organization =>
  organizationBuilder('acme')
    .member('ada', 'organization_admin')
    .member('bob')
    .member('cy')
    .seatPool('mistral_code', 1)
    .workspace('research', { members: { bob: null } })
    .organization();

function change(org: Organization, patches: WirePatch[], overrides: Partial<Change> = {}): Change {
  const body = { organizationId: org.id, revision: org.revision + 1, patches, inversePatches: [], events: [], ...overrides };
  const { sha256: _drop, ...rest } = body as Change;
  return { ...rest, sha256: overrides.sha256 ?? changeChecksum(rest) };
}

const member = (id: string, extra: Record<string, unknown> = {}) => ({ id, email: `${id}@example.com`, status: 'active', orgRoles: ['member'], seats: [], ...extra });

function refused(org: Organization, c: unknown) {
  const before = JSON.stringify(serializeOrganization(org));
  const result = applyChange(org, c);
  expect(JSON.stringify(serializeOrganization(org))).toBe(before);
  if (result.ok) throw new Error('expected a refusal');
  return result.error;
}

describe('applyChange applies a change whole (SPEC §8.2)', () => {
  it('applies a valid change and produces the next revision', () => {
    const org = base();
    const result = applyChange(org, change(org, [{ op: 'add', path: ['members', 'dee'], value: member('dee') }]));
    expect(result.ok && result.organization.revision).toBe(org.revision + 1);
    expect(result.ok && result.organization.members.get('dee')?.email).toBe('dee@example.com');
  });

  it.each([
    ['null', null],
    ['a string', 'change'],
    ['an array', []],
    ['a change without sha256', { organizationId: 'acme', revision: 1, patches: [], inversePatches: [], events: [] }],
    ['a change with an unknown field', { organizationId: 'acme', revision: 1, patches: [], inversePatches: [], events: [], sha256: 'a'.repeat(64), extra: 1 }],
    ['a patch with an unknown op', { organizationId: 'acme', revision: 1, patches: [{ op: 'move', path: ['name'] }], inversePatches: [], events: [], sha256: 'a'.repeat(64) }],
    ['revision 0', { organizationId: 'acme', revision: 0, patches: [], inversePatches: [], events: [], sha256: 'a'.repeat(64) }],
  ])('malformed_change: %s', (_name, value) => {
    expect(refused(base(), value).code).toBe('malformed_change');
  });

  it('never throws on a hostile change (a throwing getter, a cycle)', () => {
    const throwing = { get organizationId() { throw new Error('boom'); } };
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(refused(base(), throwing).code).toBe('malformed_change');
    expect(refused(base(), cyclic).code).toBe('malformed_change');
  });

  it('wrong_organization: a change for another organization', () => {
    const org = base();
    expect(refused(org, change(org, [], { organizationId: 'other' })).code).toBe('wrong_organization');
  });

  it('revision_gap: a change that skips a revision, or one already applied', () => {
    const org = base();
    expect(refused(org, change(org, [], { revision: org.revision + 2 })).code).toBe('revision_gap');
    const first = change(org, [{ op: 'add', path: ['members', 'dee'], value: member('dee') }]);
    const applied = applyChange(org, first);
    if (!applied.ok) throw new Error('setup');
    expect(refused(applied.organization, first).code).toBe('revision_gap');
  });

  it('checksum_mismatch: a change altered after it was checksummed', () => {
    const org = base();
    const c = change(org, [{ op: 'add', path: ['members', 'dee'], value: member('dee') }]);
    const altered = { ...c, patches: [{ op: 'add', path: ['members', 'dee'], value: member('dee', { orgRoles: ['organization_admin'] }) }] };
    expect(refused(org, altered).code).toBe('checksum_mismatch');
  });

  it.each<[string, WirePatch]>([
    ['add of an id that exists', { op: 'add', path: ['members', 'bob'], value: member('bob') }],
    ['replace of an id that does not exist', { op: 'replace', path: ['members', 'zed'], value: member('zed') }],
    ['remove of an id that does not exist', { op: 'remove', path: ['members', 'zed'] }],
    ['a value whose id is not the path', { op: 'add', path: ['members', 'dee'], value: member('eve') }],
    ['a value that is not an entity', { op: 'add', path: ['members', 'dee'], value: { id: 'dee' } }],
    ['an unknown collection', { op: 'add', path: ['robots', 'r1'], value: {} }],
    ['a path too deep for this collection', { op: 'replace', path: ['members', 'bob', 'email'], value: 'x@y.z' }],
    ['an entry of a workspace that does not exist', { op: 'add', path: ['workspaces', 'nowhere', 'members', 'cy'], value: { memberId: 'cy' } }],
    ['an empty name', { op: 'replace', path: ['name'], value: '  ' }],
  ])('patch_failed: %s', (_name, patch) => {
    const org = base();
    expect(refused(org, change(org, [patch])).code).toBe('patch_failed');
  });

  it.each<[string, WirePatch[], string]>([
    ['a member removed but still in a workspace', [{ op: 'remove', path: ['members', 'bob'] }], 'dangling_reference'],
    ['a workspace entry for a member that does not exist', [{ op: 'add', path: ['workspaces', 'research', 'members', 'zed'], value: { memberId: 'zed' } }], 'dangling_reference'],
    ['two members with one email, compared case-insensitively', [{ op: 'add', path: ['members', 'dee'], value: member('dee', { email: 'BOB@Example.com' }) }], 'duplicate_email'],
    ['more seats than the pool', [
      { op: 'replace', path: ['members', 'bob'], value: member('bob', { seats: ['mistral_code'] }) },
      { op: 'replace', path: ['members', 'cy'], value: member('cy', { seats: ['mistral_code'] }) },
    ], 'seats_exceeded'],
    ['no active organization admin left', [{ op: 'replace', path: ['members', 'ada'], value: member('ada', { orgRoles: ['organization_admin'], status: 'suspended' }) }], 'no_active_admin'],
    ['an empty role list', [{ op: 'replace', path: ['workspaces', 'research', 'members', 'bob'], value: { memberId: 'bob', roles: [] } }], 'empty_roles'],
  ])('invalid_result: %s', (_name, patches, problem) => {
    const org = base();
    const error = refused(org, change(org, patches));
    expect(error.code).toBe('invalid_result');
    expect(error.problems?.map((p) => p.code)).toContain(problem);
  });

  it('a change survives JSON.stringify and JSON.parse', () => {
    const org = base();
    const c = change(org, [
      { op: 'add', path: ['members', 'dee'], value: member('dee') },
      { op: 'add', path: ['workspaces', 'research', 'members', 'dee'], value: { memberId: 'dee', roles: ['dev'] } },
      { op: 'replace', path: ['workspaces', 'research', 'name'], value: 'Research & Development' },
    ]);
    const result = applyChange(org, JSON.parse(JSON.stringify(c)));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.organization.workspaces.get('research')?.members.get('dee')?.roles).toEqual(['dev']);
    expect(result.organization.workspaces.get('research')?.name).toBe('Research & Development');
  });
});
