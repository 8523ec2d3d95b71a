/**
 * `npm run bench:gateway`: what the MCP gateway costs. The official SDK client drives `tools/list` and
 * `tools/call` (`echo`) over loopback, once through the gateway (HTTP → access token → policy → stdio
 * upstream) and once straight to the same kind of upstream (stdio), and reports the latency the gateway
 * adds (p50, p99) and the throughput of each path. The servers — the gateway, the development issuer
 * that signs its tokens, and reference servers — run in a child process; the policy's share and the
 * token check's are measured in-process on the same snapshot.
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
import express from 'express';
import { createPolicy, type Policy } from 'org-policy';
import { startDevIssuer } from '../examples/mcp-gateway/dev-issuer.js';
import { startGateway } from '../examples/mcp-gateway/gateway.js';
import { authenticator, directory } from '../examples/mcp-gateway/identity.js';
import { readDevConfig } from '../examples/mcp-gateway/dev.js';

const ITERATIONS = Number(process.env.ITERATIONS ?? 2000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const SECONDS = Number(process.env.SECONDS ?? 3);
const EVERYTHING = fileURLToPath(new URL('../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url));
const SNAPSHOT = fileURLToPath(new URL('../examples/mcp-gateway/snapshot.json', import.meta.url));
const DEV = readDevConfig();
const BOT = DEV.clients.find((client) => client.grant_types?.includes('client_credentials'))!;
/** The demo Marketing key (every connector in scope; Marketing allows everything's echo). */
const MARKETING_KEY = DEV.apiKeySecrets['k-marketing-bot']!;

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
    call: measure(() => policy.explainInvoke('m-build', 'c-everything', 'echo', 'ws-research', { now })),
    list: measure(() => policy.toolsByConnector('m-build', 'ws-research', { now })),
  };
}

/** The raw reference's answer to one JSON-RPC message: initialize, or `echo`. */
function rawAnswer(message: { id?: number; method: string; params?: { protocolVersion?: string } }) {
  const result =
    message.method === 'initialize'
      ? { protocolVersion: message.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'raw', version: '1' } }
      : { content: [{ type: 'text', text: 'Echo: bench' }] };
  return { jsonrpc: '2.0', id: message.id, result };
}

/**
 * Reference servers that answer `echo` themselves over the same HTTP loopback, to split the gateway's
 * cost: `raw` is JSON-RPC over node:http with no MCP server library (the HTTP floor of the SDK client);
 * `express` is the same answer through Express 5 and its JSON body parser (what moving the gateway to
 * Express, for the SDK's auth middleware, would add); `sdk` is the SDK's low-level Server on its
 * stateless StreamableHTTPServerTransport (a Server and a transport per request).
 */
async function referenceServer(kind: 'raw' | 'express' | 'sdk'): Promise<{ url: URL; close: () => void }> {
  const app = express().use(express.json());
  app.post('/mcp', (req, res) => {
    const message = req.body as { id?: number; method: string };
    if (message.id === undefined) return void res.status(202).end();
    res.json(rawAnswer(message));
  });
  const http = createServer(async (req, res) => {
    if (kind === 'express') return void app(req, res);
    if (req.method !== 'POST') return void res.writeHead(405).end();
    if (kind === 'raw') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const message = JSON.parse(body) as { id?: number; method: string; params?: { protocolVersion?: string } };
      if (message.id === undefined) return void res.writeHead(202).end();
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(rawAnswer(message)));
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
 * The gateway runs in a child process of its own, as a deployed gateway would, so that the benchmark's
 * client does not share an event loop with it: with its development issuer and its stdio upstream. It
 * prints their URLs as one JSON line.
 */
async function serve() {
  let base = '';
  const issuer = await startDevIssuer({ users: DEV.users, clients: DEV.clients, resource: (indicator) => indicator.startsWith(`${base}/workspaces/`) });
  const gateway = await startGateway({
    snapshotPath: SNAPSHOT,
    upstreams: new Map([['c-everything', { transport: stdio }]]),
    port: 0,
    oauth: { issuer: issuer.issuer },
    watch: false,
    log: () => undefined,
  });
  base = gateway.url;
  // The same gateway in front of an upstream in its own process (an SDK Server on an in-memory
  // transport): what the gateway's own work costs, without the hop to a separate upstream process.
  const inProcess = await startGateway({
    snapshotPath: SNAPSHOT,
    upstreams: new Map([['c-everything', { transport: inProcessUpstream }]]),
    port: 0,
    oauth: { issuer: issuer.issuer },
    baseUrl: gateway.url,
    watch: false,
    log: () => undefined,
  });
  console.log(JSON.stringify({ issuer: issuer.issuer, tokenEndpoint: issuer.tokenEndpoint, gateway: gateway.url, inProcess: `http://127.0.0.1:${inProcess.port}` }));
  process.stdin.resume();
  process.stdin.on('end', () => void Promise.all([gateway.close(), inProcess.close(), issuer.close()]).then(() => process.exit(0)));
}

/** The reference servers, in a process of their own: the garbage of one never lands on the gateway's clock. */
async function serveReferences() {
  const raw = await referenceServer('raw');
  const viaExpress = await referenceServer('express');
  const sdk = await referenceServer('sdk');
  console.log(JSON.stringify({ raw: raw.url.href, express: viaExpress.url.href, sdk: sdk.url.href }));
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
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

type Urls = { issuer: string; tokenEndpoint: string; gateway: string; inProcess: string; raw: string; express: string; sdk: string };

/** A client-credentials token for the build bot at Research, as a deployment's service would get one. */
async function botToken(urls: Urls, resource: string): Promise<string> {
  const response = await fetch(urls.tokenEndpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${BOT.client_id}:${BOT.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'mcp:tools', resource }),
  });
  const { access_token: token } = (await response.json()) as { access_token?: string };
  if (token === undefined) throw new Error('no token from the development issuer');
  return token;
}

/**
 * The token check alone, in-process: jose's ES256 verification against the cached JWKS and the member
 * look-up, for a token seen the first time (µs), and for one already verified (its times checked again).
 */
async function tokenCost(urls: Urls, audience: string, policy: Policy): Promise<{ first: number; again: number }> {
  const identity = authenticator({ oauth: { issuer: urls.issuer }, now: Date.now });
  const dir = directory(policy.organization);
  const tokens = await Promise.all(Array.from({ length: 200 }, () => botToken(urls, audience)));
  const check = async (token: string) => {
    if (!(await identity.authenticate({ authorization: `Bearer ${token}` }, audience, dir)).ok) throw new Error('the token does not verify');
  };
  await check(tokens[0]!); // Discovery and the JWKS fetch.
  let start = performance.now();
  for (const token of tokens.slice(1)) await check(token);
  const first = ((performance.now() - start) / (tokens.length - 1)) * 1000;
  const n = 20_000;
  start = performance.now();
  for (let i = 0; i < n; i++) await check(tokens[i % tokens.length]!);
  return { first, again: ((performance.now() - start) / n) * 1000 };
}

/** Starts one server process (`--serve <what>`) and reads the URLs it prints as one JSON line. */
async function startProcess<T>(what: string): Promise<{ urls: T; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', what], { stdio: ['pipe', 'pipe', 'inherit'] });
  const urls = await new Promise<T>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as T);
    });
    child.once('exit', (code) => reject(new Error(`server process exited (${code})`)));
  });
  return { urls, stop: () => child.stdin.end() };
}

/** The gateway (with its issuer and upstream) in one process, the reference servers in another, as deployed servers would be. */
async function startServers(): Promise<{ urls: Urls; stop: () => void }> {
  const gateways = await startProcess<Omit<Urls, 'raw' | 'express' | 'sdk'>>('gateway');
  const references = await startProcess<Pick<Urls, 'raw' | 'express' | 'sdk'>>('references');
  return {
    urls: { ...gateways.urls, ...references.urls },
    stop: () => {
      gateways.stop();
      references.stop();
    },
  };
}

async function main() {
  // undici adds one abort listener per fetch to the SDK client transport's long-lived signal and frees it
  // only on GC: harmless here, but its warning would flood the report.
  setMaxListeners(0);
  const { urls, stop } = await startServers();
  const policyOnly = createPolicy(JSON.parse(readFileSync(SNAPSHOT, 'utf8')));
  const research = `${urls.gateway}/workspaces/ws-research/mcp`;
  const token = await botToken(urls, research);
  const direct = new Client({ name: 'bench-direct', version: '1.0.0' });
  await direct.connect(stdio());
  const viaGateway = await httpClient(new URL(research), { authorization: `Bearer ${token}` });
  const viaKey = await httpClient(new URL(`${urls.gateway}/workspaces/ws-marketing/mcp`), { authorization: `Bearer ${MARKETING_KEY}` });
  const rawClient = await httpClient(new URL(urls.raw));
  const expressClient = await httpClient(new URL(urls.express));
  const sdkClient = await httpClient(new URL(urls.sdk));
  // The in-process gateway shares the first one's <base>, so the same token's audience holds there.
  const inProcessClient = await httpClient(new URL(`${urls.inProcess}/workspaces/ws-research/mcp`), { authorization: `Bearer ${token}` });

  const callPaths = [
    { label: 'straight to the upstream (SDK client, stdio)', client: direct, op: call('') },
    { label: 'HTTP floor: SDK client → JSON-RPC over node:http, no MCP server library', client: rawClient, op: call('') },
    { label: 'the same answer through Express 5 (`express.json()`)', client: expressClient, op: call('') },
    { label: "for reference: the SDK's StreamableHTTPServerTransport (a Server per request), answering itself", client: sdkClient, op: call('') },
    { label: 'through the gateway, access token (HTTP → JWT → session → policy → stdio upstream)', client: viaGateway, op: call('everything__') },
    { label: 'through the gateway, API key secret', client: viaKey, op: call('everything__') },
    { label: 'through the gateway to an upstream in its own process (no second process hop), access token', client: inProcessClient, op: call('everything__') },
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
  const verify = await tokenCost(urls, research, policyOnly);

  const lines = [
    `Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${ITERATIONS} sequential requests per path, throughput with ${CONCURRENCY} in flight for ${SECONDS} s.`,
    '',
    '| tools/call `echo` | p50 (ms) | p99 (ms) |',
    '|---|---|---|',
    ...callPaths.map((p, i) => `| ${p.label} | ${ms(callStats[i]!.p50)} | ${ms(callStats[i]!.p99)} |`),
    `| **added by the gateway** (gateway with a token − straight) | **${ms(callStats[4]!.p50 - callStats[0]!.p50)}** | ${ms(callStats[4]!.p99 - callStats[0]!.p99)} |`,
    `| of which the HTTP round trip itself (the floor) | ${ms(callStats[1]!.p50)} | |`,
    `| of which the gateway's own work: token, session, SDK dispatch, policy, upstream client, relay (gateway − floor − straight) | ${ms(callStats[4]!.p50 - callStats[1]!.p50 - callStats[0]!.p50)} | |`,
    `| the gateway's work without the second process hop (in-process upstream − floor) | ${ms(callStats[6]!.p50 - callStats[1]!.p50)} | |`,
    `| an API key instead of a token (key − token) | ${ms(callStats[5]!.p50 - callStats[4]!.p50)} | |`,
    `| what Express 5 adds to the floor (Express − floor) | ${ms(callStats[2]!.p50 - callStats[1]!.p50)} | ${ms(callStats[2]!.p99 - callStats[1]!.p99)} |`,
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
    `Token check, in-process: ${verify.first.toFixed(0)} µs for a token seen the first time (jose, ES256, JWKS cached), ${verify.again.toFixed(1)} µs for one already verified; the member found by externalId.`,
  ];
  console.log(lines.join('\n'));

  for (const client of [direct, viaGateway, viaKey, rawClient, expressClient, sdkClient, inProcessClient]) await client.close();
  stop();
}

const serving = process.argv.indexOf('--serve');
(serving < 0 ? main() : process.argv[serving + 1] === 'references' ? serveReferences() : serve()).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
