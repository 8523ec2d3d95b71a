/**
 * A deterministic organization generator for `npm run bench`. Seeded PRNG (mulberry32), no
 * `Math.random`: the same scale always yields the same snapshot and the same query streams.
 */
import type { OrganizationJson } from 'org-policy';
import { ACTIONS } from 'org-policy';

export type Scale = 'S' | 'M' | 'L';

export const SCALES: Record<Scale, { members: number; workspaces: number; apiKeys: number; connectors: number }> = {
  S: { members: 1_000, workspaces: 20, apiKeys: 50, connectors: 30 },
  M: { members: 10_000, workspaces: 200, apiKeys: 500, connectors: 30 },
  L: { members: 100_000, workspaces: 2_000, apiKeys: 5_000, connectors: 30 },
};

/** The instant the streams ask at; keys expire on both sides of it. */
export const NOW = Date.parse('2026-06-01T00:00:00Z');

export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const int = (random: Random, lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
const pick = <T>(random: Random, list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
function sample<T>(random: Random, list: readonly T[], count: number): T[] {
  const chosen = new Set<T>();
  const n = Math.min(count, list.length);
  while (chosen.size < n) chosen.add(pick(random, list));
  return [...chosen];
}

const WORKSPACE_ROLES = ['user', 'dev', 'mistral_code_user', 'workspace_contributor', 'workspace_admin', 'observability_viewer'] as const;
const ORG_ROLE_SETS = [['member'], ['member'], ['member'], ['member'], ['member'], ['member', 'billing_manager'], ['billing_manager']] as const;

export interface Generated {
  readonly json: OrganizationJson;
  readonly memberIds: readonly string[];
  readonly keyIds: readonly string[];
  readonly workspaceIds: readonly string[];
  readonly connectorIds: readonly string[];
  /** Workspaces each member was added to directly (queries mostly ask where someone is). */
  readonly workspacesOf: ReadonlyMap<string, readonly string[]>;
}

export function generateOrganization(scale: Scale, seed = 5): Generated {
  const size = SCALES[scale];
  const random = prng(seed);
  const memberIds = Array.from({ length: size.members }, (_, i) => `m-${i}`);
  const workspaceIds = Array.from({ length: size.workspaces }, (_, i) => `w-${i}`);
  const connectorIds = Array.from({ length: size.connectors }, (_, i) => `c-${i}`);

  let seatsHeld = 0;
  const members = memberIds.map((id, i) => {
    const admin = i < 10; // a handful of organization admins, all active
    const seats = random() < 0.3 ? ['mistral_code' as const] : [];
    seatsHeld += seats.length;
    return {
      id,
      email: `${id}@example.com`,
      status: !admin && random() < 0.05 ? ('suspended' as const) : ('active' as const),
      orgRoles: admin ? ['organization_admin' as const] : [...pick(random, ORG_ROLE_SETS)],
      seats,
    };
  });

  const workspaceMembers = new Map<string, { memberId: string; roles?: string[] }[]>(workspaceIds.map((w) => [w, []]));
  const workspacesOf = new Map<string, string[]>();
  for (const memberId of memberIds) {
    const chosen = sample(random, workspaceIds, int(random, 5, 15));
    workspacesOf.set(memberId, chosen);
    for (const w of chosen) {
      // ~45% without roles: the default contributor (SPEC §3.4).
      const entry = random() < 0.45 ? { memberId } : { memberId, roles: sample(random, WORKSPACE_ROLES, int(random, 1, 2)) };
      workspaceMembers.get(w)!.push(entry);
    }
  }

  const groupCount = Math.max(5, Math.floor(size.members / 100));
  const groups = Array.from({ length: groupCount }, (_, i) => ({
    id: `g-${i}`,
    name: `Group ${i}`,
    memberIds: sample(random, memberIds, int(random, 20, 300)),
    orgRoles: random() < 0.1 ? ['billing_manager' as const] : [],
  }));
  const groupGrants = new Map<string, { groupId: string; roles?: string[] }[]>(workspaceIds.map((w) => [w, []]));
  for (const group of groups) {
    for (const w of sample(random, workspaceIds, int(random, 1, 3))) {
      groupGrants.get(w)!.push(random() < 0.45 ? { groupId: group.id } : { groupId: group.id, roles: sample(random, WORKSPACE_ROLES, 1) });
    }
  }

  const connectors = connectorIds.map((id, i) => {
    const readOnly = random() < 0.3;
    const toolCount = int(random, 5, 40);
    const tools = Array.from({ length: toolCount }, (_, t) => ({
      name: `tool_${t}`,
      access: readOnly || random() < 0.6 ? ('read' as const) : ('write' as const),
    }));
    const workspaceVisible = random() < 0.3;
    return {
      id,
      name: `connector-${i}`,
      visibility: workspaceVisible ? ('workspace' as const) : ('organization' as const),
      ...(workspaceVisible ? { workspaceIds: sample(random, workspaceIds, int(random, 1, Math.max(1, size.workspaces / 4))) } : {}),
      authentication: pick(random, ['oauth2', 'api_key', 'none'] as const),
      origin: pick(random, ['featured', 'custom'] as const),
      capabilities: readOnly ? ('read_only' as const) : ('read_write' as const),
      tools,
    };
  });

  const permission = (connector: (typeof connectors)[number]) => {
    const r = random();
    if (r < 0.5) return { connectorId: connector.id, mode: 'allowed' as const };
    if (r < 0.8) {
      const tools = sample(random, connector.tools.map((t) => t.name), int(random, 1, Math.max(1, connector.tools.length >> 1)));
      return { connectorId: connector.id, mode: 'restricted' as const, tools };
    }
    return { connectorId: connector.id, mode: 'blocked' as const };
  };
  const connectorPermissions = connectors.filter(() => random() < 0.5).map(permission);

  const workspaces = workspaceIds.map((id, i) => ({
    id,
    name: `Workspace ${i}`,
    members: workspaceMembers.get(id)!,
    groupGrants: groupGrants.get(id)!,
    connectorPermissions: sample(random, connectors, int(random, 0, 4)).map(permission),
  }));

  const credentials: unknown[] = [];
  let credential = 0;
  for (const connector of connectors) {
    if (connector.authentication === 'none') continue;
    if (random() < 0.4) credentials.push({ id: `cr-${credential++}`, connectorId: connector.id, holder: 'organization' });
    for (const w of sample(random, workspaceIds, int(random, 0, Math.max(1, size.workspaces / 10)))) {
      credentials.push({ id: `cr-${credential++}`, connectorId: connector.id, holder: 'workspace', workspaceId: w });
    }
    for (const m of sample(random, memberIds, int(random, 0, size.members / 50))) {
      credentials.push({ id: `cr-${credential++}`, connectorId: connector.id, holder: 'member', memberId: m });
    }
  }

  const keyIds = Array.from({ length: size.apiKeys }, (_, i) => `k-${i}`);
  const apiKeys = keyIds.map((id) => {
    const r = random();
    const expiresAt = r < 0.2 ? '2026-01-01T00:00:00Z' : r < 0.5 ? '2027-01-01T00:00:00+02:00' : undefined;
    return {
      id,
      name: id,
      workspaceId: pick(random, workspaceIds),
      status: random() < 0.1 ? ('revoked' as const) : ('active' as const),
      ...(expiresAt ? { expiresAt } : {}),
      connectorScopes: random() < 0.5 ? ('all' as const) : sample(random, connectorIds, int(random, 1, 5)),
    };
  });

  const json = {
    schemaVersion: 1,
    id: `org-${scale}`,
    name: `Bench ${scale}`,
    revision: 0,
    members,
    groups,
    workspaces,
    connectors,
    connectorPermissions,
    credentials,
    apiKeys,
    seatPools: [{ product: 'mistral_code', size: seatsHeld + 10 }],
  } as unknown as OrganizationJson;
  return { json, memberIds, keyIds, workspaceIds, connectorIds, workspacesOf };
}

export interface CanQuery {
  readonly principal: unknown;
  readonly action: unknown;
  readonly workspace: unknown;
  readonly options: unknown;
}
export interface ToolsQuery {
  readonly principal: unknown;
  readonly connector: unknown;
  readonly workspace: unknown;
  readonly options: unknown;
}

const ACTION_NAMES = ACTIONS.map((a) => a.name);
const WITH_NOW = Object.freeze({ now: NOW });
const MALFORMED: readonly unknown[] = [42, null, undefined, '', {}, 'constructor', '__proto__', ['m-1'], 'm-1 '];

function principalOf(random: Random, org: Generated): unknown {
  const r = random();
  if (r < 0.9) return pick(random, org.memberIds);
  if (r < 0.97) return pick(random, org.keyIds);
  return r < 0.985 ? `nobody-${int(random, 0, 1e6)}` : pick(random, MALFORMED);
}

function workspaceFor(random: Random, org: Generated, principal: unknown): unknown {
  const r = random();
  const own = typeof principal === 'string' ? org.workspacesOf.get(principal) : undefined;
  if (r < 0.7 && own) return pick(random, own);
  if (r < 0.9) return pick(random, org.workspaceIds);
  if (r < 0.95) return undefined;
  return r < 0.975 ? 'w-unknown' : pick(random, MALFORMED);
}

export function canStream(org: Generated, count: number, seed = 11): CanQuery[] {
  const random = prng(seed);
  const out: CanQuery[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const principal = principalOf(random, org);
    const action = random() < 0.98 ? pick(random, ACTION_NAMES) : pick(random, ['fly.plane', 42, null, 'VIBE.USE']);
    const r = random();
    const options = r < 0.8 ? WITH_NOW : r < 0.99 ? undefined : pick(random, [7, 'now', { now: 'yesterday' }]);
    out[i] = { principal, action, workspace: workspaceFor(random, org, principal), options };
  }
  return out;
}

export function toolsStream(org: Generated, count: number, seed = 13): ToolsQuery[] {
  const random = prng(seed);
  const out: ToolsQuery[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const principal = principalOf(random, org);
    const c = random();
    const connector = c < 0.8 ? pick(random, org.connectorIds) : c < 0.95 ? `connector-${int(random, 0, 29)}` : pick(random, ['nope', 3, null]);
    const r = random();
    const options = r < 0.7 ? WITH_NOW : r < 0.8 ? { now: NOW, product: 'studio' } : r < 0.9 ? { now: NOW, product: 'vibe' } : r < 0.99 ? undefined : { product: 'code' };
    out[i] = { principal, connector, workspace: workspaceFor(random, org, principal), options };
  }
  return out;
}
