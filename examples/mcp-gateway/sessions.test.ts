/**
 * Sessions that cannot touch each other: each MCP session is bound to the principal and the endpoint
 * that opened it; request ids, cancellations, progress and notifications stay inside it (or, without a
 * session, inside the caller's own requests); a policy change tells exactly the sessions whose tool
 * list it changed. Driven over HTTP with the SDK client and with raw Streamable HTTP.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CallToolRequestSchema, LATEST_PROTOCOL_VERSION, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REQUEST_CANCELLED } from './transport.js';
import { bearer, listChanged, MCP_HEADERS, openRawSession, postMessage, RecordingTransport, SECRETS, startHarness, testSnapshot, until, type Harness } from './testing.js';

let h: Harness;
const original = testSnapshot();
const opened: { close(): Promise<void> }[] = [];

/**
 * An upstream the tests hold the clock of: `trigger-long-running-operation` reports its steps as
 * progress, then waits until the test releases it — or until the gateway cancels it, which it records.
 */
const toolListChanges = new Map<number, readonly string[]>();
const long = { waiting: 0, cancelled: 0, releases: [] as (() => void)[] };
const releaseAll = () => long.releases.splice(0).forEach((release) => release());
function controlledUpstream(): Transport {
  const [client, server] = InMemoryTransport.createLinkedPair();
  const upstream = new Server({ name: 'controlled', version: '1' }, { capabilities: { tools: {} } });
  const names = ['echo', 'get-sum', 'get-env', 'get-tiny-image', 'get-structured-content', 'trigger-long-running-operation', 'toggle-simulated-logging', 'toggle-subscriber-updates'];
  upstream.setRequestHandler(ListToolsRequestSchema, () => ({ tools: names.map((name) => ({ name, inputSchema: { type: 'object' as const } })) }));
  upstream.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const args = (request.params.arguments ?? {}) as { message?: string; steps?: number };
    if (request.params.name !== 'trigger-long-running-operation') return { content: [{ type: 'text' as const, text: `Echo: ${args.message}` }] };
    const token = request.params._meta?.progressToken;
    for (let step = 1; step <= (args.steps ?? 0); step++) {
      if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: step, total: args.steps } });
    }
    long.waiting++;
    await new Promise<void>((resolve) => {
      long.releases.push(resolve);
      extra.signal.addEventListener('abort', () => {
        long.cancelled++;
        resolve();
      });
    });
    long.waiting--;
    return { content: [{ type: 'text' as const, text: 'Long running operation completed' }] };
  });
  void upstream.connect(server);
  return client;
}

beforeAll(async () => {
  let recording: RecordingTransport | undefined;
  h = await startHarness({
    upstreams: new Map([
      ['c-everything', { transport: () => (recording = new RecordingTransport(controlledUpstream())) }],
      ['c-mirror', { transport: () => controlledUpstream() }],
    ]),
    gateway: { sessions: { maxSessionsPerPrincipal: 4 }, onToolListChanges: (changes, revision) => toolListChanges.set(revision, changes.notified) },
  });
  h.upstream.everything = recording!;
});

afterEach(async () => {
  releaseAll();
  for (const session of opened.splice(0)) await session.close().catch(() => undefined);
});

afterAll(async () => {
  await h?.close();
});

beforeEach(async () => {
  h.skew = 0;
  await h.writeSnapshot(original);
});

async function sdkClient(workspace: string, headers: Record<string, string>): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'sessions-test', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(h.gateway.endpoint(workspace)), { requestInit: { headers } });
  await client.connect(transport);
  opened.push({ close: async () => (await transport.terminateSession(), await client.close()) });
  return { client, transport };
}

const post = (workspace: string, headers: Record<string, string>, message: object, sessionId?: string) => postMessage(h.gateway, workspace, headers, message, sessionId);
const rawSession = async (workspace: string, headers: Record<string, string>) => {
  const session = await openRawSession(h.gateway, workspace, headers);
  opened.push(session);
  return session;
};

describe('a session is bound to the principal and the endpoint that opened it', () => {
  it("another principal's request with a session id is refused as if the session did not exist; the owner's keeps working", async () => {
    const chloe = await sdkClient('ws-research', bearer(await h.token('chloe', 'ws-research')));
    const sessionId = chloe.transport.sessionId!;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const eve = bearer(await h.token('eve', 'ws-research'));
    const list = { id: 1, method: 'tools/list' };
    const attempts = [
      await post('ws-research', eve, list, sessionId),
      await post('ws-research', bearer(SECRETS['k-research-ci']), list, sessionId),
      await fetch(h.gateway.endpoint('ws-research'), { headers: { ...eve, accept: 'text/event-stream', 'mcp-session-id': sessionId } }),
      await fetch(h.gateway.endpoint('ws-research'), { method: 'DELETE', headers: { ...eve, 'mcp-session-id': sessionId } }),
      // Chloe herself, at another workspace's endpoint: a session belongs to one endpoint.
      await post('ws-marketing', bearer(await h.token('chloe', 'ws-marketing')), list, sessionId),
      await post('ws-research', eve, list, '00000000-0000-4000-8000-000000000000'),
    ];
    for (const response of attempts) {
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: { message: 'Session not found', data: { reason: 'session_not_found', revision: 0 } } });
    }
    expect((await chloe.client.listTools()).tools.length).toBe(9);
    expect(h.logs.filter((line) => line.startsWith('refused_request revision=0 status=404 reason=session_not_found principal=member:m-eve')).length).toBeGreaterThanOrEqual(3);
  });

  it('the session outlives the token that opened it: the same principal with a fresh token continues it', async () => {
    const first = await rawSession('ws-research', bearer(await h.token('eve', 'ws-research')));
    const response = await post('ws-research', bearer(await h.token('eve', 'ws-research')), { id: 9, method: 'tools/list' }, first.id);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: 9, result: { tools: expect.any(Array) } });
  });

  it('DELETE ends it for its owner; initialize never joins an existing session; past the per-principal cap the oldest closes', async () => {
    const eve = bearer(await h.token('eve', 'ws-marketing'));
    const session = await rawSession('ws-marketing', eve);
    const again = await post('ws-marketing', eve, { id: 1, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'x', version: '1' } } }, session.id);
    expect(again.status).toBe(400);
    expect((await fetch(h.gateway.endpoint('ws-marketing'), { method: 'DELETE', headers: { ...eve, 'mcp-session-id': session.id } })).status).toBe(204);
    expect((await post('ws-marketing', eve, { id: 2, method: 'tools/list' }, session.id)).status).toBe(404);
    await until(session.ended);

    const sessions = [];
    for (let i = 0; i < 5; i++) sessions.push(await rawSession('ws-marketing', eve));
    expect((await post('ws-marketing', eve, { id: 3, method: 'tools/list' }, sessions[0]!.id)).status).toBe(404);
    for (const kept of sessions.slice(1)) expect((await post('ws-marketing', eve, { id: 4, method: 'tools/list' }, kept.id)).status).toBe(200);
  });
});

describe("the cancellation attack, replayed: no caller can cancel another caller's call", () => {
  const LONG = { name: 'everything__trigger-long-running-operation', arguments: { steps: 0 } };
  const cancel = (requestId: number) => ({ method: 'notifications/cancelled', params: { requestId, reason: 'attack' } });
  const cancellationsUpstream = () => h.upstream.everything!.methods.filter((m) => m === 'notifications/cancelled').length;

  it("a made-up member, another member sessionless, in her own session, and with the victim's session id: chloe's call completes", async () => {
    const chloe = await sdkClient('ws-research', bearer(await h.token('chloe', 'ws-research')));
    const before = { cancelled: long.cancelled, upstream: cancellationsUpstream() };
    const victim = chloe.client.callTool(LONG);
    await until(() => long.waiting === 1);

    const mallory = bearer(await h.token('mallory', 'ws-research'));
    const eve = bearer(await h.token('eve', 'ws-research'));
    const eveSession = await rawSession('ws-research', eve);
    const statuses = new Map<number, number>();
    const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
    for (let id = 1; id <= 400; id++) {
      count((await post('ws-research', mallory, cancel(id))).status);
      count((await post('ws-research', eve, cancel(id))).status);
      count((await post('ws-research', eve, cancel(id), eveSession.id)).status);
      count((await post('ws-research', eve, cancel(id), chloe.transport.sessionId)).status);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 401: 400, 202: 800, 404: 400 });
    expect(long.cancelled).toBe(before.cancelled);
    expect(long.waiting).toBe(1);

    releaseAll();
    expect(JSON.stringify((await victim).content)).toContain('Long running operation completed');
    expect(cancellationsUpstream()).toBe(before.upstream);
  });

  it("without sessions too: another member's cancellations for every id leave chloe's sessionless call alone; her own cancel reaches it", async () => {
    const chloe = bearer(await h.token('chloe', 'ws-research'));
    const eve = bearer(await h.token('eve', 'ws-research'));
    const before = { cancelled: long.cancelled, upstream: cancellationsUpstream() };
    const victim = post('ws-research', chloe, { id: 1, method: 'tools/call', params: LONG });
    await until(() => long.waiting === 1);
    for (let id = 1; id <= 400; id++) expect((await post('ws-research', eve, cancel(id))).status).toBe(202);
    expect(long.cancelled).toBe(before.cancelled);
    releaseAll();
    const answer = (await (await victim).json()) as { id: number; result?: { content: unknown } };
    expect(answer.id).toBe(1);
    expect(JSON.stringify(answer.result?.content)).toContain('Long running operation completed');
    expect(cancellationsUpstream()).toBe(before.upstream);

    // The control: the caller's own cancellation, sessionless, names her own id and reaches her own call, upstream included.
    const mine = post('ws-research', chloe, { id: 7, method: 'tools/call', params: LONG });
    await until(() => long.waiting === 1);
    expect((await post('ws-research', chloe, cancel(7))).status).toBe(202);
    expect(await (await mine).json()).toMatchObject({ id: 7, error: { code: REQUEST_CANCELLED } });
    await until(() => long.cancelled === before.cancelled + 1);
    expect(cancellationsUpstream()).toBe(before.upstream + 1);
  });

  it('a client that hangs up cancels its own call, upstream included', async () => {
    const before = { cancelled: long.cancelled, upstream: cancellationsUpstream() };
    const hangUp = new AbortController();
    const pending = fetch(h.gateway.endpoint('ws-research'), {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...bearer(await h.token('chloe', 'ws-research')) },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: LONG }),
      signal: hangUp.signal,
    }).catch(() => 'hung up');
    await until(() => long.waiting === 1);
    hangUp.abort();
    expect(await pending).toBe('hung up');
    await until(() => long.cancelled === before.cancelled + 1);
    expect(cancellationsUpstream()).toBe(before.upstream + 1);
  });

  it('two sessions reusing the same request ids get their own answers', async () => {
    const chloe = bearer(await h.token('chloe', 'ws-research'));
    const eve = bearer(await h.token('eve', 'ws-research'));
    const [a, b] = [await rawSession('ws-research', chloe), await rawSession('ws-research', eve)];
    const echo = (headers: Record<string, string>, sessionId: string, message: string) =>
      post('ws-research', headers, { id: 1, method: 'tools/call', params: { name: 'everything__echo', arguments: { message } } }, sessionId).then((r) => r.json());
    expect(await Promise.all([echo(chloe, a.id, 'for chloe'), echo(eve, b.id, 'for eve')])).toEqual([
      { jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'Echo: for chloe' }] } },
      { jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'Echo: for eve' }] } },
    ]);
  });
});

describe('progress goes to the request that asked for it, on its own stream', () => {
  it("chloe's progress arrives on her call's stream; eve's session hears nothing of it", async () => {
    const chloe = await sdkClient('ws-research', bearer(await h.token('chloe', 'ws-research')));
    const eve = await rawSession('ws-research', bearer(await h.token('eve', 'ws-research')));
    const progress: number[] = [];
    const call = chloe.client.callTool({ name: 'everything__trigger-long-running-operation', arguments: { steps: 3 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    await until(() => long.waiting === 1);
    releaseAll();
    const result = await call;
    expect(JSON.stringify(result.content)).toContain('Long running operation completed');
    expect(progress).toEqual([1, 2, 3]);
    // A change that alters eve's tools is written to her stream after anything sent there before it.
    const marker = structuredClone(original);
    marker.revision = 1;
    marker.connectors[0].name = 'everything-renamed';
    await h.writeSnapshot(marker);
    await until(() => listChanged(eve) === 1);
    expect(eve.methods).toEqual(['notifications/tools/list_changed']);
  });
});

describe('notifications/tools/list_changed goes to exactly the sessions whose tool list a change altered', () => {
  it('computed per session from the policy before and after each change, and to no other session', async () => {
    const eveMarketing = await rawSession('ws-marketing', bearer(await h.token('eve', 'ws-marketing')));
    const eveMarketingAgain = await rawSession('ws-marketing', bearer(await h.token('eve', 'ws-marketing')));
    const eveResearch = await rawSession('ws-research', bearer(await h.token('eve', 'ws-research')));
    const chloe = await rawSession('ws-research', bearer(await h.token('chloe', 'ws-research')));
    const key = await rawSession('ws-research', bearer(SECRETS['k-research-ci']));
    const olga = await rawSession('ws-research', bearer(await h.token('olga', 'ws-research')));
    const all = [eveMarketing, eveMarketingAgain, eveResearch, chloe, key, olga];
    const reported: string[][] = [];

    // 1. Nothing any tool list depends on: a member's email.
    const quiet = structuredClone(original);
    quiet.revision = 1;
    quiet.members.find((m: { id: string }) => m.id === 'm-dave').email = 'dave@elsewhere.test';
    // 2. Marketing narrows c-everything to echo: only eve's lists at Marketing change.
    const narrowed = structuredClone(quiet);
    narrowed.revision = 2;
    narrowed.workspaces[1].connectorPermissions[0].tools = ['echo'];
    // 3. The marker: a change that alters every session's list, so its arrival everywhere shows the earlier ones have all arrived.
    const everyone = structuredClone(narrowed);
    everyone.revision = 3;
    everyone.connectors[0].name = 'everything-b';
    everyone.connectors[1].name = 'mirror-b';
    everyone.workspaces[0].members.find((m: { memberId: string }) => m.memberId === 'm-olga').roles = ['user'];

    for (const json of [quiet, narrowed, everyone]) {
      const from = h.logs.length;
      await h.writeSnapshot(json);
      reported.push(h.logs.slice(from).filter((line) => line.startsWith(`policy_changed revision=${json.revision} `)));
    }
    // The marker is the last thing written to every stream: once each has it, each has all it will get.
    for (const session of all) await until(() => session.methods.length > 0 && listChanged(session) >= (session === eveMarketing || session === eveMarketingAgain ? 2 : 1));
    expect(all.map(listChanged)).toEqual([2, 2, 1, 1, 1, 1]);
    expect(reported.map((lines) => lines[0]?.match(/notified=(\d+)/)?.[1])).toEqual(['0', '2', '6']);
    expect([...toolListChanges.get(2)!].sort()).toEqual([eveMarketing.id, eveMarketingAgain.id].sort());
    expect([...toolListChanges.get(3)!].sort()).toEqual(all.map((session) => session.id).sort());
  });

  it('a session whose principal is gone closes: a removed key, a member id that now names someone else', async () => {
    const key = await rawSession('ws-research', bearer(SECRETS['k-research-ci']));
    const dave = await rawSession('ws-research', bearer(await h.token('dave', 'ws-research')));
    const eve = await rawSession('ws-research', bearer(await h.token('eve', 'ws-research')));
    const changed = structuredClone(original);
    changed.revision = 1;
    changed.apiKeys = changed.apiKeys.filter((k: { id: string }) => k.id !== 'k-research-ci');
    changed.members.find((m: { id: string }) => m.id === 'm-dave').externalId = 'dave-the-second';
    await h.writeSnapshot(changed);
    await until(() => key.ended() && dave.ended());
    expect(eve.ended()).toBe(false);
    expect((await post('ws-research', bearer(await h.token('dave-the-second', 'ws-research')), { id: 1, method: 'tools/list' }, dave.id)).status).toBe(404);
  });
});
