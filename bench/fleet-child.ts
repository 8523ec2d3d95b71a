/**
 * The processes of `bench/fleet.ts`: a writer (16 concurrent clients of `store.apply`), a follower that
 * reports when it applied each revision, a cold start, and a PGlite writer. Talks to its parent over IPC.
 */
import { performance } from 'node:perf_hooks';
import { createPolicy, parseOrganization, type Command } from 'org-policy';
import { openStore } from '@org-policy/store';
import { generateOrganization, type Generated, type Scale } from './generate.js';
import type { FromChild } from './fleet-shared.js';

/** Single-entity commands, round-robin: a membership's roles, an invite, a member's org roles. None is refused. */
function command(generated: Generated, n: number, memberships: readonly (readonly [string, string])[]): Command {
  const member = generated.memberIds[1 + ((n * 7919) % (generated.memberIds.length - 1))]!;
  switch (n % 3) {
    case 0: {
      const [workspaceId, memberId] = memberships[n % memberships.length]!;
      return { type: 'setWorkspaceMemberRoles', workspaceId, memberId, roleNames: n % 2 === 0 ? ['dev'] : ['user', 'dev'] };
    }
    case 1:
      return { type: 'inviteMember', memberId: `fleet-${n}`, email: `fleet-${n}@fleet.test` };
    default:
      return { type: 'setMemberOrgRoles', memberId: member, roleNames: n % 2 === 0 ? ['member', 'billing_manager'] : ['member'] };
  }
}

const send = (m: FromChild) => process.send!(m);
const args = JSON.parse(process.argv[2] ?? '{}') as {
  role: 'writer' | 'follower' | 'cold' | 'pglite';
  url?: string;
  dataDir?: string;
  organizationId: string;
  scale?: Scale;
  clients?: number;
  commands?: number;
  offset?: number;
};

async function drive(store: Awaited<ReturnType<typeof openStore>>, generated: Generated) {
  const actor = generated.memberIds[0]!;
  const memberships = (generated.json.workspaces ?? []).flatMap((w) => (w.members ?? []).slice(0, 5).map((m) => [w.id, m.memberId] as const));
  const latencies: number[] = [];
  const commits: [number, number][] = [];
  let next = 0;
  const total = args.commands ?? 1_000;
  const start = Date.now();
  await Promise.all(
    Array.from({ length: args.clients ?? 16 }, async () => {
      while (next < total) {
        const n = (args.offset ?? 0) + next++;
        const t0 = performance.now();
        const result = await store.apply(actor, [command(generated, n, memberships)], { now: Date.now() });
        const t1 = performance.now();
        if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.error)}`);
        latencies.push(t1 - t0);
        commits.push([result.revision, Date.now()]);
      }
    }),
  );
  return { latencies, commits, start, end: Date.now() };
}

if (args.role === 'writer' || args.role === 'pglite') {
  const generated = generateOrganization(args.scale ?? 'L');
  const store = await openStore({ organizationId: args.organizationId, autoCheckpoint: false, ...(args.url ? { url: args.url } : { dataDir: args.dataDir! }) });
  if (args.role === 'pglite') {
    const parsed = parseOrganization(generated.json);
    if (!parsed.ok) throw new Error('does not parse');
    await store.init(parsed.organization);
  }
  // The first apply loads the head into this writer: not timed.
  const warm = await store.apply(generated.memberIds[0]!, [{ type: 'renameWorkspace', workspaceId: generated.workspaceIds[0]!, name: `warm ${process.pid}` }], { now: Date.now() });
  if (!warm.ok) throw new Error(JSON.stringify(warm.error));
  if (args.role === 'writer') {
    send({ type: 'ready' });
    await new Promise<void>((resolve) => process.once('message', () => resolve()));
  }
  const result = await drive(store, generated);
  send({ type: 'done', ...result });
  await store.close();
} else if (args.role === 'follower') {
  const store = await openStore({ url: args.url!, organizationId: args.organizationId, autoCheckpoint: false });
  const follower = await store.follow();
  let pending: [number, number][] = [];
  follower.on('change', ({ revision }: { revision: number }) => {
    pending.push([revision, Date.now()]);
  });
  setInterval(() => {
    if (pending.length === 0) return;
    send({ type: 'applied', revisions: pending });
    pending = [];
  }, 20);
  send({ type: 'ready' });
} else if (args.role === 'cold') {
  const store = await openStore({ url: args.url!, organizationId: args.organizationId, autoCheckpoint: false });
  const gc = (globalThis as { gc?: () => void }).gc!;
  gc();
  const before = process.memoryUsage();
  const t0 = performance.now();
  const follower = await store.follow();
  const followMs = performance.now() - t0;
  gc();
  const after = process.memoryUsage();
  const memoryBytes = after.heapUsed + after.external - before.heapUsed - before.external;
  const json = JSON.parse(JSON.stringify((await import('org-policy')).serializeOrganization(follower.organization)));
  const t1 = performance.now();
  const parsed = parseOrganization(json);
  if (!parsed.ok) throw new Error('does not parse');
  createPolicy(parsed.organization);
  const parseBuildMs = performance.now() - t1;
  send({ type: 'cold', followMs, parseBuildMs, memoryBytes });
}
