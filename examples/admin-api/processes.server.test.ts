/**
 * Several Admin API processes (`main.ts`, real child processes) on one PostgreSQL database
 * (`DATABASE_URL`), driven over HTTP: concurrent writes on both, none lost after a restart; an admin key
 * revoked everywhere by a removal on the other process; an API key created on one and revoked on the
 * other, as a follower (a gateway) sees it; SIGTERM answering a request in flight. The server comes from
 * TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres), in a database of this run.
 */
import { createHash } from 'node:crypto';
import { openStore, type Follower, type Store } from '@org-policy/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../packages/store/test/support/server.js';
import { AdminApiProcess, BOOTSTRAP_KEY, client, type Client, type Reply } from './testing.js';

let database: TestDatabase;
const started: AdminApiProcess[] = [];
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function startProcess(): Promise<{ process: AdminApiProcess; http: Client }> {
  const child = AdminApiProcess.start({ DATABASE_URL: database.url, ORG_POLICY_BOOTSTRAP_KEY: BOOTSTRAP_KEY, MIN_REVISION_WAIT_MS: '10000' });
  started.push(child);
  const url = await child.url();
  return { process: child, http: client(() => url) };
}

/** Every member id, page by page. */
async function memberIds(http: Client): Promise<string[]> {
  const ids: string[] = [];
  for (let cursor: string | null = null; ; ) {
    const reply: Reply = await http.call(BOOTSTRAP_KEY, 'GET', `/api/admin/users?limit=1000${cursor === null ? '' : `&cursor=${cursor}`}`);
    ids.push(...reply.body.members.map((m: { id: string }) => m.id));
    cursor = reply.body.nextCursor;
    if (cursor === null) return ids;
  }
}

let a: { process: AdminApiProcess; http: Client };
let b: { process: AdminApiProcess; http: Client };

beforeAll(async () => {
  database = await createTestDatabase('admin_api');
  // Started together on an empty database: one seeds it, one bootstrap key is taken.
  [a, b] = await Promise.all([startProcess(), startProcess()]);
}, 120_000);

afterAll(async () => {
  for (const child of started) await child.stop();
  await database?.drop();
});

describe('Admin API processes on one PostgreSQL database', () => {
  it('two started together on an empty database: one seed, one bootstrap key, the same organization', async () => {
    const keys = (await a.http.call(BOOTSTRAP_KEY, 'GET', '/api/admin/admin-keys')).body.keys;
    expect(keys).toEqual([expect.objectContaining({ memberId: 'm-ada', createdBy: 'bootstrap', status: 'active' })]);
    expect([...a.process.lines, ...b.process.lines].filter((line) => line.startsWith('seeded '))).toHaveLength(1);
    expect((await b.http.call(BOOTSTRAP_KEY, 'GET', '/api/admin/organization')).body).toEqual((await a.http.call(BOOTSTRAP_KEY, 'GET', '/api/admin/organization')).body);
  });

  it('100 concurrent invites, half on each process: all acknowledged, at distinct consecutive revisions, all there after both restart', async () => {
    const start = Number((await a.http.call(BOOTSTRAP_KEY, 'GET', '/api/admin/roles')).headers.get('x-policy-revision'));
    const ids = Array.from({ length: 100 }, (_, i) => `m-load-${i}`);
    const replies = await Promise.all(ids.map((id, i) => (i % 2 === 0 ? a : b).http.call(BOOTSTRAP_KEY, 'POST', '/api/admin/users', { memberId: id, email: `${id}@acme.test` })));
    expect(replies.map((reply) => reply.status)).toEqual(ids.map(() => 200));
    const revisions = replies.map((reply) => reply.body.revision as number);
    expect([...revisions].sort((x, y) => x - y)).toEqual(ids.map((_, i) => start + i + 1));

    // Read-your-writes on the other process: it waits for the revision it is asked for.
    const last = Math.max(...revisions);
    const read = await b.http.call(BOOTSTRAP_KEY, 'GET', `/api/admin/users/m-load-0`, undefined, { 'x-policy-min-revision': String(last) });
    expect(read.status).toBe(200);
    expect(Number(read.headers.get('x-policy-revision'))).toBeGreaterThanOrEqual(last);

    expect(await a.process.stop()).toEqual({ code: 0, signal: null });
    expect(await b.process.stop()).toEqual({ code: 0, signal: null });
    [a, b] = await Promise.all([startProcess(), startProcess()]);
    for (const side of [a, b]) {
      expect(await memberIds(side.http)).toEqual(expect.arrayContaining(ids));
      expect(Number((await side.http.call(BOOTSTRAP_KEY, 'GET', '/api/admin/roles')).headers.get('x-policy-revision'))).toBe(last);
    }
    const audit: Reply = await a.http.call(BOOTSTRAP_KEY, 'GET', '/api/admin/audit-log?limit=1000');
    const invited = audit.body.entries.filter((entry: any) => entry.event.command === 'inviteMember' && entry.status === 'applied');
    expect(invited.map((entry: any) => entry.revision).sort((x: number, y: number) => x - y)).toEqual(ids.map((_, i) => start + i + 1));
  }, 180_000);

  it("a member removed on one process: its admin key refused on both at once; a new m-dave inherits nothing", async () => {
    const issued = await a.http.call(BOOTSTRAP_KEY, 'POST', '/api/admin/users/m-dave/admin-keys', { name: 'dave' });
    expect(issued.status).toBe(201);
    const old = issued.body.secret as string;
    expect((await b.http.call(old, 'GET', '/api/admin/roles')).status).toBe(200);
    expect((await b.http.call(BOOTSTRAP_KEY, 'DELETE', '/api/admin/users/m-dave')).status).toBe(200);
    expect((await a.http.call(old, 'GET', '/api/admin/roles')).status).toBe(401);
    const invited = await a.http.call(BOOTSTRAP_KEY, 'POST', '/api/admin/users', { memberId: 'm-dave', email: 'dave.again@acme.test', role_names: ['organization_admin'] });
    expect(invited.status).toBe(200);
    for (const side of [a, b]) expect((await side.http.call(old, 'GET', '/api/admin/organization')).status).toBe(401);
  });

  it('an API key created on one process reaches a follower with its hash; revoked on the other, it is revoked there', async () => {
    let store: Store | undefined;
    let follower: Follower | undefined;
    try {
      store = await openStore({ url: database.url, organizationId: 'org-acme' });
      follower = await store.follow();
      const created = await a.http.call(BOOTSTRAP_KEY, 'POST', '/api/admin/workspaces/ws-research/api-keys', { keyId: 'k-fleet', name: 'Fleet' });
      expect(created.status).toBe(200);
      expect((await follower.waitFor(created.body.revision, { timeoutMs: 10_000 })).ok).toBe(true);
      expect(follower.organization.apiKeys.get('k-fleet')!.secrets).toEqual([{ sha256: sha256(created.body.secret) }]);
      expect(follower.policy.can('k-fleet', 'studio.use', 'ws-research', { now: Date.now() })).toBe(true);
      const revoked = await b.http.call(BOOTSTRAP_KEY, 'POST', '/api/admin/api-keys/k-fleet/revoke');
      expect((await follower.waitFor(revoked.body.revision, { timeoutMs: 10_000 })).ok).toBe(true);
      expect(follower.policy.explain('k-fleet', 'studio.use', 'ws-research', { now: Date.now() })).toMatchObject({ allowed: false, reason: 'key_revoked' });
    } finally {
      await follower?.close();
      await store?.close();
    }
  });

  it('SIGTERM drains: a request in flight is answered after the signal, new connections are refused, the process exits 0', async () => {
    const head = Number((await a.http.call(BOOTSTRAP_KEY, 'GET', '/api/admin/roles')).headers.get('x-policy-revision'));
    const waiting = a.http.call(BOOTSTRAP_KEY, 'GET', '/api/admin/workspaces', undefined, { 'x-policy-min-revision': String(head + 1) });
    await a.process.waitForLine(/^waiting_for_revision /);
    a.process.signal('SIGTERM');
    await a.process.waitForLine(/^admin-api draining signal=SIGTERM/);
    await expect(a.http.call(BOOTSTRAP_KEY, 'GET', '/api/admin/roles')).rejects.toThrow();
    // The revision it waits for is committed on the other process, and reaches it while it drains.
    const write = await b.http.call(BOOTSTRAP_KEY, 'PATCH', '/api/admin/workspaces/ws-marketing', { name: 'Marketing (drained)' });
    expect(write.body.revision).toBe(head + 1);
    const answer = await waiting;
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-policy-revision')).toBe(String(head + 1));
    expect(answer.body.workspaces.map((w: { name: string }) => w.name)).toContain('Marketing (drained)');
    expect(await a.process.exited).toEqual({ code: 0, signal: null });
    expect(a.process.lines.at(-1)).toBe('admin-api stopped');
    for (const side of [a, b]) expect([...side.process.lines, ...side.process.stderr].join('\n').includes(BOOTSTRAP_KEY)).toBe(false);
  }, 120_000);
});
