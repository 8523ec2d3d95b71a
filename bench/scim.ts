/**
 * `npm run bench:scim [-- --users=10000 --groups=100 --clients=16]`: provisioning through the Admin API's
 * SCIM service over HTTP, as an identity provider does it, on the PostgreSQL server (a fresh database on
 * `TEST_DATABASE_URL`'s server, dropped at the end) and on PGlite (one process).
 *
 * The sample organization is seeded; then, with `--clients` requests in flight: each user looked up by
 * `filter=userName eq` and created (Entra ID's order), each group looked up by displayName and created,
 * every user put into two groups by PATCH `add` of 10 members at a time, and an import that pages through
 * every user (Okta's). The Admin API runs in a child process; on PostgreSQL, 3 more processes follow the
 * organization as gateway replicas do and report when they applied each change and their `lag()`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { percentile } from './fleet-shared.js';
import type { ScimChildMessage, ScimChildRole } from './scim-shared.js';

const argument = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const USERS = argument('users', 10_000);
const GROUPS = argument('groups', 100);
const CLIENTS = argument('clients', 16);
const GROUPS_PER_USER = 2;
const MEMBERS_PER_PATCH = 10;
const FOLLOWERS = 3;
const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const child = fileURLToPath(new URL('./scim-child.ts', import.meta.url));
const ADMIN_KEY = `oak_bench_${Date.now().toString(36)}_0123456789abcdefghij`;
const SCIM_TOKEN = `scim_bench_${Date.now().toString(36)}_0123456789abcdefghij`;
const ORGANIZATION_ID = 'org-acme';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const wallClock = () => performance.timeOrigin + performance.now();
const ms = (n: number) => n.toFixed(1);

const rows: [string, string][] = [];
const report = (label: string, value: string) => {
  rows.push([label, value]);
  console.log(`${label.padEnd(84)} ${value}`);
};

function spawn(role: ScimChildRole): ChildProcess {
  return fork(child, [JSON.stringify(role)], { execArgv: ['--import', 'tsx', '--max-old-space-size=4096'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}
const message = <T extends ScimChildMessage['type']>(proc: ChildProcess, type: T) =>
  new Promise<Extract<ScimChildMessage, { type: T }>>((resolve, reject) => {
    const onMessage = (m: ScimChildMessage) => {
      if (m.type !== type) return;
      proc.off('message', onMessage);
      resolve(m as Extract<ScimChildMessage, { type: T }>);
    };
    proc.on('message', onMessage);
    proc.once('exit', (code) => reject(new Error(`${type}: child exited with ${code}`)));
  });

interface Timed {
  readonly latencies: Map<string, number[]>;
  /** [revision of the change, wall-clock ms the answer arrived] for every write. */
  readonly acks: [number, number][];
}

async function call(url: string, timed: Timed, kind: string, method: string, path: string, body?: unknown): Promise<any> {
  const started = performance.now();
  const response = await fetch(`${url}/scim/v2${path}`, {
    method,
    headers: { authorization: `Bearer ${SCIM_TOKEN}`, 'content-type': 'application/scim+json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  const arrived = wallClock();
  const latency = performance.now() - started;
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
  let list = timed.latencies.get(kind);
  if (list === undefined) timed.latencies.set(kind, (list = []));
  list.push(latency);
  if (method !== 'GET') timed.acks.push([Number(response.headers.get('x-policy-revision')), arrived]);
  return text === '' ? undefined : JSON.parse(text);
}

/** Runs `tasks` with `CLIENTS` in flight; the wall time they took, in seconds. */
async function inFlight(tasks: readonly (() => Promise<void>)[]): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < tasks.length) await tasks[next++]!();
    }),
  );
  return (performance.now() - started) / 1000;
}

async function provision(engine: string, url: string): Promise<Timed> {
  const timed: Timed = { latencies: new Map(), acks: [] };
  const phase = (label: string, kinds: readonly string[], seconds: number) => {
    const all = kinds.flatMap((kind) => timed.latencies.get(kind) ?? []);
    report(`${engine}: ${label}: requests, requests/s`, `${all.length}, ${(all.length / seconds).toFixed(0)}`);
    for (const kind of kinds) {
      const list = timed.latencies.get(kind) ?? [];
      report(`${engine}: ${label}: ${kind} p50 / p99 (ms)`, `${ms(percentile(list, 50))} / ${ms(percentile(list, 99))}`);
    }
  };

  const userIds: string[] = new Array(USERS);
  const users = await inFlight(
    Array.from({ length: USERS }, (_, i) => async () => {
      const userName = `user${i}@bench.test`;
      const found = await call(url, timed, 'GET /Users?filter=userName eq', 'GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
      if (found.totalResults !== 0) throw new Error(`${userName} exists already`);
      const created = await call(url, timed, 'POST /Users', 'POST', '/Users', {
        schemas: [USER_SCHEMA],
        userName,
        externalId: `idp-${i}`,
        name: { givenName: 'User', familyName: String(i) },
        emails: [{ value: userName, type: 'work', primary: true }],
        active: true,
      });
      userIds[i] = created.id;
    }),
  );
  phase(`${USERS.toLocaleString('en')} users (lookup, then create)`, ['GET /Users?filter=userName eq', 'POST /Users'], users);

  const groupIds: string[] = new Array(GROUPS);
  const groups = await inFlight(
    Array.from({ length: GROUPS }, (_, g) => async () => {
      const displayName = `Bench group ${g}`;
      await call(url, timed, 'GET /Groups?filter=displayName eq', 'GET', `/Groups?excludedAttributes=members&filter=${encodeURIComponent(`displayName eq "${displayName}"`)}`);
      groupIds[g] = (await call(url, timed, 'POST /Groups', 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName })).id;
    }),
  );
  phase(`${GROUPS} groups (lookup, then create)`, ['GET /Groups?filter=displayName eq', 'POST /Groups'], groups);

  // Every user in GROUPS_PER_USER groups; each group's members pushed MEMBERS_PER_PATCH at a time.
  const membersOf = groupIds.map(() => [] as string[]);
  userIds.forEach((id, i) => {
    for (let k = 0; k < GROUPS_PER_USER; k++) membersOf[(i + k * 37) % GROUPS]!.push(id);
  });
  // Round robin over the groups: the PATCHes in flight change different groups, and each group is changed again soon.
  const patches: (() => Promise<void>)[] = [];
  const rounds = Math.max(...membersOf.map((members) => Math.ceil(members.length / MEMBERS_PER_PATCH)));
  for (let round = 0; round < rounds; round++) {
    membersOf.forEach((members, g) => {
      const value = members.slice(round * MEMBERS_PER_PATCH, (round + 1) * MEMBERS_PER_PATCH).map((id) => ({ value: id }));
      if (value.length === 0) return;
      patches.push(async () => void (await call(url, timed, 'PATCH /Groups add members', 'PATCH', `/Groups/${groupIds[g]}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'add', path: 'members', value }] })));
    });
  }
  const memberships = await inFlight(patches);
  phase(`${(USERS * GROUPS_PER_USER).toLocaleString('en')} memberships (PATCH add, ${MEMBERS_PER_PATCH} members each)`, ['PATCH /Groups add members'], memberships);

  const pages = Math.ceil((USERS + 8) / 100);
  const imported = await inFlight(Array.from({ length: pages }, (_, p) => async () => void (await call(url, timed, 'GET /Users?startIndex&count=100', 'GET', `/Users?startIndex=${p * 100 + 1}&count=100`))));
  phase('import: every user, 100 per page', ['GET /Users?startIndex&count=100'], imported);

  // What provisioning left: every user, every group, every membership.
  const last = await call(url, timed, 'check', 'GET', `/Groups/${groupIds[GROUPS - 1]}`);
  const total = await call(url, timed, 'check', 'GET', '/Users?count=0');
  if (total.totalResults !== USERS + 8 || last.members.length !== membersOf[GROUPS - 1]!.length) throw new Error('provisioning lost something');
  const everything = [...timed.latencies].filter(([kind]) => kind !== 'check').flatMap(([, list]) => list);
  report(`${engine}: all requests: requests/s over the whole run`, `${(everything.length / (users + groups + memberships + imported)).toFixed(0)}`);
  return timed;
}

console.log(
  `org-policy SCIM bench — ${os.cpus()[0]?.model ?? 'unknown cpu'}, ${os.cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, ` +
    `load average ${os.loadavg()[0]!.toFixed(1)}; ${USERS} users, ${GROUPS} groups, ${CLIENTS} requests in flight`,
);

// PostgreSQL: the Admin API in one process, 3 followers in 3 more.
const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
const database = `org_policy_scim_bench_${process.pid}`;
await admin.query(`CREATE DATABASE ${database}`);
const databaseUrl = Object.assign(new URL(serverUrl), { pathname: `/${database}` }).toString();
try {
  const server = spawn({ role: 'server', databaseUrl, adminKey: ADMIN_KEY, scimToken: SCIM_TOKEN });
  const { url } = await message(server, 'ready');
  const followers = Array.from({ length: FOLLOWERS }, (_, i) => spawn({ role: 'follower', databaseUrl, organizationId: ORGANIZATION_ID, name: `follower-${i}` }));
  await Promise.all(followers.map((f) => message(f, 'ready')));
  const applied = new Map<number, number[]>();
  for (const f of followers) {
    f.on('message', (m: ScimChildMessage) => {
      if (m.type !== 'applied') return;
      for (const [revision, at] of m.revisions) {
        const list = applied.get(revision) ?? [];
        list.push(at);
        applied.set(revision, list);
      }
    });
  }
  const timed = await provision('PostgreSQL', url);
  const lags = await Promise.all(
    followers.map((f) => {
      const done = message(f, 'lags');
      f.send({ type: 'exit' });
      return done;
    }),
  );
  const delays: number[] = [];
  for (const [revision, at] of timed.acks) for (const seen of applied.get(revision) ?? []) delays.push(seen - at);
  const missing = timed.acks.filter(([revision]) => (applied.get(revision)?.length ?? 0) < FOLLOWERS).length;
  report(`PostgreSQL: ${FOLLOWERS} followers: from a change's answer to each follower applying it, p50 / p99 / max (ms)`, `${ms(percentile(delays, 50))} / ${ms(percentile(delays, 99))} / ${ms(Math.max(...delays))}`);
  const lagMs = lags.flatMap((l) => l.lags.map(([lag]) => lag));
  const behind = lags.flatMap((l) => l.lags.map(([, revisions]) => revisions));
  report(`PostgreSQL: followers' lag() every 100 ms during the run: lagMs p50 / p99 / max`, `${ms(percentile(lagMs, 50))} / ${ms(percentile(lagMs, 99))} / ${ms(Math.max(...lagMs))}`);
  report(`PostgreSQL: followers' lag(): revisions behind p50 / p99 / max`, `${percentile(behind, 50)} / ${percentile(behind, 99)} / ${Math.max(...behind)}`);
  report('PostgreSQL: writes not seen by every follower', String(missing));
  server.send({ type: 'exit' });
  await new Promise((resolve) => server.once('exit', resolve));
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
}

// PGlite: the Admin API, its store and its follower in one process.
const dir = mkdtempSync(join(os.tmpdir(), 'org-policy-scim-bench-'));
try {
  const server = spawn({ role: 'server', dataDir: join(dir, 'data'), adminKey: ADMIN_KEY, scimToken: SCIM_TOKEN });
  const { url } = await message(server, 'ready');
  await provision('PGlite', url);
  server.send({ type: 'exit' });
  await new Promise((resolve) => server.once('exit', resolve));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log('\n| measure | value |\n|---|---|');
for (const [label, value] of rows) console.log(`| ${label} | ${value} |`);
process.exit(0);
