/**
 * Stateless Streamable HTTP for one long-lived SDK `Server`: every `POST /mcp` is one JSON-RPC exchange.
 *
 * The SDK's `StreamableHTTPServerTransport` needs a fresh transport — and so a fresh `Server` — per
 * request in stateless mode, and converts each Node request to a Web `Request`; measured, that is
 * ~0.7 ms p50 per call (docs/benchmarks.md). Here the SDK `Server` is built once and keeps doing the
 * protocol (method dispatch, request schemas, errors, cancellation); this transport only carries one
 * request in and its response out, with ids rewritten so that concurrent clients never collide, and the
 * caller's identity handed to the handlers as the SDK's own `authInfo`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, JSONRPCMessageSchema, SUPPORTED_PROTOCOL_VERSIONS, type JSONRPCMessage, type RequestId } from '@modelcontextprotocol/sdk/types.js';

const MAX_BODY_BYTES = 4 * 1024 * 1024;

export class ExchangeTransport implements Transport {
  onmessage?: Transport['onmessage'];
  onclose?: Transport['onclose'];
  onerror?: Transport['onerror'];
  private readonly pending = new Map<number, (message: JSONRPCMessage) => void>();
  private nextId = 1;

  async start(): Promise<void> {}

  async close(): Promise<void> {
    this.onclose?.();
  }

  /** The server's responses go back to the exchange that asked; anything else it sends (logs, progress) has no one to go to. */
  async send(message: JSONRPCMessage): Promise<void> {
    if (!('id' in message) || 'method' in message || typeof message.id !== 'number') return;
    const respond = this.pending.get(message.id);
    this.pending.delete(message.id);
    respond?.(message);
  }

  /** Hands one request to the server; resolves with its response, under the client's own id. */
  exchange(request: JSONRPCMessage & { id: RequestId; method: string }, authInfo: AuthInfo, cancelled: AbortSignal): Promise<JSONRPCMessage> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, (response) => resolve({ ...response, id: request.id } as JSONRPCMessage));
      // A client that hangs up cancels its request, as an MCP cancellation would (and so the upstream call).
      cancelled.addEventListener('abort', () => {
        if (this.pending.delete(id)) this.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'client closed the connection' } });
      });
      this.onmessage?.({ ...request, id }, { authInfo });
    });
  }

  /** A notification or a response from the client: the server sees it, nothing comes back. */
  deliver(message: JSONRPCMessage, authInfo: AuthInfo): void {
    this.onmessage?.(message, { authInfo });
  }
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

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
}
