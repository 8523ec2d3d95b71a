/**
 * Admin commands at scale: `applyCommand` of single-entity commands, each run on the snapshot the
 * previous one produced (as a writer does), timed with its SPEC §8 change (`result.change`: wire patches,
 * events, checksum) and the next policy's authorization of the following command; then `applyChange` of
 * the same changes on a second copy of the snapshot (as a follower does). Part of `npm run bench`; alone:
 * `node --expose-gc --import tsx bench/commands.ts --scale=L`.
 */
import { performance } from 'node:perf_hooks';
import { applyChange, applyCommand, parseOrganization, type Command, type Organization } from 'org-policy';
import { generateOrganization, type Generated, type Scale } from './generate.js';

const RUNS = 25;
const WARMUPS = 5;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

type Make = (i: number, org: Organization) => Command;

/** Each kind of single-entity command, made fresh for run `i` so that none is refused. */
function kinds(generated: Generated): [string, Make][] {
  const member = (i: number) => generated.memberIds[1 + ((i * 7919) % (generated.memberIds.length - 1))]!;
  const workspace = (i: number) => generated.workspaceIds[(i * 31) % generated.workspaceIds.length]!;
  return [
    ['inviteMember', (i) => ({ type: 'inviteMember', memberId: `bench-m-${i}`, email: `bench-${i}@bench.test` })],
    ['setMemberOrgRoles', (i) => ({ type: 'setMemberOrgRoles', memberId: member(i), roleNames: ['member', 'billing_manager'] })],
    ['changeMemberEmail', (i) => ({ type: 'changeMemberEmail', memberId: member(i), email: `renamed-${i}@bench.test` })],
    ['suspendMember', (i) => ({ type: 'suspendMember', memberId: member(i + 1000) })],
    ['setWorkspaceMemberRoles', (i, org) => {
      const w = workspace(i);
      const memberId = org.workspaces.get(w)!.members.keys().next().value as string;
      return { type: 'setWorkspaceMemberRoles', workspaceId: w, memberId, roleNames: ['dev', 'user'] };
    }],
    ['addWorkspaceMembers (1)', (i) => ({ type: 'addWorkspaceMembers', workspaceId: workspace(i + 7), members: [{ memberId: member(i + 2000), roleNames: ['user'] }] })],
    ['addGroupMembers (1)', (i, org) => {
      const groups = [...org.groups.keys()];
      return { type: 'addGroupMembers', groupId: groups[i % groups.length]!, memberIds: [member(i + 3000)] };
    }],
    ['createApiKey', (i) => ({ type: 'createApiKey', keyId: `bench-k-${i}`, workspaceId: workspace(i), name: `bench ${i}`, connectorScopes: 'all' })],
    ['removeMember', (i) => ({ type: 'removeMember', memberId: member(i + 4000) })],
  ];
}

export interface CommandTimes {
  readonly kind: string;
  readonly applyMs: number;
  readonly applyChangeMs: number;
  readonly changeBytes: number;
}

/** Runs every kind on `organization` (parsed), returning medians; `actor` must be an active organization admin. */
export function measureCommands(organization: Organization, generated: Generated, actor: string): CommandTimes[] {
  const out: CommandTimes[] = [];
  for (const [kind, make] of kinds(generated)) {
    let writer = organization;
    let follower = organization;
    const applyTimes: number[] = [];
    const followTimes: number[] = [];
    let bytes = 0;
    for (let i = 0; i < WARMUPS + RUNS; i++) {
      const command = make(i, writer);
      const start = performance.now();
      const result = applyCommand(writer, actor, command, { now: 0 });
      if (!result.ok) throw new Error(`${kind} refused: ${JSON.stringify(result.error)}`);
      const change = result.change;
      void result.policy; // the next command authorizes on it: a writer always pays for it
      const applied = performance.now();
      const wire = JSON.parse(JSON.stringify(change));
      const followStart = performance.now();
      const next = applyChange(follower, wire);
      const followed = performance.now();
      if (!next.ok) throw new Error(`${kind}: the change did not apply: ${JSON.stringify(next.error)}`);
      if (i >= WARMUPS) {
        applyTimes.push(applied - start);
        followTimes.push(followed - followStart);
        bytes = JSON.stringify(change).length;
      }
      writer = result.snapshot;
      follower = next.organization;
    }
    out.push({ kind, applyMs: median(applyTimes), applyChangeMs: median(followTimes), changeBytes: bytes });
  }
  return out;
}

if (process.argv[1]?.endsWith('commands.ts')) {
  const scale = (process.argv.find((a) => a.startsWith('--scale='))?.slice(8) ?? 'M') as Scale;
  const generated = generateOrganization(scale);
  const parsed = parseOrganization(generated.json);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems.slice(0, 3)));
  // The first command compiles the whole policy once (its authorization); not part of any timing.
  const warm = applyCommand(parsed.organization, generated.memberIds[0]!, { type: 'renameWorkspace', workspaceId: generated.workspaceIds[0]!, name: 'warm' }, { now: 0 });
  if (!warm.ok) throw new Error(JSON.stringify(warm.error));
  console.log(`scale ${scale}: applyCommand p50 over ${RUNS} runs (after ${WARMUPS}), each on the previous result`);
  console.log('| command | applyCommand + change (ms, p50) | applyChange on a follower (ms, p50) | change (bytes) |\n|---|--:|--:|--:|');
  for (const t of measureCommands(warm.snapshot, generated, generated.memberIds[0]!)) {
    console.log(`| ${t.kind} | ${t.applyMs.toFixed(3)} | ${t.applyChangeMs.toFixed(3)} | ${t.changeBytes} |`);
  }
}
