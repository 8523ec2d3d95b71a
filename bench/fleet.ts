/**
 * `npm run bench:fleet [-- --scale=S|M|L]`: the control plane and the data plane on a real database.
 *
 * On the PostgreSQL server (a fresh database on `TEST_DATABASE_URL`'s server, dropped at the end), at the
 * bench generator's organization: durable commits of single-entity commands (a membership's roles, an
 * invite, a member's org roles) from 1 writer process and from 4, each with 16 concurrent clients,
 * through `store.apply`; propagation from each commit to 3 follower processes; a follower's cold start
 * (checkpoint + 1,000 changes) beside `parseOrganization` + `createPolicy` of the same snapshot, and its
 * memory. Then 1 writer on PGlite (one process). Prints a Markdown table; docs/benchmarks.md keeps one.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { parseOrganization } from 'org-policy';
import { openStore } from '@org-policy/store';
import { generateOrganization, type Scale } from './generate.js';
import { percentile, type FromChild } from './fleet-shared.js';

const scale = (process.argv.find((a) => a.startsWith('--scale='))?.slice(8) ?? 'L') as Scale;
const PER_WRITER = Number(process.argv.find((a) => a.startsWith('--commands='))?.slice(11) ?? 1_500);
const CLIENTS = 16;
const serverUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const child = fileURLToPath(new URL('./fleet-child.ts', import.meta.url));
const rows: [string, string][] = [];
const report = (label: string, value: string) => {
  rows.push([label, value]);
  console.log(`${label.padEnd(64)} ${value}`);
};
const ms = (n: number) => n.toFixed(1);

function spawn(args: Record<string, unknown>): ChildProcess {
  return fork(child, [JSON.stringify(args)], { execArgv: ['--import', 'tsx', '--max-old-space-size=6000', '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}
const message = <T extends FromChild['type']>(proc: ChildProcess, type: T) =>
  new Promise<Extract<FromChild, { type: T }>>((resolve, reject) => {
    const onMessage = (m: FromChild) => {
      if (m.type === type) {
        proc.off('message', onMessage);
        resolve(m as Extract<FromChild, { type: T }>);
      }
    };
    proc.on('message', onMessage);
    proc.once('exit', (code) => reject(new Error(`${type}: child exited with ${code}`)));
  });

console.log(`org-policy fleet bench, scale ${scale} — ${os.cpus()[0]?.model ?? 'unknown cpu'}, ${os.cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
const generated = generateOrganization(scale);
const parsed = parseOrganization(generated.json);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems.slice(0, 3)));
const organizationId = parsed.organization.id;

const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
const database = `org_policy_fleet_${process.pid}`;
await admin.query(`CREATE DATABASE ${database}`);
const url = new URL(serverUrl);
url.pathname = `/${database}`;
const databaseUrl = url.toString();

try {
  {
    const store = await openStore({ url: databaseUrl, organizationId, autoCheckpoint: false });
    const init = await store.init(parsed.organization);
    if (!init.ok) throw new Error(JSON.stringify(init));
    await store.close();
  }

  // 3 followers, then writers: 1 process, then 4, each with 16 concurrent clients.
  const followers = [0, 1, 2].map((i) => spawn({ role: 'follower', url: databaseUrl, organizationId, name: `follower-${i}` }));
  await Promise.all(followers.map((f) => message(f, 'ready')));
  const applied = new Map<number, number[]>(); // revision → when each follower applied it
  for (const f of followers) {
    f.on('message', (m: FromChild) => {
      if (m.type !== 'applied') return;
      for (const [revision, at] of m.revisions) {
        const list = applied.get(revision) ?? [];
        list.push(at);
        applied.set(revision, list);
      }
    });
  }

  let offset = 0;
  for (const writers of [1, 4]) {
    const procs = Array.from({ length: writers }, (_, i) =>
      spawn({ role: 'writer', url: databaseUrl, organizationId, scale, clients: CLIENTS, commands: PER_WRITER, offset: offset + i * PER_WRITER }),
    );
    offset += writers * PER_WRITER;
    await Promise.all(procs.map((p) => message(p, 'ready')));
    for (const p of procs) p.send({ type: 'go' });
    const done = await Promise.all(procs.map((p) => message(p, 'done')));
    const latencies = done.flatMap((d) => d.latencies);
    const commits = done.flatMap((d) => d.commits);
    const seconds = (Math.max(...done.map((d) => d.end)) - Math.min(...done.map((d) => d.start))) / 1000;
    report(`PostgreSQL, ${writers} writer process${writers > 1 ? 'es' : ''} × ${CLIENTS} clients: commands/s`, (latencies.length / seconds).toFixed(0));
    report(`PostgreSQL, ${writers} writer(s): commit latency p50 / p99 (ms)`, `${ms(percentile(latencies, 50))} / ${ms(percentile(latencies, 99))}`);
    // Propagation: from each acknowledged commit to each follower having applied it.
    const head = Math.max(...commits.map(([revision]) => revision));
    const deadline = Date.now() + 60_000;
    while ((applied.get(head)?.length ?? 0) < followers.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const delays: number[] = [];
    for (const [revision, at] of commits) for (const seen of applied.get(revision) ?? []) delays.push(seen - at);
    report(`PostgreSQL, ${writers} writer(s): propagation to 3 followers p50 / p99 / max (ms)`, `${ms(percentile(delays, 50))} / ${ms(percentile(delays, 99))} / ${ms(Math.max(...delays))}`);
    const missing = commits.filter(([revision]) => (applied.get(revision)?.length ?? 0) < followers.length).length;
    report(`PostgreSQL, ${writers} writer(s): changes not seen by every follower`, String(missing));
    for (const p of procs) p.kill();
  }
  for (const f of followers) f.kill();

  // Cold start: a checkpoint, then 1,000 changes after it.
  {
    const writer = spawn({ role: 'writer', url: databaseUrl, organizationId, scale, clients: CLIENTS, commands: 1_000, offset: offset });
    offset += 1_000;
    await message(writer, 'ready');
    const store = await openStore({ url: databaseUrl, organizationId, autoCheckpoint: false });
    await store.checkpoint({ force: true });
    await store.close();
    writer.send({ type: 'go' });
    await message(writer, 'done');
    writer.kill();
    const cold = spawn({ role: 'cold', url: databaseUrl, organizationId, scale });
    const result = await message(cold, 'cold');
    report('follower cold start: checkpoint + 1,000 changes (ms)', ms(result.followMs));
    report('parseOrganization + createPolicy of the same snapshot, same process (ms)', `${ms(result.parseBuildMs)} (ratio ${(result.followMs / result.parseBuildMs).toFixed(2)})`);
    report('follower memory after start: heapUsed + external (MB)', (result.memoryBytes / 2 ** 20).toFixed(0));
    cold.kill();
  }

  // PGlite: one process, one writer with 16 clients.
  {
    const dir = mkdtempSync(join(os.tmpdir(), 'org-policy-fleet-'));
    try {
      const proc = spawn({ role: 'pglite', dataDir: join(dir, 'data'), organizationId, scale, clients: CLIENTS, commands: PER_WRITER, offset: 0 });
      const done = await message(proc, 'done');
      report(`PGlite, 1 writer × ${CLIENTS} clients (one process): commands/s`, (done.latencies.length / ((done.end - done.start) / 1000)).toFixed(0));
      report('PGlite: commit latency p50 / p99 (ms)', `${ms(percentile(done.latencies, 50))} / ${ms(percentile(done.latencies, 99))}`);
      proc.kill();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
}

console.log('\n| measure | value |\n|---|---|');
for (const [label, value] of rows) console.log(`| ${label} | ${value} |`);
process.exit(0);
