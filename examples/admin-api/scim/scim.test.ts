/**
 * The SCIM 2.0 service (RFC 7643, RFC 7644) driven over HTTP on loopback, on a PGlite store seeded with
 * the sample organization: discovery, tokens, Users and Groups with their filters, paging and PATCH, the
 * mapping onto commands, errors, and what SCIM may never do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_SCHEMA } from './errors.js';
import { GROUP_SCHEMA, PATCH_SCHEMA, USER_SCHEMA } from './resources.js';
import { sha256Hex } from './tokens.js';
import { startScimHarness, type ScimHarness } from './testing.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_SCHEMA], Operations });
const user = (userName: string, more: Record<string, unknown> = {}) => ({ schemas: [USER_SCHEMA], userName, ...more });

let h: ScimHarness;
beforeAll(async () => {
  h = await startScimHarness();
});
afterAll(async () => {
  await h?.close();
});

const revision = () => h.follower.revision;
const member = (id: string) => h.follower.organization.members.get(id);
const group = (id: string) => h.follower.organization.groups.get(id);
async function created(userName: string, more: Record<string, unknown> = {}): Promise<string> {
  const reply = await h.scim('POST', '/Users', user(userName, more));
  expect(reply.status).toBe(201);
  return reply.body.id;
}
async function issueToken(memberId: string): Promise<string> {
  const reply = await h.admin('POST', '/api/admin/scim/tokens', 'key-ada', { name: `for ${memberId}`, memberId });
  expect(reply.status).toBe(201);
  return reply.body.secret;
}

describe('discovery (RFC 7644 §4): what the service supports, without a token', () => {
  it('ServiceProviderConfig: PATCH and filter supported (at most 1,000 results), no bulk, sort, etag or password change, bearer tokens', async () => {
    const reply = await h.scim('GET', '/ServiceProviderConfig', undefined, null);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(reply.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      bulk: { supported: false },
      filter: { supported: true, maxResults: 1000 },
      changePassword: { supported: false },
      sort: { supported: false },
      etag: { supported: false },
      authenticationSchemes: [{ type: 'oauthbearertoken', primary: true }],
    });
  });

  it('ResourceTypes lists User and Group, each also by its id', async () => {
    const list = await h.scim('GET', '/ResourceTypes', undefined, null);
    expect(list.body.Resources.map((r: { id: string; endpoint: string; schema: string }) => [r.id, r.endpoint, r.schema])).toEqual([
      ['User', '/Users', USER_SCHEMA],
      ['Group', '/Groups', GROUP_SCHEMA],
    ]);
    expect((await h.scim('GET', '/ResourceTypes/Group', undefined, null)).body.endpoint).toBe('/Groups');
  });

  it('Schemas lists only the attributes the service stores; an unknown schema is a 404 Error', async () => {
    const reply = await h.scim('GET', `/Schemas/${USER_SCHEMA}`, undefined, null);
    expect(reply.status).toBe(200);
    expect(reply.body.attributes.map((a: { name: string }) => a.name)).toEqual(['userName', 'externalId', 'displayName', 'name', 'emails', 'active']);
    expect(reply.body.attributes[0]).toMatchObject({ name: 'userName', required: true, uniqueness: 'server', caseExact: false });
    const group = (await h.scim('GET', '/Schemas', undefined, null)).body.Resources[1];
    expect(group.attributes.map((a: { name: string }) => a.name)).toEqual(['displayName', 'members']);
    const missing = await h.scim('GET', '/Schemas/urn:example:nothing', undefined, null);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '404' });
  });

  it('an unknown endpoint is a 404 Error; /Bulk and /Me are 501', async () => {
    expect((await h.scim('GET', '/Widgets')).body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '404' });
    expect((await h.scim('POST', '/Bulk', {})).status).toBe(501);
    expect((await h.scim('GET', '/Me')).status).toBe(501);
  });
});

describe('authentication: a bearer token issued through the Admin API, acting as one member', () => {
  it('no token, a malformed header or an unknown token: 401 with WWW-Authenticate: Bearer, as a SCIM Error', async () => {
    for (const token of [null, 'scim_not-a-token']) {
      const reply = await h.scim('GET', '/Users', undefined, token);
      expect(reply.status).toBe(401);
      expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(reply.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '401' });
    }
    const basic = await fetch(`${h.url}/scim/v2/Users`, { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } });
    expect(basic.status).toBe(401);
  });

  it('an organization admin issues a token once, lists tokens without secrets, and only the SHA-256 is stored', async () => {
    const issued = await h.admin('POST', '/api/admin/scim/tokens', 'key-ada', { name: 'Entra ID' });
    expect(issued.status).toBe(201);
    expect(issued.body.secret).toMatch(/^scim_[A-Za-z0-9_-]{43}$/);
    expect(issued.body.token).toMatchObject({ memberId: 'm-ada', name: 'Entra ID', createdBy: 'm-ada', revokedAt: null });
    const listed = await h.admin('GET', '/api/admin/scim/tokens', 'key-ada');
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.body)).not.toContain(issued.body.secret);
    expect(JSON.stringify(listed.body)).not.toContain(sha256Hex(issued.body.secret));
    const rows = await h.store.engine.query<Record<string, unknown>>('SELECT * FROM org_policy_scim.tokens WHERE token_id = $1', [issued.body.token.tokenId]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.sha256).toBe(sha256Hex(issued.body.secret));
    expect(JSON.stringify(rows[0])).not.toContain(issued.body.secret);
    expect((await h.scim('GET', '/Users?count=1', undefined, issued.body.secret)).status).toBe(200);
  });

  it('issuing and revoking are in the audit log, by the admin who did it', async () => {
    const issued = await h.admin('POST', '/api/admin/scim/tokens', 'key-ada', { name: 'audited' });
    await h.admin('DELETE', `/api/admin/scim/tokens/${issued.body.token.tokenId}`, 'key-ada');
    const { entries } = await h.store.auditLog({ order: 'desc', limit: 2 });
    expect(entries.map((e) => [(e.event as unknown as { operation: string }).operation, e.event.actor, (e.event as unknown as { scimTokenId: string }).scimTokenId])).toEqual([
      ['revokeScimToken', 'm-ada', issued.body.token.tokenId],
      ['issueScimToken', 'm-ada', issued.body.token.tokenId],
    ]);
  });

  it('tokens are managed with org.security.manage only: a workspace admin gets 403, no admin key 401', async () => {
    expect((await h.admin('POST', '/api/admin/scim/tokens', 'key-chloe', { name: 'mine' })).status).toBe(403);
    expect((await h.admin('GET', '/api/admin/scim/tokens', 'key-chloe')).status).toBe(403);
    expect((await h.admin('GET', '/api/admin/scim/tokens', null)).status).toBe(401);
  });

  it('a token acts for an existing, active member only', async () => {
    expect((await h.admin('POST', '/api/admin/scim/tokens', 'key-ada', { name: 'x', memberId: 'm-nobody' })).status).toBe(404);
    expect((await h.admin('POST', '/api/admin/scim/tokens', 'key-ada', { name: 'x', memberId: 'm-finn' })).body.error.code).toBe('member_suspended');
    expect((await h.admin('POST', '/api/admin/scim/tokens', 'key-ada', { name: '' })).status).toBe(400);
  });

  it('a revoked token is refused at once; revoking again keeps the first revocation; an unknown token id is 404', async () => {
    const secret = await issueToken('m-ada');
    const [token] = (await h.tokens.list()).filter((t) => t.tokenId !== undefined && t.revokedAt === null && t.name === 'for m-ada');
    const revoked = await h.admin('DELETE', `/api/admin/scim/tokens/${token!.tokenId}`, 'key-ada');
    expect(revoked.status).toBe(200);
    expect(revoked.body.token.revokedBy).toBe('m-ada');
    expect((await h.scim('GET', '/Users', undefined, secret)).status).toBe(401);
    const again = await h.admin('DELETE', `/api/admin/scim/tokens/${token!.tokenId}`, 'key-ada');
    expect(again.body.token.revokedAt).toBe(revoked.body.token.revokedAt);
    expect((await h.admin('DELETE', '/api/admin/scim/tokens/nope', 'key-ada')).status).toBe(404);
  });

  it("a token's member must be able to manage members or groups: a plain member's token reads nothing and writes nothing, and the refused write is audited", async () => {
    const dave = await issueToken('m-dave');
    const before = revision();
    expect((await h.scim('GET', '/Users', undefined, dave)).status).toBe(403);
    expect((await h.scim('GET', '/Groups/g-eng', undefined, dave)).status).toBe(403);
    const refused = await h.scim('POST', '/Users', user('mallory@acme.test'), dave);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '403' });
    expect((await h.scim('DELETE', '/Users/m-ada', undefined, dave)).status).toBe(403);
    expect(revision()).toBe(before);
    const { entries } = await h.store.auditLog({ order: 'desc', limit: 2 });
    expect(entries.map((e) => [e.event.actor, e.event.command, e.status, e.event.targets])).toEqual([
      ['m-dave', 'removeMember', 'refused', [{ kind: 'member', id: 'm-ada' }]],
      ['m-dave', 'inviteMember', 'refused', []],
    ]);
  });

  it("removing a token's member revokes its tokens in the same change, so a later member with that id inherits nothing", async () => {
    const hugo = await issueToken('m-hugo');
    await h.store.apply('m-ada', [{ type: 'setMemberOrgRoles', memberId: 'm-hugo', roleNames: ['organization_admin'] }], { now: Date.now() });
    await h.follower.waitFor(h.follower.revision + 1, { timeoutMs: 5_000 });
    expect((await h.scim('GET', '/Users/m-hugo', undefined, hugo)).status).toBe(200);
    expect((await h.scim('DELETE', '/Users/m-hugo')).status).toBe(204);
    const rows = await h.store.engine.query<{ revoked_by: string }>("SELECT revoked_by FROM org_policy_scim.tokens WHERE member_id = 'm-hugo'");
    expect(rows.map((r) => r.revoked_by)).toEqual(['(member removed)']);
    const reinvited = await h.store.apply('m-ada', [{ type: 'inviteMember', memberId: 'm-hugo', email: 'hugo2@acme.test', roleNames: ['organization_admin'] }], { now: Date.now() });
    expect(reinvited.ok).toBe(true);
    if (reinvited.ok) await h.follower.waitFor(reinvited.revision, { timeoutMs: 5_000 });
    expect((await h.scim('GET', '/Users', undefined, hugo)).status).toBe(401);
  });
});

describe('Users: the mapping onto members', () => {
  it('POST invites a member with a fresh UUID: userName is its email, externalId and displayName kept, org role member', async () => {
    const reply = await h.scim('POST', '/Users', user('Ines@Acme.test', { externalId: 'entra-ines', name: { givenName: 'Ines', familyName: 'Diaz' }, emails: [{ value: 'ines@acme.test', type: 'work', primary: true }] }));
    expect(reply.status).toBe(201);
    expect(reply.body.id).toMatch(UUID);
    expect(reply.headers.get('location')).toBe(`${h.url}/scim/v2/Users/${reply.body.id}`);
    expect(reply.body).toEqual({
      schemas: [USER_SCHEMA],
      id: reply.body.id,
      externalId: 'entra-ines',
      userName: 'Ines@Acme.test',
      displayName: 'Ines Diaz',
      name: { formatted: 'Ines Diaz' },
      emails: [{ value: 'Ines@Acme.test', type: 'work', primary: true }],
      active: true,
      meta: { resourceType: 'User', location: `${h.url}/scim/v2/Users/${reply.body.id}` },
    });
    expect(member(reply.body.id)).toMatchObject({ email: 'Ines@Acme.test', externalId: 'entra-ines', displayName: 'Ines Diaz', status: 'active', orgRoles: ['member'] });
  });

  it('POST with active false invites and suspends in one change', async () => {
    const before = revision();
    const id = await created('jules@acme.test', { active: false });
    expect(revision()).toBe(before + 1);
    expect(member(id)?.status).toBe('suspended');
    expect(h.follower.policy.can(id, 'org.profile.manage_own')).toBe(false);
  });

  it('a deleted user created again gets a new id: ids are never reused', async () => {
    const first = await created('kim@acme.test');
    expect((await h.scim('DELETE', `/Users/${first}`)).status).toBe(204);
    const second = await created('kim@acme.test');
    expect(second).not.toBe(first);
  });

  it('userName is unique case-insensitively, externalId exactly: 409 uniqueness, nothing changed', async () => {
    const before = revision();
    const count = h.follower.organization.members.size;
    for (const body of [user('DAVE@acme.test'), user('new1@acme.test', { externalId: 'entra-ines' })]) {
      const reply = await h.scim('POST', '/Users', body);
      expect(reply.status).toBe(409);
      expect(reply.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '409', scimType: 'uniqueness' });
    }
    expect(await h.scim('POST', '/Users', user('new2@acme.test', { externalId: 'ENTRA-INES' }))).toMatchObject({ status: 201 });
    expect(revision()).toBe(before + 1);
    expect(h.follower.organization.members.size).toBe(count + 1);
  });

  it('userName is required and is an email; a work email that differs from it is refused (one email per member)', async () => {
    expect((await h.scim('POST', '/Users', { schemas: [USER_SCHEMA] })).body).toMatchObject({ status: '400', scimType: 'invalidValue' });
    expect((await h.scim('POST', '/Users', user('not an email'))).body).toMatchObject({ status: '400', scimType: 'invalidValue' });
    const differ = await h.scim('POST', '/Users', user('a1@acme.test', { emails: [{ value: 'b1@acme.test', type: 'work' }] }));
    expect(differ.body).toMatchObject({ status: '400', scimType: 'invalidValue' });
    expect((await h.scim('POST', '/Users', { schemas: [GROUP_SCHEMA], userName: 'c1@acme.test' })).body).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
  });

  it('GET by id answers a member created by an admin too; an unknown id is a 404 Error', async () => {
    const dave = await h.scim('GET', '/Users/m-dave');
    expect(dave.body).toMatchObject({ id: 'm-dave', userName: 'dave@acme.test', active: true });
    expect((await h.scim('GET', '/Users/m-nobody')).body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '404' });
  });

  it('PUT replaces what it asserts: email, externalId, displayName (null clears), active; what it omits stays', async () => {
    const id = await created('lou@acme.test', { externalId: 'okta-lou', displayName: 'Lou' });
    const put = await h.scim('PUT', `/Users/${id}`, user('lou.r@acme.test', { externalId: null, displayName: 'Lou Reed', active: false }));
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ userName: 'lou.r@acme.test', displayName: 'Lou Reed', active: false });
    expect(put.body.externalId).toBeUndefined();
    expect(member(id)).toMatchObject({ email: 'lou.r@acme.test', status: 'suspended', displayName: 'Lou Reed' });
    const before = revision();
    expect((await h.scim('PUT', `/Users/${id}`, user('lou.r@acme.test'))).body).toMatchObject({ displayName: 'Lou Reed', active: false });
    expect(revision()).toBe(before); // nothing asserted differs: no change at all
    expect((await h.scim('PUT', `/Users/${id}`, user('dave@acme.test'))).body).toMatchObject({ status: '409', scimType: 'uniqueness' });
  });

  it('DELETE removes the member with the cascade of SPEC §7.7: out of its groups and workspaces', async () => {
    expect(group('g-eng')?.memberIds).toContain('m-eve');
    expect(h.follower.organization.workspaces.get('ws-research')?.members.has('m-eve')).toBe(true);
    expect((await h.scim('DELETE', '/Users/m-eve')).status).toBe(204);
    expect(member('m-eve')).toBeUndefined();
    expect(group('g-eng')?.memberIds).not.toContain('m-eve');
    expect(h.follower.organization.workspaces.get('ws-research')?.members.has('m-eve')).toBe(false);
    expect(h.follower.policy.can('m-eve', 'vibe.use', 'ws-marketing')).toBe(false);
    expect((await h.scim('DELETE', '/Users/m-eve')).status).toBe(404);
  });
});

describe('Users: filter (RFC 7644 §3.4.2.2)', () => {
  let ids: Record<string, string>;
  beforeAll(async () => {
    ids = {
      nina: await created('Nina.Simone@Jazz.test', { externalId: 'Okta-Nina', displayName: 'Nina Simone' }),
      otis: await created('otis@jazz.test', { externalId: 'okta-otis', displayName: 'Otis Redding', active: false }),
    };
  });
  const found = async (filter: string) => {
    const reply = await h.scim('GET', `/Users?filter=${encodeURIComponent(filter)}`);
    expect(reply.status).toBe(200);
    return reply.body.Resources.map((r: { id: string }) => r.id).sort();
  };

  it('userName eq compares case-insensitively; externalId eq exactly', async () => {
    expect(await found('userName eq "nina.simone@jazz.test"')).toEqual([ids.nina]);
    expect(await found('externalId eq "Okta-Nina"')).toEqual([ids.nina]);
    expect(await found('externalId eq "okta-nina"')).toEqual([]);
  });

  it('emails[type eq "work"].value, emails.value and displayName eq (case-insensitive)', async () => {
    expect(await found('emails[type eq "work"].value eq "OTIS@jazz.test"')).toEqual([ids.otis]);
    expect(await found('emails[type eq "home"].value eq "otis@jazz.test"')).toEqual([]);
    expect(await found('emails.value eq "otis@jazz.test"')).toEqual([ids.otis]);
    expect(await found('displayName eq "nina simone"')).toEqual([ids.nina]);
  });

  it('and / or / not, attribute names in any case and with the schema URN, and other operators', async () => {
    expect(await found('userName eq "otis@jazz.test" or externalId eq "Okta-Nina"')).toEqual([ids.nina, ids.otis].sort());
    expect(await found('userName eq "otis@jazz.test" and active eq true')).toEqual([]);
    expect(await found('USERNAME eq "otis@jazz.test" and active eq false')).toEqual([ids.otis]);
    expect(await found(`${USER_SCHEMA}:userName eq "otis@jazz.test"`)).toEqual([ids.otis]);
    expect(await found('userName ew "@jazz.test" and not (displayName sw "Otis")')).toEqual([ids.nina]);
    expect(await found('displayName co "redd" or externalId pr and userName sw "nina"')).toEqual([ids.nina, ids.otis].sort());
  });

  it('a filter that does not parse, or names an attribute the service does not filter on, is 400 invalidFilter', async () => {
    for (const filter of ['userName eq', 'userName xx "a"', 'title eq "boss"', 'userName eq 1.5', '(']) {
      const reply = await h.scim('GET', `/Users?filter=${encodeURIComponent(filter)}`);
      expect({ filter, status: reply.status, scimType: reply.body.scimType }).toEqual({ filter, status: 400, scimType: 'invalidFilter' });
    }
  });

  it('startIndex and count: 1-based, count 0 answers the total only, count is capped at 1,000, a non-integer is 400', async () => {
    const total = h.follower.organization.members.size;
    expect((await h.scim('GET', '/Users?count=0')).body).toMatchObject({ totalResults: total, itemsPerPage: 0, Resources: [] });
    expect((await h.scim('GET', '/Users?startIndex=0&count=2')).body).toMatchObject({ startIndex: 1, itemsPerPage: 2 });
    const second = (await h.scim('GET', '/Users?startIndex=2&count=1')).body.Resources[0].id;
    expect(second).toBe([...h.follower.organization.members.keys()][1]);
    expect((await h.scim('GET', '/Users?count=5000')).body.itemsPerPage).toBe(total);
    expect((await h.scim('GET', '/Users?count=ten')).body).toMatchObject({ status: '400', scimType: 'invalidValue' });
  });

  it('attributes and excludedAttributes shape what is returned; id, schemas and meta always are', async () => {
    const only = (await h.scim('GET', `/Users/${ids.nina}?attributes=userName`)).body;
    expect(Object.keys(only).sort()).toEqual(['id', 'meta', 'schemas', 'userName']);
    const without = (await h.scim('GET', `/Users?filter=${encodeURIComponent('userName eq "otis@jazz.test"')}&excludedAttributes=emails,name`)).body.Resources[0];
    expect(without.emails).toBeUndefined();
    expect(without.name).toBeUndefined();
    expect(without.userName).toBe('otis@jazz.test');
  });
});

describe('Users: PATCH (RFC 7644 §3.5.2), all operations of a request as one change', () => {
  let id: string;
  beforeAll(async () => {
    id = await created('pat@acme.test', { externalId: 'entra-pat', displayName: 'Pat' });
  });

  it('replace with a path, in any case of op; add without a path; remove with a path', async () => {
    let reply = await h.scim('PATCH', `/Users/${id}`, patch({ op: 'Replace', path: 'displayName', value: 'Pat Smith' }));
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ displayName: 'Pat Smith' });
    reply = await h.scim('PATCH', `/Users/${id}`, patch({ op: 'add', value: { externalId: 'entra-pat-2', userName: 'pat.smith@acme.test' } }));
    expect(reply.body).toMatchObject({ externalId: 'entra-pat-2', userName: 'pat.smith@acme.test' });
    reply = await h.scim('PATCH', `/Users/${id}`, patch({ op: 'REMOVE', path: 'externalId' }));
    expect(reply.body.externalId).toBeUndefined();
    expect(member(id)).toMatchObject({ email: 'pat.smith@acme.test', displayName: 'Pat Smith' });
    expect(member(id)?.externalId).toBeUndefined();
  });

  it('several operations are one change: revision + 1, one audit event per command, by the token’s member', async () => {
    const before = revision();
    const reply = await h.scim('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'displayName', value: 'P. Smith' }, { op: 'replace', path: 'active', value: false }, { op: 'add', path: 'externalId', value: 'entra-pat-3' }));
    expect(reply.body).toMatchObject({ displayName: 'P. Smith', active: false, externalId: 'entra-pat-3' });
    expect(revision()).toBe(before + 1);
    expect(reply.headers.get('x-policy-revision')).toBe(String(before + 1));
    const { entries } = await h.store.auditLog({ order: 'desc', limit: 2 });
    expect(entries.map((e) => [e.revision, e.event.actor, e.event.command, e.status])).toEqual([
      [before + 1, 'm-ada', 'suspendMember', 'applied'],
      [before + 1, 'm-ada', 'setMemberProfile', 'applied'],
    ]);
  });

  it('all or nothing: one refused operation leaves every other undone, and answers the refusal', async () => {
    const before = revision();
    const reply = await h.scim('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'displayName', value: 'Never' }, { op: 'replace', path: 'active', value: true }, { op: 'replace', path: 'userName', value: 'Dave@Acme.test' }));
    expect(reply.body).toMatchObject({ status: '409', scimType: 'uniqueness' });
    expect(revision()).toBe(before);
    expect(member(id)).toMatchObject({ displayName: 'P. Smith', status: 'suspended', email: 'pat.smith@acme.test' });
    const { entries } = await h.store.auditLog({ order: 'desc', limit: 1 });
    expect(entries[0]).toMatchObject({ status: 'refused', event: { actor: 'm-ada', command: 'changeMemberEmail', result: { code: 'duplicate_email' } } });
  });

  it('attributes the service does not store are ignored: no change, no revision', async () => {
    const before = revision();
    const reply = await h.scim('PATCH', `/Users/${id}`, patch({ op: 'add', path: 'title', value: 'Boss' }, { op: 'replace', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', value: 'R&D' }, { op: 'replace', value: { nickName: 'P' } }));
    expect(reply.status).toBe(200);
    expect(reply.body.title).toBeUndefined();
    expect(revision()).toBe(before);
  });

  it('a malformed PatchOp: unknown op, remove without path, a path that is not one, a wrong value: 400 with scimType', async () => {
    const cases: [unknown, string][] = [
      [{ schemas: [PATCH_SCHEMA] }, 'invalidSyntax'],
      [patch({ op: 'merge', path: 'displayName', value: 'x' }), 'invalidSyntax'],
      [patch({ op: 'remove' }), 'noTarget'],
      [patch({ op: 'replace', path: 'name.nickname', value: 'x' }), 'invalidPath'],
      [patch({ op: 'replace', path: 'displayName[value eq "x"]', value: 'x' }), 'invalidPath'],
      [patch({ op: 'replace', path: 'active', value: 'maybe' }), 'invalidValue'],
      [patch({ op: 'replace', path: 'userName', value: 42 }), 'invalidValue'],
      [patch({ op: 'remove', path: 'userName' }), 'invalidValue'],
      [{ schemas: ['urn:example'], Operations: [{ op: 'add', path: 'displayName', value: 'x' }] }, 'invalidSyntax'],
    ];
    for (const [body, scimType] of cases) {
      const reply = await h.scim('PATCH', `/Users/${id}`, body);
      expect({ body, status: reply.status, scimType: reply.body.scimType }).toEqual({ body, status: 400, scimType });
    }
  });

  it('paths and values never reach Object.prototype (scim-patch 0.8.3 would write through them)', async () => {
    const hostile = [
      patch({ op: 'add', path: '__proto__.polluted', value: 'yes' }),
      patch({ op: 'add', path: 'constructor.prototype.polluted', value: 'yes' }),
      patch({ op: 'add', path: 'name.__proto__', value: 'yes' }),
      `{"schemas":["${PATCH_SCHEMA}"],"Operations":[{"op":"add","value":{"__proto__":{"polluted":"yes"}}},{"op":"add","path":"name","value":{"__proto__":{"polluted":"yes"}}}]}`,
    ];
    for (const body of hostile) {
      const reply = await h.scim('PATCH', `/Users/${id}`, body);
      expect([200, 400]).toContain(reply.status);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('U+0000 and lone surrogates are refused at the edge, with where', async () => {
    for (const text of [`{"schemas":["${USER_SCHEMA}"],"userName":"nul\\u0000@acme.test"}`, `{"schemas":["${USER_SCHEMA}"],"userName":"x@acme.test","displayName":"\\ud800"}`]) {
      const reply = await h.scim('POST', '/Users', text);
      expect(reply.body).toMatchObject({ status: '400', scimType: 'invalidValue' });
    }
    expect((await h.scim('POST', '/Users', '{not json')).body).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
  });
});

describe('Groups: SCIM moves people in and out of groups; admins set what a group grants', () => {
  let people: string[];
  beforeAll(async () => {
    people = [];
    for (const name of ['quinn', 'ray', 'sam', 'tess']) people.push(await created(`${name}@acme.test`, { displayName: name }));
  });

  it('POST creates a group with a fresh UUID, its members, and no roles or grants, whatever the body says', async () => {
    const reply = await h.scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Design', members: [{ value: people[0] }], roles: ['organization_admin'], orgRoles: ['organization_admin'] });
    expect(reply.status).toBe(201);
    expect(reply.body).toEqual({
      schemas: [GROUP_SCHEMA],
      id: reply.body.id,
      displayName: 'Design',
      members: [{ value: people[0], $ref: `${h.url}/scim/v2/Users/${people[0]}`, type: 'User', display: 'quinn' }],
      meta: { resourceType: 'Group', location: `${h.url}/scim/v2/Groups/${reply.body.id}` },
    });
    expect(reply.body.id).toMatch(UUID);
    expect(group(reply.body.id)).toMatchObject({ name: 'Design', memberIds: [people[0]], orgRoles: [] });
    for (const workspace of h.follower.organization.workspaces.values()) expect(workspace.groupGrants.has(reply.body.id)).toBe(false);
    expect(h.follower.policy.can(people[0]!, 'org.members.manage')).toBe(false);
  });

  it('pushing a group gives its members exactly the workspaces admins attached to it, and its org roles', async () => {
    // g-it is the admins' group with organization_admin: SCIM adding someone to it makes them an admin, by the admins' rule.
    expect(h.follower.policy.can(people[1]!, 'org.members.manage')).toBe(false);
    expect((await h.scim('PATCH', '/Groups/g-it', patch({ op: 'add', path: 'members', value: [{ value: people[1] }] }))).status).toBe(204);
    expect(h.follower.policy.can(people[1]!, 'org.members.manage')).toBe(true);
    // g-eng is granted dev and mistral_code_user in ws-platform: its members get Studio there, and nowhere else.
    expect((await h.scim('PATCH', '/Groups/g-eng', patch({ op: 'add', path: 'members', value: [{ value: people[2] }] }))).status).toBe(204);
    expect(h.follower.policy.can(people[2]!, 'studio.use', 'ws-platform')).toBe(true);
    expect(h.follower.policy.can(people[2]!, 'studio.use', 'ws-research')).toBe(false);
    expect([...h.follower.policy.toolsAvailable(people[2]!, 'c-atlassian', 'ws-platform')]).toEqual(['search_confluence', 'get_jira_issue']);
    expect(h.follower.organization.workspaces.get('ws-platform')?.groupGrants.get('g-eng')).toEqual({ groupId: 'g-eng', roles: ['dev', 'mistral_code_user'] });
  });

  it('PATCH add is idempotent; remove by value filter, by Entra’s value shape, or all; replace as a delta', async () => {
    const g = (await h.scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Sound' })).body.id as string;
    await h.scim('PATCH', `/Groups/${g}`, patch({ op: 'add', path: 'members', value: [{ value: people[0] }, { value: people[1] }] }));
    await h.scim('PATCH', `/Groups/${g}`, patch({ op: 'add', path: 'members', value: [{ value: people[0] }] }));
    expect(group(g)?.memberIds).toEqual([people[0], people[1]]);
    await h.scim('PATCH', `/Groups/${g}`, patch({ op: 'remove', path: `members[value eq "${people[0]}"]` }));
    expect(group(g)?.memberIds).toEqual([people[1]]);
    await h.scim('PATCH', `/Groups/${g}`, patch({ op: 'Remove', path: 'members', value: [{ value: people[1] }] }));
    expect(group(g)?.memberIds).toEqual([]);
    await h.scim('PATCH', `/Groups/${g}`, patch({ op: 'replace', path: 'members', value: [{ value: people[2] }, { value: people[3] }] }));
    expect(group(g)?.memberIds).toEqual([people[2], people[3]]);
    await h.scim('PATCH', `/Groups/${g}`, patch({ op: 'replace', value: { displayName: 'Sound & Vision', members: [{ value: people[3] }, { value: people[0] }] } }));
    expect(group(g)).toMatchObject({ name: 'Sound & Vision', memberIds: [people[3], people[0]] });
    await h.scim('PATCH', `/Groups/${g}`, patch({ op: 'remove', path: `members[value eq "${people[3]}" or value eq "${people[0]}"]` }));
    expect(group(g)?.memberIds).toEqual([]);
    await h.scim('PATCH', `/Groups/${g}`, patch({ op: 'add', path: 'members', value: [{ value: people[1] }] }, { op: 'remove', path: 'members' }));
    expect(group(g)?.memberIds).toEqual([]);
  });

  it('a PATCH naming someone who is not a member is refused whole: 400 invalidValue, nothing changed', async () => {
    const g = (await h.scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Strict' })).body.id as string;
    const before = revision();
    const reply = await h.scim('PATCH', `/Groups/${g}`, patch({ op: 'add', path: 'members', value: [{ value: people[0] }] }, { op: 'add', path: 'members', value: [{ value: 'm-ghost' }] }));
    expect(reply.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '400', scimType: 'invalidValue' });
    expect(revision()).toBe(before);
    expect(group(g)?.memberIds).toEqual([]);
    expect((await h.scim('PATCH', `/Groups/${g}`, patch({ op: 'add', path: 'members[value eq "x"]', value: [] }))).body.scimType).toBe('invalidPath');
    expect((await h.scim('PATCH', `/Groups/${g}`, patch({ op: 'remove', path: 'displayName' }))).body.scimType).toBe('invalidValue');
    expect((await h.scim('PATCH', '/Groups/g-nothing', patch({ op: 'add', path: 'members', value: [{ value: people[0] }] }))).status).toBe(404);
  });

  it('PUT renames and sets the members it lists (as deltas); without members, membership stays', async () => {
    const g = (await h.scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Ops', members: [{ value: people[0] }, { value: people[1] }] })).body.id as string;
    const reply = await h.scim('PUT', `/Groups/${g}`, { schemas: [GROUP_SCHEMA], displayName: 'Operations', members: [{ value: people[1] }, { value: people[2] }] });
    expect(reply.status).toBe(200);
    expect(reply.body.members.map((m: { value: string }) => m.value)).toEqual([people[1], people[2]]);
    expect(group(g)).toMatchObject({ name: 'Operations', memberIds: [people[1], people[2]] });
    await h.scim('PUT', `/Groups/${g}`, { schemas: [GROUP_SCHEMA], displayName: 'Ops' });
    expect(group(g)).toMatchObject({ name: 'Ops', memberIds: [people[1], people[2]] });
    expect((await h.scim('PUT', `/Groups/${g}`, { schemas: [GROUP_SCHEMA] })).body.scimType).toBe('invalidValue');
  });

  it('GET, filter by displayName, id and member, excludedAttributes=members', async () => {
    const list = await h.scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "engineering"')}`);
    expect(list.body.Resources.map((g: { id: string }) => g.id)).toEqual(['g-eng']);
    const withMember = await h.scim('GET', `/Groups?filter=${encodeURIComponent(`members[value eq "${people[2]}"] and displayName sw "Eng"`)}`);
    expect(withMember.body.Resources.map((g: { id: string }) => g.id)).toEqual(['g-eng']);
    expect((await h.scim('GET', `/Groups?filter=${encodeURIComponent('id eq "g-it"')}`)).body.totalResults).toBe(1);
    const lean = await h.scim('GET', '/Groups/g-eng?excludedAttributes=members');
    expect(lean.body.members).toBeUndefined();
    expect(lean.body.displayName).toBe('Engineering');
  });

  it('DELETE removes the group and its grants', async () => {
    expect((await h.scim('DELETE', '/Groups/g-eng')).status).toBe(204);
    expect(group('g-eng')).toBeUndefined();
    expect(h.follower.organization.workspaces.get('ws-platform')?.groupGrants.has('g-eng')).toBe(false);
    expect(h.follower.policy.can(people[2]!, 'studio.use', 'ws-platform')).toBe(false);
  });
});

describe('the last active organization admin cannot be deprovisioned', () => {
  it('suspending or deleting it (PATCH, PUT, DELETE) is a 409 SCIM Error, and nothing changes', async () => {
    // Make m-ada the last active admin: every other admin leaves, the admins' group g-it is emptied.
    for (const other of [...h.follower.organization.members.values()].filter((m) => m.id !== 'm-ada' && m.orgRoles.includes('organization_admin'))) {
      expect((await h.scim('DELETE', `/Users/${other.id}`)).status).toBe(204);
    }
    const others = group('g-it')!.memberIds;
    expect((await h.scim('PATCH', '/Groups/g-it', patch({ op: 'remove', path: 'members', value: others.map((value) => ({ value })) }))).status).toBe(204);
    const admins = [...h.follower.organization.members.values()].filter((m) => m.status === 'active' && m.orgRoles.includes('organization_admin')).map((m) => m.id);
    expect(admins).toEqual(['m-ada']);
    const before = revision();
    for (const [method, path, body] of [
      ['PATCH', '/Users/m-ada', patch({ op: 'replace', path: 'active', value: false })],
      ['PUT', '/Users/m-ada', user('ada@acme.test', { active: false })],
      ['DELETE', '/Users/m-ada', undefined],
    ] as const) {
      const reply = await h.scim(method, path, body);
      expect({ method, status: reply.status, schemas: reply.body.schemas }).toEqual({ method, status: 409, schemas: [ERROR_SCHEMA] });
      expect(reply.body.detail).toMatch(/^last_organization_admin: /);
    }
    expect(revision()).toBe(before);
    expect(member('m-ada')?.status).toBe('active');
    expect(h.follower.policy.can('m-ada', 'org.members.manage')).toBe(true);
  });
});
