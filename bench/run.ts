/**
 * `npm run bench [-- --scale=S|M|L]`. Measures org-policy from src/ through tsx (the same code
 * tsup bundles into dist/), and its peers on the same generated organization and query streams.
 * Every rate is the median of 5 passes after one warm-up pass. Run by `npm run bench` with --expose-gc.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { enableMapSet, enablePatches, produceWithPatches, type Patch } from 'immer';
import { applyCommand, createPolicy, parseOrganization, type Organization, type Policy } from 'org-policy';
import { adoptOrganization } from '../src/model/parse.js';
import { referenceCan, referenceToolsAvailable } from '../test/reference.js';
import { canStream, generateOrganization, toolsStream, type CanQuery, type Scale, type ToolsQuery } from './generate.js';
import { measureCommands } from './commands.js';
import { cedarPeer } from './cedar.js';
import { casbinPeer, caslPeer, type Peer } from './peers.js';
import { casbinToolsPeer, caslToolsPeer, type ToolsPeer } from './peers-tools.js';

enablePatches();
enableMapSet();

const scale = (process.argv.find((a) => a.startsWith('--scale='))?.slice(8) ?? 'M') as Scale;
if (!['S', 'M', 'L'].includes(scale)) throw new Error(`--scale must be S, M or L, not ${scale}`);
const PASSES = 5;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run bench does)');

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
function timed(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}
/** Median ms of `PASSES` passes after a warm-up. */
function medianMs(fn: () => void, passes = PASSES): number {
  fn();
  return median(Array.from({ length: passes }, () => timed(fn)));
}
function heapAfterGc(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}
const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(0));
const rows: [string, string][] = [];
const report = (label: string, value: string) => {
  rows.push([label, value]);
  console.log(`${label.padEnd(48)} ${value}`);
};

console.log(`org-policy bench, scale ${scale} — ${os.cpus()[0]?.model ?? 'unknown cpu'}, ${os.cpus().length} cores, Node ${process.version}`);
const generated = generateOrganization(scale);
const counts = generated.json as unknown as Record<'workspaces' | 'groups' | 'credentials', { members: unknown[] }[]>;
const memberships = counts.workspaces.reduce((n, w) => n + w.members.length, 0);
console.log(
  `members ${generated.memberIds.length}, workspaces ${generated.workspaceIds.length}, memberships ${memberships}, groups ${counts.groups.length}, ` +
    `keys ${generated.keyIds.length}, credentials ${counts.credentials.length}`,
);

// Parse and build.
let organization!: Organization;
const parseMs = medianMs(() => {
  const result = parseOrganization(generated.json);
  if (!result.ok) throw new Error(JSON.stringify(result.problems.slice(0, 3)));
  organization = result.organization;
}, scale === 'L' ? 3 : PASSES);
report('parseOrganization (ms)', parseMs.toFixed(0));
let policy!: Policy;
const buildMs = medianMs(() => void (policy = createPolicy(organization)), scale === 'L' ? 3 : PASSES);
report('createPolicy on the parsed snapshot (ms)', buildMs.toFixed(0));
policy = undefined as unknown as Policy;
const before = heapAfterGc();
policy = createPolicy(organization);
const heldMb = (heapAfterGc() - before) / 2 ** 20;
report('heap held by the policy beyond the snapshot (MB)', heldMb.toFixed(1));

// Streams.
const CAN_COUNT = 1_000_000;
const TOOLS_COUNT = 200_000;
const cans = canStream(generated, CAN_COUNT);
const toolsQueries = toolsStream(generated, TOOLS_COUNT);

let sink = 0;
function runCan(p: { can: Policy['can'] } | Peer, queries: readonly CanQuery[], count = queries.length) {
  const can = p.can as (a: unknown, b: unknown, c: unknown, d: unknown) => boolean;
  let yes = 0;
  for (let i = 0; i < count; i++) {
    const q = queries[i]!;
    if (can(q.principal, q.action, q.workspace, q.options)) yes++;
  }
  sink += yes;
}
const canMs = medianMs(() => runCan(policy, cans));
const canRate = CAN_COUNT / (canMs / 1000);
report('can/s', fmt(canRate));
const toolsAvailable = policy.toolsAvailable as (a: unknown, b: unknown, c: unknown, d: unknown) => readonly string[];
const toolsMs = medianMs(() => {
  let n = 0;
  for (const q of toolsQueries) n += toolsAvailable(q.principal, q.connector, q.workspace, q.options).length;
  sink += n;
});
const toolsRate = TOOLS_COUNT / (toolsMs / 1000);
report('toolsAvailable/s', fmt(toolsRate));
const EXPLAIN_COUNT = 200_000;
const explain = policy.explain as (a: unknown, b: unknown, c: unknown, d: unknown) => { allowed: boolean };
const explainMs = medianMs(() => {
  for (let i = 0; i < EXPLAIN_COUNT; i++) {
    const q = cans[i]!;
    if (explain(q.principal, q.action, q.workspace, q.options).allowed) sink++;
  }
});
report('explain/s', fmt(EXPLAIN_COUNT / (explainMs / 1000)));

// explain agrees with can on the whole stream.
let explainDisagrees = 0;
for (const q of cans) if (explain(q.principal, q.action, q.workspace, q.options).allowed !== policy.can(q.principal as string, q.action as string, q.workspace as string, q.options as undefined)) explainDisagrees++;
report('explain = can on the stream', `${(100 * (1 - explainDisagrees / CAN_COUNT)).toFixed(4)} %`);

// Incremental admin changes (the immer command itself not timed): each kind made UPDATE_WARMUPS + PASSES
// times on the same policy (as previews would be), the first ones warm-ups; the median of the rest is
// reported, and the first change's policy is checked against a full build. Three warm-ups leave the
// update's code mostly unoptimised by the JIT: with `steady`, the same kind of change is also made
// STEADY times more, as a replica following a stream of changes makes them, and the median of the last
// half is reported beside it.
const UPDATE_WARMUPS = 3;
const STEADY = 200;
type Draft = any;
function measureUpdate(label: string, change: (draft: Draft, i: number) => void, steady = false): { next: Organization; patches: Patch[] } {
  const changes = Array.from({ length: UPDATE_WARMUPS + PASSES + (steady ? STEADY : 0) }, (_, i) => {
    const [next, patches] = produceWithPatches(organization, (draft) => {
      change(draft, i);
      draft.revision += 1;
    });
    return { next: adoptOrganization(next), patches };
  });
  const all = changes.map(({ next, patches }) => timed(() => void policy.update(next, patches)));
  const times = all.slice(UPDATE_WARMUPS, UPDATE_WARMUPS + PASSES);
  const updated = policy.update(changes[0]!.next, changes[0]!.patches);
  const rebuilt = createPolicy(changes[0]!.next);
  let disagrees = 0;
  for (let i = 0; i < 100_000; i++) {
    const q = cans[i]!;
    const args = [q.principal, q.action, q.workspace, q.options] as [string, string, string, undefined];
    if (updated.can(...args) !== rebuilt.can(...args)) disagrees++;
  }
  for (let i = 0; i < 20_000; i++) {
    const q = toolsQueries[i]!;
    const args = [q.principal, q.connector, q.workspace, q.options] as [string, string, string, undefined];
    if (updated.toolsAvailable(...args).join('\n') !== rebuilt.toolsAvailable(...args).join('\n')) disagrees++;
  }
  report(`policy.update, ${label} (ms, median)`, `${median(times).toFixed(3)}; = full build on 120 k queries: ${disagrees === 0 ? 'yes' : `NO (${disagrees} differ)`}`);
  if (steady) report(`policy.update, ${label}, after ${STEADY / 2 + UPDATE_WARMUPS + PASSES} of them (ms, median of the next ${STEADY / 2})`, median(all.slice(-STEADY / 2)).toFixed(3));
  return changes[0]!;
}
const membershipChange = measureUpdate('one membership change', (draft, i) => {
  const memberId = generated.memberIds[(i * 7919) % generated.memberIds.length]!;
  const workspaceId = generated.workspaceIds[(i * 31) % generated.workspaceIds.length]!;
  draft.workspaces.get(workspaceId).members.set(memberId, { memberId, roles: ['workspace_admin'] });
}, true);
report('full rebuild for the same change (ms, median)', medianMs(() => void createPolicy(membershipChange.next), scale === 'L' ? 3 : PASSES).toFixed(0));
const groupIds = [...organization.groups.keys()];
measureUpdate('10 members added to a group', (draft, i) => {
  const group = draft.groups.get(groupIds[(i * 13) % groupIds.length]!);
  const added = Array.from({ length: 10 }, (_, j) => generated.memberIds[(i * 7919 + j * 101) % generated.memberIds.length]!);
  group.memberIds = [...new Set([...group.memberIds, ...added])];
});
measureUpdate('a workspace created with 10 members', (draft, i) => {
  const id = `w-new-${i}`;
  const members = new Map(Array.from({ length: 10 }, (_, j) => generated.memberIds[(i * 7919 + j * 101) % generated.memberIds.length]!).map((memberId) => [memberId, { memberId }]));
  draft.workspaces.set(id, { id, name: id, members, groupGrants: new Map(), connectorPermissions: new Map() });
});
measureUpdate('a connector registered', (draft, i) => {
  const id = `c-new-${i}`;
  const tools = Array.from({ length: 5 }, (_, j) => ({ name: `tool-${j}`, access: 'read' }));
  draft.connectors.set(id, { id, name: id, visibility: 'organization', authentication: 'none', origin: 'custom', capabilities: 'read_only', tools });
});

// Admin commands as a writer applies them (the first compiles the whole policy once: not timed), and
// their changes as a follower applies them.
{
  const warm = applyCommand(organization, generated.memberIds[0]!, { type: 'renameWorkspace', workspaceId: generated.workspaceIds[0]!, name: 'warm' }, { now: 0 });
  if (!warm.ok) throw new Error(JSON.stringify(warm.error));
  for (const t of measureCommands(warm.snapshot, generated, generated.memberIds[0]!)) {
    report(`applyCommand ${t.kind}, with its change (ms, p50)`, `${t.applyMs.toFixed(3)}; applyChange ${t.applyChangeMs.toFixed(3)}; ${t.changeBytes} B`);
  }
}

// Agreement with the plain reference evaluator (slow: arrays and loops), on a prefix of the stream.
const REFERENCE_COUNT = scale === 'S' ? 20_000 : scale === 'M' ? 5_000 : 1_000;
const json = generated.json;
const referenceAnswers = cans.slice(0, REFERENCE_COUNT).map((q) => referenceCan(organization, q.principal, q.action, q.workspace, q.options));
function agreement(p: { can: Policy['can'] } | Peer, count: number): string {
  const can = p.can as (a: unknown, b: unknown, c: unknown, d: unknown) => boolean;
  let same = 0;
  for (let i = 0; i < count; i++) {
    const q = cans[i]!;
    if (can(q.principal, q.action, q.workspace, q.options) === referenceAnswers[i]) same++;
  }
  return `${((100 * same) / count).toFixed(2)} % of ${fmt(count)}`;
}
report('org-policy agrees with the reference', agreement(policy, REFERENCE_COUNT));
const referenceTools = toolsQueries.slice(0, REFERENCE_COUNT).map((q) => referenceToolsAvailable(organization, q.principal, q.connector, q.workspace, q.options));
const sameTools = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((name, j) => name === b[j]);
/** How often `answer(i)` equals `expected(i)` (same tools, same order) on the first `count` tools queries. */
function toolsAgreement(answer: (q: ToolsQuery) => readonly string[], expected: (i: number) => readonly string[], count: number): string {
  let same = 0;
  for (let i = 0; i < count; i++) if (sameTools(answer(toolsQueries[i]!), expected(i))) same++;
  return `${((100 * same) / count).toFixed(2)} % of ${fmt(count)}`;
}
const policyTools = (q: ToolsQuery) => toolsAvailable(q.principal, q.connector, q.workspace, q.options);
report('org-policy toolsAvailable agrees with the reference', toolsAgreement(policyTools, (i) => referenceTools[i]!, REFERENCE_COUNT));

// Peers.
const CASBIN_PREFIX = { S: 100_000, M: 30_000, L: 20_000 }[scale];
// Cedar takes the principal's entities with every request (bench/cedar.ts): a few thousand decisions a second.
const CEDAR_PREFIX = { S: 20_000, M: 10_000, L: 5_000 }[scale];
function agreeWithPolicy(peer: Peer, count: number): string {
  let same = 0;
  for (let i = 0; i < count; i++) {
    const q = cans[i]!;
    if (peer.can(q.principal, q.action, q.workspace, q.options) === policy.can(q.principal as string, q.action as string, q.workspace as string, q.options as undefined)) same++;
  }
  return `${((100 * same) / count).toFixed(2)} % of ${fmt(count)}`;
}
/** A peer built from the snapshot, with its build time and the heap it holds after GC. */
async function built<T>(make: () => T | Promise<T>): Promise<{ peer: T; build: number; heap: number }> {
  gc!();
  const heap0 = process.memoryUsage().heapUsed;
  const start = performance.now();
  const peer = await make();
  const build = performance.now() - start;
  return { peer, build, heap: (heapAfterGc() - heap0) / 2 ** 20 };
}
async function measurePeer(make: () => Peer | Promise<Peer>, prefix: number) {
  const { peer, build, heap } = await built(make);
  const ms = medianMs(() => runCan(peer, cans, prefix));
  const rate = prefix / (ms / 1000);
  report(`${peer.name}: build (ms) / heap (MB)`, `${build.toFixed(0)} / ${heap.toFixed(0)}`);
  report(`${peer.name}: can/s (first ${fmt(prefix)} queries)`, `${fmt(rate)} — org-policy is ${(canRate / rate).toFixed(1)}×`);
  report(`${peer.name}: agrees with the reference`, agreement(peer, REFERENCE_COUNT));
  report(`${peer.name}: agrees with org-policy`, agreeWithPolicy(peer, prefix));
}
await measurePeer(() => caslPeer(json), CAN_COUNT); // the whole stream, as org-policy
await measurePeer(() => casbinPeer(json), CASBIN_PREFIX);
await measurePeer(() => cedarPeer(json), CEDAR_PREFIX);

// toolsAvailable peers (SPEC §4) on the same toolsStream, against org-policy's toolsAvailable/s above.
// Both ask their library once per tool of the connector (~20 a query): CASL ~22 k/s at S, ~15 k/s at M; casbin
// ~4–5 k/s. Prefixes keep one pass under ~10 s (CASL) and ~20 s (casbin).
const CASL_TOOLS_PREFIX = { S: TOOLS_COUNT, M: 100_000, L: 100_000 }[scale];
const CASBIN_TOOLS_PREFIX = { S: 40_000, M: 30_000, L: 30_000 }[scale];
async function measureToolsPeer(make: () => ToolsPeer | Promise<ToolsPeer>, prefix: number) {
  const { peer, build, heap } = await built(make);
  const ms = medianMs(() => {
    let n = 0;
    for (let i = 0; i < prefix; i++) {
      const q = toolsQueries[i]!;
      n += peer.toolsAvailable(q.principal, q.connector, q.workspace, q.options).length;
    }
    sink += n;
  });
  const rate = prefix / (ms / 1000);
  const answer = (q: ToolsQuery) => peer.toolsAvailable(q.principal, q.connector, q.workspace, q.options);
  report(`${peer.name}: build (ms) / heap (MB)`, `${build.toFixed(0)} / ${heap.toFixed(0)}`);
  if (peer.size) report(`${peer.name}: encoding`, peer.size);
  report(`${peer.name}: toolsAvailable/s (first ${fmt(prefix)} queries)`, `${fmt(rate)} — org-policy is ${(toolsRate / rate).toFixed(1)}×`);
  report(`${peer.name}: agrees with the reference`, toolsAgreement(answer, (i) => referenceTools[i]!, REFERENCE_COUNT));
  report(`${peer.name}: agrees with org-policy`, toolsAgreement(answer, (i) => policyTools(toolsQueries[i]!), prefix));
}
await measureToolsPeer(() => caslToolsPeer(json), CASL_TOOLS_PREFIX);
await measureToolsPeer(() => casbinToolsPeer(json), CASBIN_TOOLS_PREFIX);

if (sink === -1) console.log(sink);
console.log('\n| measure | value |\n|---|---|');
for (const [label, value] of rows) console.log(`| ${label} | ${value} |`);
