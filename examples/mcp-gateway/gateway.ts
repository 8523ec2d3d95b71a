/**
 * An MCP gateway that asks org-policy before every tool call: an MCP server over Streamable HTTP
 * (`POST /mcp`) in front of the upstream MCP servers registered as connectors.
 *
 * - `tools/list` is `policy.toolsByConnector(principal, workspace, { now })`, each tool named
 *   `<connector name>__<tool>` so that two connectors never clash.
 * - `tools/call` asks `policy.explainInvoke(...)` first; a refusal is an MCP error carrying the reason
 *   and never reaches the upstream; an allowed call is forwarded and the upstream's answer relayed.
 * - The snapshot is reloaded when its file changes: a new `Policy` object is swapped in at once, and a
 *   request in flight keeps the one it started with.
 * - One SDK `Server` serves every request (exchange.ts): stateless Streamable HTTP, JSON responses.
 */
import { readFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, resolve } from 'node:path';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { CallToolRequestSchema, CallToolResultSchema, ErrorCode, ListToolsRequestSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { createPolicy, parseOrganization, type Policy } from 'org-policy';
import { ExchangeTransport, readMessage, sendJson } from './exchange.js';
import { authenticate, keyTable, type Principal } from './principal.js';
import { connectUpstreams, type Upstream, type UpstreamSpec } from './upstreams.js';

/** JSON-RPC error codes of the gateway's own refusals (the implementation-defined server range). */
export const POLICY_DENIED = -32003;
export const UPSTREAM_UNAVAILABLE = -32004;
/** Between a connector's name (a slug) and a tool's name in the gateway's tool list. */
export const SEPARATOR = '__';

/** A JSON-RPC error the SDK sends as it is (`code`, `message`, `data`), without McpError's message prefix. */
export class GatewayRefusal extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data: { readonly reason: string; readonly tool: string },
  ) {
    super(message);
  }
}

export interface GatewayOptions {
  /** The organization snapshot (SPEC §6.1), reloaded when the file changes. */
  readonly snapshotPath: string;
  /** Connector id → how to reach its MCP server. */
  readonly upstreams: ReadonlyMap<string, UpstreamSpec>;
  /** SHA-256 (hex) of each API key secret → key id. Never the secrets. */
  readonly apiKeys?: readonly { readonly keyId: string; readonly sha256: string }[];
  readonly port?: number;
  readonly host?: string;
  /** The gateway's clock, epoch ms: `options.now` of every decision (SPEC §7.1). */
  readonly now?: () => number;
  readonly log?: (line: string) => void;
  /** Reload on file change (default true). */
  readonly watch?: boolean;
}

export interface Gateway {
  readonly url: string;
  readonly port: number;
  /** The policy in force now. */
  policy(): Policy;
  /** Reads the snapshot file again; keeps the current policy if the file is not a valid snapshot. */
  reload(): Promise<ReloadResult>;
  close(): Promise<void>;
}

export type ReloadResult = { readonly ok: true; readonly revision: number } | { readonly ok: false; readonly problems: readonly string[] };

/** One loaded snapshot: the policy and the namespaced tool names, swapped together in one assignment. */
interface State {
  readonly policy: Policy;
  /** `<connector name>__<tool>` → the connector and tool it names, for every tool in the snapshot. */
  readonly names: ReadonlyMap<string, { readonly connectorId: string; readonly connectorName: string; readonly tool: string }>;
}

export async function loadState(path: string): Promise<{ ok: true; state: State } | { ok: false; problems: string[] }> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    return { ok: false, problems: [`${path}: ${error instanceof Error ? error.message : String(error)}`] };
  }
  const parsed = parseOrganization(json);
  if (!parsed.ok) return { ok: false, problems: parsed.problems.map((p) => `${p.path.join('.')}: ${p.message} [${p.code}]`) };
  const names = new Map<string, { connectorId: string; connectorName: string; tool: string }>();
  const problems: string[] = [];
  for (const connector of parsed.organization.connectors.values()) {
    for (const { name: tool } of connector.tools) {
      const name = `${connector.name}${SEPARATOR}${tool}`;
      const taken = names.get(name);
      // Slugs may hold "__" themselves: refuse a snapshot where two (connector, tool) pairs would share a name.
      if (taken) problems.push(`tool name ${name} would name both ${taken.connectorName}/${taken.tool} and ${connector.name}/${tool}`);
      names.set(name, { connectorId: connector.id, connectorName: connector.name, tool });
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, state: { policy: createPolicy(parsed.organization), names } };
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const log = options.log ?? ((line: string) => console.log(line));
  const now = options.now ?? Date.now;
  const keys = keyTable(options.apiKeys ?? []);
  const snapshotPath = resolve(options.snapshotPath);

  const first = await loadState(snapshotPath);
  if (!first.ok) throw new Error(`${snapshotPath} is not a valid snapshot:\n  ${first.problems.join('\n  ')}`);
  let current: State = first.state;
  const upstreams = await connectUpstreams(options.upstreams, log);
  const transport = new ExchangeTransport();
  await mcpServer().connect(transport);

  const reload = async (): Promise<ReloadResult> => {
    const next = await loadState(snapshotPath);
    if (!next.ok) {
      log(`snapshot ${snapshotPath}: kept revision ${current.policy.organization.revision}, the new file has ${next.problems.length} problem(s): ${next.problems.slice(0, 3).join('; ')}`);
      return { ok: false, problems: next.problems };
    }
    current = next.state; // Atomic: requests in flight hold the state they started with.
    log(`snapshot ${snapshotPath}: revision ${current.policy.organization.revision} in force`);
    return { ok: true, revision: current.policy.organization.revision };
  };

  const http = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log(`request failed: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) rpcError(res, 400, ErrorCode.InvalidRequest, 'Bad request');
      else res.end();
    });
  });
  // A client that sends garbage at the HTTP level gets a 400 from Node, never a crash.
  http.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/mcp') return rpcError(res, 404, ErrorCode.InvalidRequest, 'Not found: the MCP endpoint is POST /mcp');
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return rpcError(res, 405, ErrorCode.InvalidRequest, 'Method not allowed: this gateway is stateless; use POST /mcp');
    }
    // The policy in force when the request arrives decides all of it, whatever reload happens meanwhile.
    const state = current;
    const authentication = authenticate(req.headers, keys, state.policy);
    if (!authentication.ok) {
      if (authentication.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
      return rpcError(res, authentication.status, ErrorCode.InvalidRequest, authentication.message);
    }
    const incoming = await readMessage(req);
    if (!incoming.ok) return rpcError(res, incoming.status, incoming.code, incoming.message);
    const { principal } = authentication;
    // The SDK hands authInfo to every handler; the token field never holds the secret.
    const authInfo: AuthInfo = { token: '', clientId: principal.id, scopes: [], extra: { context: { state, principal } satisfies RequestContext } };
    const message = incoming.message;
    if (!('method' in message) || !('id' in message)) {
      transport.deliver(message, authInfo);
      res.writeHead(202).end();
      return;
    }
    const hungUp = new AbortController();
    res.on('close', () => hungUp.abort());
    sendJson(res, 200, await transport.exchange(message, authInfo, hungUp.signal));
  }

  /** One SDK Server for the gateway's lifetime; each handler reads who asks, and under which policy, from authInfo. */
  function mcpServer(): Server {
    const server = new Server({ name: 'org-policy-mcp-gateway', version: '0.1.0' }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, (_request, extra) => {
      const { state, principal } = contextOf(extra.authInfo);
      const tools: Tool[] = [];
      for (const { connector, tools: names } of state.policy.toolsByConnector(principal.id, principal.workspace, { now: now() })) {
        const upstream = upstreams.get(connector.id);
        for (const tool of names) tools.push(describeTool(connector.name, tool, upstream));
      }
      return { tools };
    });
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      const { state, principal } = contextOf(extra.authInfo);
      const started = performance.now();
      const name = request.params.name;
      const target = state.names.get(name) ?? guessTarget(state, name);
      // The connector's reasons come before unknown_tool (SPEC §7.15), so a name is always explained by the policy.
      const decision = state.policy.explainInvoke(principal.id, target.connectorId, target.tool, principal.workspace, { now: now() });
      if (!decision.allowed) {
        const reason = String(decision.reason);
        log(`refused ${principal.kind} ${principal.id} in ${principal.workspace}: ${name} (${reason})`);
        const code = reason === 'unknown_tool' || reason === 'unknown_connector' ? ErrorCode.InvalidParams : POLICY_DENIED;
        throw new GatewayRefusal(code, `Tool call refused by policy: ${reason}`, { reason, tool: name });
      }
      const upstream = upstreams.get(target.connectorId);
      if (upstream === undefined) throw new GatewayRefusal(UPSTREAM_UNAVAILABLE, `Connector ${target.connectorName} has no reachable upstream`, { reason: 'upstream_unavailable', tool: name });
      const result = await upstream.client.request(
        { method: 'tools/call', params: { name: target.tool, ...(request.params.arguments === undefined ? {} : { arguments: request.params.arguments }) } },
        CallToolResultSchema,
        { signal: extra.signal },
      );
      log(`allowed ${principal.kind} ${principal.id} in ${principal.workspace}: ${name} (${(performance.now() - started).toFixed(1)} ms)`);
      return result;
    });
    return server;
  }

  await new Promise<void>((ready) => http.listen(options.port ?? 0, options.host ?? '127.0.0.1', ready));
  const { port } = http.address() as AddressInfo;
  const watcher = options.watch === false ? undefined : watchFile(snapshotPath, () => void reload());
  log(`MCP gateway on http://${options.host ?? '127.0.0.1'}:${port}/mcp — snapshot ${snapshotPath}, upstreams: ${[...upstreams.keys()].join(', ') || 'none'}`);

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/mcp`,
    port,
    policy: () => current.policy,
    reload,
    close: async () => {
      watcher?.close();
      http.closeAllConnections();
      await new Promise<void>((done) => http.close(() => done()));
      await transport.close();
      await Promise.all([...upstreams.values()].map((u) => u.client.close().catch(() => undefined)));
    },
  };
}

/** For a name not in the snapshot: the connector whose name prefixes it, so the policy gives its reason in §7.15 order. */
function guessTarget(state: State, name: string): { connectorId: string; connectorName: string; tool: string } {
  for (let at = name.indexOf(SEPARATOR); at > 0; at = name.indexOf(SEPARATOR, at + 1)) {
    const connectorName = name.slice(0, at);
    for (const connector of state.policy.organization.connectors.values()) {
      if (connector.name === connectorName) return { connectorId: connector.id, connectorName, tool: name.slice(at + SEPARATOR.length) };
    }
  }
  return { connectorId: '', connectorName: '', tool: name };
}

function describeTool(connectorName: string, tool: string, upstream: Upstream | undefined): Tool {
  const upstreamTool = upstream?.tools.get(tool);
  const name = `${connectorName}${SEPARATOR}${tool}`;
  if (upstreamTool === undefined) return { name, description: `${tool} (${connectorName})`, inputSchema: { type: 'object' } };
  return { ...upstreamTool, name, ...(upstreamTool.title === undefined ? {} : { title: `${upstreamTool.title} (${connectorName})` }) };
}

function rpcError(res: ServerResponse, status: number, code: number, message: string): void {
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id: null });
}

/** Who asks and the state in force when the request arrived, carried to the handlers in authInfo. */
interface RequestContext {
  readonly state: State;
  readonly principal: Principal;
}

function contextOf(authInfo: AuthInfo | undefined): RequestContext {
  const context = authInfo?.extra?.context as RequestContext | undefined;
  // Every request comes through handle(), which sets it; a missing one is a bug, answered as an internal error.
  if (context === undefined) throw new GatewayRefusal(ErrorCode.InternalError, 'No request context', { reason: 'internal', tool: '' });
  return context;
}

/** Watches the snapshot's directory, so a file replaced by rename (editors, atomic writes) is seen too. */
function watchFile(path: string, changed: () => void): FSWatcher {
  const name = basename(path);
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(dirname(path), (_event, file) => {
    if (file !== null && file !== name) return;
    clearTimeout(timer);
    timer = setTimeout(changed, 30);
    timer.unref();
  });
  watcher.on('error', () => undefined);
  return watcher;
}
