/**
 * The MCP gateway driven as a client would: the official MCP SDK client over Streamable HTTP on a
 * loopback port, with `@modelcontextprotocol/server-everything` (a real MCP server no one here wrote)
 * as two upstream connectors over stdio.
 */
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import { McpError, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { createPolicy } from 'org-policy';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { POLICY_DENIED, SEPARATOR, startGateway, type Gateway } from './gateway.js';
import { hashSecret } from './principal.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const EVERYTHING = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url));
const SECRETS = { 'k-research-ci': 'test-secret-research-ci', 'k-marketing-bot': 'test-secret-marketing', 'k-revoked': 'test-secret-revoked' } as const;
const MEMBERS = ['m-ada', 'm-chloe', 'm-dave', 'm-eve', 'm-finn', 'm-olga', 'm-nobody'];
const WORKSPACES = ['ws-research', 'ws-marketing', 'ws-nowhere'];

/** Wraps an upstream's transport and records every tools/call the gateway sends it: what the upstream sees. */
class RecordingTransport implements Transport {
  readonly calls: string[] = [];
  readonly methods: string[] = [];
  constructor(private readonly inner: Transport) {}
  set onmessage(handler: Transport['onmessage']) {
    this.inner.onmessage = handler;
  }
  get onmessage() {
    return this.inner.onmessage;
  }
  set onclose(handler: Transport['onclose']) {
    this.inner.onclose = handler;
  }
  get onclose() {
    return this.inner.onclose;
  }
  set onerror(handler: Transport['onerror']) {
    this.inner.onerror = handler;
  }
  get onerror() {
    return this.inner.onerror;
  }
  start() {
    return this.inner.start();
  }
  send(message: JSONRPCMessage, options?: TransportSendOptions) {
    if ('method' in message) this.methods.push(message.method);
    if ('method' in message && message.method === 'tools/call') this.calls.push(String((message.params as { name?: unknown } | undefined)?.name));
    return this.inner.send(message, options);
  }
  close() {
    return this.inner.close();
  }
}

let directory: string;
let snapshotPath: string;
let gateway: Gateway;
let clock = Date.parse('2026-06-01T00:00:00Z');
const logs: string[] = [];
const upstream = { everything: undefined as RecordingTransport | undefined, mirror: undefined as RecordingTransport | undefined };
const original = JSON.parse(readFileSync(here('./snapshot.json'), 'utf8')) as Record<string, any>; // raw JSON, edited by the reload tests

const stdio = () => new StdioClientTransport({ command: process.execPath, args: [EVERYTHING, 'stdio'], stderr: 'ignore' });

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'mcp-gateway-'));
  snapshotPath = join(directory, 'snapshot.json');
  copyFileSync(here('./snapshot.json'), snapshotPath);
  gateway = await startGateway({
    snapshotPath,
    upstreams: new Map([
      ['c-everything', { transport: () => (upstream.everything = new RecordingTransport(stdio())) }],
      ['c-mirror', { transport: () => (upstream.mirror = new RecordingTransport(stdio())) }],
    ]),
    apiKeys: Object.entries(SECRETS).map(([keyId, secret]) => ({ keyId, sha256: hashSecret(secret) })),
    port: 0,
    now: () => clock,
    log: (line) => logs.push(line),
  });
});

afterAll(async () => {
  await gateway?.close();
  rmSync(directory, { recursive: true, force: true });
});

/** Atomic replacement, as a deployment tool would write it. */
function writeSnapshot(json: unknown) {
  const temporary = join(directory, 'snapshot.json.next');
  writeFileSync(temporary, JSON.stringify(json));
  renameSync(temporary, snapshotPath);
}

type Who = { member: string; workspace: string } | { key: keyof typeof SECRETS };
const headersOf = (who: Who): Record<string, string> =>
  'key' in who ? { authorization: `Bearer ${SECRETS[who.key]}` } : { 'x-org-member': who.member, 'x-org-workspace': who.workspace };

async function withClient<T>(who: Who, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ name: 'gateway-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: headersOf(who) } }));
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

const listNames = (who: Who) => withClient(who, async (client) => (await client.listTools()).tools.map((t) => t.name));

/** What toolsAvailable predicts for a principal, from the snapshot alone, namespaced as the gateway names tools. */
function predicted(json: unknown, principal: string, workspace: string): string[] {
  const policy = createPolicy(json);
  return [...policy.organization.connectors.values()].flatMap((c) => policy.toolsAvailable(principal, c.id, workspace, { now: clock }).map((tool) => `${c.name}${SEPARATOR}${tool}`));
}

async function refusal(who: Who, name: string, args: Record<string, unknown> = {}): Promise<{ code: number; reason: unknown }> {
  return withClient(who, async (client) => {
    try {
      await client.callTool({ name, arguments: args });
    } catch (error) {
      if (error instanceof McpError) return { code: error.code, reason: (error.data as { reason?: unknown } | undefined)?.reason };
      throw error;
    }
    throw new Error(`${name} was not refused`);
  });
}

beforeEach(async () => {
  clock = Date.parse('2026-06-01T00:00:00Z');
  writeSnapshot(original);
  expect(await gateway.reload()).toEqual({ ok: true, revision: 0 });
});

describe('tools/list is exactly what toolsAvailable allows, per principal and workspace', () => {
  it('every member in every workspace sees the tools toolsAvailable predicts', async () => {
    for (const member of MEMBERS) {
      for (const workspace of WORKSPACES) expect(await listNames({ member, workspace })).toEqual(predicted(original, member, workspace));
    }
  });

  it('every API key sees the tools toolsAvailable predicts in its own workspace', async () => {
    expect(await listNames({ key: 'k-research-ci' })).toEqual(predicted(original, 'k-research-ci', 'ws-research'));
    expect(await listNames({ key: 'k-marketing-bot' })).toEqual(predicted(original, 'k-marketing-bot', 'ws-marketing'));
    expect(await listNames({ key: 'k-revoked' })).toEqual([]);
  });

  it('the lists differ as the snapshot says: restricted in Marketing, blocked mirror there, no product access for an observer', async () => {
    expect(await listNames({ member: 'm-eve', workspace: 'ws-marketing' })).toEqual(['everything__echo', 'everything__get-sum']);
    expect(await listNames({ member: 'm-eve', workspace: 'ws-research' })).toContain('mirror__echo');
    expect(await listNames({ member: 'm-olga', workspace: 'ws-research' })).toEqual([]);
    expect(await listNames({ key: 'k-research-ci' })).toEqual(['mirror__echo', 'mirror__get-sum']);
  });

  it("tools carry the upstream's own description and input schema, under a name that cannot clash across connectors", async () => {
    const tools = await withClient({ member: 'm-chloe', workspace: 'ws-research' }, async (client) => (await client.listTools()).tools);
    const echoes = tools.filter((t) => t.name.endsWith('__echo'));
    expect(echoes.map((t) => t.name)).toEqual(['everything__echo', 'mirror__echo']);
    for (const echo of echoes) expect(echo.inputSchema.properties).toHaveProperty('message');
  });
});

describe('tools/call: refused calls never reach the upstream; allowed ones return its real answer', () => {
  it('a refused call is an MCP error carrying the explainInvoke reason, and the upstream sees no call', async () => {
    const before = { everything: upstream.everything!.calls.length, mirror: upstream.mirror!.calls.length };
    const cases: [Who, string, string][] = [
      [{ member: 'm-eve', workspace: 'ws-marketing' }, 'everything__get-env', 'tool_not_selected'],
      [{ member: 'm-chloe', workspace: 'ws-research' }, 'everything__toggle-subscriber-updates', 'tool_not_selected'],
      [{ member: 'm-eve', workspace: 'ws-marketing' }, 'mirror__echo', 'not_visible'],
      [{ member: 'm-olga', workspace: 'ws-research' }, 'everything__echo', 'no_product_access'],
      [{ member: 'm-finn', workspace: 'ws-research' }, 'everything__echo', 'suspended'],
      [{ member: 'm-nobody', workspace: 'ws-research' }, 'everything__echo', 'unknown_principal'],
      [{ member: 'm-eve', workspace: 'ws-nowhere' }, 'everything__echo', 'unknown_workspace'],
      [{ key: 'k-research-ci' }, 'everything__echo', 'key_scope'],
      [{ key: 'k-revoked' }, 'mirror__echo', 'key_revoked'],
      [{ key: 'k-marketing-bot' }, 'everything__get-env', 'tool_not_selected'],
    ];
    for (const [who, tool, reason] of cases) {
      const policy = gateway.policy();
      const connector = tool.split(SEPARATOR)[0] === 'mirror' ? 'c-mirror' : 'c-everything';
      const principal = 'key' in who ? who.key : who.member;
      const workspace = 'key' in who ? policy.organization.apiKeys.get(who.key)!.workspaceId : who.workspace;
      expect(policy.explainInvoke(principal, connector, tool.split(SEPARATOR)[1]!, workspace, { now: clock }).reason).toBe(reason);
      expect(await refusal(who, tool, { message: 'must not pass' })).toEqual({ code: POLICY_DENIED, reason });
    }
    expect(upstream.everything!.calls.length).toBe(before.everything);
    expect(upstream.mirror!.calls.length).toBe(before.mirror);
  });

  it('an unknown tool is invalid params with reason unknown_tool, after the connector\'s own reasons (§7.15)', async () => {
    const before = upstream.everything!.calls.length;
    expect(await refusal({ member: 'm-chloe', workspace: 'ws-research' }, 'everything__get-secrets')).toEqual({ code: -32602, reason: 'unknown_tool' });
    expect(await refusal({ member: 'm-chloe', workspace: 'ws-research' }, 'everything__')).toEqual({ code: -32602, reason: 'unknown_tool' });
    expect(await refusal({ member: 'm-chloe', workspace: 'ws-research' }, 'echo')).toEqual({ code: -32602, reason: 'unknown_connector' });
    expect(await refusal({ member: 'm-olga', workspace: 'ws-research' }, 'everything__get-secrets')).toEqual({ code: POLICY_DENIED, reason: 'no_product_access' });
    expect(upstream.everything!.calls.length).toBe(before);
  });

  it("an allowed call is forwarded once, by the upstream's own tool name, and its answer relayed", async () => {
    const before = upstream.everything!.calls.length;
    const echo = await withClient({ member: 'm-eve', workspace: 'ws-marketing' }, (client) => client.callTool({ name: 'everything__echo', arguments: { message: 'hello gateway' } }));
    expect(echo.content).toEqual([{ type: 'text', text: 'Echo: hello gateway' }]);
    const sum = await withClient({ key: 'k-marketing-bot' }, (client) => client.callTool({ name: 'everything__get-sum', arguments: { a: 2, b: 3 } }));
    expect(sum.content).toEqual([{ type: 'text', text: 'The sum of 2 and 3 is 5.' }]);
    expect(upstream.everything!.calls.slice(before)).toEqual(['echo', 'get-sum']);
    const mirrored = await withClient({ key: 'k-research-ci' }, (client) => client.callTool({ name: 'mirror__echo', arguments: { message: 'via key' } }));
    expect(mirrored.content).toEqual([{ type: 'text', text: 'Echo: via key' }]);
    expect(upstream.mirror!.calls.at(-1)).toBe('echo');
  });

  it("the upstream's own errors are relayed as JSON-RPC errors or tool errors, not gateway failures", async () => {
    const result = await withClient({ member: 'm-chloe', workspace: 'ws-research' }, async (client) => {
      try {
        return await client.callTool({ name: 'everything__get-sum', arguments: { a: 'two' } });
      } catch (error) {
        return error;
      }
    });
    expect(result instanceof McpError || (result as { isError?: boolean }).isError === true).toBe(true);
  });

  it("options.now is the gateway's clock: a key is refused once its expiresAt has passed (key_expired)", async () => {
    clock = Date.parse('2030-01-01T00:00:00Z');
    expect(await listNames({ key: 'k-marketing-bot' })).toEqual([]);
    expect(await refusal({ key: 'k-marketing-bot' }, 'everything__echo', { message: 'late' })).toEqual({ code: POLICY_DENIED, reason: 'key_expired' });
  });
});

describe('the snapshot is reloaded from disk, atomically', () => {
  it('a snapshot change on disk changes the next tools/list', async () => {
    const who = { member: 'm-eve', workspace: 'ws-marketing' };
    expect(await listNames(who)).toEqual(['everything__echo', 'everything__get-sum']);
    const changed = structuredClone(original);
    changed.revision = 1;
    changed.workspaces[1].connectorPermissions = [{ connectorId: 'c-everything', mode: 'restricted', tools: ['get-sum', 'get-tiny-image'] }];
    writeSnapshot(changed);
    const deadline = Date.now() + 10_000;
    while (gateway.policy().organization.revision !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await listNames(who)).toEqual(predicted(changed, 'm-eve', 'ws-marketing'));
    expect(await listNames(who)).toEqual(['everything__get-sum', 'everything__get-tiny-image']);
  });

  it('an invalid snapshot on disk is not loaded: the policy in force stays', async () => {
    const broken = structuredClone(original);
    broken.revision = 2;
    broken.connectors[1].capabilities = 'read_only';
    broken.connectors[0].tools.push({ name: 'echo', access: 'read' });
    writeSnapshot(broken);
    const result = await gateway.reload();
    expect(result.ok).toBe(false);
    expect(gateway.policy().organization.revision).toBe(0);
    writeSnapshot('{ not json');
    expect((await gateway.reload()).ok).toBe(false);
    expect(await listNames({ member: 'm-eve', workspace: 'ws-marketing' })).toEqual(['everything__echo', 'everything__get-sum']);
  });

  it('a call in flight during a reload completes; the next call is decided by the new snapshot', async () => {
    const who = { member: 'm-chloe', workspace: 'ws-research' };
    await withClient(who, async (client) => {
      const inFlight = client.callTool({ name: 'everything__trigger-long-running-operation', arguments: { duration: 1, steps: 2 } });
      await new Promise((r) => setTimeout(r, 200));
      const blocked = structuredClone(original);
      blocked.revision = 3;
      blocked.connectorPermissions = [{ connectorId: 'c-everything', mode: 'blocked' }];
      writeSnapshot(blocked);
      expect(await gateway.reload()).toEqual({ ok: true, revision: 3 });
      const done = await inFlight;
      expect(JSON.stringify(done.content)).toContain('Long running operation completed');
    });
    expect(await refusal(who, 'everything__echo', { message: 'x' })).toEqual({ code: POLICY_DENIED, reason: 'connector_blocked' });
  });
});

describe('malformed requests get a JSON-RPC error or a 4xx, never a 5xx, never a crash', () => {
  const member = { 'x-org-member': 'm-eve', 'x-org-workspace': 'ws-research' };
  const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(gateway.url, { method: 'POST', headers: { ...mcpHeaders, ...member, ...headers }, body });

  it.each([
    ['invalid JSON', () => post('{"jsonrpc": "2.0", "id": 1,'), 400],
    ['not JSON-RPC', () => post('{"hello": "world"}'), 400],
    ['an id that is an object', () => post('{"jsonrpc":"2.0","id":{"x":1},"method":"tools/list"}'), 400],
    ['a wrong content type', () => post('{}', { 'content-type': 'text/plain' }), 415],
    ['no accepted media type', () => post('{"jsonrpc":"2.0","id":1,"method":"tools/list"}', { accept: 'text/html' }), 406],
    ['no principal at all', () => fetch(gateway.url, { method: 'POST', headers: mcpHeaders, body: '{}' }), 401],
    ['a member without a workspace', () => fetch(gateway.url, { method: 'POST', headers: { ...mcpHeaders, 'x-org-member': 'm-eve' }, body: '{}' }), 400],
    ['an Authorization that is not Bearer', () => fetch(gateway.url, { method: 'POST', headers: { ...mcpHeaders, authorization: 'Basic Zm9vOmJhcg==' }, body: '{}' }), 401],
    ['an unknown API key secret', () => fetch(gateway.url, { method: 'POST', headers: { ...mcpHeaders, authorization: 'Bearer not-a-key' }, body: '{}' }), 401],
    ['a key and member headers together', () => post('{}', { authorization: `Bearer ${SECRETS['k-research-ci']}` }), 400],
    ['an id far too long in a header', () => post('{}', { 'x-org-member': 'm'.repeat(5000) }), 400],
    ['GET on the endpoint', () => fetch(gateway.url, { headers: member }), 405],
    ['DELETE on the endpoint', () => fetch(gateway.url, { method: 'DELETE', headers: member }), 405],
    ['another path', () => fetch(new URL('/admin', gateway.url), { method: 'POST', body: '{}' }), 404],
  ])('%s', async (_case, send, status) => {
    const response = await send();
    expect(response.status).toBe(status);
    const body = (await response.json()) as { jsonrpc?: string; error?: { code?: number } };
    expect(body.jsonrpc).toBe('2.0');
    expect(typeof body.error?.code).toBe('number');
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
    const statuses = await Promise.all([
      post('\u0000\u0001'.repeat(100)),
      post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: '__proto__', arguments: { constructor: 1 } } })),
      post(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'everything__echo', arguments: 'not an object' } })),
      post(JSON.stringify(Array.from({ length: 5 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'tools/list' })))),
      post('{}', { 'x-org-workspace': '' }),
      post('[]'),
      post('{}', { 'mcp-protocol-version': 'garbage' }),
    ].map((p) => p.then((r) => r.status)));
    for (const status of statuses) expect(status).toBeLessThan(500);
    expect(await listNames({ member: 'm-eve', workspace: 'ws-marketing' })).toEqual(['everything__echo', 'everything__get-sum']);
  });
});

describe('secrets and hang-ups', () => {
  it('API key secrets never appear in the log; key ids and reasons do', async () => {
    await listNames({ key: 'k-research-ci' });
    await refusal({ key: 'k-research-ci' }, 'everything__echo', { message: 'x' });
    await withClient({ key: 'k-research-ci' }, (client) => client.callTool({ name: 'mirror__echo', arguments: { message: 'x' } }));
    const text = logs.join('\n');
    for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
    expect(text).toContain('k-research-ci');
    expect(text).toContain('key_scope');
  });

  it('a client that hangs up cancels its call upstream', async () => {
    const before = upstream.everything!.methods.filter((m) => m === 'notifications/cancelled').length;
    const callsBefore = upstream.everything!.calls.length;
    const hangUp = new AbortController();
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'everything__trigger-long-running-operation', arguments: { duration: 5, steps: 5 } } });
    const pending = fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'x-org-member': 'm-chloe', 'x-org-workspace': 'ws-research' },
      body,
      signal: hangUp.signal,
    }).catch(() => 'aborted');
    const deadline = Date.now() + 5_000;
    while (upstream.everything!.calls.length === callsBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(upstream.everything!.calls.slice(callsBefore)).toEqual(['trigger-long-running-operation']);
    hangUp.abort();
    expect(await pending).toBe('aborted');
    while (upstream.everything!.methods.filter((m) => m === 'notifications/cancelled').length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(upstream.everything!.methods.filter((m) => m === 'notifications/cancelled').length).toBe(before + 1);
  });
});
