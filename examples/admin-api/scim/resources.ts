/**
 * Members and groups as SCIM resources (RFC 7643 §4): what this service returns. The mapping table of
 * docs/scim.md, read from the org-policy side. Entities come either from the followed organization or
 * from a committed change's patches (the snapshot's JSON, SPEC §6.1): both have these fields.
 */
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export interface MemberLike {
  readonly id: string;
  readonly email: string;
  readonly status: 'active' | 'suspended';
  readonly externalId?: string | undefined;
  readonly displayName?: string | undefined;
}

export interface GroupLike {
  readonly id: string;
  readonly name: string;
  readonly memberIds: readonly string[];
}

export type Resource = Record<string, unknown>;

/** `userName` and the one work email are the member's email; `active` is its status. */
export function userResource(member: MemberLike, base: string): Resource {
  return {
    schemas: [USER_SCHEMA],
    id: member.id,
    ...(member.externalId !== undefined ? { externalId: member.externalId } : {}),
    userName: member.email,
    ...(member.displayName !== undefined ? { displayName: member.displayName, name: { formatted: member.displayName } } : {}),
    emails: [{ value: member.email, type: 'work', primary: true }],
    active: member.status === 'active',
    meta: { resourceType: 'User', location: `${base}/Users/${encodeURIComponent(member.id)}` },
  };
}

/** `displayName` is the group's name, `members` its member ids; `display` is the member's name or email. */
export function groupResource(group: GroupLike, base: string, memberOf: (id: string) => MemberLike | undefined, withMembers = true): Resource {
  return {
    schemas: [GROUP_SCHEMA],
    id: group.id,
    displayName: group.name,
    ...(withMembers
      ? {
          members: group.memberIds.map((id) => {
            const member = memberOf(id);
            return { value: id, $ref: `${base}/Users/${encodeURIComponent(id)}`, type: 'User', ...(member ? { display: member.displayName ?? member.email } : {}) };
          }),
        }
      : {}),
    meta: { resourceType: 'Group', location: `${base}/Groups/${encodeURIComponent(group.id)}` },
  };
}

/** Attributes always returned whatever `attributes` / `excludedAttributes` ask (RFC 7643 §7 `returned: always`). */
const ALWAYS = new Set(['id', 'schemas', 'meta']);

/**
 * RFC 7644 §3.4.2.5 at the top level: `attributes` keeps only the named ones (plus the always-returned),
 * `excludedAttributes` drops the named ones. Names compare case-insensitively; a sub-attribute
 * (`name.givenName`) selects its top-level attribute.
 */
export function project(resource: Resource, attributes: readonly string[] | null, excluded: readonly string[] | null): Resource {
  if (attributes === null && excluded === null) return resource;
  const top = (names: readonly string[]) => new Set(names.map((name) => stripCoreUrn(name).split('.')[0]!.toLowerCase()));
  const keep = attributes === null ? null : top(attributes);
  const drop = excluded === null ? null : top(excluded);
  const out: Resource = {};
  for (const [key, value] of Object.entries(resource)) {
    const name = key.toLowerCase();
    if (ALWAYS.has(key) || ((keep === null || keep.has(name)) && (drop === null || !drop.has(name)))) out[key] = value;
  }
  return out;
}

/** `urn:ietf:params:scim:schemas:core:2.0:User:userName` → `userName`: the core schemas' attributes may be named with their URN. */
export function stripCoreUrn(path: string): string {
  for (const urn of [USER_SCHEMA, GROUP_SCHEMA]) {
    if (path.length > urn.length && path.slice(0, urn.length + 1).toLowerCase() === `${urn.toLowerCase()}:`) return path.slice(urn.length + 1);
  }
  return path;
}
