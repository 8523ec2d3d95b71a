/**
 * The SCIM service as the Admin API serves it: mounted under /scim/v2 on the same store and follower,
 * its tokens issued with the Admin API's admin keys, ORG_POLICY_SCIM_BOOTSTRAP_TOKEN on the first start,
 * and members' keys and tokens following changes made through either door.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminApiProcess, BOOTSTRAP_KEY, startHarness, type Harness } from '../testing.js';

const SCIM_BOOTSTRAP = 'scim_test-bootstrap-token-0123456789abcdefghijklmnop';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ scimBootstrapToken: SCIM_BOOTSTRAP });
});
afterAll(async () => {
  await h?.close();
});

const scim = (token: string | null, method: string, path: string, body?: unknown) => h.call(null, method, `/scim/v2${path}`, body, token === null ? {} : { authorization: `Bearer ${token}` });

describe('SCIM in the Admin API', () => {
  it('ORG_POLICY_SCIM_BOOTSTRAP_TOKEN acts as the first organization admin: provisioning without reading stdout, audited as m-ada', async () => {
    const created = await scim(SCIM_BOOTSTRAP, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: 'una@acme.test', externalId: 'idp-una' });
    expect(created.status).toBe(201);
    expect(created.headers.get('x-policy-revision')).toBe(String(h.api.follower.revision));
    const member = await h.call(BOOTSTRAP_KEY, 'GET', `/api/admin/users/${created.body.id}`);
    expect(member.body).toMatchObject({ email: 'una@acme.test', externalId: 'idp-una', status: 'active' });
    const log = await h.call(BOOTSTRAP_KEY, 'GET', '/api/admin/audit-log?order=desc&limit=1');
    expect(log.body.entries[0].event).toMatchObject({ actor: 'm-ada', command: 'inviteMember', result: { status: 'applied' } });
    expect(h.logs.some((line) => line.includes('path=/scim/v2/Users') && line.includes('status=201'))).toBe(true);
  });

  it('the bootstrap token is taken on the first start only: a restart with another one leaves the first', async () => {
    await h.restart({ scimBootstrapToken: 'scim_another-bootstrap-token-0123456789abcdefghij' });
    expect((await scim('scim_another-bootstrap-token-0123456789abcdefghij', 'GET', '/Users?count=1')).status).toBe(401);
    expect((await scim(SCIM_BOOTSTRAP, 'GET', '/Users?count=1')).status).toBe(200);
  });

  it('tokens are issued, listed and revoked with admin keys; a workspace admin’s key may not', async () => {
    const chloe = await h.issueKey('m-chloe');
    expect((await h.call(chloe, 'POST', '/api/admin/scim/tokens', { name: 'mine' })).status).toBe(403);
    expect((await h.call(null, 'GET', '/api/admin/scim/tokens')).body.error.code).toBe('missing_api_key');
    const issued = await h.call(BOOTSTRAP_KEY, 'POST', '/api/admin/scim/tokens', { name: 'Okta' });
    expect(issued.status).toBe(201);
    expect(issued.headers.get('content-type')).toMatch(/^application\/json/);
    expect(issued.headers.get('cache-control')).toBe('no-store');
    expect((await scim(issued.body.secret, 'GET', '/Groups?count=1')).status).toBe(200);
    const listed = await h.call(BOOTSTRAP_KEY, 'GET', '/api/admin/scim/tokens');
    expect(listed.body.tokens.map((t: { name: string }) => t.name)).toEqual(['bootstrap', 'Okta']);
    expect(listed.text).not.toContain(issued.body.secret);
    expect((await h.call(BOOTSTRAP_KEY, 'DELETE', `/api/admin/scim/tokens/${issued.body.token.tokenId}`)).status).toBe(200);
    expect((await scim(issued.body.secret, 'GET', '/Groups?count=1')).status).toBe(401);
  });

  it('SCIM suspending a member disables its admin keys, reactivating enables them, deleting it revokes them', async () => {
    const dave = await h.issueKey('m-dave');
    expect((await h.call(dave, 'GET', '/api/admin/roles')).status).toBe(200);
    const active = (value: unknown) => scim(SCIM_BOOTSTRAP, 'PATCH', '/Users/m-dave', { schemas: [PATCH_SCHEMA], Operations: [{ op: 'Replace', path: 'active', value }] });
    expect((await active('False')).body.active).toBe(false);
    expect((await h.call(dave, 'GET', '/api/admin/roles')).status).toBe(401);
    expect((await active(true)).body.active).toBe(true);
    expect((await h.call(dave, 'GET', '/api/admin/roles')).status).toBe(200);
    expect((await scim(SCIM_BOOTSTRAP, 'DELETE', '/Users/m-dave')).status).toBe(204);
    expect((await h.call(dave, 'GET', '/api/admin/roles')).status).toBe(401);
    const keys = await h.call(BOOTSTRAP_KEY, 'GET', '/api/admin/users/m-dave/admin-keys');
    expect(keys.body.keys.map((k: { status: string; revokedReason: string }) => [k.status, k.revokedReason])).toEqual([['revoked', 'member_removed']]);
  });

  it("removing a member through the Admin API revokes its SCIM tokens in that change: a new member with the id inherits nothing", async () => {
    const issued = await h.call(BOOTSTRAP_KEY, 'POST', '/api/admin/scim/tokens', { name: 'as gia', memberId: 'm-gia' });
    expect((await scim(issued.body.secret, 'GET', '/Users/m-gia')).status).toBe(200);
    expect((await h.call(BOOTSTRAP_KEY, 'DELETE', '/api/admin/users/m-gia')).status).toBe(200);
    const again = await h.call(BOOTSTRAP_KEY, 'POST', '/api/admin/users', { memberId: 'm-gia', email: 'gia.new@acme.test', role_names: ['organization_admin'] });
    expect(again.status).toBe(200);
    expect((await scim(issued.body.secret, 'GET', '/Users/m-gia')).status).toBe(401);
    const listed = await h.call(BOOTSTRAP_KEY, 'GET', '/api/admin/scim/tokens');
    expect(listed.body.tokens.find((t: { tokenId: string }) => t.tokenId === issued.body.token.tokenId).revokedBy).toBe('(member removed)');
  });
});

describe('npm run example:admin-api with ORG_POLICY_SCIM_BOOTSTRAP_TOKEN', () => {
  it('a bootstrap token shorter than 128 bits is refused at start, and a good one provisions at once', async () => {
    const short = AdminApiProcess.start({ DATA_DIR: 'memory://', ORG_POLICY_SCIM_BOOTSTRAP_TOKEN: 'short' });
    expect((await short.exited).code).toBe(2);
    expect(short.stderr.join('\n')).toMatch(/ORG_POLICY_SCIM_BOOTSTRAP_TOKEN must be at least 32 characters/);
    const server = AdminApiProcess.start({ DATA_DIR: 'memory://', ORG_POLICY_SCIM_BOOTSTRAP_TOKEN: SCIM_BOOTSTRAP });
    try {
      const url = await server.url();
      const reply = await fetch(`${url}/scim/v2/Users?filter=${encodeURIComponent('userName eq "ada@acme.test"')}`, { headers: { authorization: `Bearer ${SCIM_BOOTSTRAP}` } });
      expect(reply.status).toBe(200);
      expect(((await reply.json()) as { Resources: { id: string }[] }).Resources.map((r) => r.id)).toEqual(['m-ada']);
      expect(server.lines.join('\n')).not.toContain(SCIM_BOOTSTRAP);
    } finally {
      await server.stop();
    }
  });
});
