/**
 * An MCP gateway that asks org-policy before every tool call, and proves who asks first.
 *
 * - Each workspace's endpoint, `<base>/workspaces/<id>/mcp`, is its own OAuth protected resource
 *   (resource.ts): its metadata is at `/.well-known/oauth-protected-resource/workspaces/<id>/mcp`, its
 *   canonical URI is the audience of the tokens it accepts, and the workspace comes from the path only.
 * - Who asks (identity.ts): an access token from the configured issuer, an API key secret, or — only when
 *   configured — a front proxy with its proof.
 * - `tools/list` is `policy.toolsByConnector(principal, workspace, { now })`, each tool named
 *   `<connector name>__<tool>`; `tools/call` asks `policy.explainInvoke(...)` first, and a refusal never
 *   reaches the upstream. Upstream calls use the connector's own connection, never the client's token.
 * - MCP sessions (sessions.ts) are bound to the principal that opened them; ids, cancellations, progress
 *   and notifications stay inside their session. A policy change sends `notifications/tools/list_changed`
 *   to exactly the sessions whose tool list it changed.
 * - Every refusal and every log line names the policy revision it was decided at (log.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { CallToolRequestSchema, CallToolResultSchema, ErrorCode, ListToolsRequestSchema, type JSONRPCMessage, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Policy } from 'org-policy';
import { authenticator, directory, PROBLEM_DESCRIPTIONS, TOOLS_SCOPE, type Directory, type OAuthOptions, type Principal, type ProxyOptions } from './identity.js';
import { lineLogger, type Logger } from './log.js';
import { challenge, metadataDocument, resources } from './resource.js';
import { Sessions, type Owner, type SessionLimits, type ToolListChanges } from './sessions.js';
import { SEPARATOR, snapshotFileSource, toolNameProblems, type PolicySource, type ReloadResult } from './source.js';
import { readMessage, sendJson, type SessionTransport } from './transport.js';
import { connectUpstreams, type Upstream, type UpstreamSpec } from './upstreams.js';

export { SEPARATOR, type ReloadResult } from './source.js';

/** JSON-RPC error codes of the gateway's own refusals (the implementation-defined server range). */
export const POLICY_DENIED = -32003;
export const UPSTREAM_UNAVAILABLE = -32004;
export const REVISION_HEADER = 'x-policy-revision';

/** A JSON-RPC error the SDK sends as it is (`code`, `message`, `data`), without McpError's message prefix. */
export class GatewayRefusal extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data: { readonly reason: string; readonly tool: string; readonly revision: number },
  ) {
    super(message);
  }
}

export interface GatewayOptions {
  /** The organization snapshot (SPEC §6.1), reloaded when the file changes. Ignored when `source` is given. */
  readonly snapshotPath?: string;
  /** Where the policy comes from, when not a snapshot file (the store's follower, a test's own). */
  readonly source?: PolicySource;
  /** Connector id → how to reach its MCP server, with the connector's own credential. */
  readonly upstreams: ReadonlyMap<string, UpstreamSpec>;
  readonly port?: number;
  readonly host?: string;
  /** `<base>` of the workspace endpoints (`GATEWAY_BASE_URL`); the listening address when absent. */
  readonly baseUrl?: string;
  /** Access tokens from this issuer are accepted. */
  readonly oauth?: OAuthOptions;
  /** The trusted-front-proxy mode, off unless given. */
  readonly proxy?: ProxyOptions;
  /** Browser origins allowed to call (the `Origin` header, against DNS rebinding); default the base's own. */
  readonly allowedOrigins?: readonly string[];
  readonly sessions?: SessionLimits;
  /** The gateway's clock, epoch ms: `options.now` of every decision (SPEC §7.1) and of token checks. */
  readonly now?: () => number;
  /** Where log lines go (default stdout); each line is already escaped and capped. */
  readonly log?: (line: string) => void;
  /** Reload the snapshot file on change (default true). */
  readonly watch?: boolean;
  /** Told after each policy change which sessions were notified or closed. */
  readonly onToolListChanges?: (changes: ToolListChanges, revision: number) => void;
}

export interface Gateway {
  /** `<base>`: the workspace endpoints are `<base>/workspaces/<id>/mcp`. */
  readonly url: string;
  readonly port: number;
  /** The canonical URI of a workspace's endpoint (the token audience). */
  endpoint(workspace: string): string;
  /** The policy in force now. */
  policy(): Policy;
  /** Reads the snapshot file again; keeps the current policy if the file is not a valid snapshot. */
  reload(): Promise<ReloadResult>;
  close(): Promise<void>;
}

interface Target {
  readonly connectorId: string;
  readonly connectorName: string;
  readonly tool: string;
}

/** What a request needs of one policy, computed once per policy and kept beside it. */
interface State {
  readonly policy: Policy;
  readonly directory: Directory;
  /** `<connector name>__<tool>` → the connector and tool it names. */
  readonly names: ReadonlyMap<string, Target>;
}

/** One authenticated HTTP exchange at a workspace endpoint. */
interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly state: State;
  /** Response headers, the revision's among them; filled in as the answer takes shape. */
  readonly headers: Record<string, string>;
  readonly workspace: string;
  readonly principal: Principal;
  readonly owner: Owner;
  /** Who asks, for the log. */
  readonly who: Readonly<Record<string, string | undefined>>;
  readonly sessionId: string | undefined;
}

/** Who asks, where, and the state in force when the request arrived: carried to the handlers in authInfo. */
interface RequestContext {
  readonly state: State;
  readonly principal: Principal;
  readonly workspace: string;
}

const states = new WeakMap<Policy, State>();

function stateOf(policy: Policy): State {
  let state = states.get(policy);
  if (state === undefined) {
    const names = new Map<string, Target>();
    for (const connector of policy.organization.connectors.values()) {
      // A name two pairs would share keeps the first (a snapshot file with a clash is refused before it gets here).
      for (const { name: tool } of connector.tools) {
        const name = `${connector.name}${SEPARATOR}${tool}`;
        if (!names.has(name)) names.set(name, { connectorId: connector.id, connectorName: connector.name, tool });
      }
    }
    state = { policy, directory: directory(policy.organization), names };
    states.set(policy, state);
  }
  return state;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const write = options.log ?? ((line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`));
  const log: Logger = lineLogger(write);
  const now = options.now ?? Date.now;
  const host = options.host ?? '127.0.0.1';

  let source: PolicySource;
  if (options.source !== undefined) source = options.source;
  else if (options.snapshotPath !== undefined) {
    source = await snapshotFileSource(options.snapshotPath, {
      ...(options.watch === undefined ? {} : { watch: options.watch }),
      problem: (problems, kept) => log('snapshot_refused', kept, { file: options.snapshotPath, problems: problems.length, first: problems[0] }),
    });
  } else throw new Error('startGateway needs a snapshotPath or a source');
  for (const problem of toolNameProblems(source.policy.organization)) log('tool_name_clash', source.policy.revision, { problem });

  const upstreams = await connectUpstreams(options.upstreams, (connectorId, error) => log('upstream_unavailable', source.policy.revision, { connector: connectorId, error }));
  const identity = authenticator({ ...(options.oauth === undefined ? {} : { oauth: options.oauth }), ...(options.proxy === undefined ? {} : { proxy: options.proxy }), now });
  const sessions = new Sessions(mcpServer, options.sessions);

  const http = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log('request_failed', source.policy.revision, { error: error instanceof Error ? error.message : String(error) });
      if (!res.headersSent) rpcError(res, 400, ErrorCode.InvalidRequest, 'Bad request', source.policy.revision);
      else res.end();
    });
  });
  // A client that sends garbage at the HTTP level gets a 400 from Node, never a crash.
  http.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((ready) => http.listen(options.port ?? 0, host, ready));
  const { port } = http.address() as AddressInfo;
  const site = resources(options.baseUrl ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`);
  const allowedOrigins = new Set(options.allowedOrigins ?? [site.origin]);
  const authorizationServers = identity.issuer === undefined ? [] : [identity.issuer];

  source.onChange((previous, next) => {
    const changes = sessions.toolListsChanged(previous, next, toolsOf);
    log('policy_changed', next.revision, { previous: previous.revision, notified: changes.notified.length, closed: changes.closed.length });
    options.onToolListChanges?.(changes, next.revision);
  });

  /** A principal's tool list under a policy, as one comparable string. */
  function toolsOf(policy: Policy, owner: Owner): string {
    return policy
      .toolsByConnector(owner.id, owner.workspace, { now: now() })
      .flatMap(({ connector, tools }) => tools.map((tool) => `${connector.name}${SEPARATOR}${tool}`))
      .join('\u0000');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The policy in force when the request arrives decides all of it, whatever changes meanwhile.
    const state = stateOf(source.policy);
    const revision = state.policy.revision;
    const headers: Record<string, string> = { [REVISION_HEADER]: String(revision) };
    const route = site.route((req.url ?? '').split('?')[0]!);
    if (route === undefined) return rpcError(res, 404, ErrorCode.InvalidRequest, 'Not found: MCP endpoints are /workspaces/<id>/mcp', revision, headers);
    if (route.kind !== 'mcp') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return rpcError(res, 405, ErrorCode.InvalidRequest, 'Method not allowed', revision, { ...headers, Allow: 'GET' });
      if (route.kind === 'health') return health(res, revision, headers);
      const resource = route.workspace === undefined ? site.origin : site.resource(route.workspace);
      return sendJson(res, 200, metadataDocument(resource, authorizationServers, [TOOLS_SCOPE]), { ...headers, 'Cache-Control': 'max-age=300' });
    }
    const { workspace } = route;
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins.has(origin)) return refuse({ res, state, headers, who: { workspace } }, 403, 'origin_not_allowed', 'Origin not allowed');
    if (req.method !== 'POST' && req.method !== 'GET' && req.method !== 'DELETE') {
      return rpcError(res, 405, ErrorCode.InvalidRequest, 'Method not allowed: POST, GET or DELETE', revision, { ...headers, Allow: 'GET, POST, DELETE' });
    }
    const authentication = await identity.authenticate(req.headers, site.resource(workspace), state.directory);
    if (!authentication.ok) {
      const { status, problem } = authentication;
      const description = PROBLEM_DESCRIPTIONS[problem];
      if (status === 401) headers['WWW-Authenticate'] = challenge(site.metadataUrl(workspace), TOOLS_SCOPE, problem === 'missing' ? undefined : { code: 'invalid_token', description });
      if (status === 503) headers['Retry-After'] = '5';
      return refuse({ res, state, headers, who: { workspace } }, status, problem, description);
    }
    const { principal } = authentication;
    const x: Exchange = {
      req,
      res,
      state,
      headers,
      workspace,
      principal,
      owner: { kind: principal.kind, id: principal.id, workspace },
      who: { principal: `${principal.kind}:${principal.id}`, via: principal.via, sub: principal.subject, client: principal.clientId, workspace },
      sessionId: single(req.headers['mcp-session-id']),
    };
    if (req.method === 'GET') return openStream(x);
    if (req.method === 'DELETE') return endSession(x);
    return deliver(x);
  }

  async function health(res: ServerResponse, revision: number, headers: Record<string, string>): Promise<void> {
    try {
      sendJson(res, 200, await source.health(), headers);
    } catch (error) {
      log('health_failed', revision, { error: error instanceof Error ? error.message : String(error) });
      sendJson(res, 503, { revision, error: 'the policy source cannot say how far behind it is' }, headers);
    }
  }

  /** GET: the session's stream for the server's own messages (list changes). */
  function openStream(x: Exchange): void {
    const revision = x.state.policy.revision;
    if (!x.principal.scopes.has(TOOLS_SCOPE)) return insufficientScope(x);
    if (!(x.req.headers.accept ?? '').includes('text/event-stream')) return rpcError(x.res, 406, ErrorCode.InvalidRequest, 'Accept must include text/event-stream', revision, x.headers);
    if (x.sessionId === undefined) return rpcError(x.res, 400, ErrorCode.InvalidRequest, 'Mcp-Session-Id is required for the GET stream', revision, x.headers);
    const session = sessions.find(x.sessionId, x.owner);
    if (session === undefined) return sessionNotFound(x);
    if (!session.transport.openStream(x.res, x.headers)) rpcError(x.res, 409, ErrorCode.InvalidRequest, 'This session already has a GET stream', revision, x.headers);
  }

  /** DELETE: the caller ends its own session. */
  async function endSession(x: Exchange): Promise<void> {
    if (x.sessionId === undefined) return rpcError(x.res, 400, ErrorCode.InvalidRequest, 'Mcp-Session-Id is required', x.state.policy.revision, x.headers);
    if (sessions.find(x.sessionId, x.owner) === undefined) return sessionNotFound(x);
    await sessions.close(x.sessionId);
    log('session_closed', x.state.policy.revision, x.who);
    x.res.writeHead(204, x.headers).end();
  }

  /** POST: one JSON-RPC message, to the caller's session (initialize opens one) or, without one, to the caller's lane. */
  async function deliver(x: Exchange): Promise<void> {
    const revision = x.state.policy.revision;
    const incoming = await readMessage(x.req);
    if (!incoming.ok) return rpcError(x.res, incoming.status, incoming.code, incoming.message, revision, x.headers);
    const message = incoming.message;
    const method = 'method' in message ? message.method : undefined;
    if ((method === 'tools/list' || method === 'tools/call') && !x.principal.scopes.has(TOOLS_SCOPE)) return insufficientScope(x);
    // The SDK hands authInfo to every handler; the token field never holds the credential.
    const context: RequestContext = { state: x.state, principal: x.principal, workspace: x.workspace };
    const authInfo: AuthInfo = { token: '', clientId: x.principal.clientId ?? x.principal.id, scopes: [...x.principal.scopes], extra: { context } };
    const isRequest = method !== undefined && 'id' in message;

    let transport: SessionTransport | undefined;
    if (method === 'initialize' && isRequest) {
      if (x.sessionId !== undefined) return rpcError(x.res, 400, ErrorCode.InvalidRequest, 'initialize opens a session: send it without Mcp-Session-Id', revision, x.headers);
      const session = sessions.open(x.owner);
      if (session === undefined) return rpcError(x.res, 503, ErrorCode.InternalError, 'This replica holds all the sessions it may; try again later', revision, { ...x.headers, 'Retry-After': '30' });
      x.headers['Mcp-Session-Id'] = session.id;
      log('session_opened', revision, x.who);
      transport = session.transport;
    } else if (x.sessionId !== undefined) {
      const session = sessions.find(x.sessionId, x.owner);
      if (session === undefined) return sessionNotFound(x);
      transport = session.transport;
    } else transport = isRequest ? sessions.lane(x.owner) : sessions.existingLane(x.owner);

    if (!isRequest) {
      // A notification reaches only the caller's own session or lane; a response has no request of ours to answer.
      if (method !== undefined) transport?.notify(message as JSONRPCMessage & { method: string }, authInfo);
      x.res.writeHead(202, x.headers).end();
      return;
    }
    const stream = wantsProgress(message) && (x.req.headers.accept ?? '').includes('text/event-stream');
    if (!transport!.request(message as JSONRPCMessage & { id: string | number; method: string }, authInfo, x.res, { stream, headers: x.headers })) {
      rpcError(x.res, 429, ErrorCode.InvalidRequest, 'Too many requests in flight in this session', revision, { ...x.headers, 'Retry-After': '1' });
    }
  }

  function insufficientScope(x: Exchange): void {
    x.headers['WWW-Authenticate'] = challenge(site.metadataUrl(x.workspace), TOOLS_SCOPE, { code: 'insufficient_scope', description: `${TOOLS_SCOPE} is required` });
    refuse(x, 403, 'insufficient_scope', `Insufficient scope: ${TOOLS_SCOPE} is required`);
  }

  function sessionNotFound(x: Exchange): void {
    refuse(x, 404, 'session_not_found', 'Session not found');
  }

  /** An HTTP-level refusal: logged, and answered as a JSON-RPC error naming the reason and the revision. */
  function refuse(x: Pick<Exchange, 'res' | 'state' | 'headers' | 'who'>, status: number, reason: string, message: string): void {
    log('refused_request', x.state.policy.revision, { status, reason, ...x.who });
    rpcError(x.res, status, ErrorCode.InvalidRequest, message, x.state.policy.revision, x.headers, reason);
  }

  /** One SDK Server per session; each handler reads who asks, where, and under which policy, from authInfo. */
  function mcpServer(): Server {
    const server = new Server({ name: 'org-policy-mcp-gateway', version: '0.2.0' }, { capabilities: { tools: { listChanged: true } } });
    server.setRequestHandler(ListToolsRequestSchema, (_request, extra) => {
      const { state, principal, workspace } = contextOf(extra.authInfo);
      const tools: Tool[] = [];
      for (const { connector, tools: names } of state.policy.toolsByConnector(principal.id, workspace, { now: now() })) {
        const upstream = upstreams.get(connector.id);
        for (const tool of names) tools.push(describeTool(connector.name, tool, upstream));
      }
      return { tools };
    });
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      const { state, principal, workspace } = contextOf(extra.authInfo);
      const revision = state.policy.revision;
      const started = performance.now();
      const name = request.params.name;
      const target = state.names.get(name) ?? guessTarget(state, name);
      const who = { principal: `${principal.kind}:${principal.id}`, via: principal.via, workspace, tool: name };
      // The connector's reasons come before unknown_tool (SPEC §7.15), so a name is always explained by the policy.
      const decision = state.policy.explainInvoke(principal.id, target.connectorId, target.tool, workspace, { now: now() });
      if (!decision.allowed) {
        const reason = String(decision.reason);
        log('refused', revision, { ...who, reason });
        const code = reason === 'unknown_tool' || reason === 'unknown_connector' ? ErrorCode.InvalidParams : POLICY_DENIED;
        throw new GatewayRefusal(code, `Tool call refused by policy: ${reason}`, { reason, tool: name, revision });
      }
      const upstream = upstreams.get(target.connectorId);
      if (upstream === undefined) {
        log('refused', revision, { ...who, reason: 'upstream_unavailable' });
        throw new GatewayRefusal(UPSTREAM_UNAVAILABLE, `Connector ${target.connectorName} has no reachable upstream`, { reason: 'upstream_unavailable', tool: name, revision });
      }
      const progressToken = request.params._meta?.progressToken;
      // Only the tool's name and arguments go upstream: the caller's credential and _meta stay here.
      const result = await upstream.client.request(
        { method: 'tools/call', params: { name: target.tool, ...(request.params.arguments === undefined ? {} : { arguments: request.params.arguments }) } },
        CallToolResultSchema,
        {
          signal: extra.signal,
          ...(progressToken === undefined
            ? {}
            : {
                resetTimeoutOnProgress: true,
                onprogress: (progress) => void extra.sendNotification({ method: 'notifications/progress', params: { ...progress, progressToken } }).catch(() => undefined),
              }),
        },
      );
      log('allowed', revision, { ...who, ms: Number((performance.now() - started).toFixed(1)) });
      return result;
    });
    return server;
  }

  log('listening', source.policy.revision, {
    url: `${site.base}/workspaces/<id>/mcp`,
    issuer: identity.issuer,
    proxy: options.proxy === undefined ? 'off' : 'on',
    upstreams: [...upstreams.keys()].join(',') || 'none',
  });

  return {
    url: site.base,
    port,
    endpoint: (workspace) => site.resource(workspace),
    policy: () => source.policy,
    reload: () => (source.reload === undefined ? Promise.resolve({ ok: true as const, revision: source.policy.revision }) : source.reload()),
    close: async () => {
      await sessions.closeAll();
      http.closeAllConnections();
      await new Promise<void>((done) => http.close(() => done()));
      if (options.source === undefined) await source.close();
      await Promise.all([...upstreams.values()].map((u) => u.client.close().catch(() => undefined)));
    },
  };
}

function wantsProgress(message: JSONRPCMessage): boolean {
  const params = (message as { params?: { _meta?: { progressToken?: unknown } } }).params;
  return params?._meta?.progressToken !== undefined;
}

/** For a name not in the snapshot: the connector whose name prefixes it, so the policy gives its reason in §7.15 order. */
function guessTarget(state: State, name: string): Target {
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

function rpcError(res: ServerResponse, status: number, code: number, message: string, revision: number, headers: Record<string, string> = {}, reason?: string): void {
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message, data: { revision, ...(reason === undefined ? {} : { reason }) } }, id: null }, { [REVISION_HEADER]: String(revision), ...headers });
}

function contextOf(authInfo: AuthInfo | undefined): RequestContext {
  const context = authInfo?.extra?.context as RequestContext | undefined;
  // Every request comes through handle(), which sets it; a missing one is a bug, answered as an internal error.
  if (context === undefined) throw new GatewayRefusal(ErrorCode.InternalError, 'No request context', { reason: 'internal', tool: '', revision: -1 });
  return context;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
