/**
 * The gateway as an OAuth 2.1 resource server, per the MCP authorization specification: its metadata
 * and challenges, the official MCP SDK client signing in through a real authorization server
 * (oidc-provider on loopback), every token it must refuse, API key secrets, the front proxy's proof,
 * and a client token that never travels upstream.
 */
import { createHash } from 'node:crypto';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDevIssuer } from './dev-issuer.js';
import { headlessSignIn } from './dev.js';
import { MemoryOAuthClient } from './oauth-client.js';
import { BOT, bearer, CLIENTS, httpUpstream, MCP_HEADERS, REDIRECT_URI, SECRETS, startHarness, testSnapshot, USERS, withClient, type Harness } from './testing.js';

let h: Harness;
let upstreams: Awaited<ReturnType<typeof httpUpstream>>[];
const original = testSnapshot();
const UPSTREAM_CREDENTIAL = 'Bearer the-connectors-own-credential';
const LIST = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });

beforeAll(async () => {
  upstreams = [await httpUpstream(), await httpUpstream()];
  h = await startHarness({
    upstreams: new Map([
      ['c-everything', { url: upstreams[0]!.url, headers: { authorization: UPSTREAM_CREDENTIAL } }],
      ['c-mirror', { url: upstreams[1]!.url, headers: { authorization: UPSTREAM_CREDENTIAL } }],
    ]),
  });
});

afterAll(async () => {
  await h?.close();
  for (const upstream of upstreams ?? []) await upstream.close();
});

beforeEach(async () => {
  h.skew = 0;
  await h.writeSnapshot(original);
});

/** One raw tools/list, as a client that is not the SDK would send it. */
const list = (workspace: string, headers: Record<string, string>) => fetch(h.gateway.endpoint(workspace), { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body: LIST });

async function names(response: Response): Promise<string[]> {
  expect(response.status).toBe(200);
  return ((await response.json()) as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name);
}

/** What a refusal says: status, the challenge, the reason. */
async function refusedWith(response: Response) {
  const body = (await response.json()) as { error: { data: { reason: string; revision: number } } };
  return { status: response.status, challenge: response.headers.get('www-authenticate'), reason: body.error.data.reason, revision: body.error.data.revision };
}

/** A real token from the issuer's token endpoint: client credentials, for one resource. */
async function clientCredentialsToken(issuer: { tokenEndpoint: string }, resource: string, scope = 'mcp:tools'): Promise<string> {
  const response = await fetch(issuer.tokenEndpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${BOT.id}:${BOT.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope }),
  });
  const body = (await response.json()) as { access_token?: string; error?: string };
  if (body.access_token === undefined) throw new Error(`no token: ${body.error}`);
  return body.access_token;
}

describe('protected resource metadata and challenges (RFC 9728, RFC 6750)', () => {
  it('each workspace endpoint has its metadata, path-suffixed, naming itself, the issuer and mcp:tools', async () => {
    for (const workspace of ['ws-research', 'ws-marketing']) {
      const response = await fetch(`${h.gateway.url}/.well-known/oauth-protected-resource/workspaces/${workspace}/mcp`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ resource: h.gateway.endpoint(workspace), authorization_servers: [h.issuer.issuer], scopes_supported: ['mcp:tools'] });
    }
  });

  it('the root document describes the gateway itself; any well-formed workspace id gets one, so metadata tells no one which exist', async () => {
    expect(await (await fetch(`${h.gateway.url}/.well-known/oauth-protected-resource`)).json()).toMatchObject({ resource: h.gateway.url, authorization_servers: [h.issuer.issuer] });
    const probe = await fetch(`${h.gateway.url}/.well-known/oauth-protected-resource/workspaces/ws-does-not-exist/mcp`);
    expect(await probe.json()).toMatchObject({ resource: h.gateway.endpoint('ws-does-not-exist') });
  });

  it('no token: 401 with resource_metadata pointing to this endpoint, and no error code (RFC 6750 §3.1)', async () => {
    const refused = await refusedWith(await list('ws-marketing', {}));
    expect(refused).toMatchObject({ status: 401, reason: 'missing', revision: 0 });
    expect(refused.challenge).toBe(`Bearer resource_metadata="${h.gateway.url}/.well-known/oauth-protected-resource/workspaces/ws-marketing/mcp", scope="mcp:tools"`);
  });

  it('a token without mcp:tools: 403 insufficient_scope for tools/list and tools/call', async () => {
    const token = await h.token('chloe', 'ws-research', { scope: 'openid profile' });
    const refused = await refusedWith(await list('ws-research', bearer(token)));
    expect(refused).toMatchObject({ status: 403, reason: 'insufficient_scope' });
    expect(refused.challenge).toMatch(/^Bearer error="insufficient_scope", .*scope="mcp:tools"/);
    const call = await fetch(h.gateway.endpoint('ws-research'), {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...bearer(token) },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'everything__echo', arguments: { message: 'x' } } }),
    });
    expect(call.status).toBe(403);
    expect(upstreams[0]!.headers.filter((headers) => JSON.stringify(headers).includes(token))).toEqual([]);
  });
});

describe('the official MCP SDK client signs in through a real authorization server', () => {
  it('authorization code + PKCE: discovers the metadata, signs in as chloe, and lists her tools at Research', async () => {
    const provider = new MemoryOAuthClient({ clientId: 'mcp-demo', redirectUrl: REDIRECT_URI, signIn: (url) => headlessSignIn(url, 'chloe', REDIRECT_URI) });
    const endpoint = new URL(h.gateway.endpoint('ws-research'));
    const first = new StreamableHTTPClientTransport(endpoint, { authProvider: provider });
    await expect(new Client({ name: 'oauth-test', version: '1' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
    await first.finishAuth(await provider.pendingCode!);
    const token = decodeJwt(provider.tokens()!.access_token);
    expect(token).toMatchObject({ iss: h.issuer.issuer, aud: h.gateway.endpoint('ws-research'), sub: 'chloe', scope: 'mcp:tools', client_id: 'mcp-demo' });

    const client = new Client({ name: 'oauth-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(endpoint, { authProvider: provider }));
    const tools = (await client.listTools()).tools.map((t) => t.name);
    expect(tools).toEqual(h.gateway.policy().toolsByConnector('m-chloe', 'ws-research', { now: h.now() }).flatMap((c) => c.tools.map((t) => `${c.connector.name}__${t}`)));
    expect((await client.callTool({ name: 'everything__echo', arguments: { message: 'signed in' } })).content).toEqual([{ type: 'text', text: 'Echo: signed in' }]);
    await client.close();
  });

  it('with dynamic client registration (RFC 7591) as MCP clients do, eve signs in at Marketing', async () => {
    const provider = new MemoryOAuthClient({ redirectUrl: REDIRECT_URI, signIn: (url) => headlessSignIn(url, 'eve', REDIRECT_URI) });
    const endpoint = new URL(h.gateway.endpoint('ws-marketing'));
    const first = new StreamableHTTPClientTransport(endpoint, { authProvider: provider });
    await expect(new Client({ name: 'oauth-test', version: '1' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(provider.clientInformation()?.client_id).not.toBe('mcp-demo');
    await first.finishAuth(await provider.pendingCode!);
    const client = new Client({ name: 'oauth-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(endpoint, { authProvider: provider }));
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['everything__echo', 'everything__get-sum']);
    await client.close();
  });

  it('client credentials: the build bot gets a token for Research and acts as the member its client id is the externalId of', async () => {
    // A client-credentials client asks for the scope itself; expectedIssuer keeps its secret from any other server.
    const provider = new ClientCredentialsProvider({ clientId: BOT.id, clientSecret: BOT.secret, scope: 'mcp:tools', expectedIssuer: h.issuer.issuer });
    const client = new Client({ name: 'bot', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(h.gateway.endpoint('ws-research')), { authProvider: provider }));
    expect(decodeJwt(provider.tokens()!.access_token)).toMatchObject({ sub: BOT.id, aud: h.gateway.endpoint('ws-research') });
    const tools = (await client.listTools()).tools.map((t) => t.name);
    expect(tools).toContain('mirror__echo');
    expect(tools).toEqual(h.gateway.policy().toolsByConnector('m-build', 'ws-research', { now: h.now() }).flatMap((c) => c.tools.map((t) => `${c.connector.name}__${t}`)));
    await client.close();
  });
});

describe('refused tokens: each is a 401 invalid_token with the metadata to sign in again', () => {
  const refused = async (token: string, workspace = 'ws-research') => {
    const result = await refusedWith(await list(workspace, bearer(token)));
    expect(result.status).toBe(401);
    expect(result.challenge).toMatch(new RegExp(`^Bearer error="invalid_token", .*resource_metadata="${h.gateway.url}/.well-known/oauth-protected-resource/workspaces/${workspace}/mcp"`));
    return result.reason;
  };
  const unsigned = (header: object, payload: object) => `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;

  it("wrong audience: a real token for Research's endpoint is refused at Marketing's", async () => {
    const token = await clientCredentialsToken(h.issuer, h.gateway.endpoint('ws-research'));
    expect(await names(await list('ws-research', bearer(token)))).toContain('mirror__echo');
    expect(await refused(token, 'ws-marketing')).toBe('wrong_audience');
  });

  it('wrong issuer: signed with the right key, but naming another issuer', async () => {
    expect(await refused(await h.token('chloe', 'ws-research', { iss: 'https://issuer.evil.example' }))).toBe('wrong_issuer');
  });

  it("a token from another real authorization server, for this very endpoint, is refused (its key is not the issuer's)", async () => {
    const other = await startDevIssuer({ users: USERS, clients: CLIENTS, resource: () => true });
    try {
      expect(await refused(await clientCredentialsToken(other, h.gateway.endpoint('ws-research')))).toBe('unknown_signing_key');
    } finally {
      await other.close();
    }
  });

  it('expired, beyond the 5 s leeway; a token 2 s past exp is still accepted', async () => {
    const now = Math.floor(h.now() / 1000);
    expect(await refused(await h.token('chloe', 'ws-research', { exp: now - 60, iat: now - 360 }))).toBe('token_expired');
    expect(await names(await list('ws-research', bearer(await h.token('chloe', 'ws-research', { exp: now - 2 }))))).toContain('everything__echo');
  });

  it('not yet valid: nbf a minute ahead', async () => {
    expect(await refused(await h.token('chloe', 'ws-research', { nbf: Math.floor(h.now() / 1000) + 60 }))).toBe('token_not_yet_valid');
  });

  it("tampered: eve's real token with chloe's sub, or with its signature altered", async () => {
    const [header, payload, signature] = (await h.token('eve', 'ws-research')).split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...decodeJwt(`${header}.${payload}.${signature}`), sub: 'chloe' })).toString('base64url');
    expect(await refused(`${header}.${forged}.${signature}`)).toBe('bad_signature');
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    expect(await refused(`${header}.${payload}.${flipped}`)).toBe('bad_signature');
  });

  it('alg: none, unsigned', async () => {
    const now = Math.floor(h.now() / 1000);
    const token = unsigned({ alg: 'none', typ: 'at+jwt' }, { iss: h.issuer.issuer, aud: h.gateway.endpoint('ws-research'), sub: 'chloe', scope: 'mcp:tools', exp: now + 300 });
    expect(await refused(token)).toBe('algorithm_not_allowed');
  });

  it("HS256 with the issuer's public key as the HMAC secret (algorithm confusion)", async () => {
    const { d: _private, ...publicJwk } = h.signingKey;
    const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
    const now = Math.floor(h.now() / 1000);
    const token = await new SignJWT({ scope: 'mcp:tools' })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: 'test-key' })
      .setIssuer(h.issuer.issuer)
      .setAudience(h.gateway.endpoint('ws-research'))
      .setSubject('chloe')
      .setExpirationTime(now + 300)
      .sign(secret);
    expect(await refused(token)).toBe('algorithm_not_allowed');
  });

  it('signed by a key the JWKS does not hold, even with the JWKS kid', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const now = Math.floor(h.now() / 1000);
    for (const kid of ['not-in-the-jwks', 'test-key']) {
      const token = await new SignJWT({ scope: 'mcp:tools' })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
        .setIssuer(h.issuer.issuer)
        .setAudience(h.gateway.endpoint('ws-research'))
        .setSubject('chloe')
        .setExpirationTime(now + 300)
        .sign(privateKey);
      expect(await refused(token)).toBe(kid === 'test-key' ? 'bad_signature' : 'unknown_signing_key');
    }
  });

  it('not an access token: an ID token (typ JWT) is refused', async () => {
    expect(await refused(await h.token('chloe', 'ws-research', {}, { typ: 'JWT' }))).toBe('wrong_type');
  });

  it('a subject that is no member of the organization', async () => {
    expect(await refused(await h.token('mallory', 'ws-research'))).toBe('not_a_member');
  });

  it("the sub of a removed member, after a new member reuses its id: the old token opens nothing, the new member's does", async () => {
    const oldDave = await h.token('dave', 'ws-research');
    expect(await names(await list('ws-research', bearer(oldDave)))).toContain('everything__echo');
    const reused = structuredClone(original);
    reused.revision = 1;
    const dave = reused.members.find((m: { id: string }) => m.id === 'm-dave');
    dave.externalId = 'dave-the-second';
    dave.email = 'dave.second@acme.test';
    reused.workspaces[0].members.find((m: { memberId: string }) => m.memberId === 'm-dave').roles = ['workspace_admin'];
    await h.writeSnapshot(reused);
    expect(await refused(oldDave)).toBe('not_a_member');
    expect(await names(await list('ws-research', bearer(await h.token('dave-the-second', 'ws-research'))))).toContain('everything__echo');
  });

  it('a member header forged by the client is never read: no token is 401, and a token decides who it is', async () => {
    expect(await refusedWith(await list('ws-research', { 'x-org-member': 'm-chloe' }))).toMatchObject({ status: 401, reason: 'missing' });
    const proxyGuess = { 'x-org-member': 'm-chloe', 'x-org-proxy-secret': 'x'.repeat(40) };
    expect(await refusedWith(await list('ws-research', proxyGuess))).toMatchObject({ status: 401, reason: 'missing' });
    // Olga has no product access and Chloe has nine tools: Olga's token with Chloe's header lists Olga's nothing.
    expect(await names(await list('ws-research', { ...bearer(await h.token('olga', 'ws-research')), 'x-org-member': 'm-chloe', 'x-org-workspace': 'ws-research' }))).toEqual([]);
    expect(await names(await list('ws-research', bearer(await h.token('chloe', 'ws-research'))))).toHaveLength(9);
  });
});

describe('API key secrets (SPEC §9.1): SHA-256 against the snapshot, each secret until its notAfter', () => {
  const digest = (secret: string) => createHash('sha256').update(secret).digest('hex');

  it("a rotation: the new secret works, the old one until its notAfter, then it is refused", async () => {
    const rotated = structuredClone(original);
    rotated.revision = 1;
    const key = rotated.apiKeys.find((k: { id: string }) => k.id === 'k-research-ci');
    const notAfter = new Date(h.now() + 60_000).toISOString();
    key.secrets = [{ sha256: digest(SECRETS['k-research-ci']), notAfter }, { sha256: digest('the-new-secret-of-research-ci-0123456789') }];
    await h.writeSnapshot(rotated);
    expect(await names(await list('ws-research', bearer('the-new-secret-of-research-ci-0123456789')))).toEqual(['mirror__echo', 'mirror__get-sum']);
    expect(await names(await list('ws-research', bearer(SECRETS['k-research-ci'])))).toEqual(['mirror__echo', 'mirror__get-sum']);
    h.skew = 61_000;
    expect(await refusedWith(await list('ws-research', bearer(SECRETS['k-research-ci'])))).toMatchObject({ status: 401, reason: 'secret_expired', revision: 1 });
    expect(await names(await list('ws-research', bearer('the-new-secret-of-research-ci-0123456789')))).toEqual(['mirror__echo', 'mirror__get-sum']);
  });

  it('a key whose secrets are gone from the snapshot stops authenticating at the next revision', async () => {
    const removed = structuredClone(original);
    removed.revision = 1;
    delete removed.apiKeys.find((k: { id: string }) => k.id === 'k-research-ci').secrets;
    await h.writeSnapshot(removed);
    expect(await refusedWith(await list('ws-research', bearer(SECRETS['k-research-ci'])))).toMatchObject({ status: 401, reason: 'unknown_api_key', revision: 1 });
  });
});

describe("the client's credential never travels upstream", () => {
  it("upstream calls carry the connector's own credential, never the caller's token or key", async () => {
    const token = await h.token('chloe', 'ws-research');
    await withClient(h.gateway, 'ws-research', bearer(token), async (client) => {
      await client.callTool({ name: 'everything__echo', arguments: { message: 'x' } });
      await client.callTool({ name: 'mirror__echo', arguments: { message: 'y' } });
    });
    await withClient(h.gateway, 'ws-research', bearer(SECRETS['k-research-ci']), (client) => client.callTool({ name: 'mirror__echo', arguments: { message: 'z' } }));
    const seen = upstreams.flatMap((u) => u.headers);
    expect(seen.length).toBeGreaterThan(0);
    for (const headers of seen) expect(headers.authorization).toBe(UPSTREAM_CREDENTIAL);
    expect(JSON.stringify(seen)).not.toContain(token.split('.')[2]);
    expect(JSON.stringify(seen)).not.toContain(SECRETS['k-research-ci']);
  });
});

describe('the trusted front proxy: only when configured, and only with its proof', () => {
  const PROXY_SECRET = 'front-proxy-proof-0123456789abcdef0123456789';
  let proxied: Harness;
  beforeAll(async () => {
    proxied = await startHarness({ upstreams: new Map([['c-everything', { url: upstreams[0]!.url }]]), gateway: { proxy: { secret: PROXY_SECRET } } });
  });
  afterAll(async () => {
    await proxied?.close();
  });
  const proxyList = (headers: Record<string, string>, workspace = 'ws-research') => fetch(proxied.gateway.endpoint(workspace), { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body: LIST });

  it('with the proof, the member the proxy signed in; the workspace still comes from the path', async () => {
    expect(await names(await proxyList({ 'x-org-proxy-secret': PROXY_SECRET, 'x-org-member': 'm-eve' }, 'ws-marketing'))).toEqual(['everything__echo', 'everything__get-sum']);
  });

  it('a wrong or missing proof is refused; a member header alone is never read', async () => {
    expect(await refusedWith(await proxyList({ 'x-org-proxy-secret': `${PROXY_SECRET}x`, 'x-org-member': 'm-chloe' }))).toMatchObject({ status: 401, reason: 'bad_proxy_proof' });
    expect(await refusedWith(await proxyList({ 'x-org-proxy-secret': '', 'x-org-member': 'm-chloe' }))).toMatchObject({ status: 401, reason: 'bad_proxy_proof' });
    expect(await refusedWith(await proxyList({ 'x-org-member': 'm-chloe' }))).toMatchObject({ status: 401, reason: 'missing' });
  });

  it('a proxy naming no member of the organization gets the policy\'s answer: nothing', async () => {
    expect(await names(await proxyList({ 'x-org-proxy-secret': PROXY_SECRET, 'x-org-member': 'm-nobody' }))).toEqual([]);
  });

  it('tokens keep working beside it; a proof and a token together are refused', async () => {
    const token = await proxied.token('chloe', 'ws-research');
    expect(await names(await proxyList(bearer(token)))).toContain('everything__echo');
    expect(await refusedWith(await proxyList({ ...bearer(token), 'x-org-proxy-secret': PROXY_SECRET, 'x-org-member': 'm-eve' }))).toMatchObject({ status: 400, reason: 'ambiguous' });
  });

  it('a front proxy secret shorter than 32 characters is a configuration error', async () => {
    await expect(startHarness({ upstreams: new Map(), gateway: { proxy: { secret: 'short' } } })).rejects.toThrow(/32 characters/);
  });
});

describe('SPEC §9.2 with a member-id claim, for members that have no externalId', () => {
  let claimed: Harness;
  beforeAll(async () => {
    claimed = await startHarness({ upstreams: new Map([['c-everything', { url: upstreams[0]!.url }]]), memberIdClaim: 'org_member_id' });
    const json = structuredClone(original);
    json.revision = 1;
    delete json.members.find((m: { id: string }) => m.id === 'm-eve').externalId;
    await claimed.writeSnapshot(json);
  });
  afterAll(async () => {
    await claimed?.close();
  });

  it('the claim names a member without an externalId; a member with one is reached through its sub only', async () => {
    const eve = await claimed.token('some-idp-subject', 'ws-marketing', { org_member_id: 'm-eve' });
    expect(await names(await fetch(claimed.gateway.endpoint('ws-marketing'), { method: 'POST', headers: { ...MCP_HEADERS, ...bearer(eve) }, body: LIST }))).toEqual(['everything__echo', 'everything__get-sum']);
    const chloe = await claimed.token('some-idp-subject', 'ws-research', { org_member_id: 'm-chloe' });
    const response = await fetch(claimed.gateway.endpoint('ws-research'), { method: 'POST', headers: { ...MCP_HEADERS, ...bearer(chloe) }, body: LIST });
    expect(await refusedWith(response)).toMatchObject({ status: 401, reason: 'not_a_member' });
  });
});

describe('behind a front proxy: GATEWAY_BASE_URL is the public URL, with a path prefix', () => {
  const BASE = 'https://gateway.example.com/acme';
  let behind: Harness;
  beforeAll(async () => {
    behind = await startHarness({ upstreams: new Map([['c-everything', { url: upstreams[0]!.url }]]), gateway: { baseUrl: BASE } });
  });
  afterAll(async () => {
    await behind?.close();
  });
  const local = (path: string) => `http://127.0.0.1:${behind.gateway.port}${path}`;

  it('endpoints, audiences and metadata are the public ones; the prefix is kept in every path', async () => {
    expect(behind.gateway.endpoint('ws-research')).toBe(`${BASE}/workspaces/ws-research/mcp`);
    const metadata = await fetch(local('/.well-known/oauth-protected-resource/acme/workspaces/ws-research/mcp'));
    expect(await metadata.json()).toMatchObject({ resource: `${BASE}/workspaces/ws-research/mcp` });
    const token = await behind.token('chloe', 'ws-research');
    const listed = await fetch(local('/acme/workspaces/ws-research/mcp'), { method: 'POST', headers: { ...MCP_HEADERS, ...bearer(token) }, body: LIST });
    expect(await names(listed)).toContain('everything__echo');
    const unauthenticated = await fetch(local('/acme/workspaces/ws-research/mcp'), { method: 'POST', headers: MCP_HEADERS, body: LIST });
    expect(unauthenticated.headers.get('www-authenticate')).toContain('resource_metadata="https://gateway.example.com/.well-known/oauth-protected-resource/acme/workspaces/ws-research/mcp"');
    expect((await fetch(local('/workspaces/ws-research/mcp'), { method: 'POST', headers: { ...MCP_HEADERS, ...bearer(token) }, body: LIST })).status).toBe(404);
  });
});
