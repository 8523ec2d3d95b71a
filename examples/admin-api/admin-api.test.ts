/**
 * The Admin API server driven as a client would: real HTTP on loopback, a real PGlite database in a
 * temporary DATA_DIR. SPEC §5, §7.2, §7.20.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { roleByName } from 'org-policy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256, startAdminApi, type AdminApi } from './server.js';
import type { AdminStorage } from './storage.js';

interface Reply {
  status: number;
  body: any;
}

let dataDir: string;
let api: AdminApi;
let keys: ReadonlyMap<string, string>;

function key(actor: string): string {
  const value = keys.get(actor);
  if (value === undefined) throw new Error(`no seeded key for ${actor}`);
  return value;
}

async function call(actor: string | null, method: string, path: string, body?: unknown, rawBody?: string): Promise<Reply> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (actor !== null) headers['x-api-key'] = key(actor);
  const init: RequestInit = { method, headers };
  if (rawBody !== undefined) init.body = rawBody;
  else if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(`${api.url}${path}`, init);
  return { status: response.status, body: await response.json() };
}

const organization = async () => (await call('m-ada', 'GET', '/api/admin/organization')).body;
const memberOf = async (id: string) => (await organization()).members.find((member: { id: string }) => member.id === id);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'admin-api-'));
  api = await startAdminApi({ dataDir: join(dataDir, 'db'), wrapStorage: withLatency });
  keys = api.seededKeys;
}, 120_000);

afterAll(async () => {
  await api?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('authentication: an x-api-key header names the actor', () => {
  it('the first start seeds the sample organization and one key per sample actor', async () => {
    expect([...keys.keys()].sort()).toEqual(['m-ada', 'm-bruno', 'm-chloe', 'm-dave']);
    expect((await organization()).id).toBe('org-acme');
  });

  it('a missing or unknown key is 401', async () => {
    expect((await call(null, 'GET', '/api/admin/roles')).status).toBe(401);
    const response = await fetch(`${api.url}/api/admin/roles`, { headers: { 'x-api-key': 'oak_not-a-key' } });
    expect(response.status).toBe(401);
    expect(((await response.json()) as Reply['body']).error.code).toBe('unknown_api_key');
  });

  it('only SHA-256 hashes of the keys are stored', async () => {
    expect(await api.storage.actorForKeyHash(sha256(key('m-chloe')))).toBe('m-chloe');
    expect(await api.storage.actorForKeyHash(key('m-chloe'))).toBeNull();
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

describe('reads: the snapshot needs admin.access, the audit log org.audit_logs.view', () => {
  it('a plain member reads neither; a workspace admin reads the snapshot only', async () => {
    expect((await call('m-dave', 'GET', '/api/admin/organization')).status).toBe(403);
    expect((await call('m-dave', 'GET', '/api/admin/audit-log')).status).toBe(403);
    expect((await call('m-chloe', 'GET', '/api/admin/organization')).status).toBe(200);
    expect((await call('m-chloe', 'GET', '/api/admin/audit-log')).status).toBe(403);
  });

  it('the audit log holds applied and refused commands alike, with the refusal class', async () => {
    const { events } = (await call('m-ada', 'GET', '/api/admin/audit-log')).body;
    expect(events.filter((event: any) => event.result.status === 'applied').length).toBe((await organization()).revision);
    expect(events).toContainEqual(expect.objectContaining({ actor: 'm-dave', command: 'setMemberOrgRoles', result: { status: 'refused', class: 'forbidden', code: 'forbidden' } }));
  });
});

describe('concurrency: commands serialized by an optimistic check on revision, none lost', () => {
  it('100 concurrent invites and 100 concurrent role changes all land or are cleanly refused', async () => {
    const start = (await organization()).revision;
    const conflictsBefore = api.stats.revisionConflicts;
    const auditBefore = (await call('m-ada', 'GET', '/api/admin/audit-log')).body.events.length;
    const ids = Array.from({ length: 100 }, (_, i) => `m-load-${i}`);
    const invites = await Promise.all(ids.map((id) => call('m-ada', 'POST', '/api/admin/users', { memberId: id, email: `${id}@acme.test` })));
    const roleChanges = await Promise.all(ids.map((id) => call('m-ada', 'PATCH', `/api/admin/users/${id}`, { role_names: ['member', 'billing_manager'] })));
    const replies = [...invites, ...roleChanges];
    for (const reply of invites) expect([200, 409]).toContain(reply.status);
    // A role change lands, loses every race (409), or finds no member whose invite was refused (404).
    roleChanges.forEach((reply, i) => expect(invites[i]!.status === 200 ? [200, 409] : [404, 409]).toContain(reply.status));
    const applied = replies.filter((reply) => reply.status === 200);

    const after = await organization();
    expect(after.revision).toBe(start + applied.length);
    expect(applied.map((reply) => reply.body.revision).sort((a, b) => a - b)).toEqual(applied.map((_, i) => start + i + 1));
    for (const reply of roleChanges.filter((r) => r.status === 200)) {
      const id = reply.body.event.targets[0].id;
      expect(after.members.find((member: { id: string }) => member.id === id).orgRoles).toEqual(['member', 'billing_manager']);
    }
    const events = (await call('m-ada', 'GET', '/api/admin/audit-log')).body.events.slice(auditBefore);
    expect(events.filter((event: any) => event.result.status === 'applied')).toHaveLength(applied.length);
    expect(events.filter((event: any) => event.result.status === 'refused')).toHaveLength(replies.filter((reply) => reply.status === 404).length);
    // The optimistic path was really taken: concurrent requests lost races and were re-applied.
    expect(api.stats.revisionConflicts).toBeGreaterThan(conflictsBefore);
    console.log(`concurrency: ${applied.length} of ${replies.length} applied, ${replies.length - applied.length} cleanly refused (409 or 404), ${api.stats.revisionConflicts - conflictsBefore} lost races re-applied`);
  }, 120_000);

  it('a write by another instance sharing the database is never overwritten: the next command re-applies on it', async () => {
    const stored = (await api.storage.load())!;
    const snapshot = structuredClone(stored.snapshot) as { revision: number; workspaces: { id: string; name: string }[] };
    snapshot.revision = stored.revision + 1;
    snapshot.workspaces.find((workspace) => workspace.id === 'ws-platform')!.name = 'Platform (renamed elsewhere)';
    const event = { organizationId: 'org-acme', actor: 'm-ada', command: 'renameWorkspace', targets: [{ kind: 'workspace', id: 'ws-platform' }], at: null, result: { status: 'applied', revision: snapshot.revision } } as const;
    expect(await api.storage.commit(stored.revision, { snapshot, revision: snapshot.revision }, event)).toBe(true);
    expect(await api.storage.commit(stored.revision, { snapshot, revision: snapshot.revision }, event)).toBe(false);

    const conflictsBefore = api.stats.revisionConflicts;
    const reply = await call('m-ada', 'PATCH', '/api/admin/workspaces/ws-marketing', { name: 'Marketing EU' });
    expect(reply.body.revision).toBe(stored.revision + 2);
    expect(api.stats.revisionConflicts).toBe(conflictsBefore + 1);
    const names = (await organization()).workspaces.map((workspace: { name: string }) => workspace.name);
    expect(names).toEqual(expect.arrayContaining(['Platform (renamed elsewhere)', 'Marketing EU']));
  }, 120_000);
});

describe('restart: close the server and the database, reopen the same DATA_DIR', () => {
  it('loses nothing: the snapshot, its revision, the audit log and the keys survive; no key is stored in clear', async () => {
    const before = await organization();
    const auditBefore = (await call('m-ada', 'GET', '/api/admin/audit-log')).body.events;
    await api.close();

    for (const file of walk(dataDir)) {
      const content = readFileSync(file);
      for (const secret of keys.values()) expect(content.includes(secret)).toBe(false);
    }

    api = await startAdminApi({ dataDir: join(dataDir, 'db') });
    expect(api.seededKeys.size).toBe(0);
    expect(await organization()).toEqual(before);
    expect((await call('m-ada', 'GET', '/api/admin/audit-log')).body.events).toEqual(auditBefore);
    const reply = await call('m-ada', 'PATCH', '/api/admin/users/m-dave', { role_names: ['member', 'billing_manager'] });
    expect(reply.body.revision).toBe(before.revision + 1);
  }, 120_000);
});

/**
 * In one process PGlite answers without yielding to the event loop, so requests would never overlap;
 * a macrotask before each commit lets them race as they do against a PostgreSQL server over a network.
 */
function withLatency(storage: AdminStorage): AdminStorage {
  return { ...storage, commit: async (...args) => (await new Promise((resolve) => setTimeout(resolve, 1)), storage.commit(...args)) };
}

function walk(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}
