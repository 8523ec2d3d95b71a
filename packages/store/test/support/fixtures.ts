import { createHash } from 'node:crypto';
import { ACTIONS, organizationBuilder, serializeOrganization, type Organization, type Policy } from 'org-policy';

export const ADMIN = 'ada';
export const NOW = Date.parse('2026-01-15T12:00:00Z');

/** A small organization with something of every kind: members, a group, workspaces, a connector, an API key. */
export function sampleOrganization(id = 'acme'): Organization {
  return organizationBuilder(id, 'Acme')
    .member(ADMIN, 'organization_admin')
    .member('bob')
    .member('carol')
    .group('eng', ['bob'])
    .workspace('research', { members: { bob: null, carol: 'workspace_admin' } })
    .workspace('platform', { groups: { eng: 'dev' } })
    .connector('slack', { tools: ['search', 'post!'] })
    .credential('cred-slack', 'slack', 'organization')
    .apiKey('key-research', 'research')
    .organization();
}

/** One change of two commands, valid in any order against any other of its kind: a new member, placed in `research`. */
export function inviteAndPlace(tag: string): unknown[] {
  return [
    { type: 'inviteMember', memberId: `m-${tag}`, email: `${tag}@example.com` },
    { type: 'addWorkspaceMembers', workspaceId: 'research', members: [{ memberId: `m-${tag}`, roleNames: ['dev'] }] },
  ];
}

export const inviteMember = (tag: string) => [{ type: 'inviteMember', memberId: `m-${tag}`, email: `${tag}@example.com` }];

/**
 * Every decision of a grid — every principal (members, API keys, an unknown one) × every action ×
 * every workspace and none, and every principal's tools of every connector in every workspace —
 * reduced to a SHA-256, so processes can compare policies by value.
 */
export function policyGrid(policy: Policy, organization: Organization): { readonly sha256: string; readonly decisions: number } {
  const json = serializeOrganization(organization) as { members: { id: string }[]; apiKeys: { id: string }[]; workspaces: { id: string }[]; connectors: { id: string }[] };
  const principals = [...json.members.map((m) => m.id), ...json.apiKeys.map((k) => k.id), 'nobody'];
  const workspaces = [...json.workspaces.map((w) => w.id), undefined];
  const hash = createHash('sha256');
  let decisions = 0;
  for (const principal of principals) {
    for (const workspace of workspaces) {
      for (const action of ACTIONS) {
        hash.update(policy.can(principal, action.name, workspace, { now: NOW }) ? '1' : '0');
        decisions += 1;
      }
      if (workspace === undefined) continue;
      for (const connector of json.connectors) {
        hash.update(`|${policy.toolsAvailable(principal, connector.id, workspace, { now: NOW }).join(',')}|`);
        decisions += 1;
      }
    }
    hash.update('\n');
  }
  return { sha256: hash.digest('hex'), decisions };
}

/** The snapshot's JSON, hashed: two organizations that serialize alike. */
export const snapshotSha256 = (organization: Organization) => createHash('sha256').update(JSON.stringify(serializeOrganization(organization))).digest('hex');
