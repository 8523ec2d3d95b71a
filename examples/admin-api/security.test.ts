/**
 * Who is asking, proven (SPEC §9), and what a hostile client can send (SPEC §5, §8): admin keys bound to a
 * member for that member's life, API key secrets generated here and only their SHA-256 kept, and a
 * request edge that refuses what the database cannot store — each refusal audited, or the request fails.
 * Real HTTP on loopback, a real PGlite directory.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatValue, MAX_FIELD_LENGTH } from './log.js';
import { BOOTSTRAP_KEY, startHarness, type Harness, type Reply } from './testing.js';

let h: Harness;
const NOW = '2026-06-01T12:00:00.000Z';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const call = (actor: string | null, method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  h.call(actor === null ? null : h.key(actor), method, path, body, headers);
const as = (key: string, method: string, path: string, body?: unknown) => h.call(key, method, path, body);
const auditTail = async (count: number) => (await call('m-ada', 'GET', `/api/admin/audit-log?order=desc&limit=${count}`)).body.entries.map((entry: any) => entry.event).reverse();
const auditLength = async () => {
  let total = 0;
  for (let cursor: string | null = null; ; ) {
    const reply: Reply = await call('m-ada', 'GET', `/api/admin/audit-log?limit=1000${cursor === null ? '' : `&cursor=${cursor}`}`);
    total += reply.body.entries.length;
    cursor = reply.body.nextCursor;
    if (cursor === null) return total;
  }
};
/** Every secret handed out in these tests, to look for in the logs. */
const secrets: string[] = [BOOTSTRAP_KEY];

beforeAll(async () => {
  h = await startHarness({ now: () => NOW });
  for (const member of ['m-chloe', 'm-dave', 'm-eve']) secrets.push(await h.issueKey(member));
}, 120_000);

afterAll(async () => {
  await h?.close();
});

describe('admin keys (SPEC §9.3): issued, listed and revoked through the Admin API, bound to their member', () => {
  it('issued once: 201 with the secret, which no listing shows again; only its SHA-256 is stored', async () => {
    const reply = await call('m-ada', 'POST', '/api/admin/users/m-gia/admin-keys', { name: 'gia laptop' });
    expect(reply.status).toBe(201);
    expect(reply.body.secret).toMatch(/^oak_[A-Za-z0-9_-]{43}$/);
    secrets.push(reply.body.secret);
    expect(reply.body.key).toMatchObject({ memberId: 'm-gia', name: 'gia laptop', status: 'active', createdBy: 'm-ada' });
    const listed = await call('m-ada', 'GET', '/api/admin/users/m-gia/admin-keys');
    expect(listed.body.keys).toEqual([reply.body.key]);
    expect(listed.text.includes(reply.body.secret)).toBe(false);
    expect(listed.text).not.toMatch(/[0-9a-f]{64}/);
    const stored = await h.api.store.engine.query<{ sha256: string }>('SELECT sha256 FROM admin_api.admin_keys WHERE key_id = $1', [reply.body.key.id]);
    expect(stored).toEqual([{ sha256: sha256(reply.body.secret) }]);
    expect((await as(reply.body.secret, 'GET', '/api/admin/roles')).status).toBe(200);
  });

  it('a member with admin.access issues its own; no one else but an organization admin issues for another', async () => {
    const own = await call('m-chloe', 'POST', '/api/admin/users/m-chloe/admin-keys', { name: 'chloe ci' });
    expect(own.status).toBe(201);
    secrets.push(own.body.secret);
    expect((await call('m-chloe', 'POST', '/api/admin/users/m-dave/admin-keys', {})).status).toBe(403);
    expect((await call('m-dave', 'POST', '/api/admin/users/m-dave/admin-keys', {})).status).toBe(403); // a plain member: no admin.access
    expect((await call('m-ada', 'POST', '/api/admin/users/m-nobody/admin-keys', {})).status).toBe(404);
    expect((await call('m-ada', 'POST', '/api/admin/users/m-finn/admin-keys', {})).status).toBe(409); // suspended
    expect((await call('m-ada', 'POST', '/api/admin/users/m-gia/admin-keys', { name: 'x', scope: 'all' })).status).toBe(400);
    const refusals = await auditTail(5);
    expect(refusals.map((event: any) => [event.operation, event.result.status, event.result.class])).toEqual([
      ['issueAdminKey', 'refused', 'forbidden'],
      ['issueAdminKey', 'refused', 'forbidden'],
      ['issueAdminKey', 'refused', 'not_found'],
      ['issueAdminKey', 'refused', 'validation'],
      ['issueAdminKey', 'refused', 'validation'],
    ]);
  });

  it('listing: an organization admin sees every key, a member its own; never a secret', async () => {
    const all = (await call('m-ada', 'GET', '/api/admin/admin-keys')).body.keys;
    expect(new Set(all.map((key: { memberId: string }) => key.memberId))).toEqual(new Set(['m-ada', 'm-chloe', 'm-dave', 'm-eve', 'm-gia']));
    const hers = (await call('m-chloe', 'GET', '/api/admin/admin-keys')).body.keys;
    expect(hers.map((key: { memberId: string }) => key.memberId)).toEqual(['m-chloe', 'm-chloe']);
    expect((await call('m-chloe', 'GET', '/api/admin/users/m-ada/admin-keys')).status).toBe(403);
  });

  it("revoked: refused at once; someone else's key is as unknown as a missing one", async () => {
    const spare = await call('m-chloe', 'POST', '/api/admin/users/m-chloe/admin-keys', { name: 'spare' });
    secrets.push(spare.body.secret);
    const adaKey = (await call('m-ada', 'GET', '/api/admin/users/m-ada/admin-keys')).body.keys[0].id;
    expect((await call('m-chloe', 'POST', `/api/admin/admin-keys/${adaKey}/revoke`)).status).toBe(404);
    const revoked = await call('m-chloe', 'POST', `/api/admin/admin-keys/${spare.body.key.id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.key).toMatchObject({ status: 'revoked', revokedBy: 'm-chloe', revokedReason: 'revoked' });
    expect((await as(spare.body.secret, 'GET', '/api/admin/roles')).status).toBe(401);
    expect((await call('m-chloe', 'GET', '/api/admin/roles')).status).toBe(200);
  });

  it('suspending a member disables its keys in the same change; reactivating enables them again', async () => {
    expect((await call('m-ada', 'POST', '/api/admin/users/m-eve/suspend')).status).toBe(200);
    expect((await call('m-eve', 'GET', '/api/admin/roles')).status).toBe(401);
    expect((await call('m-ada', 'GET', '/api/admin/users/m-eve/admin-keys')).body.keys.map((key: { status: string }) => key.status)).toEqual(['disabled']);
    expect((await call('m-ada', 'POST', '/api/admin/users/m-eve/reactivate')).status).toBe(200);
    expect((await call('m-eve', 'GET', '/api/admin/roles')).status).toBe(200);
  });

  it('the old key of a removed m-dave is refused, also once a new m-dave is invited', async () => {
    const old = h.key('m-dave');
    expect((await as(old, 'GET', '/api/admin/roles')).status).toBe(200);
    expect((await call('m-ada', 'DELETE', '/api/admin/users/m-dave')).status).toBe(200);
    expect((await as(old, 'GET', '/api/admin/roles')).status).toBe(401);
    expect((await call('m-ada', 'POST', '/api/admin/users', { memberId: 'm-dave', email: 'dave.two@acme.test', role_names: ['organization_admin'] })).status).toBe(200);
    for (const [method, path] of [['GET', '/api/admin/organization'], ['GET', '/api/admin/roles'], ['POST', '/api/admin/users/m-dave/admin-keys']] as const) {
      const reply = await as(old, method, path, method === 'POST' ? {} : undefined);
      expect(reply.status).toBe(401);
      expect(reply.body.error.code).toBe('unknown_api_key');
    }
    const keys = (await call('m-ada', 'GET', '/api/admin/users/m-dave/admin-keys')).body.keys;
    expect(keys).toEqual([expect.objectContaining({ status: 'revoked', revokedReason: 'member_removed', revokedBy: 'm-ada' })]);
  });

  it("the keys follow the change's transaction: a removal that does not commit leaves them working", async () => {
    const key = await h.issueKey('m-hugo');
    secrets.push(key);
    const engine = h.api.store.engine;
    await engine.query(`CREATE FUNCTION fail_removal() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.change -> 'events' -> 0 ->> 'command' = 'removeMember' THEN RAISE EXCEPTION 'removal refused by the test'; END IF; RETURN NEW; END $$`);
    await engine.query('CREATE TRIGGER fail_removal BEFORE INSERT ON org_policy.changes FOR EACH ROW EXECUTE FUNCTION fail_removal()');
    try {
      const head = h.api.follower.revision;
      const reply = await call('m-ada', 'DELETE', '/api/admin/users/m-hugo');
      expect(reply.status).toBe(503);
      expect(reply.body.error.code).toBe('not_recorded');
      expect((await h.api.store.head())!.revision).toBe(head);
      expect((await as(key, 'GET', '/api/admin/roles')).status).toBe(200);
      expect((await call('m-ada', 'GET', '/api/admin/users/m-hugo/admin-keys')).body.keys.map((k: { status: string }) => k.status)).toEqual(['active']);
    } finally {
      await engine.query('DROP TRIGGER fail_removal ON org_policy.changes');
      await engine.query('DROP FUNCTION fail_removal()');
    }
    expect((await call('m-ada', 'DELETE', '/api/admin/users/m-hugo')).status).toBe(200);
    expect((await as(key, 'GET', '/api/admin/roles')).status).toBe(401);
  });
});

describe('API keys end to end (SPEC §9.1): the secret generated here, answered once, its SHA-256 in the snapshot', () => {
  let secret: string;

  it('created: the secret (256 bits from the CSPRNG) in the answer only; the key carries its hash at the same revision', async () => {
    const reply = await call('m-chloe', 'POST', '/api/admin/workspaces/ws-research/api-keys', { keyId: 'k-e2e', name: 'End to end', connectorScopes: ['c-github'] });
    expect(reply.status).toBe(200);
    secret = reply.body.secret;
    secrets.push(secret);
    expect(secret).toMatch(/^opk_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret.slice(4), 'base64url')).toHaveLength(32);
    expect(reply.text).not.toMatch(/[0-9a-f]{64}/);
    expect(reply.body.entities).toContainEqual({ kind: 'api_key', id: 'k-e2e', entity: expect.objectContaining({ id: 'k-e2e', secrets: [{ notAfter: null }] }) });
    // What every follower (a gateway) holds at that revision: the hash, which the gateway compares.
    const follower = await h.api.store.follow();
    try {
      expect(follower.revision).toBe(reply.body.revision);
      expect(follower.organization.apiKeys.get('k-e2e')!.secrets).toEqual([{ sha256: sha256(secret) }]);
      expect(follower.policy.can('k-e2e', 'studio.use', 'ws-research', { now: NOW })).toBe(true);
    } finally {
      await follower.close();
    }
  });

  it('a body that brings its own secrets is refused: the service generates them', async () => {
    const reply = await call('m-chloe', 'POST', '/api/admin/workspaces/ws-research/api-keys', { keyId: 'k-mine', name: 'Mine', secrets: [{ sha256: sha256('guessable') }] });
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatchObject({ code: 'unknown_field', path: ['secrets'] });
    expect((await auditTail(1))[0]).toMatchObject({ actor: 'm-chloe', command: 'createApiKey', result: { status: 'refused', code: 'unknown_field' } });
  });

  it('rotated: a new secret, and the old one valid until notAfter; a later rotation ends both old ones at once', async () => {
    const notAfter = '2026-06-02T12:00:00.000Z';
    const first = await call('m-chloe', 'POST', '/api/admin/api-keys/k-e2e/rotate', { notAfter });
    expect(first.status).toBe(200);
    secrets.push(first.body.secret);
    expect(first.body.secret).not.toBe(secret);
    expect(first.body.previousSecretsNotAfter).toBe(notAfter);
    expect(h.api.follower.organization.apiKeys.get('k-e2e')!.secrets).toEqual([{ sha256: sha256(first.body.secret) }, { sha256: sha256(secret), notAfter }]);

    const second = await call('m-chloe', 'POST', '/api/admin/api-keys/k-e2e/rotate', {});
    expect(second.status).toBe(200);
    secrets.push(second.body.secret);
    expect(h.api.follower.organization.apiKeys.get('k-e2e')!.secrets).toEqual([
      { sha256: sha256(second.body.secret) },
      { sha256: sha256(first.body.secret), notAfter: NOW },
      { sha256: sha256(secret), notAfter: NOW },
    ]);
    const third = await call('m-chloe', 'POST', '/api/admin/api-keys/k-e2e/rotate', {});
    secrets.push(third.body.secret);
    // Secrets already ended are dropped: only the newest and the one it replaces.
    expect(h.api.follower.organization.apiKeys.get('k-e2e')!.secrets).toEqual([{ sha256: sha256(third.body.secret) }, { sha256: sha256(second.body.secret), notAfter: NOW }]);
    expect((await call('m-chloe', 'POST', '/api/admin/api-keys/k-platform-bot/rotate', {})).status).toBe(403);
    expect((await call('m-chloe', 'POST', '/api/admin/api-keys/k-e2e/rotate', { notAfter: 'tomorrow' })).status).toBe(400);
  });

  it('revocation, expiry and scopes are ordinary changes, in force at every follower at their revision', async () => {
    const follower = await h.api.store.follow();
    try {
      const scopes = await call('m-chloe', 'PUT', '/api/admin/api-keys/k-e2e/connector-scopes', { connectorScopes: ['c-warehouse'] });
      await follower.waitFor(scopes.body.revision);
      expect(follower.policy.toolsAvailable('k-e2e', 'c-github', 'ws-research', { now: NOW })).toEqual([]);
      const expiry = await call('m-chloe', 'PUT', '/api/admin/api-keys/k-e2e/expiry', { expiresAt: '2026-05-01T00:00:00Z' });
      await follower.waitFor(expiry.body.revision);
      expect(follower.policy.explain('k-e2e', 'studio.use', 'ws-research', { now: NOW })).toMatchObject({ allowed: false, reason: 'key_expired' });
      expect((await call('m-chloe', 'PUT', '/api/admin/api-keys/k-e2e/expiry', { expiresAt: null })).status).toBe(200);
      const revoked = await call('m-chloe', 'POST', '/api/admin/api-keys/k-e2e/revoke');
      await follower.waitFor(revoked.body.revision);
      expect(follower.policy.explain('k-e2e', 'studio.use', 'ws-research', { now: NOW })).toMatchObject({ allowed: false, reason: 'key_revoked' });
    } finally {
      await follower.close();
    }
  });
});

describe('the HTTP edge: hostile input is a 4xx with a clear error, never a 500, and every refusal is audited', () => {
  const route = '/api/admin/workspaces/ws-research';

  it('U+0000 or a lone surrogate in any string of the body — a value or a field name — is 400 with its path', async () => {
    const cases: [string, string, unknown[]][] = [
      ['{"name": "Research\\u0000"}', 'nul_character', ['name']],
      ['{"name": "Research \\ud800"}', 'lone_surrogate', ['name']],
      ['{"name": "x \\udc00 y"}', 'lone_surrogate', ['name']],
      ['{"name": "ok", "na\\u0000me": 1}', 'nul_character', []],
      ['{"members": [{"user_uuid": "m-eve\\u0000"}]}', 'nul_character', ['members', 0, 'user_uuid']],
    ];
    for (const [body, code, path] of cases) {
      const before = await auditLength();
      const reply = await call('m-chloe', 'PATCH', body.includes('members') ? `${route}/users` : route, body);
      expect(reply.status, body).toBe(400);
      expect(reply.body.error).toMatchObject({ code, path });
      expect(reply.body.error.message).toMatch(/U\+0000|lone surrogate/);
      expect(await auditLength(), body).toBe(before + 1);
    }
    const [event] = await auditTail(1);
    expect(event).toMatchObject({ actor: 'm-chloe', command: 'addWorkspaceMembers', targets: [{ kind: 'workspace', id: 'ws-research' }], result: { status: 'refused', class: 'validation', code: 'control_character' } });
    // A well-formed pair is text, and passes.
    expect((await call('m-ada', 'PATCH', route, '{"name": "Research \\ud83d\\ude80"}')).status).toBe(200);
  });

  it('in a path parameter, a query value or a header read: 400 too', async () => {
    expect((await call('m-ada', 'GET', '/api/admin/users/m-eve%00')).body.error.code).toBe('nul_character');
    expect((await call('m-ada', 'PATCH', '/api/admin/workspaces/ws%00x', { name: 'X' })).status).toBe(400);
    expect((await call('m-ada', 'GET', '/api/admin/users?cursor=%00')).body.error.code).toBe('nul_character');
    expect((await call('m-ada', 'GET', '/api/admin/users?cursor=%ED%A0%80')).status).toBe(400); // not UTF-8: U+FFFD, not a cursor
    expect((await call('m-ada', 'GET', '/api/admin/users/%ED%A0%80')).status).toBe(404); // undecodable: no such route
  });

  it('malformed JSON, another content type, not UTF-8, not an object, absurd nesting, too large: 4xx, each audited', async () => {
    const sends: [unknown, Record<string, string>, number, string][] = [
      ['{"name": ', {}, 400, 'malformed_json'],
      ['{"name": "x"}', { 'content-type': 'text/plain' }, 415, 'unsupported_media_type'],
      ['name=x', { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'unsupported_media_type'],
      ['{"name": "x"}', { 'content-type': 'application/json; charset=latin1' }, 415, 'unsupported_media_type'],
      [Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), {}, 400, 'invalid_utf8'],
      ['["name"]', {}, 400, 'invalid_body'],
      ['"name"', {}, 400, 'invalid_body'],
      [`{"name": ${'['.repeat(100)}${']'.repeat(100)}}`, {}, 400, 'too_deep'],
      [`{"name": ${'['.repeat(200_000)}${']'.repeat(200_000)}}`, {}, 400, 'too_deep'],
      [JSON.stringify({ name: 'x'.repeat(1 << 21) }), {}, 413, 'body_too_large'],
    ];
    for (const [body, headers, status, code] of sends) {
      const before = await auditLength();
      const reply = await call('m-chloe', 'PATCH', route, body, headers);
      expect([reply.status, reply.body?.error?.code], code).toEqual([status, code]);
      expect(await auditLength(), code).toBe(before + 1);
    }
  });

  it('a forbidden request of nearly 1 MiB is answered 403 and audited, its targets each named once', async () => {
    const memberIds = Array.from({ length: 115_000 }, (_, i) => `m-${i % 1_000}`);
    const body = JSON.stringify({ memberIds });
    expect(body.length).toBeGreaterThan(900_000);
    expect(body.length).toBeLessThan(1 << 20);
    const reply = await call('m-chloe', 'PUT', '/api/admin/groups/g-eng/members', body);
    expect(reply.status).toBe(403);
    const [event] = await auditTail(1);
    expect(event).toMatchObject({ actor: 'm-chloe', command: 'setGroupMembers', result: { status: 'refused', class: 'forbidden' } });
    const targets = event.targets.map((target: { kind: string; id: string }) => `${target.kind}:${target.id}`);
    expect(new Set(targets).size).toBe(targets.length);
  });

  it('an audit write that fails fails the request: 503, no silent refusal, nothing applied', async () => {
    const engine = h.api.store.engine;
    await engine.query(`CREATE FUNCTION fail_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.event ->> 'actor' = 'm-chloe' THEN RAISE EXCEPTION 'audit write refused by the test'; END IF; RETURN NEW; END $$`);
    await engine.query('CREATE TRIGGER fail_audit BEFORE INSERT ON org_policy.audit FOR EACH ROW EXECUTE FUNCTION fail_audit()');
    const head = (await h.api.store.head())!.revision;
    const before = await auditLength();
    try {
      const attempts = [
        await call('m-chloe', 'PATCH', '/api/admin/workspaces/ws-marketing', { name: 'Taken over' }), // forbidden
        await call('m-chloe', 'PUT', `${route}/users/m-eve`, { role_names: ['user'] }), // allowed
        await call('m-chloe', 'PATCH', route, '{"name": "\\u0000"}'), // refused at the edge
        await call('m-chloe', 'POST', '/api/admin/users/m-chloe/admin-keys', { name: 'during the outage' }), // an operation of this service
      ];
      for (const reply of attempts) {
        expect(reply.status).toBe(503);
        expect(reply.body.error.code).toBe('not_recorded');
        expect(reply.headers.get('retry-after')).toBe('1');
      }
    } finally {
      await engine.query('DROP TRIGGER fail_audit ON org_policy.audit');
      await engine.query('DROP FUNCTION fail_audit()');
    }
    expect((await h.api.store.head())!.revision).toBe(head);
    expect(await auditLength()).toBe(before);
    expect((await call('m-chloe', 'GET', '/api/admin/admin-keys')).body.keys.map((k: { name: string }) => k.name)).not.toContain('during the outage');
    const recorded = await call('m-chloe', 'PATCH', '/api/admin/workspaces/ws-marketing', { name: 'Taken over' });
    expect(recorded.status).toBe(403);
    expect((await auditTail(1))[0]).toMatchObject({ actor: 'm-chloe', command: 'renameWorkspace', result: { status: 'refused', class: 'forbidden' } });
    expect((await call('m-chloe', 'PUT', `${route}/users/m-eve`, { role_names: ['user'] })).status).toBe(200);
  });
});

describe('the log: one line per event, client values escaped and capped, never a secret', () => {
  it('a member id holding a line break cannot forge a line; long values are cut', async () => {
    const id = 'm-evil\nrequest method=GET path=/forged status=200';
    expect((await call('m-ada', 'POST', '/api/admin/users', { memberId: id, email: 'evil@acme.test' })).status).toBe(200);
    const key = (await call('m-ada', 'POST', `/api/admin/users/${encodeURIComponent(id)}/admin-keys`, {})).body.secret;
    secrets.push(key);
    expect((await as(key, 'GET', '/api/admin/roles')).status).toBe(200);
    expect(h.logs.some((line) => line.includes('actor="m-evil\\u000arequest method=GET path=/forged status=200"'))).toBe(true);
    expect(h.logs.every((line) => !line.includes('\n'))).toBe(true);
    expect((await call('m-ada', 'GET', `/api/admin/${'x'.repeat(5_000)}`)).status).toBe(404);
    expect(Math.max(...h.logs.map((line) => line.length))).toBeLessThan(2_000);
  });

  it('values are escaped (control characters, separators, lone surrogates, quotes) and capped', () => {
    expect(formatValue('a\u0000b\u2028c\ud800"d\\')).toBe('"a\\u0000b\\u2028c\\ud800\\"d\\\\"');
    expect(formatValue('x'.repeat(MAX_FIELD_LENGTH + 50))).toBe(`${'x'.repeat(MAX_FIELD_LENGTH)}…(+50)`);
    expect(formatValue('plain')).toBe('plain');
  });

  it('no line holds a secret handed out in these tests', () => {
    expect(secrets.length).toBeGreaterThan(10);
    for (const line of h.logs) for (const secret of secrets) expect(line.includes(secret)).toBe(false);
  });
});
