/**
 * The laws of SPEC §4, over random valid organizations: each stated in one line as the SPEC
 * would, checked on at least 1,000 generated cases.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPolicy, parseOrganization, WORKSPACE_ROLE_NAMES, type OrganizationJson, type Policy } from 'org-policy';

const RUNS = { numRuns: 1000 };

const MEMBERS = ['m0', 'm1', 'm2', 'm3'] as const;
const WORKSPACES = ['w0', 'w1', 'w2'] as const;
const CONNECTORS = ['c0', 'c1', 'c2'] as const;
const KEYS = ['k0', 'k1', 'k2'] as const;
const TOOLS = ['t0', 't1', 't2', 't3'] as const;
const INSTANTS = ['2026-01-01T00:00:00Z', '2026-06-01T00:00:00Z', '2027-01-01T00:00:00+01:00'];
const NOWS = [undefined, Date.parse('2026-03-01T00:00:00Z'), '2026-06-01T00:00:00Z', '2028-01-01T00:00:00Z'];

/** A snapshot as raw JSON (SPEC §6.1), edited by the laws before it is parsed. */
interface Snapshot {
  schemaVersion: 1;
  id: string;
  name: string;
  members: { id: string; email: string; status: 'active' | 'suspended'; orgRoles: string[]; seats: string[] }[];
  groups: { id: string; name: string; memberIds: string[]; orgRoles: string[] }[];
  workspaces: {
    id: string;
    name: string;
    members: { memberId: string; roles?: string[] }[];
    groupGrants: { groupId: string; roles?: string[] }[];
    connectorPermissions: Permission[];
  }[];
  connectors: {
    id: string;
    name: string;
    visibility: 'organization' | 'workspace';
    workspaceIds?: string[];
    authentication: 'oauth2' | 'api_key' | 'none';
    origin: 'featured' | 'custom';
    capabilities: 'read_only' | 'read_write';
    tools: { name: string; access: 'read' | 'write' }[];
  }[];
  connectorPermissions: Permission[];
  credentials: ({ id: string; connectorId: string; holder: 'organization' } | { id: string; connectorId: string; holder: 'workspace'; workspaceId: string } | { id: string; connectorId: string; holder: 'member'; memberId: string })[];
  apiKeys: { id: string; name: string; workspaceId: string; status: 'active' | 'revoked'; expiresAt?: string; connectorScopes: 'all' | string[] }[];
}
type Permission = { connectorId: string; mode: 'allowed' | 'restricted' | 'blocked'; tools?: string[] };

const subsetOf = <T,>(items: readonly T[]) => fc.subarray([...items]);
const workspaceRoles = fc.option(fc.subarray([...WORKSPACE_ROLE_NAMES], { minLength: 1 }), { nil: undefined });

function permissionOf(tools: readonly string[]): fc.Arbitrary<Omit<Permission, 'connectorId'> | null> {
  return fc.oneof(
    fc.constant(null),
    fc.constant({ mode: 'allowed' as const }),
    fc.constant({ mode: 'blocked' as const }),
    tools.length === 0 ? fc.constant(null) : fc.subarray([...tools], { minLength: 1 }).map((selected) => ({ mode: 'restricted' as const, tools: selected })),
  );
}

const connectorArb = (id: string) =>
  fc
    .record({
      visibility: fc.constantFrom('organization' as const, 'workspace' as const),
      workspaceIds: subsetOf(WORKSPACES),
      authentication: fc.constantFrom('oauth2' as const, 'api_key' as const, 'none' as const),
      capabilities: fc.constantFrom('read_only' as const, 'read_write' as const),
      tools: fc.subarray([...TOOLS]).chain((names) => fc.shuffledSubarray(names, { minLength: names.length, maxLength: names.length })),
      writes: fc.array(fc.boolean(), { minLength: TOOLS.length, maxLength: TOOLS.length }),
    })
    .map(({ visibility, workspaceIds, authentication, capabilities, tools, writes }) => ({
      id,
      name: `name-${id}`,
      visibility,
      ...(visibility === 'workspace' ? { workspaceIds } : {}),
      authentication,
      origin: 'custom' as const,
      capabilities,
      // SPEC §4.5: a read-only connector defines read tools only.
      tools: tools.map((name, i) => ({ name, access: capabilities === 'read_write' && writes[i] ? ('write' as const) : ('read' as const) })),
    }));

/** Random valid organizations over a small id universe, so that principals, workspaces and connectors meet often. */
const snapshotArb: fc.Arbitrary<Snapshot> = fc
  .record({
    statuses: fc.array(fc.constantFrom('active' as const, 'suspended' as const), { minLength: 3, maxLength: 3 }),
    groupMembers: subsetOf(MEMBERS),
    workspaces: fc.tuple(
      ...WORKSPACES.map(() =>
        fc.record({
          members: fc.array(fc.tuple(fc.constantFrom(...MEMBERS), workspaceRoles), { maxLength: 4 }),
          groupRoles: fc.option(workspaceRoles, { nil: null }),
        }),
      ),
    ),
    connectors: fc.tuple(...CONNECTORS.map(connectorArb)),
    credentials: fc.array(
      fc.tuple(fc.constantFrom(...CONNECTORS), fc.oneof(fc.constant('organization' as const), fc.constantFrom(...WORKSPACES), fc.constantFrom(...MEMBERS))),
      { maxLength: 5 },
    ),
    keys: fc.tuple(
      ...KEYS.map(() =>
        fc.record({
          workspaceId: fc.constantFrom(...WORKSPACES),
          status: fc.constantFrom('active' as const, 'active' as const, 'revoked' as const),
          expiresAt: fc.option(fc.constantFrom(...INSTANTS), { nil: undefined }),
          scopes: fc.option(subsetOf(CONNECTORS), { nil: 'all' as const }),
        }),
      ),
    ),
    permissionSeeds: fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
  })
  .chain((base) => {
    const permissions = (count: number) => fc.tuple(...base.connectors.slice(0, count).map((c) => permissionOf(c.tools.map((t) => t.name))));
    return fc.record({ base: fc.constant(base), organization: permissions(3), workspaces: fc.tuple(...WORKSPACES.map(() => permissions(3))) });
  })
  .map(({ base, organization, workspaces }) => {
    const permissionList = (list: readonly (Omit<Permission, 'connectorId'> | null)[]) =>
      list.flatMap((permission, i) => (permission === null ? [] : [{ connectorId: CONNECTORS[i]!, ...permission }]));
    const credentials: Snapshot['credentials'] = base.credentials.map(([connectorId, holder], i) =>
      holder === 'organization'
        ? { id: `cred${i}`, connectorId, holder }
        : (WORKSPACES as readonly string[]).includes(holder)
          ? { id: `cred${i}`, connectorId, holder: 'workspace', workspaceId: holder }
          : { id: `cred${i}`, connectorId, holder: 'member', memberId: holder },
    );
    return {
      schemaVersion: 1 as const,
      id: 'org',
      name: 'org',
      members: MEMBERS.map((id, i) => ({
        id,
        email: `${id}@example.com`,
        status: i === 0 ? ('active' as const) : base.statuses[i - 1]!,
        orgRoles: i === 0 ? ['organization_admin'] : ['member'],
        seats: [],
      })),
      groups: [{ id: 'g0', name: 'g0', memberIds: base.groupMembers, orgRoles: [] }],
      workspaces: WORKSPACES.map((id, w) => {
        const spec = base.workspaces[w]!;
        const members = new Map(spec.members);
        return {
          id,
          name: id,
          members: [...members].map(([memberId, roles]) => (roles === undefined ? { memberId } : { memberId, roles })),
          groupGrants: spec.groupRoles === null ? [] : [spec.groupRoles === undefined ? { groupId: 'g0' } : { groupId: 'g0', roles: spec.groupRoles }],
          connectorPermissions: permissionList(workspaces[w]!),
        };
      }),
      connectors: [...base.connectors],
      connectorPermissions: permissionList(organization),
      credentials,
      apiKeys: KEYS.map((id, i) => {
        const key = base.keys[i]!;
        return {
          id,
          name: id,
          workspaceId: key.workspaceId,
          status: key.status,
          ...(key.expiresAt === undefined ? {} : { expiresAt: key.expiresAt }),
          connectorScopes: key.scopes,
        };
      }),
    };
  });

function policyOf(snapshot: Snapshot): Policy {
  const parsed = parseOrganization(snapshot as unknown as OrganizationJson);
  if (!parsed.ok) throw new Error(`generator produced an invalid snapshot: ${JSON.stringify(parsed.problems)}`);
  return createPolicy(parsed.organization);
}

const edit = (snapshot: Snapshot, change: (draft: Snapshot) => void): Snapshot => {
  const draft = structuredClone(snapshot);
  change(draft);
  return draft;
};

const PRINCIPALS = [...MEMBERS, ...KEYS];
const optionsArb = fc.record(
  { now: fc.constantFrom(...NOWS), product: fc.constantFrom('vibe' as const, 'studio' as const) },
  { requiredKeys: [] },
);
/** Every (principal, workspace) pair with one connector and options: the whole surface a law must hold on. */
function everyQuery(each: (principal: string, workspace: string) => void) {
  for (const principal of PRINCIPALS) for (const workspace of WORKSPACES) each(principal, workspace);
}
const isSubset = (small: readonly string[], big: readonly string[]) => small.every((tool) => big.includes(tool));

function setPermission(snapshot: Snapshot, level: string | null, connectorId: string, permission: Omit<Permission, 'connectorId'> | null) {
  const list = level === null ? snapshot.connectorPermissions : snapshot.workspaces.find((w) => w.id === level)!.connectorPermissions;
  const kept = list.filter((p) => p.connectorId !== connectorId);
  list.length = 0;
  list.push(...kept, ...(permission === null ? [] : [{ connectorId, ...permission }]));
}

const levelArb = fc.constantFrom(null, ...WORKSPACES);

/**
 * A plain reading of SPEC §4 and §7.15 over the raw snapshot, written without the compiled indexes, so
 * that the fast path is checked against the rules as the SPEC states them (Cedar-style differential test).
 */
const VIBE_ROLES = new Set(['user', 'workspace_contributor', 'workspace_admin']); // SPEC §2: who holds vibe.use
const STUDIO_ROLES = new Set(['dev', 'workspace_contributor', 'workspace_admin']); // … and studio.use

function referenceTools(s: Snapshot, principal: string, connectorRef: string, workspace: string, options: { now?: number | string | undefined; product?: string | undefined }) {
  const member = s.members.find((m) => m.id === principal);
  const key = s.apiKeys.find((k) => k.id === principal);
  const connector = s.connectors.find((c) => c.id === connectorRef) ?? s.connectors.find((c) => c.name === connectorRef);
  const space = s.workspaces.find((w) => w.id === workspace);
  const reason = ((): string | null => {
    if (!member && !key) return 'unknown_principal';
    if (!connector) return 'unknown_connector';
    if (!space) return 'unknown_workspace';
    if (options.product !== undefined && options.product !== 'vibe' && options.product !== 'studio') return 'malformed_options';
    if (key) {
      if (key.status === 'revoked') return 'key_revoked';
      if (key.expiresAt !== undefined) {
        if (options.now === undefined) return 'now_required';
        if (new Date(options.now).getTime() >= Date.parse(key.expiresAt)) return 'key_expired';
      }
      if (key.workspaceId !== workspace) return 'key_workspace';
      if (key.connectorScopes !== 'all' && !key.connectorScopes.includes(connector.id)) return 'key_scope';
      if (options.product === 'vibe') return 'no_product_access';
    } else {
      if (member!.status === 'suspended') return 'suspended';
      const roles = [
        ...space.members.filter((m) => m.memberId === principal).flatMap((m) => m.roles ?? ['workspace_contributor']),
        ...space.groupGrants
          .filter((g) => s.groups.find((group) => group.id === g.groupId)?.memberIds.includes(principal))
          .flatMap((g) => g.roles ?? ['workspace_contributor']),
      ];
      const vibe = roles.some((r) => VIBE_ROLES.has(r)) && options.product !== 'studio';
      const studio = roles.some((r) => STUDIO_ROLES.has(r)) && options.product !== 'vibe';
      if (!vibe && !studio) return 'no_product_access';
    }
    if (connector.visibility === 'workspace' && !(connector.workspaceIds ?? []).includes(workspace)) return 'not_visible';
    const levels = [s.connectorPermissions, space.connectorPermissions].map((list) => list.find((p) => p.connectorId === connector.id));
    if (levels.some((p) => p?.mode === 'blocked')) return 'connector_blocked';
    const connected = s.credentials.some(
      (c) =>
        c.connectorId === connector.id &&
        (c.holder === 'organization' || (c.holder === 'workspace' && c.workspaceId === workspace) || (c.holder === 'member' && member !== undefined && c.memberId === principal)),
    );
    if (connector.authentication !== 'none' && !connected) return 'not_connected';
    return null;
  })();
  const selected = (tool: string) =>
    [s.connectorPermissions, space?.connectorPermissions ?? []].every((list) => {
      const permission = list.find((p) => p.connectorId === connector?.id);
      return permission?.mode !== 'restricted' || permission.tools!.includes(tool);
    });
  const tools = reason !== null ? [] : connector!.tools.filter((t) => t.access === 'read' || connector!.capabilities === 'read_write').map((t) => t.name).filter(selected);
  return { reason, tools };
}

describe('SPEC §4 laws (≥ 1,000 random organizations each)', () => {
  it('blocked at either level gives [] (§4.3)', () => {
    fc.assert(
      fc.property(snapshotArb, fc.constantFrom(...CONNECTORS), levelArb, optionsArb, (snapshot, connector, level, options) => {
        const policy = policyOf(edit(snapshot, (d) => setPermission(d, level, connector, { mode: 'blocked' })));
        for (const workspace of level === null ? WORKSPACES : [level]) {
          for (const principal of PRINCIPALS) expect(policy.toolsAvailable(principal, connector, workspace, options)).toEqual([]);
        }
      }),
      RUNS,
    );
  });

  it('restricted(S) gives a subset of S and of what allowed gives (§4.3, D4)', () => {
    fc.assert(
      fc.property(snapshotArb, fc.constantFrom(0, 1, 2), levelArb, fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), optionsArb, (snapshot, c, level, pick, options) => {
        const connector = snapshot.connectors[c]!;
        const selection = connector.tools.map((t) => t.name).filter((_, i) => pick[i]);
        fc.pre(selection.length > 0);
        const restricted = policyOf(edit(snapshot, (d) => setPermission(d, level, connector.id, { mode: 'restricted', tools: selection })));
        const allowed = policyOf(edit(snapshot, (d) => setPermission(d, level, connector.id, { mode: 'allowed' })));
        // A workspace's setting holds in that workspace only; the organization's in every one.
        for (const workspace of level === null ? WORKSPACES : [level]) {
          for (const principal of PRINCIPALS) {
            const tools = restricted.toolsAvailable(principal, connector.id, workspace, options);
            expect(isSubset(tools, selection)).toBe(true);
            expect(isSubset(tools, allowed.toolsAvailable(principal, connector.id, workspace, options))).toBe(true);
          }
        }
      }),
      RUNS,
    );
  });

  it("a workspace setting never widens the organization's (D4)", () => {
    fc.assert(
      fc.property(snapshotArb, fc.constantFrom(...WORKSPACES), optionsArb, (snapshot, workspace, options) => {
        const organizationOnly = policyOf(edit(snapshot, (d) => (d.workspaces.find((w) => w.id === workspace)!.connectorPermissions = [])));
        const both = policyOf(snapshot);
        for (const connector of CONNECTORS) {
          for (const principal of PRINCIPALS) {
            expect(isSubset(both.toolsAvailable(principal, connector, workspace, options), organizationOnly.toolsAvailable(principal, connector, workspace, options))).toBe(true);
          }
        }
      }),
      RUNS,
    );
  });

  it("the result keeps the connector's tool order and has no duplicates (§4, §7.8)", () => {
    fc.assert(
      fc.property(snapshotArb, optionsArb, (snapshot, options) => {
        const policy = policyOf(snapshot);
        for (const connector of snapshot.connectors) {
          const order = connector.tools.map((t) => t.name);
          everyQuery((principal, workspace) => {
            const tools = policy.toolsAvailable(principal, connector.name, workspace, options);
            expect(new Set(tools).size).toBe(tools.length);
            expect(tools).toEqual(order.filter((name) => tools.includes(name)));
          });
        }
      }),
      RUNS,
    );
  });

  it('without a credential, a connector whose authentication is not none gives [] (§4.4)', () => {
    fc.assert(
      fc.property(snapshotArb, fc.constantFrom(...CONNECTORS), optionsArb, (snapshot, connector, options) => {
        const policy = policyOf(edit(snapshot, (d) => (d.credentials = d.credentials.filter((c) => c.connectorId !== connector))));
        const needsCredential = snapshot.connectors.find((c) => c.id === connector)!.authentication !== 'none';
        everyQuery((principal, workspace) => {
          const tools = policy.toolsAvailable(principal, connector, workspace, options);
          if (needsCredential) expect(tools).toEqual([]);
          if (needsCredential && tools.length === 0 && policy.explainTools(principal, connector, workspace, options).reason === null) {
            throw new Error('an unconnected connector must be explained by a connector-wide reason');
          }
        });
      }),
      RUNS,
    );
  });

  it('adding a credential never removes a tool (§4.4)', () => {
    const holderArb = fc.oneof(fc.constant('organization' as const), fc.constantFrom(...WORKSPACES), fc.constantFrom(...MEMBERS));
    fc.assert(
      fc.property(snapshotArb, fc.constantFrom(...CONNECTORS), holderArb, optionsArb, (snapshot, connectorId, holder, options) => {
        const before = policyOf(snapshot);
        const after = policyOf(
          edit(snapshot, (d) =>
            d.credentials.push(
              holder === 'organization'
                ? { id: 'added', connectorId, holder }
                : (WORKSPACES as readonly string[]).includes(holder)
                  ? { id: 'added', connectorId, holder: 'workspace', workspaceId: holder }
                  : { id: 'added', connectorId, holder: 'member', memberId: holder },
            ),
          ),
        );
        everyQuery((principal, workspace) => {
          for (const connector of CONNECTORS) {
            expect(isSubset(before.toolsAvailable(principal, connector, workspace, options), after.toolsAvailable(principal, connector, workspace, options))).toBe(true);
          }
        });
      }),
      RUNS,
    );
  });

  it('adding a role never removes a tool (§3.1 additive, §4.1)', () => {
    const grantArb = fc.record({
      member: fc.constantFrom(...MEMBERS),
      workspace: fc.constantFrom(...WORKSPACES),
      role: fc.constantFrom(...WORKSPACE_ROLE_NAMES),
      viaGroup: fc.boolean(),
    });
    fc.assert(
      fc.property(snapshotArb, grantArb, optionsArb, (snapshot, grant, options) => {
        const before = policyOf(snapshot);
        const after = policyOf(
          edit(snapshot, (d) => {
            const workspace = d.workspaces.find((w) => w.id === grant.workspace)!;
            if (grant.viaGroup) {
              // A new group holding the role there, with the member in it.
              d.groups.push({ id: 'g-added', name: 'g-added', memberIds: [grant.member], orgRoles: [] });
              workspace.groupGrants.push({ groupId: 'g-added', roles: [grant.role] });
              return;
            }
            const entry = workspace.members.find((m) => m.memberId === grant.member);
            // Roles absent are the default contributor (§3.4): keep it explicitly when adding to them.
            if (entry === undefined) workspace.members.push({ memberId: grant.member, roles: [grant.role] });
            else entry.roles = [...new Set([...(entry.roles ?? ['workspace_contributor']), grant.role])];
          }),
        );
        everyQuery((principal, workspace) => {
          for (const connector of CONNECTORS) {
            expect(isSubset(before.toolsAvailable(principal, connector, workspace, options), after.toolsAvailable(principal, connector, workspace, options))).toBe(true);
          }
        });
      }),
      RUNS,
    );
  });

  it('canInvoke agrees with toolsAvailable on every tool, and toolsByConnector with both', () => {
    fc.assert(
      fc.property(snapshotArb, optionsArb, (snapshot, options) => {
        const policy = policyOf(snapshot);
        everyQuery((principal, workspace) => {
          const expected = [];
          for (const connector of snapshot.connectors) {
            const tools = policy.toolsAvailable(principal, connector.id, workspace, options);
            for (const name of [...TOOLS, 'missing']) expect(policy.canInvoke(principal, connector.id, name, workspace, options)).toBe(tools.includes(name));
            if (tools.length > 0) expect(policy.toolsAvailable(principal, connector.name, workspace, options)).toEqual(tools);
            if (tools.length > 0) expect(policy.canInvoke(principal, connector.name, tools[0]!, workspace, options)).toBe(true);
            if (tools.length > 0) expected.push({ connector: { id: connector.id, name: connector.name }, tools: [...tools] });
          }
          expect(policy.toolsByConnector(principal, workspace, options)).toEqual(expected);
        });
      }),
      RUNS,
    );
  });

  it('explainTools and explainInvoke agree with toolsAvailable and canInvoke (§4, §7.15)', () => {
    fc.assert(
      fc.property(snapshotArb, optionsArb, (snapshot, options) => {
        const policy = policyOf(snapshot);
        everyQuery((principal, workspace) => {
          for (const connector of snapshot.connectors) {
            const tools = policy.toolsAvailable(principal, connector.id, workspace, options);
            const explained = policy.explainTools(principal, connector.id, workspace, options);
            expect(explained.tools.map((t) => t.name)).toEqual(connector.tools.map((t) => t.name));
            expect(explained.tools.filter((t) => t.reason === null).map((t) => t.name)).toEqual(tools);
            if (explained.reason !== null) expect(explained.tools.every((t) => t.reason === explained.reason)).toBe(true);
            else expect(explained.tools.every((t) => t.reason === null || t.reason === 'tool_not_selected')).toBe(true);
            for (const name of [...TOOLS, 'missing']) {
              const invoke = policy.explainInvoke(principal, connector.id, name, workspace, options);
              expect(invoke.allowed).toBe(policy.canInvoke(principal, connector.id, name, workspace, options));
              expect(invoke.allowed).toBe(invoke.reason === null);
              const own = explained.tools.find((t) => t.name === name);
              // The connector's reasons first, then unknown_tool, then the tool's own (§7.15).
              expect(invoke.reason).toBe(explained.reason ?? (own === undefined ? 'unknown_tool' : own.reason));
            }
          }
        });
      }),
      RUNS,
    );
  });

  it('toolsAvailable and explainTools agree with a plain reading of SPEC §4 and §7.15 (differential)', () => {
    const queryArb = fc.record({
      principal: fc.constantFrom(...PRINCIPALS, 'nobody'),
      connector: fc.constantFrom(...CONNECTORS, ...CONNECTORS.map((id) => `name-${id}`), 'nothing'),
      workspace: fc.constantFrom(...WORKSPACES, 'nowhere'),
      options: fc.record({ now: fc.constantFrom(...NOWS), product: fc.constantFrom('vibe', 'studio', 'code') }, { requiredKeys: [] }),
    });
    fc.assert(
      fc.property(snapshotArb, fc.array(queryArb, { minLength: 20, maxLength: 20 }), (snapshot, queries) => {
        const policy = policyOf(snapshot);
        for (const { principal, connector, workspace, options } of queries) {
          const expected = referenceTools(snapshot, principal, connector, workspace, options);
          const asked = options as { now?: number | string; product?: 'vibe' | 'studio' };
          expect(policy.explainTools(principal, connector, workspace, asked).reason).toBe(expected.reason);
          expect(policy.toolsAvailable(principal, connector, workspace, asked)).toEqual(expected.tools);
        }
      }),
      RUNS,
    );
  });

  it('nothing throws on garbage, and garbage gets no tools (§3.5 fail closed)', () => {
    const policies = [policyOf(fc.sample(snapshotArb, { numRuns: 1, seed: 42 })[0]!), policyOf(fc.sample(snapshotArb, { numRuns: 1, seed: 7 })[0]!)];
    const hostile = new Proxy({}, { get: () => { throw new Error('hostile getter'); } }); // prettier-ignore
    const anyValue = fc.oneof(
      fc.anything({ withNullPrototype: true, withBigInt: true, withMap: true, withSet: true, withDate: true }),
      fc.constantFrom<unknown>('__proto__', 'constructor', 'toString', 'hasOwnProperty', hostile, Symbol('s'), () => 1, NaN, -0),
      fc.constantFrom<unknown>(...PRINCIPALS, ...WORKSPACES, ...CONNECTORS, ...TOOLS),
    );
    fc.assert(
      fc.property(fc.constantFrom(0, 1), anyValue, anyValue, anyValue, anyValue, anyValue, (p, principal, connector, tool, workspace, options) => {
        const policy = policies[p]! as unknown as Record<string, (...args: unknown[]) => unknown>;
        const tools = policy.toolsAvailable!(principal, connector, workspace, options) as string[];
        expect(Array.isArray(tools)).toBe(true);
        expect(typeof policy.canInvoke!(principal, connector, tool, workspace, options)).toBe('boolean');
        expect(Array.isArray(policy.toolsByConnector!(principal, workspace, options))).toBe(true);
        expect(policy.explainTools!(principal, connector, workspace, options)).toHaveProperty('reason');
        expect(policy.explainInvoke!(principal, connector, tool, workspace, options)).toHaveProperty('allowed');
        if (typeof principal !== 'string' || typeof workspace !== 'string') expect(tools).toEqual([]);
      }),
      { numRuns: 2000 },
    );
  });
});
