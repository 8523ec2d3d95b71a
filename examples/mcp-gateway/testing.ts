/**
 * What the gateway's tests share: a real authorization server (the development issuer, on loopback,
 * with a signing key the tests also hold so they can forge tokens precisely), the gateway in front of
 * real upstream MCP servers, and clients that reach it over HTTP as any MCP client would.
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CallToolRequestSchema, LATEST_PROTOCOL_VERSION, ListToolsRequestSchema, McpError, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import { generateSigningKey, startDevIssuer, TOOLS_SCOPE, type DevIssuer } from './dev-issuer.js';
import { startGateway, type Gateway, type GatewayOptions } from './gateway.js';
import { sha256 } from './identity.js';
import type { UpstreamSpec } from './upstreams.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
export const EVERYTHING = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url));

/** The API keys' secrets in the tests' copy of the snapshot (the bundled one holds the dev secrets' hashes). */
export const SECRETS = { 'k-research-ci': 'test-secret-research-ci-0123456789abcdef', 'k-marketing-bot': 'test-secret-marketing-0123456789abcdef', 'k-revoked': 'test-secret-revoked-0123456789abcdef' } as const;
export const REDIRECT_URI = 'http://127.0.0.1:1/callback';
export const BOT = { id: 'acme-build-bot', secret: 'test-secret-build-bot-0123456789abcdef' } as const;
export const USERS = ['ada', 'chloe', 'dave', 'eve', 'finn', 'olga'].map((login) => ({ login }));
export const CLIENTS: ClientMetadata[] = [
  { client_id: 'mcp-demo', application_type: 'native', token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: [REDIRECT_URI] },
  { client_id: BOT.id, client_secret: BOT.secret, token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'], response_types: [], redirect_uris: [] },
];

/** The bundled snapshot, as raw JSON, with the tests' key secrets. */
export function testSnapshot(): Record<string, any> {
  const json = JSON.parse(readFileSync(here('./snapshot.json'), 'utf8')) as Record<string, any>;
  for (const key of json.apiKeys as { id: keyof typeof SECRETS; secrets?: unknown }[]) key.secrets = [{ sha256: sha256(SECRETS[key.id]).toString('hex') }];
  return json;
}

/** Wraps an upstream's transport and records every tools/call the gateway sends it: what the upstream sees. */
export class RecordingTransport implements Transport {
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

export const stdio = () => new StdioClientTransport({ command: process.execPath, args: [EVERYTHING, 'stdio'], stderr: 'ignore' });

/** An upstream MCP server over Streamable HTTP that answers `echo` and records the headers of every request it gets. */
export async function httpUpstream(): Promise<{ url: string; headers: IncomingHttpHeaders[]; close: () => Promise<void> }> {
  const headers: IncomingHttpHeaders[] = [];
  const http = createServer(async (req, res) => {
    headers.push(req.headers);
    const server = new Server({ name: 'http-upstream', version: '1' }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [{ name: 'echo', inputSchema: { type: 'object' as const } }, { name: 'get-sum', inputSchema: { type: 'object' as const } }] }));
    server.setRequestHandler(CallToolRequestSchema, (request) => ({ content: [{ type: 'text' as const, text: `Echo: ${String((request.params.arguments as { message?: unknown } | undefined)?.message)}` }] }));
    const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
    res.on('close', () => void Promise.all([transport.close(), server.close()]));
    await server.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((ready) => http.listen(0, '127.0.0.1', ready));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    headers,
    close: async () => {
      http.closeAllConnections();
      await new Promise<void>((done) => http.close(() => done()));
    },
  };
}

export interface Harness {
  readonly issuer: DevIssuer;
  readonly gateway: Gateway;
  readonly logs: string[];
  readonly upstream: { everything?: RecordingTransport; mirror?: RecordingTransport };
  /** Milliseconds added to the real clock, for the gateway's decisions and token checks. */
  skew: number;
  now(): number;
  /** A token signed with the issuer's own key: `sub`, for `workspace`'s endpoint, `mcp:tools`, valid 5 minutes; `claims` override. */
  token(sub: string, workspace: string, claims?: JWTPayload, header?: Record<string, unknown>): Promise<string>;
  /** The issuer's signing key (private JWK), for tests that forge. */
  readonly signingKey: JWK;
  /** Replaces the snapshot file atomically and waits until the gateway holds its revision. */
  writeSnapshot(json: unknown): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly upstreams?: ReadonlyMap<string, UpstreamSpec>;
  /** Members without an externalId may be named by this claim (SPEC §9.2). */
  readonly memberIdClaim?: string;
  readonly gateway?: Partial<GatewayOptions>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const directory = mkdtempSync(join(tmpdir(), 'mcp-gateway-'));
  const snapshotPath = join(directory, 'snapshot.json');
  writeFileSync(snapshotPath, JSON.stringify(testSnapshot()));
  const signingKey = await generateSigningKey('test-key');
  let base = '';
  const issuer = await startDevIssuer({ users: USERS, clients: CLIENTS, signingKey, resource: (indicator) => indicator.startsWith(`${base}/workspaces/`) });
  const logs: string[] = [];
  const upstream: Harness['upstream'] = {};
  const harness = {
    skew: 0,
    now: () => Date.now() + harness.skew,
  };
  const gateway = await startGateway({
    snapshotPath,
    upstreams:
      options.upstreams ??
      new Map([
        ['c-everything', { transport: () => (upstream.everything = new RecordingTransport(stdio())) }],
        ['c-mirror', { transport: () => (upstream.mirror = new RecordingTransport(stdio())) }],
      ]),
    port: 0,
    oauth: { issuer: issuer.issuer, ...(options.memberIdClaim === undefined ? {} : { memberIdClaim: options.memberIdClaim }) },
    now: harness.now,
    log: (line) => logs.push(line),
    ...options.gateway,
  });
  base = gateway.url;
  const key = await importJWK(signingKey, 'ES256');

  return Object.assign(harness, {
    issuer,
    gateway,
    logs,
    upstream,
    signingKey,
    async token(sub: string, workspace: string, claims: JWTPayload = {}, header: Record<string, unknown> = {}) {
      const seconds = Math.floor(harness.now() / 1000);
      const payload = { iss: issuer.issuer, aud: gateway.endpoint(workspace), sub, iat: seconds, exp: seconds + 300, jti: crypto.randomUUID(), scope: TOOLS_SCOPE, client_id: 'mcp-demo', ...claims };
      return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'test-key', ...header }).sign(key);
    },
    async writeSnapshot(json: unknown) {
      const temporary = join(directory, 'snapshot.json.next');
      writeFileSync(temporary, JSON.stringify(json));
      renameSync(temporary, snapshotPath);
      const result = await gateway.reload();
      if (!result.ok) throw new Error(`snapshot refused: ${result.problems.join('; ')}`);
    },
    async close() {
      await gateway.close();
      await issuer.close();
      rmSync(directory, { recursive: true, force: true });
    },
  });
}

/** An SDK client connected to one workspace's endpoint with these headers (a bearer credential, usually). */
export async function connect(gateway: Gateway, workspace: string, headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'gateway-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(gateway.endpoint(workspace)), { requestInit: { headers } }));
  return client;
}

export async function withClient<T>(gateway: Gateway, workspace: string, headers: Record<string, string>, use: (client: Client) => Promise<T>): Promise<T> {
  const client = await connect(gateway, workspace, headers);
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

/** The error an MCP call is refused with, or a thrown error if it was not refused. */
export async function refusalOf(call: Promise<unknown>): Promise<{ code: number; reason: unknown; revision: unknown }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof McpError) {
      const data = error.data as { reason?: unknown; revision?: unknown } | undefined;
      return { code: error.code, reason: data?.reason, revision: data?.revision };
    }
    throw error;
  }
  throw new Error('the call was not refused');
}

export const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });
export const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } as const;

/** Resolves when `condition` holds, polling; rejects after `ms` (a bound on a wait, not a timing assertion). */
export async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Raw Streamable HTTP: POST one JSON-RPC message, with or without a session. */
export function postMessage(gateway: Gateway, workspace: string, headers: Record<string, string>, message: object, sessionId?: string): Promise<Response> {
  return fetch(gateway.endpoint(workspace), {
    method: 'POST',
    headers: { ...MCP_HEADERS, ...headers, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION, ...(sessionId === undefined ? {} : { 'mcp-session-id': sessionId }) },
    body: JSON.stringify({ jsonrpc: '2.0', ...message }),
  });
}

export interface RawSession {
  readonly id: string;
  /** The method of every message the server sent on the session's GET stream, in order. */
  readonly methods: string[];
  ended(): boolean;
  close(): Promise<void>;
}

/** A session opened by hand (initialize, initialized), with its GET stream open and read as it arrives. */
export async function openRawSession(gateway: Gateway, workspace: string, headers: Record<string, string>): Promise<RawSession> {
  const init = await postMessage(gateway, workspace, headers, { id: 0, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
  if (init.status !== 200) throw new Error(`initialize answered ${init.status}`);
  const id = init.headers.get('mcp-session-id')!;
  await init.json();
  if ((await postMessage(gateway, workspace, headers, { method: 'notifications/initialized' }, id)).status !== 202) throw new Error('initialized not accepted');
  const abort = new AbortController();
  const stream = await fetch(gateway.endpoint(workspace), { headers: { ...headers, accept: 'text/event-stream', 'mcp-session-id': id }, signal: abort.signal });
  if (stream.status !== 200) throw new Error(`GET stream answered ${stream.status}`);
  const methods: string[] = [];
  let ended = false;
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of stream.body!) {
        buffer += decoder.decode(chunk, { stream: true });
        let at: number;
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          const data = buffer.slice(0, at).split('\n').find((line) => line.startsWith('data: '));
          buffer = buffer.slice(at + 2);
          if (data !== undefined) methods.push((JSON.parse(data.slice(6)) as { method: string }).method);
        }
      }
    } catch {
      // Aborted by close().
    }
    ended = true;
  })();
  return {
    id,
    methods,
    ended: () => ended,
    close: async () => {
      abort.abort();
      await fetch(gateway.endpoint(workspace), { method: 'DELETE', headers: { ...headers, 'mcp-session-id': id } });
    },
  };
}

export const listChanged = (session: { methods: readonly string[] }) => session.methods.filter((m) => m === 'notifications/tools/list_changed').length;
