/**
 * 200 Admin API requests on the sample organization (examples/sample-organization.json), each one
 * command, each valid whatever order the others commit in: every one names targets no other request
 * touches (new ids, or one existing entity per request), so all 200 must be acknowledged however two
 * writers interleave them. Together they change what the gateways answer: new API keys with their
 * secrets, members' external ids (so their tokens name them), memberships and roles, connector
 * permissions, groups, workspaces and members.
 */

export interface LoadRequest {
  /** Whose admin key sends it: the organization admin, or Research's workspace admin. */
  readonly actor: 'm-ada' | 'm-chloe';
  readonly method: 'POST' | 'PUT' | 'PATCH';
  readonly path: string;
  readonly body: Record<string, unknown>;
  /** For a new API key: its id and workspace (its secret comes back in the answer). */
  readonly apiKey?: { readonly keyId: string; readonly workspaceId: string };
  /** For a member given an external id: the `sub` its tokens carry. */
  readonly externalId?: { readonly memberId: string; readonly sub: string };
}

export const SAMPLE_MEMBERS = ['m-ada', 'm-bruno', 'm-chloe', 'm-dave', 'm-eve', 'm-finn', 'm-gia', 'm-hugo'] as const;
export const SAMPLE_WORKSPACES = ['ws-research', 'ws-marketing', 'ws-platform'] as const;

const SCOPES: readonly ('all' | readonly string[])[] = ['all', ['c-github'], ['c-slack', 'c-weather'], ['c-atlassian', 'c-warehouse'], ['c-github', 'c-slack']];

export function loadPlan(): LoadRequest[] {
  const plan: LoadRequest[] = [];
  // 8: every sample member gets an external id (SPEC §9.2), so an access token's `sub` names it.
  for (const memberId of SAMPLE_MEMBERS) {
    const sub = `idp|${memberId.slice(2)}`;
    plan.push({ actor: 'm-ada', method: 'PUT', path: `/api/admin/users/${memberId}/profile`, body: { externalId: sub }, externalId: { memberId, sub } });
  }
  // 60: API keys in the three workspaces with various connector scopes; Research's by its workspace admin.
  for (let i = 0; i < 60; i++) {
    const workspaceId = SAMPLE_WORKSPACES[i % 3]!;
    const keyId = `k-load-${i}`;
    plan.push({
      actor: workspaceId === 'ws-research' && i % 2 === 0 ? 'm-chloe' : 'm-ada',
      method: 'POST',
      path: `/api/admin/workspaces/${workspaceId}/api-keys`,
      body: { keyId, name: `load key ${i}`, connectorScopes: SCOPES[i % SCOPES.length], ...(i % 7 === 0 ? { expiresAt: '2031-01-01T00:00:00Z' } : {}) },
      apiKey: { keyId, workspaceId },
    });
  }
  // 80: members invited (every fourth with an external id and an org role).
  for (let i = 0; i < 80; i++) {
    plan.push({
      actor: 'm-ada',
      method: 'POST',
      path: '/api/admin/users',
      body: { memberId: `m-load-${i}`, email: `load-${i}@example.com`, ...(i % 4 === 0 ? { externalId: `idp|load-${i}`, role_names: ['member', 'billing_manager'] } : {}) },
    });
  }
  // 20 workspaces, 16 groups of sample members.
  for (let i = 0; i < 20; i++) plan.push({ actor: 'm-ada', method: 'POST', path: '/api/admin/workspaces', body: { workspaceId: `ws-load-${i}`, name: `Load ${i}` } });
  for (let i = 0; i < 16; i++) {
    plan.push({ actor: 'm-ada', method: 'POST', path: '/api/admin/groups', body: { groupId: `g-load-${i}`, name: `Load group ${i}`, memberIds: [SAMPLE_MEMBERS[i % 8]!, SAMPLE_MEMBERS[(i + 3) % 8]!] } });
  }
  // 8 workspace connector permissions, each (workspace, connector) once.
  const permissions: [string, string, Record<string, unknown>, LoadRequest['actor']][] = [
    ['ws-research', 'c-github', { mode: 'restricted', tools: ['search_repositories', 'get_issue'] }, 'm-chloe'],
    ['ws-research', 'c-atlassian', { mode: 'blocked' }, 'm-chloe'],
    ['ws-research', 'c-warehouse', { mode: 'restricted', tools: ['run_query'] }, 'm-chloe'],
    ['ws-marketing', 'c-github', { mode: 'blocked' }, 'm-ada'],
    ['ws-marketing', 'c-slack', { mode: 'restricted', tools: ['search_messages', 'read_channel'] }, 'm-ada'],
    ['ws-marketing', 'c-atlassian', { mode: 'restricted', tools: ['get_jira_issue'] }, 'm-ada'],
    ['ws-platform', 'c-slack', { mode: 'blocked' }, 'm-ada'],
    ['ws-platform', 'c-weather', { mode: 'restricted', tools: ['get_forecast'] }, 'm-ada'],
  ];
  for (const [workspaceId, connectorId, body, actor] of permissions) plan.push({ actor, method: 'PUT', path: `/api/admin/workspaces/${workspaceId}/connectors/${connectorId}/permission`, body });
  // 4 members added to Engineering (granted dev in Platform), one each.
  for (const memberId of ['m-ada', 'm-bruno', 'm-gia', 'm-hugo']) plan.push({ actor: 'm-ada', method: 'POST', path: '/api/admin/groups/g-eng/members', body: { memberIds: [memberId] } });
  // 4 workspace roles, each (workspace, member) once.
  const roles: [string, string, string[], LoadRequest['actor']][] = [
    ['ws-research', 'm-dave', ['user'], 'm-chloe'],
    ['ws-research', 'm-eve', ['dev'], 'm-chloe'],
    ['ws-marketing', 'm-eve', ['dev'], 'm-ada'],
    ['ws-marketing', 'm-bruno', ['user'], 'm-ada'],
  ];
  for (const [workspaceId, memberId, roleNames, actor] of roles) plan.push({ actor, method: 'PUT', path: `/api/admin/workspaces/${workspaceId}/users/${memberId}`, body: { role_names: roleNames } });
  return plan;
}
