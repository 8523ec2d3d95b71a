/**
 * The laws of SPEC §3 and the agreement of the fast path with a plain reading of the SPEC, as properties over
 * random valid organizations (test/arbitraries.ts) and random queries including garbage, ≥ 1,000 runs each.
 * The compiled policy is compared with the plain reference evaluator (test/reference.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTIONS, ORGANIZATION_ROLE_NAMES, WORKSPACE_ROLE_NAMES, createPolicy, parseOrganization, type OrganizationJson, type Policy } from 'org-policy';
import { arbGarbage, arbOptions, arbOrganization, arbQuery, arbToolQuery } from './arbitraries.js';
import {
  referenceCan,
  referenceCanInvoke,
  referenceExplainReason,
  referenceExplainTools,
  referenceInvokeReason,
  referenceToolsAvailable,
  referenceToolsByConnector,
} from './reference.js';
import type { Organization } from '../src/model/index.js';

const RUNS = { numRuns: 1000 };
const ACTION_NAMES: readonly string[] = ACTIONS.map((a) => a.name);
const PRODUCT_ACTIONS = ['vibe.use', 'studio.use', 'code.use', 'observability.view'];
const ORGANIZATION_ACTIONS = ACTIONS.filter((a) => a.scope === 'organization').map((a) => a.name);
const WORKSPACE_ACTIONS = ACTIONS.filter((a) => a.scope === 'workspace').map((a) => a.name);
/** A second active organization_admin, so that changing the subject's roles keeps the snapshot valid (SPEC §5 invariant). */
const SPARE_ADMIN = { id: 'spare-admin', email: 'spare@admin.test', status: 'active' as const, orgRoles: ['organization_admin' as const], seats: [] };

function parsed(json: OrganizationJson): Organization {
  const result = parseOrganization(json);
  if (!result.ok) throw new Error(`generated snapshot does not load: ${JSON.stringify(result.problems)}`);
  return result.organization;
}

function clone(json: OrganizationJson): OrganizationJson {
  return structuredClone(json);
}

function workspacesOf(json: OrganizationJson): (string | undefined)[] {
  return [undefined, ...(json.workspaces ?? []).map((w) => w.id), 'nowhere'];
}

/** Every `action@workspace` the principal is allowed. */
function allowedSet(policy: Policy, principal: string, json: OrganizationJson, actions: readonly string[] = ACTION_NAMES): Set<string> {
  const out = new Set<string>();
  for (const action of actions) for (const workspace of workspacesOf(json)) if (policy.can(principal, action, workspace)) out.add(`${action}@${workspace ?? ''}`);
  return out;
}

/** What the subject holds, directly and through groups, on top of the generated organization. */
interface Holding {
  orgRoles: string[];
  groups: string[];
  /** workspace id → explicit roles, or `null` for the default contributor */
  workspaceRoles: Map<string, string[] | null>;
}

function arbHolding(json: OrganizationJson): fc.Arbitrary<Holding> {
  const workspaceIds = (json.workspaces ?? []).map((w) => w.id);
  const groupIds = (json.groups ?? []).map((g) => g.id);
  return fc.record({
    orgRoles: fc.subarray([...ORGANIZATION_ROLE_NAMES], { minLength: 1 }),
    groups: fc.subarray(groupIds),
    workspaceRoles: fc
      .array(fc.tuple(fc.constantFrom(...(workspaceIds.length > 0 ? workspaceIds : ['-'])), fc.option(fc.subarray([...WORKSPACE_ROLE_NAMES], { minLength: 1 }))), { maxLength: 4 })
      .map((entries) => new Map(entries.filter(([w]) => workspaceIds.includes(w)))),
  });
}

function unionHolding(a: Holding, b: Holding): Holding {
  const workspaceRoles = new Map<string, string[] | null>();
  for (const [w, roles] of [...a.workspaceRoles, ...b.workspaceRoles]) {
    const previous = workspaceRoles.get(w);
    if (!workspaceRoles.has(w)) workspaceRoles.set(w, roles);
    else {
      // the default contributor is exactly workspace_contributor (SPEC §3.4), so a union writes it out
      const explicit = [...(previous ?? ['workspace_contributor']), ...(roles ?? ['workspace_contributor'])];
      workspaceRoles.set(w, [...new Set(explicit)]);
    }
  }
  return { orgRoles: [...new Set([...a.orgRoles, ...b.orgRoles])], groups: [...new Set([...a.groups, ...b.groups])], workspaceRoles };
}

/** The organization with the subject (an existing member, made active) holding exactly `holding` directly and by group. */
function withHolding(json: OrganizationJson, subject: string, holding: Holding): OrganizationJson {
  const next = clone(json);
  next.members = [...(next.members ?? []).map((m) => (m.id === subject ? { ...m, status: 'active' as const, orgRoles: holding.orgRoles as never } : m)), SPARE_ADMIN];
  for (const g of next.groups ?? []) {
    const others = (g.memberIds ?? []).filter((id) => id !== subject);
    g.memberIds = holding.groups.includes(g.id) ? [...others, subject] : others;
  }
  for (const w of next.workspaces ?? []) {
    const others = (w.members ?? []).filter((m) => m.memberId !== subject);
    const roles = holding.workspaceRoles.get(w.id);
    w.members = roles === undefined ? others : [...others, roles === null ? { memberId: subject } : { memberId: subject, roles: roles as never }];
  }
  return next;
}

const arbWithSubject = arbOrganization().chain((json) =>
  fc.tuple(fc.constant(json), fc.constantFrom(...(json.members ?? []).map((m) => m.id))),
);

describe('SPEC §3.1 additive: "Permissions are additive" — a principal gets the union of what every role grants it', () => {
  it('roles A ∪ B allow exactly what A allows plus what B allows, directly, through groups, or both', () => {
    fc.assert(
      fc.property(
        arbWithSubject.chain(([json, subject]) => fc.tuple(fc.constant(json), fc.constant(subject), arbHolding(json), arbHolding(json))),
        ([json, subject, a, b]) => {
          const decide = (h: Holding) => {
            const next = withHolding(json, subject, h);
            return allowedSet(createPolicy(parsed(next)), subject, next);
          };
          expect(decide(unionHolding(a, b))).toEqual(new Set([...decide(a), ...decide(b)]));
        },
      ),
      RUNS,
    );
  });

  it('adding a role or a group never removes a permission', () => {
    fc.assert(
      fc.property(
        arbWithSubject.chain(([json, subject]) => fc.tuple(fc.constant(json), fc.constant(subject), arbHolding(json), arbHolding(json))),
        ([json, subject, a, extra]) => {
          const before = withHolding(json, subject, a);
          const after = withHolding(json, subject, unionHolding(a, extra));
          const grown = allowedSet(createPolicy(parsed(after)), subject, after);
          for (const allowed of allowedSet(createPolicy(parsed(before)), subject, before)) expect(grown).toContain(allowed);
        },
      ),
      RUNS,
    );
  });
});

describe('SPEC §3.4 default contributor: a member or group added to a workspace without roles gets exactly workspace_contributor, whatever its organization roles', () => {
  it('writing every default entry (direct and group grant) as ["workspace_contributor"] changes no decision of any principal', () => {
    fc.assert(
      fc.property(arbOrganization(), (json) => {
        const explicit = clone(json);
        for (const w of explicit.workspaces ?? []) {
          w.members = (w.members ?? []).map((m) => ({ memberId: m.memberId, roles: m.roles ?? ['workspace_contributor'] }));
          w.groupGrants = (w.groupGrants ?? []).map((g) => ({ groupId: g.groupId, roles: g.roles ?? ['workspace_contributor'] }));
        }
        const implicitPolicy = createPolicy(parsed(json));
        const explicitPolicy = createPolicy(parsed(explicit));
        for (const principal of [...(json.members ?? []), ...(json.apiKeys ?? [])].map((p) => p.id)) {
          expect(allowedSet(explicitPolicy, principal, json)).toEqual(allowedSet(implicitPolicy, principal, json));
        }
      }),
      RUNS,
    );
  });

  it('nothing of its organization roles leaks into product actions: a default member decides them as a contributor with its seat would', () => {
    fc.assert(
      fc.property(arbWithSubject.chain(([json, subject]) => fc.tuple(fc.constant(json), fc.constant(subject), arbHolding(json))), ([json, subject, holding]) => {
        const workspaceRoles = new Map([...holding.workspaceRoles].map(([w]) => [w, null] as const));
        const next = withHolding(json, subject, { ...holding, groups: [], workspaceRoles });
        const policy = createPolicy(parsed(next));
        const seat = (next.members ?? []).find((m) => m.id === subject)!.seats?.includes('mistral_code') ?? false;
        for (const w of workspaceRoles.keys()) {
          expect(PRODUCT_ACTIONS.map((a) => policy.can(subject, a, w))).toEqual([true, true, seat, false]);
        }
      }),
      RUNS,
    );
  });
});

describe('SPEC §3.2 scope independence: "They are independent" — organization actions from organization roles only, workspace actions from workspace roles only', () => {
  it('changing only organization roles (direct or a group\'s) never changes a workspace product decision', () => {
    const arb = arbWithSubject.chain(([json, subject]) =>
      fc.tuple(fc.constant(json), fc.constant(subject), fc.subarray([...ORGANIZATION_ROLE_NAMES], { minLength: 1 }), fc.subarray([...ORGANIZATION_ROLE_NAMES])),
    );
    fc.assert(
      fc.property(arb, ([json, subject, orgRoles, groupRoles]) => {
        const base = clone(json);
        base.members = [...(base.members ?? []), SPARE_ADMIN];
        const changed = clone(base);
        changed.members = (changed.members ?? []).map((m) => (m.id === subject ? { ...m, orgRoles } : m));
        for (const g of changed.groups ?? []) g.orgRoles = groupRoles;
        const before = createPolicy(parsed(base));
        const after = createPolicy(parsed(changed));
        for (const principal of (base.members ?? []).map((m) => m.id)) {
          expect(allowedSet(after, principal, base, PRODUCT_ACTIONS)).toEqual(allowedSet(before, principal, base, PRODUCT_ACTIONS));
        }
      }),
      RUNS,
    );
  });

  it('changing only workspace roles never changes an organization decision (admin.access, the one action of both scopes, aside)', () => {
    fc.assert(
      fc.property(
        arbWithSubject.chain(([json, subject]) => fc.tuple(fc.constant(json), fc.constant(subject), arbHolding(json), arbHolding(json))),
        ([json, subject, a, b]) => {
          const other = { ...b, orgRoles: a.orgRoles, groups: a.groups };
          const first = withHolding(json, subject, a);
          const second = withHolding(json, subject, other);
          expect(allowedSet(createPolicy(parsed(second)), subject, second, ORGANIZATION_ACTIONS)).toEqual(
            allowedSet(createPolicy(parsed(first)), subject, first, ORGANIZATION_ACTIONS),
          );
        },
      ),
      RUNS,
    );
  });
});

const arbOrganizationWithQueries = arbOrganization().chain((json) =>
  fc.tuple(fc.constant(json), fc.array(arbQuery(json), { minLength: 4, maxLength: 4 }), fc.array(arbToolQuery(json), { minLength: 4, maxLength: 4 })),
);

function isKnownPrincipal(json: OrganizationJson, principal: unknown): boolean {
  return [...(json.members ?? []), ...(json.apiKeys ?? [])].some((p) => p.id === principal);
}

describe('SPEC §3.5 fail closed: an unknown principal, workspace or action, or malformed input decides false and never throws', () => {
  it('can and explain never throw, and deny unknown or malformed principals and actions, and workspace actions in unknown or malformed workspaces', () => {
    fc.assert(
      fc.property(arbOrganizationWithQueries, fc.array(fc.tuple(arbGarbage, arbGarbage, arbGarbage, arbOptions), { maxLength: 3 }), ([json, queries], garbage) => {
        const policy = createPolicy(parsed(json));
        const can = policy.can as (...args: unknown[]) => boolean;
        const explain = policy.explain as (...args: unknown[]) => { allowed: boolean };
        const all = [...queries.map((q) => [q.principal, q.action, q.workspace, q.options] as const), ...garbage];
        for (const [principal, action, workspace, options] of all) {
          const allowed = can(principal, action, workspace, options);
          expect(explain(principal, action, workspace, options).allowed).toBe(allowed);
          if (!isKnownPrincipal(json, principal)) expect(allowed).toBe(false);
          if (typeof action !== 'string' || !ACTION_NAMES.includes(action as never)) expect(allowed).toBe(false);
          const knownWorkspace = (json.workspaces ?? []).some((w) => w.id === workspace);
          if (WORKSPACE_ACTIONS.includes(action as never) && !knownWorkspace) expect(allowed).toBe(false);
        }
      }),
      RUNS,
    );
  });

  it('an organization action ignores the workspace it is asked with (SPEC §3.2), whatever that value is', () => {
    fc.assert(
      fc.property(arbOrganizationWithQueries, arbGarbage, ([json, queries], workspace) => {
        const policy = createPolicy(parsed(json));
        const can = policy.can as (...args: unknown[]) => boolean;
        for (const q of queries) for (const action of ORGANIZATION_ACTIONS) expect(can(q.principal, action, workspace, q.options)).toBe(can(q.principal, action, undefined, q.options));
      }),
      RUNS,
    );
  });

  it('toolsAvailable, canInvoke, toolsByConnector, explainTools and explainInvoke never throw, and garbage gets no tools', () => {
    fc.assert(
      fc.property(arbOrganization(), fc.array(fc.tuple(arbGarbage, arbGarbage, arbGarbage, arbGarbage, arbOptions), { minLength: 3, maxLength: 3 }), (json, garbage) => {
        const policy = createPolicy(parsed(json)) as unknown as Record<string, (...args: unknown[]) => unknown>;
        for (const [principal, connector, tool, workspace, options] of garbage) {
          const tools = policy.toolsAvailable!(principal, connector, workspace, options) as string[];
          policy.explainTools!(principal, connector, workspace, options);
          policy.explainInvoke!(principal, connector, tool, workspace, options);
          policy.toolsByConnector!(principal, workspace, options);
          const invoke = policy.canInvoke!(principal, connector, tool, workspace, options);
          if (!isKnownPrincipal(json, principal)) expect([tools, invoke]).toEqual([[], false]);
        }
      }),
      RUNS,
    );
  });
});

describe('SPEC §3.7 explain returns the same decision as can, and both agree with a plain reading of the SPEC', () => {
  it('explain(...).allowed === can(...) on every random query', () => {
    fc.assert(
      fc.property(arbOrganizationWithQueries, ([json, queries]) => {
        const policy = createPolicy(parsed(json));
        const can = policy.can as (...args: unknown[]) => boolean;
        const explain = policy.explain as (...args: unknown[]) => { allowed: boolean };
        for (const q of queries) expect(explain(q.principal, q.action, q.workspace, q.options).allowed).toBe(can(q.principal, q.action, q.workspace, q.options));
      }),
      RUNS,
    );
  });

  it('on random organizations and random queries (garbage included), can, explain (allowed and reason, §7.15) and the reference agree on every answer', () => {
    fc.assert(
      fc.property(arbOrganizationWithQueries, ([json, queries]) => {
        const organization = parsed(json);
        const policy = createPolicy(organization);
        const can = policy.can as (...args: unknown[]) => boolean;
        const explain = policy.explain as (...args: unknown[]) => { allowed: boolean; reason?: string };
        for (const { principal, action, workspace, options } of queries) {
          const reason = referenceExplainReason(organization, principal, action, workspace, options);
          expect(can(principal, action, workspace, options)).toBe(referenceCan(organization, principal, action, workspace, options));
          const explanation = explain(principal, action, workspace, options);
          expect(explanation.allowed ? null : explanation.reason).toBe(reason);
        }
        // and every known principal × action × workspace, where the rules of §3 actually bite
        for (const principal of [...organization.members.keys(), ...organization.apiKeys.keys()]) {
          for (const action of ACTION_NAMES) {
            for (const workspace of workspacesOf(json)) {
              const explanation = policy.explain(principal, action, workspace, { now: Date.UTC(2026, 5, 1, 12, 30) });
              expect(explanation.allowed ? null : explanation.reason).toBe(referenceExplainReason(organization, principal, action, workspace, { now: Date.UTC(2026, 5, 1, 12, 30) }));
            }
          }
        }
      }),
      RUNS,
    );
  });

  it('on random organizations and random queries, toolsAvailable, canInvoke, toolsByConnector, explainTools and explainInvoke agree with the reference (§4, §7.15)', () => {
    fc.assert(
      fc.property(arbOrganizationWithQueries, ([json, , toolQueries]) => {
        const organization = parsed(json);
        const policy = createPolicy(organization) as unknown as Record<string, (...args: unknown[]) => unknown>;
        const everyKnown = [...organization.members.keys(), ...organization.apiKeys.keys()].flatMap((principal) =>
          [...organization.connectors.values()].flatMap((c) =>
            [...organization.workspaces.keys()].map((workspace) => ({ principal, connector: c.id as unknown, tool: c.tools[0]?.name as unknown, workspace, options: { now: Date.UTC(2026, 5, 1, 12, 30) } as unknown })),
          ),
        );
        for (const { principal, connector, tool, workspace, options } of [...toolQueries, ...everyKnown]) {
          expect([...(policy.toolsAvailable!(principal, connector, workspace, options) as string[])]).toEqual(referenceToolsAvailable(organization, principal, connector, workspace, options));
          expect(policy.canInvoke!(principal, connector, tool, workspace, options)).toBe(referenceCanInvoke(organization, principal, connector, tool, workspace, options));
          expect(policy.explainTools!(principal, connector, workspace, options)).toEqual(referenceExplainTools(organization, principal, connector, workspace, options));
          const reason = referenceInvokeReason(organization, principal, connector, tool, workspace, options);
          expect(policy.explainInvoke!(principal, connector, tool, workspace, options)).toEqual({ allowed: reason === null, reason });
          expect(policy.toolsByConnector!(principal, workspace, options)).toEqual(referenceToolsByConnector(organization, principal, workspace, options));
        }
      }),
      RUNS,
    );
  });
});
