/**
 * `npm run example:fleet`: the Admin API and three MCP gateway replicas on one PostgreSQL database, each
 * in a process of its own, then one change made through the Admin API followed to every replica — an API
 * key for ws-research created (its secret answered once), working at each replica, revoked, refused at
 * each replica — with the times measured.
 *
 *   DATABASE_URL              required: a postgres:// URL (the database every process opens)
 *   ORG_POLICY_BOOTSTRAP_KEY  the first organization admin's (m-ada's) admin key, taken by an empty database;
 *                             generated for this run when absent, and never printed
 *   ADMIN_API_PORT            default 8788
 *   GATEWAY_PORTS             default 8801,8802,8803: one replica per port (0 picks a free one)
 *   OAUTH_ISSUER              the authorization server every replica accepts tokens from; when absent,
 *                             one development issuer starts for the fleet on DEV_ISSUER_PORT (default 8790)
 *   FLEET_VERBOSE=1           every line the processes print, prefixed with their name
 *
 * `npm run example:fleet -- --once` exits after the demonstration (0 when every step held); otherwise the
 * fleet keeps running until Ctrl-C or SIGTERM, which stop the gateways, then the Admin API (each drains).
 * `--repeat=N` follows N keys one after the other and prints the median and maximum of each time.
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { startDevIssuer, type DevIssuer } from '../mcp-gateway/dev-issuer.js';
import { readDevConfig } from '../mcp-gateway/dev.js';
import { adminCall, describePropagation, followKeyThroughFleet, health, startFleet, summarizePropagation, until, type Fleet, type FleetProcess } from './fleet.js';

const USAGE = `example:fleet needs a PostgreSQL database every process of the fleet opens:

  DATABASE_URL=postgres://postgres@127.0.0.1:5432/fleet npm run example:fleet

(createdb fleet, or any empty database; the Admin API seeds it with the sample organization.)
Optional: ORG_POLICY_BOOTSTRAP_KEY (m-ada's admin key on an empty database; generated and not printed when
absent), ADMIN_API_PORT (8788), GATEWAY_PORTS (8801,8802,8803), OAUTH_ISSUER or DEV_ISSUER_PORT (8790),
FLEET_VERBOSE=1; --once exits after the demonstration; --repeat=N follows N keys and prints medians.`;

function usage(problem?: string): never {
  if (problem !== undefined) console.error(`example:fleet: ${problem}\n`);
  console.error(USAGE);
  process.exit(2);
}

const env = process.env;
const once = process.argv.includes('--once');
const repeatArgument = process.argv.find((arg) => arg.startsWith('--repeat='));
const repeat = repeatArgument === undefined ? 1 : Number(repeatArgument.slice('--repeat='.length));
const databaseUrl = env.DATABASE_URL ?? '';
if (databaseUrl === '') usage();
if (!Number.isInteger(repeat) || repeat < 1 || repeat > 1_000) usage('--repeat=N takes a number of runs from 1 to 1000');
if (!/^postgres(ql)?:\/\//.test(databaseUrl)) usage('DATABASE_URL must be a postgres:// URL (the fleet runs on a PostgreSQL server: PGlite is one process)');

const port = (text: string, name: string) => {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value > 65_535) usage(`${name} must hold port numbers, not ${JSON.stringify(text)}`);
  return value;
};
const adminApiPort = port(env.ADMIN_API_PORT ?? '8788', 'ADMIN_API_PORT');
const gatewayPorts = (env.GATEWAY_PORTS ?? '8801,8802,8803').split(',').map((text) => port(text, 'GATEWAY_PORTS'));
if (gatewayPorts.length < 1) usage('GATEWAY_PORTS names at least one port');
const generatedKey = env.ORG_POLICY_BOOTSTRAP_KEY === undefined || env.ORG_POLICY_BOOTSTRAP_KEY === '';
// 256 bits from the CSPRNG, in the Admin API's own admin-key form; it lives in this process and its children.
const bootstrapKey = generatedKey ? `oak_${randomBytes(32).toString('base64url')}` : env.ORG_POLICY_BOOTSTRAP_KEY!;

// Where the data is, never the credentials in the URL.
const databaseHost = new URL(databaseUrl);
const database = `${databaseHost.host}${databaseHost.pathname}`;
// A database on this machine shares its clock: its commit times can be set against this process's.
const localDatabase = ['', 'localhost', '127.0.0.1', '[::1]'].includes(databaseHost.hostname);

const processes: FleetProcess[] = [];
let issuer: DevIssuer | undefined;
let fleet: Fleet | undefined;
let stopping: Promise<void> | undefined;

function stopAll(): Promise<void> {
  stopping ??= (async () => {
    // Gateways first (they only read), then the Admin API, which drains its requests in flight.
    await Promise.all(processes.filter((p) => p.role === 'gateway').map((p) => p.stop()));
    await Promise.all(processes.filter((p) => p.role === 'admin-api').map((p) => p.stop()));
    await issuer?.close();
  })();
  return stopping;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping === undefined) console.log(`\nfleet: ${signal}: stopping ${processes.length} processes`);
    void stopAll().then(() => {
      console.log('fleet: stopped');
      process.exit(0);
    });
  });
}

async function main(): Promise<number> {
  let gatewayBases: string[] = [];
  let oauthIssuer = env.OAUTH_ISSUER;
  if (oauthIssuer === undefined || oauthIssuer === '') {
    const dev = readDevConfig();
    issuer = await startDevIssuer({
      port: port(env.DEV_ISSUER_PORT ?? String(dev.issuerPort), 'DEV_ISSUER_PORT'),
      users: dev.users,
      clients: dev.clients,
      // Tokens for any replica's workspace endpoints: each replica is its own resource server here (no load balancer in front).
      resource: (indicator) => gatewayBases.some((base) => indicator.startsWith(`${base}/workspaces/`) && indicator.endsWith('/mcp')),
    });
    oauthIssuer = issuer.issuer;
  }

  console.log(`fleet: starting 1 Admin API and ${gatewayPorts.length} MCP gateway replicas on PostgreSQL ${database}`);
  fleet = await startFleet({
    databaseUrl,
    bootstrapKey,
    oauthIssuer,
    adminApiPorts: [adminApiPort],
    gatewayPorts,
    onProcess: (p) => processes.push(p),
    ...(env.FLEET_VERBOSE === '1' ? { echo: (name: string, line: string) => console.log(`  [${name}] ${line}`) } : {}),
  });
  gatewayBases = fleet.gateways.map((g) => g.url);
  const admin = fleet.adminApis[0]!;

  const roles = await adminCall(admin.url, bootstrapKey, 'GET', '/api/admin/roles');
  console.log(`  Admin API        ${admin.url}/api/admin/…   pid ${admin.pid}, at revision ${roles.revision}`);
  for (const [i, gateway] of fleet.gateways.entries()) console.log(`  gateway ${i + 1}        ${gateway.url}/workspaces/<id>/mcp   pid ${gateway.pid}, /healthz ${JSON.stringify(await health(gateway.url))}`);
  console.log(`  tokens from      ${oauthIssuer}${issuer === undefined ? '' : ' (the development issuer: DEVELOPMENT ONLY)'}`);
  if (roles.status === 401) {
    console.error(
      `\nfleet: this database was bootstrapped by an earlier run, and ORG_POLICY_BOOTSTRAP_KEY is not its admin key (401 ${roles.body?.error?.code}).\n` +
        '  Set ORG_POLICY_BOOTSTRAP_KEY to the key that run used, or point DATABASE_URL at an empty database.',
    );
    return 1;
  }
  if (roles.status !== 200) throw new Error(`GET /api/admin/roles answered ${roles.status}`);
  console.log(`  admin key        m-ada's: ORG_POLICY_BOOTSTRAP_KEY ${generatedKey ? '(generated for this run)' : '(from the environment)'}, not printed`);

  // Every replica at the Admin API's revision before the change, so the change is the only thing that moves.
  const head = roles.revision;
  await Promise.all(fleet.gateways.map((g) => until(`${g.name} at revision ${head}`, () => health(g.url), (h) => h.revision >= head, 30_000)));

  const keyId = `k-fleet-${randomBytes(4).toString('hex')}`;
  console.log(`\nfleet: an API key for ws-research through the Admin API (${keyId}), followed to every replica`);
  console.log(`  POST ${admin.url}/api/admin/workspaces/ws-research/api-keys, then every replica's /healthz and tools/list with "Authorization: Bearer <its secret>"`);
  const result = await followKeyThroughFleet({
    adminApiUrl: admin.url,
    adminKey: bootstrapKey,
    gateways: fleet.gateways,
    workspaceId: 'ws-research',
    keyId,
    commitTimes: localDatabase,
    onStep: (step) => console.log(`  … ${step}`),
  });
  console.log('');
  for (const line of describePropagation(result)) console.log(line);
  console.log(`  (the secret was answered once, and is not printed${localDatabase ? '' : '; the database is on another machine, so no time is set against its clock'})`);
  if (repeat > 1) {
    const results = [result];
    for (let run = 2; run <= repeat; run++) {
      results.push(await followKeyThroughFleet({ adminApiUrl: admin.url, adminKey: bootstrapKey, gateways: fleet.gateways, workspaceId: 'ws-research', keyId: `k-fleet-${randomBytes(4).toString('hex')}`, commitTimes: localDatabase }));
    }
    console.log(`\nfleet: ${repeat} keys created and revoked one after the other (load average ${loadavg().map((l) => l.toFixed(2)).join(', ')}, ${cpus().length} cores):`);
    for (const line of summarizePropagation(results)) console.log(line);
  }
  return 0;
}

try {
  const code = await main();
  if (once || code !== 0) {
    await stopAll();
    process.exit(code);
  }
  console.log('\nfleet: running; Ctrl-C stops every process.');
} catch (error) {
  console.error(`fleet: ${error instanceof Error ? error.message : String(error)}`);
  await stopAll();
  process.exit(1);
}
