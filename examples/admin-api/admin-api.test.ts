/**
 * The Admin API server driven as a client would: real HTTP on loopback, a real PGlite database in a
 * temporary DATA_DIR, writes through the store, reads from its followed policy. SPEC §5, §5.1, §7.2,
 * §7.20, §8.4.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { roleByName } from 'org-policy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness, type Reply } from './testing.js';

let h: Harness;

async function call(actor: string | null, method: string, path: string, body?: unknown, rawBody?: string, headers?: Record<string, string>): Promise<Reply> {
  return h.call(actor === null ? null : h.key(actor), method, path, rawBody ?? body, headers);
}

const organization = async () => (await call('m-ada', 'GET', '/api/admin/organization')).body;
const memberOf = async (id: string) => (await organization()).members.find((member: { id: string }) => member.id === id);
const auditEntries = async () => {
  const entries: any[] = [];
  for (let cursor: string | null = null; ; ) {
    const reply = await call('m-ada', 'GET', `/api/admin/audit-log?limit=1000${cursor === null ? '' : `&cursor=${cursor}`}`);
    entries.push(...reply.body.entries);
    cursor = reply.body.nextCursor;
    if (cursor === null) return entries;
  }
};

beforeAll(async () => {
  h = await startHarness();
  for (const member of ['m-chloe', 'm-bruno', 'm-dave']) await h.issueKey(member);
}, 120_000);

afterAll(async () => {
  await h?.close();
});

describe('authentication: an x-api-key header names the actor', () => {
  it('the first start seeds the sample organization; the bootstrap key is the first organization admin\'s', async () => {
    expect(h.api.bootstrapped).toEqual({ memberId: 'm-ada' });
    expect((await organization()).id).toBe('org-acme');
  });

  it('a missing or unknown key is 401', async () => {
    expect((await call(null, 'GET', '/api/admin/roles')).status).toBe(401);
    const reply = await h.call('oak_not-a-key', 'GET', '/api/admin/roles');
    expect(reply.status).toBe(401);
    expect(reply.body.error.code).toBe('unknown_api_key');
  });
});

describe('every answer names the policy revision it was decided at (SPEC §8.4)', () => {
  it('x-policy-revision on reads, writes, refusals and errors alike', async () => {
    const head = (await organization()).revision;
    const answers = [
      await call('m-ada', 'GET', '/api/admin/roles'),
      await call('m-dave', 'GET', '/api/admin/organization'),
      await call(null, 'GET', '/api/admin/users'),
      await call('m-ada', 'GET', '/api/admin/nothing-here'),
      await call('m-ada', 'PATCH', '/api/admin/users/m-eve', undefined, '{"role_names": ['),
    ];
    for (const answer of answers) expect(answer.headers.get('x-policy-revision')).toBe(String(head));
    const write = await call('m-ada', 'PATCH', '/api/admin/workspaces/ws-marketing', { name: 'Marketing' });
    expect(write.headers.get('x-policy-revision')).toBe(String(head + 1));
    expect(write.body.revision).toBe(head + 1);
    // This instance's reads show its own write at once.
    expect((await call('m-ada', 'GET', '/api/admin/organization')).headers.get('x-policy-revision')).toBe(String(head + 1));
  });

  it('x-policy-min-revision: a revision held answers at once, a later one waits (bounded) and is 503 with Retry-After', async () => {
    const head = (await organization()).revision;
    const held = await call('m-ada', 'GET', '/api/admin/workspaces', undefined, undefined, { 'x-policy-min-revision': String(head) });
    expect(held.status).toBe(200);
    const later = await call('m-ada', 'GET', '/api/admin/workspaces', undefined, undefined, { 'x-policy-min-revision': String(head + 1_000) });
    expect(later.status).toBe(503);
    expect(later.headers.get('retry-after')).toBe('1');
    expect(later.body.error.code).toBe('revision_unavailable');
    expect(later.headers.get('x-policy-revision')).toBe(String(head));
    const garbage = await call('m-ada', 'GET', '/api/admin/workspaces', undefined, undefined, { 'x-policy-min-revision': 'soon' });
    expect(garbage.status).toBe(400);
    expect(garbage.body.error.code).toBe('invalid_min_revision');
  });
});

describe('GET /api/admin/roles (SPEC §5: anyone)', () => {
  it('lists every role with its fixed UUID, also for a plain member', async () => {
    const reply = await call('m-dave', 'GET', '/api/admin/roles');
    expect(reply.status).toBe(200);
    expect(reply.body.roles).toHaveLength(9);
    expect(reply.body.roles.find((role: { name: string }) => role.name === 'workspace_admin').id).toBe('5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d2005');
  });
});

describe('PATCH /api/admin/users/:uuid (SPEC §5: role_names or roles)', () => {
  it('an organization_admin sets org roles by name: 200 with the new revision and the member', async () => {
    const before = (await organization()).revision;
    const reply = await call('m-ada', 'PATCH', '/api/admin/users/m-eve', { role_names: ['member', 'billing_manager'] });
    expect(reply.status).toBe(200);
    expect(reply.body.revision).toBe(before + 1);
    expect(reply.body.entities[0].entity.orgRoles).toEqual(['member', 'billing_manager']);
  });

  it('and by role UUID', async () => {
    const reply = await call('m-ada', 'PATCH', '/api/admin/users/m-eve', { roles: [roleByName('member')!.id] });
    expect(reply.status).toBe(200);
    expect((await memberOf('m-eve')).orgRoles).toEqual(['member']);
  });

  it('a plain member is 403 forbidden and nothing changes', async () => {
    const before = await organization();
    const reply = await call('m-dave', 'PATCH', '/api/admin/users/m-eve', { role_names: ['organization_admin'] });
    expect(reply.status).toBe(403);
    expect(reply.body.error.class).toBe('forbidden');
    expect(await organization()).toEqual(before);
  });

  it('an unknown role name is 400 with the path of the problem', async () => {
    const reply = await call('m-ada', 'PATCH', '/api/admin/users/m-eve', { role_names: ['member', 'overlord'] });
    expect(reply.status).toBe(400);
    expect(reply.body.error.class).toBe('validation');
    expect(reply.body.error.problems).toContainEqual(expect.objectContaining({ code: 'unknown_role', path: ['role_names', 1] }));
  });

  it('a body over 1 MiB is 413, answered, not a reset connection', async () => {
    const reply = await call('m-ada', 'PATCH', '/api/admin/users/m-eve', undefined, JSON.stringify({ role_names: ['member'], pad: 'x'.repeat(1 << 21) }));
    expect(reply.status).toBe(413);
    expect(reply.body.error.code).toBe('body_too_large');
  });

  it('a workspace-scoped role at the organization level is 400', async () => {
    const reply = await call('m-ada', 'PATCH', '/api/admin/users/m-eve', { role_names: ['dev'] });
    expect(reply.status).toBe(400);
    expect(reply.body.error.problems.map((problem: { code: string }) => problem.code)).toContain('wrong_scope_role');
  });

  it('malformed JSON is 400 with a clear message, and a non-object body too', async () => {
    const broken = await call('m-ada', 'PATCH', '/api/admin/users/m-eve', undefined, '{"role_names": [');
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('malformed_json');
    const array = await call('m-ada', 'PATCH', '/api/admin/users/m-eve', ['member']);
    expect(array.status).toBe(400);
    expect(array.body.error.code).toBe('invalid_body');
  });

  it('demoting the last admins is 409 invariant (SPEC §7.6: a group admin counts)', async () => {
    expect((await call('m-ada', 'PUT', '/api/admin/groups/g-it/roles', { role_names: [] })).status).toBe(200);
    const reply = await call('m-ada', 'PATCH', '/api/admin/users/m-ada', { role_names: ['member'] });
    expect(reply.status).toBe(409);
    expect(reply.body.error).toMatchObject({ class: 'invariant', code: 'last_organization_admin' });
    expect((await call('m-ada', 'PUT', '/api/admin/groups/g-it/roles', { role_names: ['organization_admin'] })).status).toBe(200);
  });
});

describe('PATCH /api/admin/workspaces/:uuid/users (SPEC §5, §7.3)', () => {
  it('a workspace_admin adds and updates members of its own workspace, by name and by UUID', async () => {
    const reply = await call('m-chloe', 'PATCH', '/api/admin/workspaces/ws-research/users', {
      members: [{ user_uuid: 'm-hugo', role_names: ['user'] }, { user_uuid: 'm-eve', roles: [roleByName('dev')!.id] }],
    });
    expect(reply.status).toBe(200);
    const research = (await organization()).workspaces.find((workspace: { id: string }) => workspace.id === 'ws-research');
    expect(research.members).toContainEqual({ memberId: 'm-hugo', roles: ['user'] });
    expect(research.members).toContainEqual({ memberId: 'm-eve', roles: ['dev'] });
  });

  it('nothing in another workspace: 403', async () => {
    const reply = await call('m-chloe', 'PATCH', '/api/admin/workspaces/ws-marketing/users', { members: [{ user_uuid: 'm-hugo' }] });
    expect(reply.status).toBe(403);
  });

  it('a bad entry is 400 with its path inside members', async () => {
    const reply = await call('m-chloe', 'PATCH', '/api/admin/workspaces/ws-research/users', {
      members: [{ user_uuid: 'm-hugo', role_names: ['user'] }, { user_uuid: 'm-eve', role_names: ['organization_admin'] }],
    });
    expect(reply.status).toBe(400);
    expect(reply.body.error.problems).toContainEqual(expect.objectContaining({ code: 'wrong_scope_role', path: ['members', 1, 'role_names', 0] }));
  });

  it('someone who is not an organization member is 404 not_found', async () => {
    const reply = await call('m-chloe', 'PATCH', '/api/admin/workspaces/ws-research/users', { members: [{ user_uuid: 'm-nobody' }] });
    expect(reply.status).toBe(404);
    expect(reply.body.error.class).toBe('not_found');
  });
});

describe("the Admin API's own JSON is accepted at this edge only, and mapped onto the library's commands", () => {
  it("the library's field names are not Admin API fields: 400 unknown_field, nothing changes", async () => {
    const before = await organization();
    const roles = await call('m-ada', 'PATCH', '/api/admin/users/m-eve', { roleNames: ['member'] });
    expect(roles.status).toBe(400);
    expect(roles.body.error).toMatchObject({ class: 'validation', code: 'unknown_field', path: ['roleNames'] });
    const entry = await call('m-chloe', 'PATCH', '/api/admin/workspaces/ws-research/users', { members: [{ memberId: 'm-hugo', roleIds: [roleByName('user')!.id] }] });
    expect(entry.status).toBe(400);
    expect(entry.body.error.problems.map((problem: { path: unknown[] }) => problem.path)).toEqual([
      ['members', 0, 'memberId'],
      ['members', 0, 'roleIds'],
    ]);
    expect(await organization()).toEqual(before);
  });

  it("the library's refusals come back in the client's words", async () => {
    const both = await call('m-ada', 'PATCH', '/api/admin/users/m-eve', { role_names: ['member'], roles: [roleByName('member')!.id] });
    expect(both.body.error).toMatchObject({ code: 'conflicting_role_fields', path: ['roles'] });
    expect(both.body.error.message).toContain('role_names');
    const missing = await call('m-chloe', 'PATCH', '/api/admin/workspaces/ws-research/users', { members: [{ role_names: ['user'] }] });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: 'missing_field', path: ['members', 0, 'user_uuid'] });
  });

  it('the organization-level permission route names no workspace', async () => {
    const reply = await call('m-chloe', 'PUT', '/api/admin/connectors/c-github/permission', { mode: 'blocked', workspaceId: 'ws-research' });
    expect(reply.status).toBe(400);
    expect(reply.body.error.code).toBe('unknown_field');
  });

  it('group membership deltas: POST adds, DELETE removes, each idempotent', async () => {
    expect((await call('m-ada', 'POST', '/api/admin/groups', { groupId: 'g-scim', name: 'SCIM' })).status).toBe(200);
    const group = async () => (await organization()).groups.find((g: { id: string }) => g.id === 'g-scim');
    const added = await call('m-ada', 'POST', '/api/admin/groups/g-scim/members', { memberIds: ['m-dave', 'm-hugo'] });
    expect(added.status).toBe(200);
    expect((await call('m-ada', 'POST', '/api/admin/groups/g-scim/members', { memberIds: ['m-dave'] })).status).toBe(200);
    expect((await group()).memberIds).toEqual(['m-dave', 'm-hugo']);
    expect((await call('m-ada', 'DELETE', '/api/admin/groups/g-scim/members', { memberIds: ['m-dave', 'm-nobody'] })).status).toBe(200);
    expect((await group()).memberIds).toEqual(['m-hugo']);
    expect((await call('m-chloe', 'POST', '/api/admin/groups/g-scim/members', { memberIds: ['m-dave'] })).status).toBe(403);
    expect((await call('m-ada', 'DELETE', '/api/admin/groups/g-scim')).status).toBe(200);
  });
});

describe('the rest of the SPEC §5 table over HTTP', () => {
  it('billing_manager sets a seat pool size and may not invite', async () => {
    expect((await call('m-bruno', 'PUT', '/api/admin/seat-pools/mistral_code', { size: 5 })).status).toBe(200);
    expect((await call('m-bruno', 'POST', '/api/admin/users', { memberId: 'm-zoe', email: 'zoe@acme.test' })).status).toBe(403);
  });

  it('an organization_admin invites, suspends, reactivates, seats and removes a member', async () => {
    expect((await call('m-ada', 'POST', '/api/admin/users', { memberId: 'm-zoe', email: 'zoe@acme.test' })).status).toBe(200);
    expect((await memberOf('m-zoe')).orgRoles).toEqual(['member']);
    expect((await call('m-ada', 'POST', '/api/admin/users/m-zoe/suspend')).status).toBe(200);
    expect((await memberOf('m-zoe')).status).toBe('suspended');
    expect((await call('m-ada', 'POST', '/api/admin/users/m-zoe/reactivate')).status).toBe(200);
    expect((await call('m-ada', 'PUT', '/api/admin/users/m-zoe/seats/mistral_code')).status).toBe(200);
    expect((await memberOf('m-zoe')).seats).toEqual(['mistral_code']);
    expect((await call('m-ada', 'DELETE', '/api/admin/users/m-zoe')).status).toBe(200);
    expect(await memberOf('m-zoe')).toBeUndefined();
  });

  it('a full seat pool is 409 seats_exceeded', async () => {
    expect((await call('m-bruno', 'PUT', '/api/admin/seat-pools/mistral_code', { size: 3 })).status).toBe(200);
    const reply = await call('m-ada', 'PUT', '/api/admin/users/m-dave/seats/mistral_code');
    expect(reply.status).toBe(409);
    expect(reply.body.error.code).toBe('seats_exceeded');
  });

  it('workspaces: create, rename, delete; a missing one is 404 for an org-level command (§7.20)', async () => {
    expect((await call('m-ada', 'POST', '/api/admin/workspaces', { workspaceId: 'ws-new', name: 'New' })).status).toBe(200);
    expect((await call('m-ada', 'PATCH', '/api/admin/workspaces/ws-new', { name: 'Newer' })).body.entities[0].entity.name).toBe('Newer');
    expect((await call('m-ada', 'DELETE', '/api/admin/workspaces/ws-new')).status).toBe(200);
    expect((await call('m-ada', 'DELETE', '/api/admin/workspaces/ws-new')).status).toBe(404);
    expect((await call('m-chloe', 'POST', '/api/admin/workspaces', { workspaceId: 'ws-x', name: 'X' })).status).toBe(403);
  });

  it('groups and group grants, connectors, permissions, credentials and API keys', async () => {
    expect((await call('m-ada', 'POST', '/api/admin/groups', { groupId: 'g-ops', name: 'Ops', memberIds: ['m-dave'] })).status).toBe(200);
    expect((await call('m-ada', 'PUT', '/api/admin/groups/g-ops/members', { memberIds: ['m-dave', 'm-hugo'] })).status).toBe(200);
    expect((await call('m-chloe', 'PUT', '/api/admin/workspaces/ws-research/groups/g-ops', { role_names: ['user'] })).status).toBe(200);
    expect((await call('m-chloe', 'DELETE', '/api/admin/workspaces/ws-research/groups/g-ops')).status).toBe(200);
    expect((await call('m-ada', 'DELETE', '/api/admin/groups/g-ops')).status).toBe(200);

    const connector = { connectorId: 'c-notes', name: 'notes', visibility: 'organization', authentication: 'none', origin: 'custom', capabilities: 'read_write', tools: [{ name: 'read', access: 'read' }, { name: 'write', access: 'write' }] };
    expect((await call('m-chloe', 'POST', '/api/admin/connectors', connector)).status).toBe(403);
    expect((await call('m-ada', 'POST', '/api/admin/connectors', connector)).status).toBe(200);
    expect((await call('m-ada', 'PUT', '/api/admin/connectors/c-notes/permission', { mode: 'restricted', tools: ['read'] })).status).toBe(200);
    const badTool = await call('m-chloe', 'PUT', '/api/admin/workspaces/ws-research/connectors/c-notes/permission', { mode: 'restricted', tools: ['erase'] });
    expect(badTool.status).toBe(400);
    expect((await call('m-chloe', 'PUT', '/api/admin/workspaces/ws-research/connectors/c-notes/permission', { mode: 'blocked' })).status).toBe(200);

    expect((await call('m-chloe', 'POST', '/api/admin/workspaces/ws-research/credentials', { credentialId: 'cr-gh-research', connectorId: 'c-github' })).status).toBe(200);
    expect((await call('m-chloe', 'DELETE', '/api/admin/credentials/cr-gh-research')).status).toBe(200);
    expect((await call('m-ada', 'POST', '/api/admin/connectors/c-warehouse/app-connection', { credentialId: 'cr-wh-org' })).status).toBe(200);

    expect((await call('m-chloe', 'POST', '/api/admin/workspaces/ws-research/api-keys', { keyId: 'k-nightly', name: 'Nightly' })).status).toBe(200);
    expect((await call('m-chloe', 'PUT', '/api/admin/api-keys/k-nightly/connector-scopes', { connectorScopes: ['c-notes'] })).status).toBe(200);
    expect((await call('m-chloe', 'PUT', '/api/admin/api-keys/k-nightly/expiry', { expiresAt: '2030-01-01T00:00:00Z' })).status).toBe(200);
    expect((await call('m-chloe', 'POST', '/api/admin/api-keys/k-platform-bot/revoke')).status).toBe(403);
    expect((await call('m-chloe', 'POST', '/api/admin/api-keys/k-nightly/revoke')).status).toBe(200);
    expect((await call('m-ada', 'DELETE', '/api/admin/connectors/c-notes')).status).toBe(200);
  });

  it('an unknown route is 404', async () => {
    expect((await call('m-ada', 'GET', '/api/admin/nothing-here')).status).toBe(404);
    expect((await call('m-ada', 'POST', '/api/admin/roles')).status).toBe(404);
  });
});

describe('reads (SPEC §5.1): an organization admin sees everything, a workspace admin its workspaces, anyone else nothing', () => {
  it('a plain member or a billing manager reads nothing but the role catalog', async () => {
    for (const actor of ['m-dave', 'm-bruno']) {
      for (const path of ['/api/admin/organization', '/api/admin/users', '/api/admin/users/m-dave', '/api/admin/workspaces', '/api/admin/workspaces/ws-research', '/api/admin/groups', '/api/admin/audit-log']) {
        expect((await call(actor, 'GET', path)).status, `${actor} GET ${path}`).toBe(403);
      }
      expect((await call(actor, 'GET', '/api/admin/roles')).status).toBe(200);
    }
  });

  it('members, workspaces and groups come in pages that follow the id order, cursor to cursor', async () => {
    const all = (await organization()).members.map((m: { id: string }) => m.id).sort();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const reply: Reply = await call('m-ada', 'GET', `/api/admin/users?limit=3${cursor === null ? '' : `&cursor=${cursor}`}`);
      expect(reply.status).toBe(200);
      expect(reply.body.members.length).toBeLessThanOrEqual(3);
      seen.push(...reply.body.members.map((m: { id: string }) => m.id));
      cursor = reply.body.nextCursor;
      pages++;
    } while (cursor !== null);
    expect(seen).toEqual(all);
    expect(pages).toBe(Math.ceil(all.length / 3));
    const workspaces = await call('m-ada', 'GET', '/api/admin/workspaces?limit=2');
    expect(workspaces.body.workspaces.map((w: { id: string }) => w.id)).toEqual(['ws-marketing', 'ws-platform']);
    const rest = await call('m-ada', 'GET', `/api/admin/workspaces?limit=2&cursor=${workspaces.body.nextCursor}`);
    expect(rest.body).toMatchObject({ workspaces: [{ id: 'ws-research' }], nextCursor: null });
    expect((await call('m-ada', 'GET', '/api/admin/groups')).body.groups.map((g: { id: string }) => g.id)).toEqual(['g-eng', 'g-it']);
  });

  it('limit and cursor are checked: 400, never a guess', async () => {
    for (const query of ['limit=0', 'limit=1001', 'limit=ten', 'limit=2.5', 'cursor=not!base64', 'cursor=bS1hZGE=']) {
      const reply = await call('m-ada', 'GET', `/api/admin/users?${query}`);
      expect(reply.status, query).toBe(400);
    }
    expect((await call('m-ada', 'GET', '/api/admin/audit-log?cursor=abc')).status).toBe(400);
    expect((await call('m-ada', 'GET', '/api/admin/audit-log?order=sideways')).status).toBe(400);
  });

  it('one member: the whole entry for an organization admin; 404 alike for a missing one and one a workspace admin may not see', async () => {
    expect((await call('m-ada', 'GET', '/api/admin/users/m-gia')).body).toEqual({ id: 'm-gia', email: 'gia@acme.test', status: 'active', orgRoles: ['member'], seats: ['mistral_code'] });
    expect((await call('m-chloe', 'GET', '/api/admin/users/m-dave')).body).toEqual({ id: 'm-dave', email: 'dave@acme.test', orgRoles: expect.any(Array) });
    const hidden = await call('m-chloe', 'GET', '/api/admin/users/m-gia');
    const missing = await call('m-chloe', 'GET', '/api/admin/users/m-nobody');
    expect([hidden.status, hidden.body.error.code]).toEqual([404, 'member_not_found']);
    expect([missing.status, missing.body.error.code]).toEqual([404, 'member_not_found']);
  });

  it('a workspace admin reading every read route finds nothing of other workspaces, and no secret hash anywhere', async () => {
    // Keys with secrets in Research (hers) and in Platform (not hers), so there are hashes to leak.
    expect((await call('m-chloe', 'POST', '/api/admin/workspaces/ws-research/api-keys', { keyId: 'k-read-test', name: 'Read test' })).status).toBe(200);
    expect((await call('m-ada', 'POST', '/api/admin/workspaces/ws-platform/api-keys', { keyId: 'k-platform-secret', name: 'Platform secret' })).status).toBe(200);
    const everyone = await organization();
    const paths = [
      '/api/admin/organization',
      '/api/admin/roles',
      '/api/admin/users',
      '/api/admin/workspaces',
      '/api/admin/groups',
      '/api/admin/audit-log',
      '/api/admin/admin-keys',
      '/api/admin/users/m-chloe/admin-keys',
      ...everyone.members.map((m: { id: string }) => `/api/admin/users/${m.id}`),
      ...everyone.workspaces.map((w: { id: string }) => `/api/admin/workspaces/${w.id}`),
      ...everyone.groups.map((g: { id: string }) => `/api/admin/groups/${g.id}`),
    ];
    const research = everyone.workspaces.find((w: { id: string }) => w.id === 'ws-research');
    const researchMembers = new Set(research.members.map((m: { memberId: string }) => m.memberId));
    const outsiders = everyone.members.filter((m: { id: string }) => !researchMembers.has(m.id));
    expect(outsiders.map((m: { id: string }) => m.id)).toEqual(expect.arrayContaining(['m-bruno', 'm-gia']));
    const forbidden = [
      'ws-marketing', 'ws-platform', 'Marketing', 'Platform', 'k-platform-bot', 'k-platform-secret', 'cred-atlassian-platform',
      'cred-github-app', 'g-eng', 'g-it', 'seatPools', ...outsiders.flatMap((m: { id: string; email: string }) => [m.email, `"${m.id}"`]),
    ];
    for (const path of paths) {
      const reply = await call('m-chloe', 'GET', path);
      expect([200, 403, 404], path).toContain(reply.status);
      for (const word of forbidden) expect(reply.text.includes(word), `${path} shows ${word}`).toBe(false);
      expect(reply.text, path).not.toMatch(/[0-9a-f]{64}/);
    }
    // …and what she does see, she sees whole: her workspace, its keys' metadata, its credentials.
    const mine = (await call('m-chloe', 'GET', '/api/admin/workspaces/ws-research')).body;
    expect(mine.members).toEqual(research.members);
    expect(mine.apiKeys.map((k: { id: string }) => k.id)).toEqual(expect.arrayContaining(['k-research-ci', 'k-read-test']));
    expect(mine.apiKeys.find((k: { id: string }) => k.id === 'k-read-test').secrets).toEqual([{ notAfter: null }]);
    expect(mine.credentials.map((c: { id: string }) => c.id)).toEqual(['cred-warehouse-research']);
    const hers = (await call('m-chloe', 'GET', '/api/admin/organization')).body;
    expect(hers.workspaces.map((w: { id: string }) => w.id)).toEqual(['ws-research']);
    expect(hers.members.map((m: { id: string }) => m.id).sort()).toEqual([...researchMembers].sort());
    expect(hers.members.find((m: { id: string }) => m.id === 'm-dave')).toEqual({ id: 'm-dave', email: 'dave@acme.test', orgRoles: expect.any(Array) });
  });

  it("an organization admin's reads hold no secret hash either", async () => {
    for (const path of ['/api/admin/organization', '/api/admin/workspaces/ws-platform', '/api/admin/audit-log', '/api/admin/admin-keys']) {
      const reply = await call('m-ada', 'GET', path);
      expect(reply.status).toBe(200);
      expect(reply.text, path).not.toMatch(/[0-9a-f]{64}/);
    }
    const key = (await organization()).apiKeys.find((k: { id: string }) => k.id === 'k-platform-secret');
    expect(key.secrets).toEqual([{ notAfter: null }]);
  });

  it('the audit log holds applied and refused commands alike, with the refusal class, in pages', async () => {
    const entries = await auditEntries();
    const events = entries.map((entry) => entry.event);
    const changes = events.filter((event: any) => event.result.status === 'applied' && event.command !== null);
    expect(changes.length).toBe((await organization()).revision);
    expect(events).toContainEqual(expect.objectContaining({ actor: 'm-dave', command: 'setMemberOrgRoles', result: { status: 'refused', class: 'forbidden', code: 'forbidden' } }));
    const first = await call('m-ada', 'GET', '/api/admin/audit-log?limit=2');
    const second = await call('m-ada', 'GET', `/api/admin/audit-log?limit=2&cursor=${first.body.nextCursor}`);
    expect([...first.body.entries, ...second.body.entries]).toEqual(entries.slice(0, 4));
    const newest = await call('m-ada', 'GET', '/api/admin/audit-log?limit=1&order=desc');
    expect(newest.body.entries).toEqual(entries.slice(-1));
  });
});

describe('concurrency: one request is one change, serialized by the database; nothing lost, nothing refused for a race', () => {
  it('100 concurrent invites, then 100 concurrent role changes: all applied, at consecutive revisions', async () => {
    const start = (await organization()).revision;
    const auditBefore = (await auditEntries()).length;
    const ids = Array.from({ length: 100 }, (_, i) => `m-load-${i}`);
    const invites = await Promise.all(ids.map((id) => call('m-ada', 'POST', '/api/admin/users', { memberId: id, email: `${id}@acme.test` })));
    const roleChanges = await Promise.all(ids.map((id) => call('m-ada', 'PATCH', `/api/admin/users/${id}`, { role_names: ['member', 'billing_manager'] })));
    const replies = [...invites, ...roleChanges];
    expect(replies.map((reply) => reply.status)).toEqual(replies.map(() => 200));
    expect(replies.map((reply) => reply.body.revision).sort((a, b) => a - b)).toEqual(replies.map((_, i) => start + i + 1));

    const after = await organization();
    expect(after.revision).toBe(start + 200);
    for (const id of ids) expect(after.members.find((member: { id: string }) => member.id === id).orgRoles).toEqual(['member', 'billing_manager']);
    const events = (await auditEntries()).slice(auditBefore).map((entry) => entry.event);
    expect(events.filter((event: any) => event.result.status === 'applied')).toHaveLength(200);
  }, 120_000);
});

describe('restart: close the server and the database, reopen the same DATA_DIR', () => {
  it('loses nothing: the organization, its revision, the audit log and the admin keys survive; no secret is stored in clear', async () => {
    const before = await organization();
    const auditBefore = await auditEntries();
    const apiKey = await call('m-chloe', 'POST', '/api/admin/workspaces/ws-research/api-keys', { keyId: 'k-restart', name: 'Restart' });
    expect(apiKey.status).toBe(200);
    await h.api.close();

    const secrets = [...h.keys.values(), apiKey.body.secret as string];
    for (const file of walk(h.dataDir)) {
      const content = readFileSync(file);
      for (const secret of secrets) expect(content.includes(secret), file).toBe(false);
    }

    await h.restart();
    expect(h.api.bootstrapped).toBeNull();
    const now = await organization();
    expect({ ...now, revision: before.revision, apiKeys: before.apiKeys }).toEqual(before);
    expect(now.revision).toBe(before.revision + 1);
    expect((await auditEntries()).slice(0, auditBefore.length)).toEqual(auditBefore);
    expect((await call('m-chloe', 'GET', '/api/admin/roles')).status).toBe(200);
    const reply = await call('m-ada', 'PATCH', '/api/admin/users/m-dave', { role_names: ['member', 'billing_manager'] });
    expect(reply.body.revision).toBe(before.revision + 2);
  }, 120_000);
});

function walk(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = `${directory}/${name}`;
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}
