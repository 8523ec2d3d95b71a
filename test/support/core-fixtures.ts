/**
 * Random organizations for the core laws (SPEC §2–§3): small, valid by construction, with ids such as
 * `__proto__` and `constructor` among the real ones. Connectors are left to the connector laws.
 */
import fc from 'fast-check';
import { ORGANIZATION_ROLE_NAMES, WORKSPACE_ROLE_NAMES, type OrganizationRoleName, type WorkspaceRoleName } from 'org-policy';
import type { OrganizationJson } from 'org-policy';

type Json = Extract<OrganizationJson, object> & { members: any[]; groups: any[]; workspaces: any[]; apiKeys: any[]; seatPools: any[] };

export const MEMBER_IDS = ['m0', 'm1', '__proto__', 'constructor', 'm4'] as const;
export const GROUP_IDS = ['g0', 'hasOwnProperty', 'g2'] as const;
export const WORKSPACE_IDS = ['w0', 'valueOf', 'w2'] as const;
export const KEY_IDS = ['k0', 'toString', 'k2'] as const;
export const SUBJECT = 'subject';
export const SUBJECT_GROUP = 'subject-group';

const orgRoles = fc.subarray([...ORGANIZATION_ROLE_NAMES], { minLength: 1 });
/** `null`: in the workspace without roles (default contributor); an array: those roles. */
const workspaceRoles = fc.option(fc.subarray([...WORKSPACE_ROLE_NAMES], { minLength: 1 }), { nil: null });
const instant = fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2028, 0, 1) });

export const arbBaseOrganization: fc.Arbitrary<Json> = fc
  .record({
    members: fc.uniqueArray(fc.constantFrom(...MEMBER_IDS), { minLength: 1 }),
    groups: fc.uniqueArray(fc.constantFrom(...GROUP_IDS)),
    workspaces: fc.uniqueArray(fc.constantFrom(...WORKSPACE_IDS), { minLength: 1 }),
    keys: fc.uniqueArray(fc.constantFrom(...KEY_IDS)),
  })
  .chain(({ members, groups, workspaces, keys }) =>
    fc.record({
      members: fc.tuple(
        ...members.map((id, i) =>
          fc.record({
            id: fc.constant(id),
            email: fc.constant(`${i}@example.com`),
            // the first member keeps the organization administered (SPEC §5 invariant)
            status: i === 0 ? fc.constant('active' as const) : fc.constantFrom('active' as const, 'suspended' as const),
            orgRoles: i === 0 ? fc.constant<OrganizationRoleName[]>(['organization_admin']) : orgRoles,
            seats: fc.subarray(['mistral_code' as const]),
          }),
        ),
      ),
      groups: fc.tuple(
        ...groups.map((id) =>
          fc.record({ id: fc.constant(id), name: fc.constant(id), memberIds: fc.subarray(members), orgRoles: fc.subarray([...ORGANIZATION_ROLE_NAMES]) }),
        ),
      ),
      workspaces: fc.tuple(
        ...workspaces.map((id) =>
          fc.record({
            id: fc.constant(id),
            name: fc.constant(id),
            members: fc.subarray(members).chain((ids) => fc.tuple(...ids.map((memberId) => workspaceRoles.map((roles) => (roles ? { memberId, roles } : { memberId }))))),
            groupGrants: fc.subarray(groups).chain((ids) => fc.tuple(...ids.map((groupId) => workspaceRoles.map((roles) => (roles ? { groupId, roles } : { groupId }))))),
            connectorPermissions: fc.constant([]),
          }),
        ),
      ),
      apiKeys: fc.tuple(
        ...keys.map((id) =>
          fc.record(
            {
              id: fc.constant(id),
              name: fc.constant(id),
              workspaceId: fc.constantFrom(...workspaces),
              status: fc.constantFrom('active' as const, 'revoked' as const),
              expiresAt: instant.map((ms) => new Date(ms).toISOString()),
              connectorScopes: fc.constant('all' as const),
            },
            { requiredKeys: ['id', 'name', 'workspaceId', 'status', 'connectorScopes'] },
          ),
        ),
      ),
      spare: fc.integer({ min: 1, max: 3 }),
    }),
  )
  .map(({ members, groups, workspaces, apiKeys, spare }) => ({
    schemaVersion: 1 as const,
    id: 'org',
    name: 'org',
    members,
    groups,
    workspaces,
    connectors: [],
    connectorPermissions: [],
    credentials: [],
    apiKeys,
    // room for every seat held, and one more for a subject (D2 needs a pool)
    seatPools: [{ product: 'mistral_code' as const, size: members.filter((m) => m.seats.length > 0).length + spare }],
  })) as unknown as fc.Arbitrary<Json>;

/** Roles one extra member, `subject`, holds: directly and through its own group, in the organization and in each workspace. */
export interface SubjectSpec {
  readonly orgDirect: readonly OrganizationRoleName[];
  readonly orgViaGroup: readonly OrganizationRoleName[];
  readonly seat: boolean;
  /** Per workspace id: absent (not there), `null` (default contributor) or roles. */
  readonly direct: ReadonlyMap<string, readonly WorkspaceRoleName[] | null>;
  readonly viaGroup: ReadonlyMap<string, readonly WorkspaceRoleName[] | null>;
}

export function arbSubject(seat?: boolean): fc.Arbitrary<SubjectSpec> {
  const placement = fc.dictionary(fc.constantFrom(...WORKSPACE_IDS), workspaceRoles, { noNullPrototype: false });
  return fc.record({
    orgDirect: orgRoles,
    orgViaGroup: fc.subarray([...ORGANIZATION_ROLE_NAMES]),
    seat: seat === undefined ? fc.boolean() : fc.constant(seat),
    direct: placement.map((d) => new Map(Object.entries(d))),
    viaGroup: placement.map((d) => new Map(Object.entries(d))),
  });
}

/** The base organization with `subject` added as `spec` says (workspaces the base lacks are skipped). */
export function withSubject(base: Json, spec: SubjectSpec): Json {
  const json = structuredClone(base);
  json.members.push({ id: SUBJECT, email: 'subject@example.com', status: 'active', orgRoles: [...spec.orgDirect], seats: spec.seat ? ['mistral_code'] : [] });
  json.groups.push({ id: SUBJECT_GROUP, name: SUBJECT_GROUP, memberIds: [SUBJECT], orgRoles: [...spec.orgViaGroup] });
  for (const workspace of json.workspaces) {
    const direct = spec.direct.get(workspace.id);
    if (direct !== undefined) workspace.members.push(direct === null ? { memberId: SUBJECT } : { memberId: SUBJECT, roles: [...direct] });
    const viaGroup = spec.viaGroup.get(workspace.id);
    if (viaGroup !== undefined) workspace.groupGrants.push(viaGroup === null ? { groupId: SUBJECT_GROUP } : { groupId: SUBJECT_GROUP, roles: [...viaGroup] });
  }
  return json;
}

/** Union of two placements; the default contributor written out as the role it stands for (SPEC §3.4). */
export function unionPlacement(
  a: ReadonlyMap<string, readonly WorkspaceRoleName[] | null>,
  b: ReadonlyMap<string, readonly WorkspaceRoleName[] | null>,
): Map<string, WorkspaceRoleName[]> {
  const out = new Map<string, WorkspaceRoleName[]>();
  for (const side of [a, b]) {
    for (const [workspace, roles] of side) {
      const merged = new Set([...(out.get(workspace) ?? []), ...(roles ?? ['workspace_contributor' as const])]);
      out.set(workspace, [...merged]);
    }
  }
  return out;
}
