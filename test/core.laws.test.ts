/**
 * The laws of SPEC §3, stated as properties over random organizations (≥ 1,000 cases each).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTIONS, createPolicy, type Policy } from 'org-policy';
import {
  KEY_IDS,
  MEMBER_IDS,
  SUBJECT,
  WORKSPACE_IDS,
  arbBaseOrganization,
  arbSubject,
  unionPlacement,
  withSubject,
  type SubjectSpec,
} from './support/core-fixtures.js';
import { referenceCan, referenceReason } from './support/core-reference.js';

const RUNS = { numRuns: 1000 };
const ACTION_NAMES = ACTIONS.map((a) => a.name);
const PRODUCT_ACTIONS = ['vibe.use', 'studio.use', 'code.use', 'observability.view'];
const ORGANIZATION_ONLY = ACTIONS.filter((a) => a.scope === 'organization').map((a) => a.name);
const WORKSPACES: (string | undefined)[] = [undefined, ...WORKSPACE_IDS, 'nowhere'];

/** Every (action, workspace) the subject is allowed, as `action@workspace`. */
function allowedSet(policy: Policy, principal = SUBJECT): Set<string> {
  const out = new Set<string>();
  for (const action of ACTION_NAMES) for (const workspace of WORKSPACES) if (policy.can(principal, action, workspace)) out.add(`${action}@${workspace ?? ''}`);
  return out;
}

function policyOf(base: Parameters<typeof withSubject>[0], spec: SubjectSpec): Policy {
  return createPolicy(withSubject(base, spec));
}

describe('SPEC §3.1 additive roles: "Permissions are additive: the user gets the union of everything their roles grant"', () => {
  it('roles A ∪ B allow exactly what A allows plus what B allows — directly, through groups, or both', () => {
    fc.assert(
      fc.property(arbBaseOrganization, fc.boolean(), arbSubject(), arbSubject(), (base, seat, a0, b0) => {
        const a = { ...a0, seat };
        const b = { ...b0, seat };
        const union: SubjectSpec = {
          orgDirect: [...new Set([...a.orgDirect, ...b.orgDirect])],
          orgViaGroup: [...new Set([...a.orgViaGroup, ...b.orgViaGroup])],
          seat,
          direct: unionPlacement(a.direct, b.direct),
          viaGroup: unionPlacement(a.viaGroup, b.viaGroup),
        };
        const expected = new Set([...allowedSet(policyOf(base, a)), ...allowedSet(policyOf(base, b))]);
        expect(allowedSet(policyOf(base, union))).toEqual(expected);
      }),
      RUNS,
    );
  });

  it('adding a role or a group never removes a permission', () => {
    fc.assert(
      fc.property(arbBaseOrganization, arbSubject(), arbSubject(), (base, a, extra) => {
        const grown: SubjectSpec = {
          ...a,
          orgDirect: [...new Set([...a.orgDirect, ...extra.orgDirect])],
          orgViaGroup: [...new Set([...a.orgViaGroup, ...extra.orgViaGroup])],
          viaGroup: unionPlacement(a.viaGroup, extra.viaGroup),
        };
        const before = allowedSet(policyOf(base, a));
        const after = allowedSet(policyOf(base, grown));
        for (const decision of before) expect(after.has(decision), decision).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('SPEC §3.4 default contributor: "New Workspace members get Workspace contributor by default, regardless of their Organization role"', () => {
  it('a member (or a group) added without roles decides every action there exactly as with workspace_contributor given explicitly', () => {
    fc.assert(
      fc.property(arbBaseOrganization, arbSubject(), fc.constantFrom(...WORKSPACE_IDS), fc.boolean(), (base, spec, workspace, throughGroup) => {
        const place = (roles: null | ['workspace_contributor']) => {
          const field = throughGroup ? 'viaGroup' : 'direct';
          const other = throughGroup ? 'direct' : 'viaGroup';
          const placement = new Map(spec[field]);
          placement.set(workspace, roles);
          const cleared = new Map(spec[other]);
          cleared.delete(workspace);
          return { ...spec, [field]: placement, [other]: cleared } as SubjectSpec;
        };
        const byDefault = policyOf(base, place(null));
        const explicit = policyOf(base, place(['workspace_contributor']));
        if (!base.workspaces.some((w) => w.id === workspace)) return;
        for (const action of ACTION_NAMES) {
          expect(byDefault.can(SUBJECT, action, workspace), action).toBe(explicit.can(SUBJECT, action, workspace));
        }
        const defaultGrant = byDefault.explain(SUBJECT, 'vibe.use', workspace);
        expect(defaultGrant.allowed && defaultGrant.grants.every((g) => g.role === 'workspace_contributor' && g.default === true)).toBe(true);
      }),
      RUNS,
    );
  });

  it('nothing of a member\'s organization roles leaks into its product actions', () => {
    fc.assert(
      fc.property(arbBaseOrganization, arbSubject(), arbSubject(), (base, spec, other) => {
        const a = policyOf(base, spec);
        const b = policyOf(base, { ...spec, orgDirect: other.orgDirect, orgViaGroup: other.orgViaGroup });
        for (const action of PRODUCT_ACTIONS) for (const workspace of WORKSPACES) {
          expect(b.can(SUBJECT, action, workspace), `${action}@${workspace}`).toBe(a.can(SUBJECT, action, workspace));
        }
      }),
      RUNS,
    );
  });
});

describe('SPEC §3.2 scope independence: "Two scopes … They are independent"', () => {
  it('changing only organization roles never changes a workspace product decision', () => {
    fc.assert(
      fc.property(arbBaseOrganization, arbSubject(), arbSubject(), (base, spec, other) => {
        const a = policyOf(base, spec);
        const b = policyOf(base, { ...spec, orgDirect: other.orgDirect, orgViaGroup: other.orgViaGroup });
        for (const action of PRODUCT_ACTIONS) for (const workspace of WORKSPACE_IDS) expect(b.can(SUBJECT, action, workspace)).toBe(a.can(SUBJECT, action, workspace));
      }),
      RUNS,
    );
  });

  it('changing only workspace roles never changes an organization decision (admin.access aside)', () => {
    fc.assert(
      fc.property(arbBaseOrganization, arbSubject(), arbSubject(), (base, spec, other) => {
        const a = policyOf(base, spec);
        const b = policyOf(base, { ...spec, direct: other.direct, viaGroup: other.viaGroup });
        for (const action of ORGANIZATION_ONLY) for (const workspace of WORKSPACES) expect(b.can(SUBJECT, action, workspace)).toBe(a.can(SUBJECT, action, workspace));
      }),
      RUNS,
    );
  });
});

const throwingOptions = new Proxy(
  {},
  {
    get() {
      throw new Error('hostile options');
    },
  },
);
const garbage = fc.oneof(
  fc.constantFrom<unknown>('__proto__', 'constructor', 'toString', 'hasOwnProperty', '', ' m0', 'M0', 'x'.repeat(1 << 20), null, undefined, 0, NaN, true, Symbol('s'), [], {}, () => 'm0', Object.create(null)),
  fc.anything(),
  fc.string(),
);
const anyOptions = fc.oneof(
  fc.constantFrom<unknown>(undefined, null, {}, 5, 'now', true, throwingOptions, { now: new Date() }, { now: '2027-01-01T00:00:00' }, { now: NaN }),
  fc.record({ now: fc.oneof(fc.integer(), fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string()) }),
  fc.anything(),
);

describe('SPEC §3.5 fail closed: unknown or malformed input decides false and never throws', () => {
  it('can and explain never throw, and deny unknown or malformed principals and actions', () => {
    fc.assert(
      fc.property(arbBaseOrganization, garbage, garbage, garbage, anyOptions, (json, principal, action, workspace, options) => {
        const policy = createPolicy(json);
        const known = [...MEMBER_IDS, ...KEY_IDS].includes(principal as never) && json.members.concat(json.apiKeys).some((p: { id: unknown }) => p.id === principal);
        const can = policy.can(principal as string, action as string, workspace as string, options as never);
        const explanation = policy.explain(principal as string, action as string, workspace as string, options as never);
        expect(explanation.allowed).toBe(can);
        if (!ACTION_NAMES.includes(action as never)) expect(explanation).toEqual({ allowed: false, reason: 'unknown_action' });
        else if (!known) expect(explanation).toEqual({ allowed: false, reason: 'unknown_principal' });
      }),
      RUNS,
    );
  });

  it('a workspace action with an unknown or malformed workspace is denied; an organization action ignores the workspace', () => {
    fc.assert(
      fc.property(arbBaseOrganization, fc.constantFrom(...MEMBER_IDS, ...KEY_IDS), fc.constantFrom(...ACTION_NAMES), garbage, (json, principal, action, workspace) => {
        const policy = createPolicy(json);
        const scope = ACTIONS.find((a) => a.name === action)!.scope;
        const isWorkspace = typeof workspace === 'string' && json.workspaces.some((w: { id: string }) => w.id === workspace);
        if (scope === 'workspace' && !isWorkspace) expect(policy.can(principal, action, workspace as string)).toBe(false);
        if (scope === 'organization') expect(policy.can(principal, action, workspace as string)).toBe(policy.can(principal, action));
      }),
      RUNS,
    );
  });
});

describe('SPEC §3.7 explain agrees with can, and both agree with a plain reading of the SPEC', () => {
  const query = fc.record({
    principal: fc.oneof(fc.constantFrom<unknown>(...MEMBER_IDS, ...KEY_IDS, 'nobody'), garbage),
    action: fc.oneof(fc.constantFrom<unknown>(...ACTION_NAMES), garbage),
    workspace: fc.oneof(fc.constantFrom<unknown>(...WORKSPACE_IDS, undefined, null, 'nowhere'), garbage),
    options: fc.oneof(
      fc.constantFrom<unknown>(undefined, null, 7),
      fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2028, 0, 1) }).map((now) => ({ now })),
      fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2028, 0, 1) }).map((now) => ({ now: new Date(now).toISOString().replace('Z', '+00:00') })),
    ),
  });

  it('explain(...).allowed === can(...), and the reason is the reference\'s first rule (§7.15), on every random query', () => {
    fc.assert(
      fc.property(arbBaseOrganization, fc.array(query, { minLength: 20, maxLength: 40 }), (json, queries) => {
        const policy = createPolicy(json);
        for (const { principal, action, workspace, options } of queries) {
          const args = [principal, action, workspace, options] as [string, string, string, undefined];
          const explanation = policy.explain(...args);
          expect(explanation.allowed).toBe(policy.can(...args));
          expect(policy.can(...args)).toBe(referenceCan(json, ...args));
          expect(explanation.allowed ? null : explanation.reason).toBe(referenceReason(json, ...args));
        }
      }),
      RUNS,
    );
  });

  it('on every principal × action × workspace of random organizations, can agrees with the reference', () => {
    fc.assert(
      fc.property(arbBaseOrganization, fc.option(fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2028, 0, 1) }), { nil: undefined }), (json, now) => {
        const policy = createPolicy(json);
        const options = now === undefined ? undefined : { now };
        for (const principal of [...MEMBER_IDS, ...KEY_IDS]) for (const action of ACTION_NAMES) for (const workspace of WORKSPACES) {
          expect(policy.can(principal, action, workspace, options), `${principal} ${action} ${workspace}`).toBe(referenceCan(json, principal, action, workspace, options));
        }
      }),
      RUNS,
    );
  });
});
