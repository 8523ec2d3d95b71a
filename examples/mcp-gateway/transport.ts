/**
 * Streamable HTTP for one SDK `Server`: the server side of one MCP session (or of one principal's
 * requests sent without a session). The SDK `Server` does the protocol — dispatch, request schemas,
 * errors, cancellation; this transport carries each request in and its response out on the same HTTP
 * exchange (JSON, or an event stream when the request asked for progress), and the server's own
 * messages out on the session's GET stream.
 *
 * Request ids are renumbered inside the transport, so two requests that reuse an id never collide,
 * and a `notifications/cancelled` reaches only the requests of this transport that carry the id it
 * names: one caller's ids mean nothing in another caller's session.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, JSONRPCMessageSchema, SUPPORTED_PROTOCOL_VERSIONS, type JSONRPCMessage, type RequestId } from '@modelcontextprotocol/sdk/types.js';

const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** The answer on the HTTP exchange of a request its caller cancelled (LSP's code for it). */
export const REQUEST_CANCELLED = -32800;
const KEEPALIVE_MS = 15_000;
/** Server messages kept for a session until its GET stream opens; list changes coalesce into one. */
const MAX_QUEUED = 16;

type Request = JSONRPCMessage & { id: RequestId; method: string };

interface Exchange {
  readonly clientId: RequestId;
  readonly res: ServerResponse;
  readonly stream: boolean;
  readonly headers: Readonly<Record<string, string>>;
}

export class SessionTransport implements Transport {
  onmessage?: Transport['onmessage'];
  onclose?: Transport['onclose'];
  onerror?: Transport['onerror'];
  /** Called whenever a request finishes (answered, hung up or closed): the registry drops idle lanes. */
  onsettled?: () => void;
  private readonly pending = new Map<number, Exchange>();
  private nextId = 1;
  private stream: ServerResponse | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  private queued: JSONRPCMessage[] = [];
  private closed = false;

  constructor(readonly maxInFlight = 64) {}

  get inFlight(): number {
    return this.pending.size;
  }

  get streaming(): boolean {
    return this.stream !== undefined;
  }

  async start(): Promise<void> {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [id, exchange] of this.pending) {
      this.pending.delete(id);
      reply(exchange, { jsonrpc: '2.0', id: exchange.clientId, error: { code: ErrorCode.ConnectionClosed, message: 'Session closed' } });
    }
    this.endStream();
    this.onclose?.();
  }

  /** The server's response goes back on the exchange that asked; its notifications on that exchange's stream, or the session's. */
  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if ('id' in message && !('method' in message)) {
      const exchange = typeof message.id === 'number' ? this.pending.get(message.id) : undefined;
      if (exchange === undefined) return;
      this.pending.delete(message.id as number);
      reply(exchange, { ...message, id: exchange.clientId } as JSONRPCMessage);
      this.onsettled?.();
      return;
    }
    if ('id' in message) return; // The gateway sends clients no requests of its own.
    const related = options?.relatedRequestId;
    if (related !== undefined) {
      const exchange = typeof related === 'number' ? this.pending.get(related) : undefined;
      // A notification about a request goes with that request, or nowhere: never to another caller.
      if (exchange?.stream) writeEvent(exchange.res, message);
      return;
    }
    if (this.stream !== undefined) return writeEvent(this.stream, message);
    const method = 'method' in message ? message.method : undefined;
    if (method === 'notifications/tools/list_changed' && this.queued.some((m) => 'method' in m && m.method === method)) return;
    if (this.queued.length < MAX_QUEUED) this.queued.push(message);
  }

  /** One request: renumbered, handed to the server, answered on `res`. False when the session already carries too many. */
  request(message: Request, authInfo: AuthInfo, res: ServerResponse, options: { readonly stream: boolean; readonly headers: Readonly<Record<string, string>> }): boolean {
    if (this.closed || this.pending.size >= this.maxInFlight) return false;
    const id = this.nextId++;
    const exchange: Exchange = { clientId: message.id, res, stream: options.stream, headers: options.headers };
    this.pending.set(id, exchange);
    if (options.stream) res.writeHead(200, { ...options.headers, 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' }).flushHeaders();
    // A client that hangs up cancels its request, as an MCP cancellation would (and so the upstream call).
    res.once('close', () => {
      if (!this.pending.delete(id)) return;
      this.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'client closed the connection' } });
      this.onsettled?.();
    });
    this.onmessage?.({ ...message, id }, { authInfo });
    return true;
  }

  /** A notification from the client. A cancellation names the client's own id: it reaches this transport's requests with that id, and no other. */
  notify(message: JSONRPCMessage & { method: string }, authInfo: AuthInfo): void {
    if (message.method === 'notifications/cancelled') {
      const params = (message as { params?: { requestId?: unknown; reason?: unknown } }).params;
      for (const [id, exchange] of this.pending) {
        if (exchange.clientId !== params?.requestId) continue;
        this.pending.delete(id);
        this.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, ...(typeof params.reason === 'string' ? { reason: params.reason } : {}) } }, { authInfo });
        // The server answers a cancelled request with nothing; its HTTP exchange still has to end.
        reply(exchange, { jsonrpc: '2.0', id: exchange.clientId, error: { code: REQUEST_CANCELLED, message: 'Request cancelled' } });
        this.onsettled?.();
      }
      return;
    }
    // The gateway sends clients no requests, so there is no progress of theirs to hear about.
    if (message.method === 'notifications/progress') return;
    this.onmessage?.(message, { authInfo });
  }

  /** The session's GET stream for the server's own messages; false when one is already open (one per session). */
  openStream(res: ServerResponse, headers: Readonly<Record<string, string>>): boolean {
    if (this.closed || this.stream !== undefined) return false;
    this.stream = res;
    res.writeHead(200, { ...headers, 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' }).flushHeaders();
    for (const message of this.queued.splice(0)) writeEvent(res, message);
    this.keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    this.keepalive.unref();
    res.once('close', () => {
      if (this.stream !== res) return;
      clearInterval(this.keepalive);
      this.stream = undefined;
    });
    return true;
  }

  private endStream(): void {
    clearInterval(this.keepalive);
    this.stream?.end();
    this.stream = undefined;
  }
}

function reply(exchange: Exchange, message: JSONRPCMessage): void {
  if (exchange.stream) {
    writeEvent(exchange.res, message);
    exchange.res.end();
  } else sendJson(exchange.res, 200, message, exchange.headers);
}

function writeEvent(res: ServerResponse, message: JSONRPCMessage): void {
  if (!res.writableEnded && !res.destroyed) res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
}

export type Incoming =
  | { readonly ok: true; readonly message: JSONRPCMessage }
  | { readonly ok: false; readonly status: number; readonly code: number; readonly message: string };

/** Reads and checks one Streamable HTTP POST body (one JSON-RPC message; batches left MCP in 2025-06-18). */
export async function readMessage(req: IncomingMessage): Promise<Incoming> {
  const fail = (status: number, code: number, message: string): Incoming => ({ ok: false, status, code, message });
  if (!(req.headers['content-type'] ?? '').toLowerCase().includes('application/json')) return fail(415, ErrorCode.InvalidRequest, 'Content-Type must be application/json');
  const accept = (req.headers.accept ?? '').toLowerCase();
  if (!accept.includes('application/json') && !accept.includes('*/*')) return fail(406, ErrorCode.InvalidRequest, 'Accept must include application/json');
  const version = req.headers['mcp-protocol-version'];
  if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(String(version))) {
    return fail(400, ErrorCode.InvalidRequest, `Unsupported MCP-Protocol-Version; supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return fail(413, ErrorCode.InvalidRequest, `Body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return fail(400, ErrorCode.ParseError, 'Parse error: invalid JSON');
  }
  if (Array.isArray(json)) return fail(400, ErrorCode.InvalidRequest, 'Invalid Request: JSON-RPC batches are not supported');
  const parsed = JSONRPCMessageSchema.safeParse(json);
  if (!parsed.success) return fail(400, ErrorCode.InvalidRequest, 'Invalid Request: not a JSON-RPC 2.0 message');
  return { ok: true, message: parsed.data };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  if (res.writableEnded || res.destroyed || res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) }).end(text);
}
