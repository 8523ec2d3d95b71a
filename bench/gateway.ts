/**
 * `npm run bench:gateway`: what the MCP gateway costs. The official SDK client drives `tools/list` and
 * `tools/call` (`echo`) over loopback, once through the gateway (HTTP → policy → stdio upstream) and once
 * straight to the same kind of upstream (stdio), and reports the latency the gateway adds (p50, p99) and
 * the throughput of each path. The servers run in a child process; the policy's own share is measured
 * in-process on the same snapshot.
 *
 *   ITERATIONS (default 2000 per path and method), CONCURRENCY (default 16), SECONDS (default 3)
 */
import { spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { createPolicy, type Policy } from 'org-policy';
import { startGateway } from '../examples/mcp-gateway/gateway.js';

const ITERATIONS = Number(process.env.ITERATIONS ?? 2000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const SECONDS = Number(process.env.SECONDS ?? 3);
const EVERYTHING = fileURLToPath(new URL('../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url));
const SNAPSHOT = fileURLToPath(new URL('../examples/mcp-gateway/snapshot.json', import.meta.url));
const WHO = { 'x-org-member': 'm-chloe', 'x-org-workspace': 'ws-research' };

const stdio = () => new StdioClientTransport({ command: process.execPath, args: [EVERYTHING, 'stdio'], stderr: 'ignore' });

type Operation = { name: string; run: (client: Client) => Promise<unknown> };
const list = (prefix: string): Operation => ({ name: 'tools/list', run: (c) => c.listTools().then((r) => check(r.tools.some((t) => t.name === `${prefix}echo`))) });
const call = (prefix: string): Operation => ({
  name: 'tools/call echo',
  run: (c) => c.callTool({ name: `${prefix}echo`, arguments: { message: 'bench' } }).then((r) => check(JSON.stringify(r.content).includes('Echo: bench'))),
});

function check(ok: boolean) {
  if (!ok) throw new Error('unexpected answer');
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

type Stats = { p50: number; p99: number };

/** Sequential latencies (ms) of each path, in rounds alternating between the paths so that drift hits all alike. */
async function latencies(paths: readonly { client: Client; op: Operation }[]): Promise<Stats[]> {
  const samples = paths.map(() => [] as number[]);
  const rounds = 10;
  for (let round = 0; round < rounds; round++) {
    for (const [i, { client, op }] of paths.entries()) {
      for (let n = 0; n < ITERATIONS / rounds; n++) {
        const start = performance.now();
        await op.run(client);
        samples[i]!.push(performance.now() - start);
      }
    }
  }
  return samples.map((xs) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  });
}

/** Calls per second with `CONCURRENCY` calls in flight for `SECONDS`. */
async function throughput(client: Client, op: Operation): Promise<number> {
  const until = performance.now() + SECONDS * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        await op.run(client);
        done++;
      }
    }),
  );
  return done / SECONDS;
}

/** The policy's part of one gateway request, in-process: explainInvoke for a call, toolsByConnector for a list. */
function policyCost(policy: Policy) {
  const measure = (fn: () => unknown) => {
    for (let i = 0; i < 50_000; i++) fn();
    const n = 500_000;
    const start = performance.now();
    for (let i = 0; i < n; i++) fn();
    return ((performance.now() - start) / n) * 1e6; // ns
  };
  const now = Date.now();
  return {
    call: measure(() => policy.explainInvoke('m-chloe', 'c-everything', 'echo', 'ws-research', { now })),
    list: measure(() => policy.toolsByConnector('m-chloe', 'ws-research', { now })),
  };
}

/**
 * Two reference servers that answer `echo` themselves over the same HTTP loopback, to split the gateway's
 * cost: `raw` is JSON-RPC over node:http with no MCP server library (the HTTP floor of the SDK client);
 * `sdk` is the SDK's low-level Server on its stateless StreamableHTTPServerTransport (a Server and a
 * transport per request), which the gateway replaced by one long-lived Server (exchange.ts).
 */
async function referenceServer(kind: 'raw' | 'sdk'): Promise<{ url: URL; close: () => void }> {
  const http = createServer(async (req, res) => {
    if (req.method !== 'POST') return void res.writeHead(405).end();
    if (kind === 'raw') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const message = JSON.parse(body) as { id?: number; method: string; params?: { protocolVersion?: string } };
      if (message.id === undefined) return void res.writeHead(202).end();
      const result =
        message.method === 'initialize'
          ? { protocolVersion: message.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'raw', version: '1' } }
          : { content: [{ type: 'text', text: 'Echo: bench' }] };
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }));
    }
    const server = new Server({ name: 'sdk', version: '1' }, { capabilities: { tools: {} } });
    server.setRequestHandler(CallToolRequestSchema, () => ({ content: [{ type: 'text', text: 'Echo: bench' }] }));
    const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
    res.on('close', () => void Promise.all([transport.close(), server.close()]));
    await server.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((ready) => http.listen(0, '127.0.0.1', ready));
  return { url: new URL(`http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`), close: () => http.close() };
}

async function httpClient(url: URL, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } }));
  return client;
}

const ms = (x: number) => x.toFixed(3);

/**
 * The servers run in a child process of their own, as a deployed gateway would, so that the benchmark's
 * client does not share an event loop with them: the gateway (with its stdio upstream) and the two
 * reference servers. It prints their URLs as one JSON line.
 */
async function serve() {
  const gateway = await startGateway({
    snapshotPath: SNAPSHOT,
    upstreams: new Map([['c-everything', { transport: stdio }]]),
    port: 0,
    watch: false,
    log: () => undefined,
  });
  // The same gateway in front of an upstream in its own process (an SDK Server on an in-memory
  // transport): what the gateway's own work costs, without the hop to a separate upstream process.
  const inProcess = await startGateway({
    snapshotPath: SNAPSHOT,
    upstreams: new Map([['c-everything', { transport: inProcessUpstream }]]),
    port: 0,
    watch: false,
    log: () => undefined,
  });
  const raw = await referenceServer('raw');
  const sdk = await referenceServer('sdk');
  console.log(JSON.stringify({ gateway: gateway.url, inProcess: inProcess.url, raw: raw.url.href, sdk: sdk.url.href }));
  process.stdin.resume();
  process.stdin.on('end', () => void gateway.close().then(() => process.exit(0)));
}

/** An `echo` upstream in the gateway's own process: an SDK Server on one end of a linked in-memory pair. */
function inProcessUpstream(): Transport {
  const [client, server] = InMemoryTransport.createLinkedPair();
  const upstream = new Server({ name: 'in-process', version: '1' }, { capabilities: { tools: {} } });
  upstream.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [{ name: 'echo', inputSchema: { type: 'object' as const } }] }));
  upstream.setRequestHandler(CallToolRequestSchema, (request) => ({
    content: [{ type: 'text' as const, text: `Echo: ${String((request.params.arguments as { message?: unknown } | undefined)?.message)}` }],
  }));
  void upstream.connect(server);
  return client;
}

type Urls = { gateway: string; inProcess: string; raw: string; sdk: string };

async function startServers(): Promise<{ urls: Urls; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const urls = await new Promise<Urls>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as Urls);
    });
    child.once('exit', (code) => reject(new Error(`server process exited (${code})`)));
  });
  return { urls, stop: () => child.stdin.end() };
}

async function main() {
  // undici adds one abort listener per fetch to the SDK client transport's long-lived signal and frees it
  // only on GC: harmless here, but its warning would flood the report.
  setMaxListeners(0);
  const { urls, stop } = await startServers();
  const policyOnly = createPolicy(JSON.parse(readFileSync(SNAPSHOT, 'utf8')));
  const direct = new Client({ name: 'bench-direct', version: '1.0.0' });
  await direct.connect(stdio());
  const viaGateway = await httpClient(new URL(urls.gateway), WHO);
  const rawClient = await httpClient(new URL(urls.raw));
  const sdkClient = await httpClient(new URL(urls.sdk));
  const inProcessClient = await httpClient(new URL(urls.inProcess), WHO);

  const callPaths = [
    { label: 'straight to the upstream (SDK client, stdio)', client: direct, op: call('') },
    { label: 'HTTP floor: SDK client → JSON-RPC over node:http, no MCP server library', client: rawClient, op: call('') },
    { label: "for reference: the SDK's StreamableHTTPServerTransport (a Server per request), answering itself", client: sdkClient, op: call('') },
    { label: 'through the gateway (HTTP → policy → stdio upstream)', client: viaGateway, op: call('everything__') },
    { label: 'through the gateway to an upstream in its own process (no second process hop)', client: inProcessClient, op: call('everything__') },
  ];
  const listPaths = [
    { label: 'straight to the upstream (stdio)', client: direct, op: list('') },
    { label: 'through the gateway (policy, upstream metadata cached)', client: viaGateway, op: list('everything__') },
  ];
  // Warm up every path (JIT, sockets, the upstream).
  for (let i = 0; i < 300; i++) for (const { client, op } of [...callPaths, ...listPaths]) await op.run(client);

  const callStats = await latencies(callPaths);
  const listStats = await latencies(listPaths);
  const rate = {
    directCall: await throughput(direct, call('')),
    gatewayCall: await throughput(viaGateway, call('everything__')),
    directList: await throughput(direct, list('')),
    gatewayList: await throughput(viaGateway, list('everything__')),
  };
  const policy = policyCost(policyOnly);

  const lines = [
    `Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${ITERATIONS} sequential requests per path, throughput with ${CONCURRENCY} in flight for ${SECONDS} s.`,
    '',
    '| tools/call `echo` | p50 (ms) | p99 (ms) |',
    '|---|---|---|',
    ...callPaths.map((p, i) => `| ${p.label} | ${ms(callStats[i]!.p50)} | ${ms(callStats[i]!.p99)} |`),
    `| **added by the gateway** (gateway − straight) | **${ms(callStats[3]!.p50 - callStats[0]!.p50)}** | ${ms(callStats[3]!.p99 - callStats[0]!.p99)} |`,
    `| of which the HTTP round trip itself (the floor) | ${ms(callStats[1]!.p50)} | |`,
    `| of which the gateway's own work: SDK dispatch, policy, upstream client, relay (gateway − floor − straight) | ${ms(callStats[3]!.p50 - callStats[1]!.p50 - callStats[0]!.p50)} | |`,
    `| the gateway's work without the second process hop (in-process upstream − floor) | ${ms(callStats[4]!.p50 - callStats[1]!.p50)} | |`,
    '',
    '| tools/list | p50 (ms) | p99 (ms) |',
    '|---|---|---|',
    ...listPaths.map((p, i) => `| ${p.label} | ${ms(listStats[i]!.p50)} | ${ms(listStats[i]!.p99)} |`),
    `| **added by the gateway** | **${ms(listStats[1]!.p50 - listStats[0]!.p50)}** | ${ms(listStats[1]!.p99 - listStats[0]!.p99)} |`,
    '',
    `| throughput (${CONCURRENCY} in flight) | straight to the upstream | through the gateway |`,
    '|---|---|---|',
    `| tools/call \`echo\` (calls/s) | ${Math.round(rate.directCall)} | ${Math.round(rate.gatewayCall)} |`,
    `| tools/list (lists/s) | ${Math.round(rate.directList)} | ${Math.round(rate.gatewayList)} |`,
    '',
    `Policy share, in-process on the same snapshot: \`explainInvoke\` ${policy.call.toFixed(0)} ns per call, \`toolsByConnector\` ${policy.list.toFixed(0)} ns per list.`,
  ];
  console.log(lines.join('\n'));

  for (const client of [direct, viaGateway, rawClient, sdkClient, inProcessClient]) await client.close();
  stop();
}

(process.argv.includes('--serve') ? serve() : main()).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
