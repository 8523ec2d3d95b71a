/**
 * The MCP gateway driven as a client would: the official MCP SDK client over Streamable HTTP on a
 * loopback port, signed in with access tokens from a real authorization server (or API key secrets),
 * with `@modelcontextprotocol/server-everything` (a real MCP server no one here wrote) as two upstream
 * connectors over stdio. What the policy decides, and what the log says.
 */
import { createPolicy } from 'org-policy';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { POLICY_DENIED, REVISION_HEADER, SEPARATOR } from './gateway.js';
import { bearer, MCP_HEADERS, refusalOf, SECRETS, startHarness, testSnapshot, until, withClient, type Harness } from './testing.js';

let h: Harness;
const original = testSnapshot();
const MEMBERS = { 'm-ada': 'ada', 'm-chloe': 'chloe', 'm-dave': 'dave', 'm-eve': 'eve', 'm-finn': 'finn', 'm-olga': 'olga', 'm-build': 'acme-build-bot' } as const;
const WORKSPACES = ['ws-research', 'ws-marketing', 'ws-nowhere'];

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.close();
});

beforeEach(async () => {
  h.skew = 0;
  await h.writeSnapshot(original);
});

type Who = { member: keyof typeof MEMBERS } | { key: keyof typeof SECRETS };
const keyWorkspace = (key: keyof typeof SECRETS) => (key === 'k-marketing-bot' ? 'ws-marketing' : 'ws-research');

async function credential(who: Who, workspace: string): Promise<Record<string, string>> {
  return bearer('key' in who ? SECRETS[who.key] : await h.token(MEMBERS[who.member], workspace));
}

async function as<T>(who: Who, workspace: string, use: Parameters<typeof withClient<T>>[3]): Promise<T> {
  return withClient(h.gateway, workspace, await credential(who, workspace), use);
}

const listNames = (who: Who, workspace: string) => as(who, workspace, async (client) => (await client.listTools()).tools.map((t) => t.name));
const refusal = (who: Who, workspace: string, name: string, args: Record<string, unknown> = {}) => as(who, workspace, (client) => refusalOf(client.callTool({ name, arguments: args })));

/** What toolsAvailable predicts for a principal, from the snapshot alone, namespaced as the gateway names tools. */
function predicted(json: unknown, principal: string, workspace: string): string[] {
  const policy = createPolicy(json);
  return [...policy.organization.connectors.values()].flatMap((c) => policy.toolsAvailable(principal, c.id, workspace, { now: h.now() }).map((tool) => `${c.name}${SEPARATOR}${tool}`));
}

describe('tools/list is exactly what toolsAvailable allows, per principal and workspace endpoint', () => {
  it('every member, signed in with a token for each workspace endpoint, sees the tools toolsAvailable predicts', async () => {
    for (const member of Object.keys(MEMBERS) as (keyof typeof MEMBERS)[]) {
      for (const workspace of WORKSPACES) expect(await listNames({ member }, workspace)).toEqual(predicted(original, member, workspace));
    }
  });

  it('an API key sees its tools at its own workspace endpoint, and none at another (key_workspace)', async () => {
    expect(await listNames({ key: 'k-research-ci' }, 'ws-research')).toEqual(predicted(original, 'k-research-ci', 'ws-research'));
    expect(await listNames({ key: 'k-research-ci' }, 'ws-research')).toEqual(['mirror__echo', 'mirror__get-sum']);
    expect(await listNames({ key: 'k-marketing-bot' }, 'ws-marketing')).toEqual(predicted(original, 'k-marketing-bot', 'ws-marketing'));
    expect(await listNames({ key: 'k-revoked' }, 'ws-research')).toEqual([]);
    expect(await listNames({ key: 'k-research-ci' }, 'ws-marketing')).toEqual([]);
    expect(await refusal({ key: 'k-research-ci' }, 'ws-marketing', 'mirror__echo')).toMatchObject({ code: POLICY_DENIED, reason: 'key_workspace' });
  });

  it('the lists differ as the snapshot says: restricted in Marketing, blocked mirror there, no product access for an observer', async () => {
    expect(await listNames({ member: 'm-eve' }, 'ws-marketing')).toEqual(['everything__echo', 'everything__get-sum']);
    expect(await listNames({ member: 'm-eve' }, 'ws-research')).toContain('mirror__echo');
    expect(await listNames({ member: 'm-olga' }, 'ws-research')).toEqual([]);
  });

  it("tools carry the upstream's own description and input schema, under a name that cannot clash across connectors", async () => {
    const tools = await as({ member: 'm-chloe' }, 'ws-research', async (client) => (await client.listTools()).tools);
    const echoes = tools.filter((t) => t.name.endsWith('__echo'));
    expect(echoes.map((t) => t.name)).toEqual(['everything__echo', 'mirror__echo']);
    for (const echo of echoes) expect(echo.inputSchema.properties).toHaveProperty('message');
  });
});

describe('tools/call: refused calls never reach the upstream; allowed ones return its real answer', () => {
  it('a refused call is an MCP error carrying the explainInvoke reason and the revision, and the upstream sees no call', async () => {
    const before = { everything: h.upstream.everything!.calls.length, mirror: h.upstream.mirror!.calls.length };
    const cases: [Who, string, string, string][] = [
      [{ member: 'm-eve' }, 'ws-marketing', 'everything__get-env', 'tool_not_selected'],
      [{ member: 'm-chloe' }, 'ws-research', 'everything__toggle-subscriber-updates', 'tool_not_selected'],
      [{ member: 'm-eve' }, 'ws-marketing', 'mirror__echo', 'not_visible'],
      [{ member: 'm-olga' }, 'ws-research', 'everything__echo', 'no_product_access'],
      [{ member: 'm-finn' }, 'ws-research', 'everything__echo', 'suspended'],
      [{ member: 'm-eve' }, 'ws-nowhere', 'everything__echo', 'unknown_workspace'],
      [{ key: 'k-research-ci' }, 'ws-research', 'everything__echo', 'key_scope'],
      [{ key: 'k-revoked' }, 'ws-research', 'mirror__echo', 'key_revoked'],
      [{ key: 'k-marketing-bot' }, 'ws-marketing', 'everything__get-env', 'tool_not_selected'],
    ];
    for (const [who, workspace, tool, reason] of cases) {
      const connector = tool.split(SEPARATOR)[0] === 'mirror' ? 'c-mirror' : 'c-everything';
      const principal = 'key' in who ? who.key : who.member;
      expect(h.gateway.policy().explainInvoke(principal, connector, tool.split(SEPARATOR)[1]!, workspace, { now: h.now() }).reason).toBe(reason);
      expect(await refusal(who, workspace, tool, { message: 'must not pass' })).toEqual({ code: POLICY_DENIED, reason, revision: 0 });
    }
    expect(h.upstream.everything!.calls.length).toBe(before.everything);
    expect(h.upstream.mirror!.calls.length).toBe(before.mirror);
  });

  it("an unknown tool is invalid params with reason unknown_tool, after the connector's own reasons (§7.15)", async () => {
    const before = h.upstream.everything!.calls.length;
    const chloe: Who = { member: 'm-chloe' };
    expect(await refusal(chloe, 'ws-research', 'everything__get-secrets')).toMatchObject({ code: -32602, reason: 'unknown_tool' });
    expect(await refusal(chloe, 'ws-research', 'everything__')).toMatchObject({ code: -32602, reason: 'unknown_tool' });
    expect(await refusal(chloe, 'ws-research', 'echo')).toMatchObject({ code: -32602, reason: 'unknown_connector' });
    expect(await refusal({ member: 'm-olga' }, 'ws-research', 'everything__get-secrets')).toMatchObject({ code: POLICY_DENIED, reason: 'no_product_access' });
    expect(h.upstream.everything!.calls.length).toBe(before);
  });

  it("an allowed call is forwarded once, by the upstream's own tool name, and its answer relayed", async () => {
    const before = h.upstream.everything!.calls.length;
    const echo = await as({ member: 'm-eve' }, 'ws-marketing', (client) => client.callTool({ name: 'everything__echo', arguments: { message: 'hello gateway' } }));
    expect(echo.content).toEqual([{ type: 'text', text: 'Echo: hello gateway' }]);
    const sum = await as({ key: 'k-marketing-bot' }, 'ws-marketing', (client) => client.callTool({ name: 'everything__get-sum', arguments: { a: 2, b: 3 } }));
    expect(sum.content).toEqual([{ type: 'text', text: 'The sum of 2 and 3 is 5.' }]);
    expect(h.upstream.everything!.calls.slice(before)).toEqual(['echo', 'get-sum']);
    const mirrored = await as({ key: 'k-research-ci' }, 'ws-research', (client) => client.callTool({ name: 'mirror__echo', arguments: { message: 'via key' } }));
    expect(mirrored.content).toEqual([{ type: 'text', text: 'Echo: via key' }]);
    expect(h.upstream.mirror!.calls.at(-1)).toBe('echo');
  });

  it("the upstream's own errors are relayed as JSON-RPC errors or tool errors, not gateway failures", async () => {
    const result = await as({ member: 'm-chloe' }, 'ws-research', async (client) => {
      try {
        return await client.callTool({ name: 'everything__get-sum', arguments: { a: 'two' } });
      } catch (error) {
        return error;
      }
    });
    expect(result instanceof Error || (result as { isError?: boolean }).isError === true).toBe(true);
  });

  it("options.now is the gateway's clock: a key is refused once its expiresAt has passed (key_expired)", async () => {
    h.skew = Date.parse('2030-01-01T00:00:00Z') - Date.now();
    expect(await listNames({ key: 'k-marketing-bot' }, 'ws-marketing')).toEqual([]);
    expect(await refusal({ key: 'k-marketing-bot' }, 'ws-marketing', 'everything__echo', { message: 'late' })).toMatchObject({ code: POLICY_DENIED, reason: 'key_expired' });
  });
});

describe('the snapshot is reloaded from disk, atomically', () => {
  it('a snapshot change on disk changes the next tools/list', async () => {
    expect(await listNames({ member: 'm-eve' }, 'ws-marketing')).toEqual(['everything__echo', 'everything__get-sum']);
    const changed = structuredClone(original);
    changed.revision = 1;
    changed.workspaces[1].connectorPermissions = [{ connectorId: 'c-everything', mode: 'restricted', tools: ['get-sum', 'get-tiny-image'] }];
    await h.writeSnapshot(changed);
    expect(await listNames({ member: 'm-eve' }, 'ws-marketing')).toEqual(predicted(changed, 'm-eve', 'ws-marketing'));
    expect(await listNames({ member: 'm-eve' }, 'ws-marketing')).toEqual(['everything__get-sum', 'everything__get-tiny-image']);
  });

  it('an invalid snapshot on disk is not loaded: the policy in force stays', async () => {
    const broken = structuredClone(original);
    broken.revision = 2;
    broken.connectors[1].capabilities = 'read_only';
    broken.connectors[0].tools.push({ name: 'echo', access: 'read' });
    await expect(h.writeSnapshot(broken)).rejects.toThrow(/snapshot refused/);
    expect(h.gateway.policy().revision).toBe(0);
    await expect(h.writeSnapshot('{ not json')).rejects.toThrow(/snapshot refused/);
    expect(await listNames({ member: 'm-eve' }, 'ws-marketing')).toEqual(['everything__echo', 'everything__get-sum']);
    expect(h.logs.filter((line) => line.startsWith('snapshot_refused revision=0 ')).length).toBeGreaterThanOrEqual(2);
  });

  it('a call in flight during a reload completes; the next call is decided by the new snapshot', async () => {
    await as({ member: 'm-chloe' }, 'ws-research', async (client) => {
      const calls = h.upstream.everything!.calls.length;
      const inFlight = client.callTool({ name: 'everything__trigger-long-running-operation', arguments: { duration: 1, steps: 2 } });
      await until(() => h.upstream.everything!.calls.length > calls);
      const blocked = structuredClone(original);
      blocked.revision = 3;
      blocked.connectorPermissions = [{ connectorId: 'c-everything', mode: 'blocked' }];
      await h.writeSnapshot(blocked);
      expect(JSON.stringify((await inFlight).content)).toContain('Long running operation completed');
      expect(await refusalOf(client.callTool({ name: 'everything__echo', arguments: { message: 'x' } }))).toEqual({ code: POLICY_DENIED, reason: 'connector_blocked', revision: 3 });
    });
  });
});

describe('malformed requests get a JSON-RPC error or a 4xx, never a 5xx, never a crash', () => {
  const post = async (body: string, headers: Record<string, string> = {}, workspace = 'ws-research') =>
    fetch(h.gateway.endpoint(workspace), { method: 'POST', headers: { ...MCP_HEADERS, ...(await credential({ member: 'm-eve' }, workspace)), ...headers }, body });
  const endpoint = () => h.gateway.endpoint('ws-research');

  it.each([
    ['invalid JSON', () => post('{"jsonrpc": "2.0", "id": 1,'), 400],
    ['not JSON-RPC', () => post('{"hello": "world"}'), 400],
    ['an id that is an object', () => post('{"jsonrpc":"2.0","id":{"x":1},"method":"tools/list"}'), 400],
    ['a wrong content type', () => post('{}', { 'content-type': 'text/plain' }), 415],
    ['no accepted media type', () => post('{"jsonrpc":"2.0","id":1,"method":"tools/list"}', { accept: 'text/html' }), 406],
    ['no credential at all', () => fetch(endpoint(), { method: 'POST', headers: MCP_HEADERS, body: '{}' }), 401],
    ['an Authorization that is not Bearer', () => fetch(endpoint(), { method: 'POST', headers: { ...MCP_HEADERS, authorization: 'Basic Zm9vOmJhcg==' }, body: '{}' }), 401],
    ['an unknown API key secret', () => fetch(endpoint(), { method: 'POST', headers: { ...MCP_HEADERS, ...bearer('not-a-key') }, body: '{}' }), 401],
    ['a bearer far too long', () => fetch(endpoint(), { method: 'POST', headers: { ...MCP_HEADERS, ...bearer('a'.repeat(9_000)) }, body: '{}' }), 401],
    ['GET without a session', () => fetch(endpoint(), { headers: { accept: 'text/event-stream', ...bearer(SECRETS['k-research-ci']) } }), 400],
    ['DELETE without a session', () => fetch(endpoint(), { method: 'DELETE', headers: bearer(SECRETS['k-research-ci']) }), 400],
    ['PUT on the endpoint', () => fetch(endpoint(), { method: 'PUT', headers: bearer(SECRETS['k-research-ci']) }), 405],
    ['another path', () => fetch(new URL('/admin', h.gateway.url), { method: 'POST', body: '{}' }), 404],
    ['the old single endpoint', () => fetch(new URL('/mcp', h.gateway.url), { method: 'POST', headers: MCP_HEADERS, body: '{}' }), 404],
    ['a workspace id that is not canonically encoded', () => fetch(`${h.gateway.url}/workspaces/ws%2Dresearch/mcp`, { method: 'POST', headers: MCP_HEADERS, body: '{}' }), 404],
    ['a browser origin that is not the gateway', () => post('{"jsonrpc":"2.0","id":1,"method":"tools/list"}', { origin: 'https://evil.example' }), 403],
  ])('%s', async (_case, send, status) => {
    const response = await send();
    expect(response.status).toBe(status);
    expect(response.headers.get(REVISION_HEADER)).toBe('0');
    const body = (await response.json()) as { jsonrpc?: string; error?: { code?: number; data?: { revision?: number } } };
    expect(body.jsonrpc).toBe('2.0');
    expect(typeof body.error?.code).toBe('number');
    expect(body.error?.data?.revision).toBe(0);
  });

  it('an unknown method and bad tools/call params are JSON-RPC errors (the SDK reports a params schema failure as -32603)', async () => {
    const unknown = await post('{"jsonrpc":"2.0","id":7,"method":"tools/destroy"}');
    expect(unknown.status).toBe(200);
    expect(await unknown.json()).toMatchObject({ id: 7, error: { code: -32601 } });
    const badParams = await post('{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":42}}');
    expect(badParams.status).toBeLessThan(500);
    expect(await badParams.json()).toMatchObject({ id: 8, error: { code: expect.any(Number) } });
  });

  it('garbage at the HTTP level and a flood of odd requests leave the gateway serving', async () => {
    const statuses = await Promise.all(
      [
        post('\u0000\u0001'.repeat(100)),
        post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: '__proto__', arguments: { constructor: 1 } } })),
        post(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'everything__echo', arguments: 'not an object' } })),
        post(JSON.stringify(Array.from({ length: 5 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'tools/list' })))),
        post('[]'),
        post('{}', { 'mcp-protocol-version': 'garbage' }),
        post('{}', { 'mcp-session-id': 'x'.repeat(5000) }),
      ].map((p) => p.then((r) => r.status)),
    );
    for (const status of statuses) expect(status).toBeLessThan(500);
    expect(await listNames({ member: 'm-eve' }, 'ws-marketing')).toEqual(['everything__echo', 'everything__get-sum']);
  });
});

describe('the log: one line per event, naming the revision; nothing a client sends can forge a line; no secret', () => {
  it('a tool name holding a newline, control characters and a lone surrogate stays on its own escaped line', async () => {
    const forged = 'everything__echo\nallowed revision=0 principal=member:m-ada via=token workspace=ws-research tool=everything__get-env\r\u0000\u2028\ud800';
    const before = h.logs.length;
    expect(await refusal({ member: 'm-eve' }, 'ws-marketing', forged)).toMatchObject({ reason: 'unknown_tool' });
    const lines = h.logs.slice(before).filter((line) => line.startsWith('refused'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^refused revision=0 principal=member:m-eve via=token workspace=ws-marketing tool="everything__echo\\u000aallowed revision=0 /);
    expect(lines[0]).toContain('\\u000d\\u0000\\u2028\\ud800');
    for (const line of h.logs) expect(line).not.toMatch(/[\u0000-\u001f\u2028\u2029]/);
  });

  it('a long value is cut, and the line says how much was left off', async () => {
    const before = h.logs.length;
    await refusal({ member: 'm-eve' }, 'ws-marketing', `everything__${'x'.repeat(10_000)}`);
    const [line] = h.logs.slice(before).filter((l) => l.startsWith('refused '));
    expect(line!.length).toBeLessThan(600);
    expect(line).toMatch(/…\(\+\d+\)/);
  });

  it('every line names the revision it was decided at; API key secrets and tokens never appear', async () => {
    const token = await h.token('chloe', 'ws-research');
    await withClient(h.gateway, 'ws-research', bearer(token), (client) => client.callTool({ name: 'everything__echo', arguments: { message: 'x' } }));
    await listNames({ key: 'k-research-ci' }, 'ws-research');
    await refusal({ key: 'k-research-ci' }, 'ws-research', 'everything__echo', { message: 'x' });
    await fetch(h.gateway.endpoint('ws-research'), { method: 'POST', headers: { ...MCP_HEADERS, ...bearer(`${token}x`) }, body: '{}' });
    const text = h.logs.join('\n');
    for (const line of h.logs) expect(line).toMatch(/^[a-z_]+ revision=\d+( |$)/);
    for (const secret of [...Object.values(SECRETS), token]) expect(text).not.toContain(secret);
    expect(text).not.toContain(token.split('.')[2]);
    expect(text).toContain('principal=api_key:k-research-ci');
    expect(text).toContain('reason=key_scope');
    expect(text).toContain('reason=bad_signature');
  });
});
