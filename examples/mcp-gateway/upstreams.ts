/**
 * The upstream MCP servers behind the gateway, one per connector: how to reach each (a stdio command or
 * an HTTP URL) and a connected SDK client with the upstream's own tool list.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';

/**
 * How to reach one connector's MCP server. `headers` carry the connector's own credential to an HTTP
 * upstream — never the caller's. `transport` is for programs that build their own (tests, benches).
 */
export type UpstreamSpec =
  | { readonly command: string; readonly args?: readonly string[]; readonly cwd?: string; readonly env?: Record<string, string> }
  | { readonly url: string; readonly headers?: Readonly<Record<string, string>> }
  | { readonly transport: () => Transport };

export interface Upstream {
  readonly connectorId: string;
  readonly client: Client;
  /** The upstream's tools by name: descriptions and input schemas for the gateway's own tools/list. */
  readonly tools: ReadonlyMap<string, Tool>;
}

export function transportFor(spec: UpstreamSpec): Transport {
  if ('transport' in spec) return spec.transport();
  if ('url' in spec) return new StreamableHTTPClientTransport(new URL(spec.url), spec.headers === undefined ? {} : { requestInit: { headers: { ...spec.headers } } });
  return new StdioClientTransport({
    command: spec.command,
    args: [...(spec.args ?? [])],
    ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
    ...(spec.env === undefined ? {} : { env: spec.env }),
    stderr: 'ignore',
  });
}

/** Connects to one upstream and reads its tool list once. */
export async function connectUpstream(connectorId: string, spec: UpstreamSpec): Promise<Upstream> {
  const client = new Client({ name: 'org-policy-mcp-gateway', version: '0.1.0' });
  await client.connect(transportFor(spec));
  const tools = new Map<string, Tool>();
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor });
    for (const tool of page.tools) tools.set(tool.name, tool);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return { connectorId, client, tools };
}

/**
 * Connects every configured upstream. One that cannot be reached is reported and left out: its tools are
 * still governed by the policy, and an allowed call to it gets an `upstream_unavailable` error.
 */
export async function connectUpstreams(specs: ReadonlyMap<string, UpstreamSpec>, unavailable: (connectorId: string, error: string) => void): Promise<Map<string, Upstream>> {
  const connected = new Map<string, Upstream>();
  await Promise.all(
    [...specs].map(async ([connectorId, spec]) => {
      try {
        connected.set(connectorId, await connectUpstream(connectorId, spec));
      } catch (error) {
        unavailable(connectorId, error instanceof Error ? error.message : String(error));
      }
    }),
  );
  return connected;
}
