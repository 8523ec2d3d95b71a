/**
 * SPEC §5, §6.1: patches are the change log. Applying `patches` to the old snapshot gives the new one,
 * `inversePatches` give the old one back, patches address entities by id (a handful per change, not one
 * per array element), everything written parses again, and ids such as `__proto__` are real ids.
 */
import { describe, expect, it } from 'vitest';
import { applyCommand, organizationBuilder, parseOrganization, serializeOrganization, type Command, type Organization } from 'org-policy';
import { canonical, replay } from './replay.js';

function expectRoundTrip(before: Organization, command: Command, actor = 'ada'): Organization {
  const result = applyCommand(before, actor, command, { now: 0 });
  if (!result.ok) throw new Error(`${command.type} refused: ${JSON.stringify(result.error)}`);
  // Forward, exactly (order included: a replica's snapshot is the writer's); back, by content.
  expect(replay(before, result.patches, result.snapshot.revision)).toEqual(serializeOrganization(result.snapshot));
  expect(canonical(replay(result.snapshot, result.inversePatches, before.revision))).toEqual(canonical(before));
  const reparsed = parseOrganization(serializeOrganization(result.snapshot));
  expect(reparsed.ok && serializeOrganization(reparsed.organization)).toEqual(serializeOrganization(result.snapshot));
  // Nothing is lost on the wire.
  expect(JSON.parse(JSON.stringify(result.patches))).toEqual(result.patches);
  return result.snapshot;
}

/** A run through every kind of command, each step checked. */
const SCRIPT: Command[] = [
  { type: 'inviteMember', memberId: 'bob', email: 'bob@x.test', roleNames: ['member', 'billing_manager'] },
  { type: 'inviteMember', memberId: 'cy', email: 'cy@x.test' },
  { type: 'createWorkspace', workspaceId: 'w1', name: 'One' },
  { type: 'createWorkspace', workspaceId: 'w2', name: 'Two' },
  { type: 'addWorkspaceMembers', workspaceId: 'w1', members: [{ memberId: 'bob', roleNames: ['workspace_admin'] }, { memberId: 'cy' }] },
  { type: 'setWorkspaceMemberRoles', workspaceId: 'w1', memberId: 'cy', roleNames: ['dev'] },
  { type: 'createGroup', groupId: 'g', name: 'G', memberIds: ['cy'] },
  { type: 'setGroupWorkspaceRoles', workspaceId: 'w2', groupId: 'g', roleNames: ['user'] },
  { type: 'setSeatPoolSize', product: 'mistral_code', size: 3 },
  { type: 'assignSeat', memberId: 'cy', product: 'mistral_code' },
  {
    type: 'registerConnector',
    connectorId: 'jira',
    name: 'jira',
    visibility: 'workspace',
    workspaceIds: ['w1', 'w2'],
    authentication: 'oauth2',
    origin: 'featured',
    capabilities: 'read_write',
    tools: [
      { name: 'search', access: 'read' },
      { name: 'create', access: 'write' },
    ],
  },
  { type: 'setConnectorPermission', connectorId: 'jira', mode: 'restricted', tools: ['create', 'search'] },
  { type: 'setConnectorPermission', workspaceId: 'w1', connectorId: 'jira', mode: 'restricted', tools: ['create'] },
  { type: 'addCredential', credentialId: 'c1', connectorId: 'jira', holder: 'organization' },
  { type: 'addCredential', credentialId: 'c2', connectorId: 'jira', holder: 'workspace', workspaceId: 'w1' },
  { type: 'createApiKey', keyId: 'k1', workspaceId: 'w1', name: 'ci', connectorScopes: ['jira'], expiresAt: '2027-01-01T00:00:00+02:00' },
  { type: 'setApiKeyExpiry', keyId: 'k1', expiresAt: null },
  { type: 'updateConnector', connectorId: 'jira', tools: [{ name: 'search', access: 'read' }] },
  { type: 'suspendMember', memberId: 'cy' },
  { type: 'reactivateMember', memberId: 'cy' },
  { type: 'setMemberOrgRoles', memberId: 'cy', roleIds: ['5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d1002'] },
  { type: 'setGroupOrgRoles', groupId: 'g', roleNames: [] },
  { type: 'releaseSeat', memberId: 'cy', product: 'mistral_code' },
  { type: 'revokeApiKey', keyId: 'k1' },
  { type: 'removeGroupWorkspaceRoles', workspaceId: 'w2', groupId: 'g' },
  { type: 'removeCredential', credentialId: 'c2' },
  { type: 'deleteWorkspace', workspaceId: 'w1' },
  { type: 'removeConnector', connectorId: 'jira' },
  { type: 'deleteGroup', groupId: 'g' },
  { type: 'removeMember', memberId: 'cy' },
];

describe('SPEC §5 patches: old + patches = new, new + inverse = old; every result parses again (§7.19)', () => {
  it('holds for every step of a run through every kind of command', () => {
    let org = organizationBuilder('o').member('ada', 'organization_admin').organization();
    for (const command of SCRIPT) {
      const next = expectRoundTrip(org, command);
      expect(next.revision).toBe(org.revision + 1);
      org = next;
    }
    expect(org.revision).toBe(SCRIPT.length);
  });
});

describe('SPEC §6.1 patches address entities by id', () => {
  const big = (() => {
    const builder = organizationBuilder('big').member('ada', 'organization_admin');
    for (let i = 0; i < 10_000; i++) builder.member(`m${i}`);
    return builder.organization();
  })();

  it('removing one member of 10,000 gives a handful of patches', () => {
    const result = applyCommand(big, 'ada', { type: 'removeMember', memberId: 'm5000' });
    if (!result.ok) throw new Error('refused');
    // The revision travels with the change (SPEC §8), not as a patch.
    expect(result.patches).toEqual([{ op: 'remove', path: ['members', 'm5000'] }]);
    expect(result.inversePatches).toEqual([{ op: 'add', path: ['members', 'm5000'], value: serializeOrganization(big).members!.find((m) => m.id === 'm5000') }]);
    expect(result.snapshot.members.size).toBe(10_000);
  });
  it('changing one member of 10,000 patches that member only', () => {
    const result = applyCommand(big, 'ada', { type: 'setMemberOrgRoles', memberId: 'm42', roleNames: ['billing_manager'] });
    if (!result.ok) throw new Error('refused');
    expect(result.patches).toEqual([{ op: 'replace', path: ['members', 'm42'], value: { id: 'm42', email: 'm42@example.com', status: 'active', orgRoles: ['billing_manager'], seats: [] } }]);
    expect(result.snapshot.members.get('m43')).toBe(big.members.get('m43'));
  });
});

describe('§1 ids such as __proto__ and constructor are real ids (Map keys), for members, workspaces, groups', () => {
  it('invite, add to a workspace, group, patch and invert', () => {
    let org = organizationBuilder('o').member('ada', 'organization_admin').organization();
    const commands: Command[] = [
      { type: 'inviteMember', memberId: '__proto__', email: 'p@x.test' },
      { type: 'inviteMember', memberId: 'constructor', email: 'c@x.test', roleNames: ['organization_admin'] },
      { type: 'createWorkspace', workspaceId: '__proto__', name: 'proto' },
      { type: 'createWorkspace', workspaceId: 'constructor', name: 'ctor' },
      { type: 'addWorkspaceMembers', workspaceId: '__proto__', members: [{ memberId: '__proto__', roleNames: ['workspace_admin'] }, { memberId: 'constructor' }] },
      { type: 'createGroup', groupId: 'constructor', name: 'ctor', memberIds: ['__proto__'] },
      { type: 'createGroup', groupId: '__proto__', name: 'proto', memberIds: ['constructor'], roleNames: ['organization_admin'] },
      { type: 'setGroupWorkspaceRoles', workspaceId: 'constructor', groupId: '__proto__' },
      { type: 'removeWorkspaceMember', workspaceId: '__proto__', memberId: 'constructor' },
      { type: 'deleteGroup', groupId: 'constructor' },
      { type: 'removeMember', memberId: '__proto__' },
      { type: 'deleteWorkspace', workspaceId: 'constructor' },
    ];
    for (const command of commands) org = expectRoundTrip(org, command);
    expect([...org.members.keys()]).toEqual(['ada', 'constructor']);
    expect([...org.workspaces.keys()]).toEqual(['__proto__']);
    expect([...org.groups.keys()]).toEqual(['__proto__']);
    expect(org.members.get('__proto__' as never)).toBeUndefined();
    expect(org.members.has('constructor')).toBe(true);
    // A workspace admin whose id is __proto__ manages its workspace through the same can
    const again = expectRoundTrip(org, { type: 'inviteMember', memberId: '__proto__', email: 'p2@x.test' });
    const added = expectRoundTrip(again, { type: 'addWorkspaceMembers', workspaceId: '__proto__', members: [{ memberId: '__proto__', roleNames: ['workspace_admin'] }] });
    expectRoundTrip(added, { type: 'addWorkspaceMembers', workspaceId: '__proto__', members: [{ memberId: 'ada' }] }, '__proto__');
  });
});
