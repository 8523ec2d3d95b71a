import { z } from 'zod';
import { ORGANIZATION_ROLE_NAMES, WORKSPACE_ROLE_NAMES } from '../roles/index.js';
import { IdMap } from './idmap.js';

/**
 * The snapshot format, version 1 (SPEC §6.1). The wire format is arrays, so order is kept and any
 * language can write it; the parsed value holds each collection as a `Map` keyed by id, so that
 * look-ups never touch a prototype and immer patches address entities by id.
 */

export const SEAT_PRODUCTS = ['mistral_code'] as const;
export const MEMBER_STATUSES = ['active', 'suspended'] as const;
export const PERMISSION_MODES = ['allowed', 'restricted', 'blocked'] as const;
export const CONNECTOR_VISIBILITIES = ['organization', 'workspace'] as const;
export const CONNECTOR_AUTHENTICATIONS = ['oauth2', 'api_key', 'none'] as const;
export const CONNECTOR_ORIGINS = ['featured', 'custom'] as const;
export const CONNECTOR_CAPABILITIES = ['read_only', 'read_write'] as const;
export const TOOL_ACCESS = ['read', 'write'] as const;
export const API_KEY_STATUSES = ['active', 'revoked'] as const;
export const CONNECTOR_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;
/** Loose on purpose: one `@`, something on each side, no spaces. Mail delivery is the real check. */
export const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+$/;

export const idSchema = z.string().min(1);

/** C0 controls, DEL and C1 controls: Unicode's `Cc`, never part of a name an admin typed. */
const CONTROL_CHARACTER = /[\u0000-\u001F\u007F-\u009F]/;

/**
 * The name of the organization, a workspace, a group or an API key (SPEC §7.21): not empty, not only
 * whitespace, no control character. Issues carry a stable `params.code` (`empty_name`,
 * `control_character`), and the JSON Schema states the same rule as a `pattern`.
 */
export const nameSchema = z
  .string()
  .superRefine((value, ctx) => {
    if (value.trim() === '') {
      ctx.addIssue({ code: 'custom', message: 'a name must not be empty or only whitespace', params: { code: 'empty_name' }, input: value });
    }
    const control = CONTROL_CHARACTER.exec(value);
    if (control) {
      const character = `U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at index ${control.index}`;
      ctx.addIssue({
        code: 'custom',
        message: `a name must not contain control characters (${character})`,
        params: { code: 'control_character', character },
        input: value,
      });
    }
  })
  .meta({ minLength: 1, pattern: '^(?!\\s*$)[^\\u0000-\\u001F\\u007F-\\u009F]*$' });
export const organizationRolesSchema = z.array(z.enum(ORGANIZATION_ROLE_NAMES));
export const workspaceRolesSchema = z.array(z.enum(WORKSPACE_ROLE_NAMES));

function keyedBy<K extends string>(key: K) {
  return <T extends Record<K, string>>(items: T[]): Map<string, T> => new Map(items.map((item) => [item[key], item]));
}
/** The organization's own collections: an `IdMap`, so that a command on one entity copies O(√n) of it (see idmap.ts). */
function idMapBy<K extends string>(key: K) {
  return <T extends Record<K, string>>(items: T[]): IdMap<T> => new IdMap(items.map((item) => [item[key], item] as const));
}
function list<T extends z.ZodType>(item: T) {
  return z.array(item).default([]);
}

export const memberSchema = z.strictObject({
  id: idSchema,
  email: z.string().regex(EMAIL_PATTERN),
  status: z.enum(MEMBER_STATUSES),
  orgRoles: organizationRolesSchema,
  seats: list(z.enum(SEAT_PRODUCTS)),
  /** SPEC §9.2: the subject an identity provider knows this member by (OIDC `sub`, SCIM `externalId`); unique. */
  externalId: idSchema.optional(),
  /** SPEC §9.2: the name shown to people. */
  displayName: nameSchema.optional(),
});

/** Hex SHA-256 of an API key's secret (SPEC §9.1): lowercase, 64 digits. */
export const SECRET_HASH_PATTERN = /^[0-9a-f]{64}$/;

/** SPEC §9.1: one secret of an API key, as its hash; `notAfter` ends an old secret's life during a rotation. */
export const apiKeySecretSchema = z.strictObject({
  sha256: z.string().regex(SECRET_HASH_PATTERN),
  notAfter: z.iso.datetime({ offset: true }).optional(),
});

export const groupSchema = z.strictObject({
  id: idSchema,
  name: nameSchema,
  memberIds: list(idSchema),
  orgRoles: organizationRolesSchema.default([]),
});

/** `roles` absent: the default Workspace contributor (SPEC §3.4), kept absent when written back. */
export const workspaceMemberSchema = z.strictObject({
  memberId: idSchema,
  roles: workspaceRolesSchema.optional(),
});

export const groupGrantSchema = z.strictObject({
  groupId: idSchema,
  roles: workspaceRolesSchema.optional(),
});

export const connectorPermissionSchema = z.strictObject({
  connectorId: idSchema,
  mode: z.enum(PERMISSION_MODES),
  tools: z.array(z.string().min(1)).optional(),
});

export const workspaceSchema = z.strictObject({
  id: idSchema,
  name: nameSchema,
  members: list(workspaceMemberSchema).transform(keyedBy('memberId')),
  groupGrants: list(groupGrantSchema).transform(keyedBy('groupId')),
  connectorPermissions: list(connectorPermissionSchema).transform(keyedBy('connectorId')),
});

export const toolSchema = z.strictObject({
  name: z.string().min(1),
  access: z.enum(TOOL_ACCESS),
});

export const connectorSchema = z.strictObject({
  id: idSchema,
  name: z.string().regex(CONNECTOR_NAME_PATTERN),
  visibility: z.enum(CONNECTOR_VISIBILITIES),
  workspaceIds: z.array(idSchema).optional(),
  authentication: z.enum(CONNECTOR_AUTHENTICATIONS),
  origin: z.enum(CONNECTOR_ORIGINS),
  capabilities: z.enum(CONNECTOR_CAPABILITIES),
  tools: list(toolSchema),
});

export const credentialSchema = z.discriminatedUnion('holder', [
  z.strictObject({ id: idSchema, connectorId: idSchema, holder: z.literal('organization') }),
  z.strictObject({ id: idSchema, connectorId: idSchema, holder: z.literal('workspace'), workspaceId: idSchema }),
  z.strictObject({ id: idSchema, connectorId: idSchema, holder: z.literal('member'), memberId: idSchema }),
]);

export const apiKeySchema = z.strictObject({
  id: idSchema,
  name: nameSchema,
  workspaceId: idSchema,
  status: z.enum(API_KEY_STATUSES),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  connectorScopes: z.union([z.literal('all'), z.array(idSchema)]),
  /** SPEC §9.1: the hashes of the secrets that authenticate this key; absent, the key has none. */
  secrets: z.array(apiKeySecretSchema).optional(),
});

export const seatPoolSchema = z.strictObject({
  product: z.enum(SEAT_PRODUCTS),
  size: z.number().int().min(0),
});

export const organizationSchema = z.strictObject({
  schemaVersion: z.literal(1),
  id: idSchema,
  name: nameSchema,
  revision: z.number().int().min(0).default(0),
  members: list(memberSchema).transform(idMapBy('id')),
  groups: list(groupSchema).transform(idMapBy('id')),
  workspaces: list(workspaceSchema).transform(idMapBy('id')),
  connectors: list(connectorSchema).transform(idMapBy('id')),
  connectorPermissions: list(connectorPermissionSchema).transform(idMapBy('connectorId')),
  credentials: list(credentialSchema).transform(idMapBy('id')),
  apiKeys: list(apiKeySchema).transform(idMapBy('id')),
  seatPools: list(seatPoolSchema).transform(idMapBy('product')),
});
