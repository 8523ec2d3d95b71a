/**
 * fast-check arbitraries: small VALID snapshots (SPEC §6.1 — `parseOrganization` accepts every one) that
 * cover every shape the rules of §3–§4 read, and queries mixing known ids with garbage (§3.5 fail closed,
 * §7.1 time, §7.10 product, §7.11 exact ids, §7.16 no workspace).
 * Ids come from small pools that include `__proto__`, `constructor`, `toString`, `hasOwnProperty`, so these
 * occur as real ids of every kind.
 */
import fc from 'fast-check';
import { ACTIONS, ORGANIZATION_ROLE_NAMES, WORKSPACE_ROLE_NAMES } from '../src/roles/index.js';
import type { OrganizationJson } from '../src/model/index.js';

const TRICKY = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'] as const;
/** Members and API keys share one id space (SPEC §1): one pool, split between the two. */
export const PRINCIPAL_POOL = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'k1', 'k2', 'k3', ...TRICKY] as const;
export const WORKSPACE_POOL = ['w1', 'w2', 'w3', ...TRICKY] as const;
export const GROUP_POOL = ['g1', 'g2', 'g3', ...TRICKY] as const;
export const CONNECTOR_POOL = ['c1', 'c2', 'atlassian', 'github', ...TRICKY] as const;
/** Slugs; some equal connector ids of the pool, so "by id, else by unique name" (§7.17) is exercised. */
const CONNECTOR_NAME_POOL = ['atlassian', 'github', 'c1', 'c2', 'slack', 'notion', 'linear'] as const;
const TOOL_POOL = ['search', 'read', 'create', 'delete', 'toString', '__proto__'] as const;
const CREDENTIAL_POOL = ['cr1', 'cr2', 'cr3', 'cr4', ...TRICKY] as const;

/** Key expiries and query times share these instants, so `now >= expiresAt` is hit on the boundary (§7.1). */
export const INSTANTS = [Date.UTC(2026, 0, 1), Date.UTC(2026, 5, 1, 12, 30), Date.UTC(2027, 0, 1)] as const;

/** An ISO-8601 string with an explicit offset for the same instant. */
function isoWithOffset(ms: number, offsetMinutes: number): string {
  const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 19);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** A deterministic chooser over a stream of fast-check integers (so the organization shrinks with it). */
class Picker {
  private i = 0;
  constructor(private readonly stream: readonly number[]) {}
  int(n: number): number {
    const v = this.stream[this.i++ % this.stream.length] ?? 0;
    return n <= 0 ? 0 : v % n;
  }
  chance(percent: number): boolean {
    return this.int(100) < percent;
  }
  one<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** A subset, in the items' order. */
  some<T>(items: readonly T[], percent = 40): T[] {
    return items.filter(() => this.chance(percent));
  }
  /** A non-empty subset in a random order (unique). */
  nonEmpty<T>(items: readonly T[], percent = 40): T[] {
    const chosen = this.some(items, percent);
    const picked = chosen.length > 0 ? chosen : [this.one(items)];
    return picked.sort(() => this.int(3) - 1).filter((v, i, a) => a.indexOf(v) === i);
  }
}

export interface ArbOrganizationOptions {
  readonly maxMembers?: number;
}

type Json = OrganizationJson;
type MemberJson = NonNullable<Json['members']>[number];
type GroupJson = NonNullable<Json['groups']>[number];
type WorkspaceJson = NonNullable<Json['workspaces']>[number];
type ConnectorJson = NonNullable<Json['connectors']>[number];
type PermissionJson = NonNullable<Json['connectorPermissions']>[number];
type CredentialJson = NonNullable<Json['credentials']>[number];
type ApiKeyJson = NonNullable<Json['apiKeys']>[number];

function permission(p: Picker, connector: ConnectorJson): PermissionJson {
  const toolNames = (connector.tools ?? []).map((t) => t.name);
  const mode = p.one(['allowed', 'restricted', 'blocked'] as const);
  if (mode === 'restricted' && toolNames.length > 0) return { connectorId: connector.id, mode, tools: p.nonEmpty(toolNames, 50) };
  return { connectorId: connector.id, mode: mode === 'restricted' ? 'allowed' : mode };
}

function build(stream: readonly number[], principalIds: readonly string[], maxMembers: number): Json {
  const p = new Picker(stream);
  // Members and keys: one id space, split (SPEC §1). At least one member; keys need a workspace.
  const workspaceIds = p.some(WORKSPACE_POOL, 35).slice(0, 5);
  const keyCount = workspaceIds.length === 0 ? 0 : p.int(Math.min(4, principalIds.length));
  const memberIds = principalIds.slice(0, Math.max(1, Math.min(maxMembers, principalIds.length - keyCount)));
  const keyIds = principalIds.slice(memberIds.length, memberIds.length + keyCount);
  const groupIds = p.some(GROUP_POOL, 35).slice(0, 4);
  const adminViaGroup = groupIds.length > 0 && p.chance(30);

  const members: MemberJson[] = memberIds.map((id, i) => {
    const member: MemberJson = {
      id,
      email: `user${i}@Example.test`,
      status: i === 0 || p.chance(80) ? 'active' : 'suspended',
      orgRoles: i === 0 && !adminViaGroup ? ['organization_admin', ...p.some(['member', 'billing_manager'] as const)] : p.nonEmpty(ORGANIZATION_ROLE_NAMES, 30),
      seats: p.chance(40) ? ['mistral_code'] : [],
    };
    // SPEC §9's optional identity fields: externalIds unique, as §9.2 requires.
    if (p.chance(30)) member.externalId = `idp|${i}`;
    if (p.chance(20)) member.displayName = `User ${i}`;
    return member;
  });
  const seatsHeld = members.filter((m) => (m.seats ?? []).length > 0).length;

  const groups: GroupJson[] = groupIds.map((id, i) => {
    const groupMembers = p.some(memberIds, 40);
    const withAdmin = adminViaGroup && i === 0;
    return {
      id,
      name: `Group ${i}`,
      memberIds: withAdmin && !groupMembers.includes(memberIds[0]!) ? [memberIds[0]!, ...groupMembers] : groupMembers,
      orgRoles: withAdmin ? ['organization_admin'] : p.chance(40) ? p.nonEmpty(ORGANIZATION_ROLE_NAMES, 30) : [],
    };
  });

  const connectors: ConnectorJson[] = p.some(CONNECTOR_POOL, 35).slice(0, 5).map((id, i) => {
    const capabilities = p.one(['read_only', 'read_write'] as const);
    const tools = p.some(TOOL_POOL, 45).map((name) => ({ name, access: capabilities === 'read_write' && p.chance(40) ? ('write' as const) : ('read' as const) }));
    const visibility = p.one(['organization', 'workspace'] as const);
    const base = {
      id,
      name: CONNECTOR_NAME_POOL[(i + p.int(2)) % CONNECTOR_NAME_POOL.length]!,
      visibility,
      authentication: p.one(['oauth2', 'api_key', 'none'] as const),
      origin: p.one(['featured', 'custom'] as const),
      capabilities,
      tools,
    };
    return visibility === 'workspace' ? { ...base, workspaceIds: p.some(workspaceIds, 50) } : base;
  });
  // Connector names are unique (§1): keep the first use of each name.
  const seenNames = new Set<string>();
  for (const c of connectors) {
    let name = c.name;
    for (let k = 0; seenNames.has(name); k++) name = `${c.name}-${k}`;
    c.name = name;
    seenNames.add(name);
  }

  const workspaces: WorkspaceJson[] = workspaceIds.map((id, i) => ({
    id,
    name: `Workspace ${i}`,
    members: p.some(memberIds, 45).map((memberId) => (p.chance(45) ? { memberId } : { memberId, roles: p.nonEmpty(WORKSPACE_ROLE_NAMES, 25) })),
    groupGrants: p.some(groupIds, 45).map((groupId) => (p.chance(45) ? { groupId } : { groupId, roles: p.nonEmpty(WORKSPACE_ROLE_NAMES, 25) })),
    connectorPermissions: p.some(connectors, 45).map((c) => permission(p, c)),
  }));

  const credentials: CredentialJson[] = [];
  for (const id of p.some(CREDENTIAL_POOL, 50)) {
    if (connectors.length === 0) break;
    const connectorId = p.one(connectors).id;
    const holder = p.int(3);
    if (holder === 1 && workspaceIds.length > 0) credentials.push({ id, connectorId, holder: 'workspace', workspaceId: p.one(workspaceIds) });
    else if (holder === 2) credentials.push({ id, connectorId, holder: 'member', memberId: p.one(memberIds) });
    else credentials.push({ id, connectorId, holder: 'organization' });
  }

  const apiKeys: ApiKeyJson[] = keyIds.map((id, i) => {
    const key: ApiKeyJson = {
      id,
      name: `Key ${i}`,
      workspaceId: p.one(workspaceIds),
      status: p.chance(75) ? 'active' : 'revoked',
      connectorScopes: p.chance(40) ? 'all' : p.some(connectors.map((c) => c.id), 50),
    };
    if (p.chance(50)) {
      const instant = p.one(INSTANTS);
      key.expiresAt = p.chance(50) ? new Date(instant).toISOString() : isoWithOffset(instant, p.one([120, -330, 0]));
    }
    return key;
  });

  const pool = seatsHeld > 0 || p.chance(30) ? [{ product: 'mistral_code' as const, size: seatsHeld + p.int(3) }] : [];
  return {
    schemaVersion: 1,
    id: p.one(['org', '__proto__']),
    name: 'Generated',
    members,
    groups,
    workspaces,
    connectors,
    connectorPermissions: p.some(connectors, 40).map((c) => permission(p, c)),
    credentials,
    apiKeys,
    seatPools: pool,
  };
}

/** A small valid snapshot (SPEC §6.1): ≤ 12 members, ≤ 5 workspaces, ≤ 5 connectors. */
export function arbOrganization(opts: ArbOrganizationOptions = {}): fc.Arbitrary<OrganizationJson> {
  const maxMembers = Math.min(opts.maxMembers ?? 12, 12);
  return fc
    .record({
      principalIds: fc.shuffledSubarray([...PRINCIPAL_POOL], { minLength: 1, maxLength: 14 }),
      stream: fc.array(fc.nat({ max: 9999 }), { minLength: 64, maxLength: 64 }),
    })
    .map(({ principalIds, stream }) => build(stream, principalIds, maxMembers));
}

/** One megabyte: a string no id can match, cheap to compare only if ids compare exactly (§7.11). */
export const MEGABYTE_STRING = 'x'.repeat(1 << 20);

const throwingProxy = new Proxy(
  {},
  {
    get() {
      throw new Error('options proxy');
    },
  },
);
const throwingGetter = Object.defineProperty({}, 'now', {
  get() {
    throw new Error('getter');
  },
  enumerable: true,
});
const throwingProduct = Object.defineProperty({}, 'product', {
  get() {
    throw new Error('getter');
  },
  enumerable: true,
});

/** Values that are not ids: unknown strings, prototype names, the empty and a megabyte string, non-strings. */
export const arbGarbage: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    'nobody',
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    'valueOf',
    '',
    ' m1',
    'M1',
    MEGABYTE_STRING,
    0,
    1,
    -1,
    Number.NaN,
    null,
    undefined,
    {},
    [],
    ['m1'],
    { id: 'm1' },
    Symbol('principal'),
    Symbol.for('m1'),
    true,
    10n,
    () => 'm1',
  ),
  fc.string({ maxLength: 6 }),
  fc.anything(),
);

/** A known id most of the time, garbage otherwise. */
function knownOr(ids: readonly unknown[]): fc.Arbitrary<unknown> {
  return ids.length === 0 ? arbGarbage : fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ids) }, { weight: 1, arbitrary: arbGarbage });
}

const arbNow: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...INSTANTS).chain((ms) =>
    fc.constantFrom<unknown>(
      ms,
      ms - 1,
      ms + 1,
      new Date(ms).toISOString(), // Z
      isoWithOffset(ms, 120), // offset
      isoWithOffset(ms, -330),
      new Date(ms).toISOString().slice(0, 19), // no offset: no `now` (§7.1)
      new Date(ms), // a Date: no `now` (§7.1)
    ),
  ),
  fc.constantFrom<unknown>('tomorrow', '', Number.NaN, Number.POSITIVE_INFINITY, null, {}, '2026-13-45T99:99:99Z', Date.UTC(2020, 0, 1), Date.UTC(2030, 0, 1)),
);

/** Decision options (§7.1, §7.10): absent, empty, `now` of every kind, `product`, non-objects, and throwing reads. */
export const arbOptions: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(undefined, null, {}, 5, 'now', true, throwingProxy, throwingGetter, throwingProduct),
  arbNow.map((now) => ({ now })),
  fc.record(
    { now: arbNow, product: fc.constantFrom<unknown>('vibe', 'studio', 'code', 'Vibe', '', null, 1) },
    { requiredKeys: [] },
  ),
);

const ACTION_NAMES = ACTIONS.map((a) => a.name);

interface IdsOf {
  principals: string[];
  workspaces: string[];
  connectors: string[];
  tools: string[];
}

function idsOf(org: OrganizationJson): IdsOf {
  const connectors = org.connectors ?? [];
  return {
    principals: [...(org.members ?? []).map((m) => m.id), ...(org.apiKeys ?? []).map((k) => k.id)],
    workspaces: (org.workspaces ?? []).map((w) => w.id),
    connectors: [...connectors.map((c) => c.id), ...connectors.map((c) => c.name)],
    tools: connectors.flatMap((c) => (c.tools ?? []).map((t) => t.name)),
  };
}

export interface Query {
  principal: unknown;
  action: unknown;
  workspace: unknown;
  options: unknown;
}

/** A `can` / `explain` query on this organization: mostly known ids, sometimes garbage anywhere. */
export function arbQuery(org: OrganizationJson): fc.Arbitrary<Query> {
  const ids = idsOf(org);
  return fc.record({
    principal: knownOr(ids.principals),
    action: knownOr(ACTION_NAMES),
    workspace: fc.oneof({ weight: 4, arbitrary: knownOr(ids.workspaces) }, { weight: 1, arbitrary: fc.constantFrom(undefined, null) }),
    options: arbOptions,
  });
}

export interface ToolQuery {
  principal: unknown;
  connector: unknown;
  tool: unknown;
  workspace: unknown;
  options: unknown;
}

/** A `toolsAvailable` / `canInvoke` / `explainTools` / `explainInvoke` query on this organization. */
export function arbToolQuery(org: OrganizationJson): fc.Arbitrary<ToolQuery> {
  const ids = idsOf(org);
  return fc.record({
    principal: knownOr(ids.principals),
    connector: knownOr(ids.connectors),
    tool: knownOr(ids.tools),
    workspace: knownOr(ids.workspaces),
    options: arbOptions,
  });
}
