/**
 * SPEC §9: the snapshot's optional identity fields — members' `externalId` (unique) and `displayName`,
 * API keys' secret hashes — load, write back, travel in changes, and are set by admin commands.
 */
import { describe, expect, it } from 'vitest';
import { applyChange, applyCommand, changeChecksum, organizationBuilder, parseOrganization, serializeOrganization, type Organization } from 'org-policy';

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

function base(): Organization {
  const json = organizationBuilder('acme').member('ada', 'organization_admin').member('bob').workspace('w1', { members: { bob: null } }).apiKey('k1', 'w1').toJSON();
  json.members![0] = { ...json.members![0]!, externalId: 'idp|ada', displayName: 'Ada L.' };
  json.apiKeys![0] = { ...json.apiKeys![0]!, secrets: [{ sha256: HASH_A }, { sha256: HASH_B, notAfter: '2027-01-01T00:00:00Z' }] };
  const parsed = parseOrganization(json);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.organization;
}

describe('SPEC §9 snapshot fields', () => {
  it('load and write back unchanged; a snapshot without them loads as before', () => {
    const json = serializeOrganization(base());
    expect(json.members![0]).toMatchObject({ externalId: 'idp|ada', displayName: 'Ada L.' });
    expect(json.members![1]).not.toHaveProperty('externalId');
    expect(json.apiKeys![0]!.secrets).toEqual([{ sha256: HASH_A }, { sha256: HASH_B, notAfter: '2027-01-01T00:00:00Z' }]);
    const again = parseOrganization(json);
    expect(again.ok && serializeOrganization(again.organization)).toEqual(json);
  });

  it.each([
    ['two members with one externalId', (j: any) => (j.members[1].externalId = 'idp|ada'), 'duplicate_external_id'],
    ['a secret that is not a lowercase hex SHA-256', (j: any) => (j.apiKeys[0].secrets = [{ sha256: 'ABC' }]), 'invalid_format'],
    ['an empty displayName', (j: any) => (j.members[1].displayName = ' '), 'empty_name'],
    ['a notAfter without an offset', (j: any) => (j.apiKeys[0].secrets = [{ sha256: HASH_A, notAfter: '2027-01-01T00:00:00' }]), 'invalid_format'],
  ])('refuses %s', (_name, edit, code) => {
    const json = JSON.parse(JSON.stringify(serializeOrganization(base())));
    edit(json);
    const result = parseOrganization(json);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems.map((p) => p.code)).toContain(code);
  });
});

describe('SPEC §9 admin commands', () => {
  it('inviteMember takes externalId and displayName; a taken externalId is refused', () => {
    const ok = applyCommand(base(), 'ada', { type: 'inviteMember', memberId: 'cy', email: 'cy@example.com', externalId: 'idp|cy', displayName: 'Cy' });
    expect(ok.ok && ok.snapshot.members.get('cy')).toMatchObject({ externalId: 'idp|cy', displayName: 'Cy' });
    const taken = applyCommand(base(), 'ada', { type: 'inviteMember', memberId: 'cy', email: 'cy@example.com', externalId: 'idp|ada' });
    expect(!taken.ok && [taken.error.class, taken.error.code]).toEqual(['validation', 'duplicate_external_id']);
  });

  it('setMemberProfile sets, keeps and clears (null) each field', () => {
    const set = applyCommand(base(), 'ada', { type: 'setMemberProfile', memberId: 'bob', externalId: 'idp|bob', displayName: 'Bob' });
    if (!set.ok) throw new Error(set.error.message);
    expect(set.snapshot.members.get('bob')).toMatchObject({ externalId: 'idp|bob', displayName: 'Bob' });
    const cleared = applyCommand(set.snapshot, 'ada', { type: 'setMemberProfile', memberId: 'bob', displayName: null });
    if (!cleared.ok) throw new Error(cleared.error.message);
    expect(cleared.snapshot.members.get('bob')!.externalId).toBe('idp|bob');
    expect(cleared.snapshot.members.get('bob')).not.toHaveProperty('displayName');
    const own = applyCommand(set.snapshot, 'ada', { type: 'setMemberProfile', memberId: 'bob', externalId: 'idp|bob' });
    expect(own.ok).toBe(true);
    const theirs = applyCommand(set.snapshot, 'ada', { type: 'setMemberProfile', memberId: 'bob', externalId: 'idp|ada' });
    expect(!theirs.ok && theirs.error.code).toBe('duplicate_external_id');
    expect(applyCommand(base(), 'bob', { type: 'setMemberProfile', memberId: 'bob', displayName: 'B' }).ok).toBe(false);
  });

  it('createApiKey stores secret hashes; setApiKeySecrets rotates them; both reach a replica through JSON', () => {
    const org = base();
    const created = applyCommand(org, 'ada', { type: 'createApiKey', keyId: 'k2', workspaceId: 'w1', name: 'ci', secrets: [{ sha256: HASH_A }] });
    if (!created.ok) throw new Error(created.error.message);
    expect(created.snapshot.apiKeys.get('k2')!.secrets).toEqual([{ sha256: HASH_A }]);
    const rotated = applyCommand(created.snapshot, 'ada', { type: 'setApiKeySecrets', keyId: 'k2', secrets: [{ sha256: HASH_B }, { sha256: HASH_A, notAfter: '2026-12-02T00:00:00Z' }] });
    if (!rotated.ok) throw new Error(rotated.error.message);
    const replica = applyChange(org, JSON.parse(JSON.stringify(created.change)));
    if (!replica.ok) throw new Error(replica.error.message);
    const next = applyChange(replica.organization, JSON.parse(JSON.stringify(rotated.change)));
    expect(next.ok && serializeOrganization(next.organization)).toEqual(serializeOrganization(rotated.snapshot));
    const twice = applyCommand(org, 'ada', { type: 'createApiKey', keyId: 'k3', workspaceId: 'w1', name: 'x', secrets: [{ sha256: HASH_A }, { sha256: HASH_A }] });
    expect(!twice.ok && twice.error.code).toBe('duplicate_entry');
    // The audit event names the key, never a hash.
    expect(JSON.stringify(created.event)).not.toContain(HASH_A);
  });

  it('a change that gives two members one externalId is refused by applyChange', () => {
    const org = base();
    const bad = applyCommand(org, 'ada', { type: 'setMemberProfile', memberId: 'bob', externalId: 'idp|bob' });
    if (!bad.ok) throw new Error(bad.error.message);
    const forged = JSON.parse(JSON.stringify(bad.change));
    forged.patches[0].value.externalId = 'idp|ada';
    delete forged.sha256;
    forged.sha256 = changeChecksum(forged);
    const result = applyChange(org, forged);
    expect(!result.ok && result.error.problems?.map((p) => p.code)).toContain('duplicate_external_id');
  });
});
