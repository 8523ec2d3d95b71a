import { z } from 'zod';
import { apiKeySecretSchema, connectorPermissionSchema, connectorSchema, EMAIL_PATTERN, idSchema, nameSchema, SEAT_PRODUCTS, toolSchema } from '../model/schema.js';
import type { OrganizationRoleName, Scope, WorkspaceRoleName } from '../roles/index.js';
import { roleById, roleByName } from '../roles/index.js';

/**
 * The payloads of every admin command (SPEC §5), as zod schemas. One vocabulary (docs/admin.md):
 * - a command names each entity by its kind's field — `memberId`, `workspaceId`, `groupId`,
 *   `connectorId`, `credentialId`, `keyId` — also the one it creates (`inviteMember` takes `memberId`);
 * - roles are given by API name (`roleNames`) or by role UUID (`roleIds`), never both; each schema's
 *   output carries the resolved role names in `roleNames`.
 * The Admin API's own JSON (`role_names`, `roles` as UUIDs, `user_uuid`) is an HTTP concern: a service
 * maps it onto these fields at its edge (examples/admin-api does).
 */

const id = z.string().min(1);
const roleField = z.array(z.string());

/** How the role fields of one payload resolve: which scope, and whether they may be left out or empty. */
interface RoleRule {
  readonly scope: Scope;
  /** Leaving both fields out is allowed (the default role applies, SPEC §3.4, §5). */
  readonly optional: boolean;
  /** `[]` is allowed (a group's organization roles, SPEC §7.5). */
  readonly allowEmpty: boolean;
}

type RoleNameOf<S extends Scope> = S extends 'organization' ? OrganizationRoleName : WorkspaceRoleName;
type RoleInput = { roleNames?: string[] | undefined; roleIds?: string[] | undefined };

/**
 * SPEC §5: names or UUIDs, not both; an unknown role or one of the other scope is an error. Issues
 * carry a stable `params.code` so that the admin layer keeps it.
 */
function resolveRoles<S extends Scope>(value: RoleInput, ctx: z.RefinementCtx, rule: RoleRule & { scope: S }): RoleNameOf<S>[] | undefined {
  const issue = (code: string, path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message, params: { code } });
  if (value.roleNames !== undefined && value.roleIds !== undefined) {
    issue('conflicting_role_fields', ['roleIds'], 'give roles by name (roleNames) or by UUID (roleIds), not both');
    return undefined;
  }
  const field = value.roleNames !== undefined ? 'roleNames' : value.roleIds !== undefined ? 'roleIds' : undefined;
  if (field === undefined) {
    if (!rule.optional) issue('missing_field', ['roleNames'], 'roleNames (or roleIds) is required');
    return undefined;
  }
  const given = value[field]!;
  if (given.length === 0 && !rule.allowEmpty) {
    issue('empty_roles', [field], 'choose one or more roles; leave the field out for the default role');
  }
  const out: RoleNameOf<S>[] = [];
  const seen = new Set<string>();
  given.forEach((entry, i) => {
    const role = field === 'roleNames' ? roleByName(entry) : roleById(entry);
    if (!role) {
      issue('unknown_role', [field, i], `${JSON.stringify(entry)} is not a role ${field === 'roleIds' ? 'UUID' : 'name'}`);
    } else if (role.scope !== rule.scope) {
      issue('wrong_scope_role', [field, i], `${role.name} is a${role.scope === 'organization' ? 'n organization' : ' workspace'} role and cannot be held here`);
    } else if (seen.has(role.name)) {
      issue('duplicate_entry', [field, i], `role ${role.name} is listed twice`);
    } else {
      seen.add(role.name);
      out.push(role.name as RoleNameOf<S>);
    }
  });
  return out;
}

const roleFields = { roleNames: roleField.optional(), roleIds: roleField.optional() };

function withRoles<T extends z.ZodRawShape, S extends Scope>(shape: T, rule: RoleRule & { scope: S }) {
  return z.strictObject({ ...shape, ...roleFields }).transform((value, ctx) => {
    const { roleNames: _names, roleIds: _ids, ...rest } = value as typeof value & RoleInput;
    return { ...rest, roleNames: resolveRoles(value as RoleInput, ctx, rule) };
  });
}

const ORG_REQUIRED = { scope: 'organization', optional: false, allowEmpty: false } as const;
const ORG_OPTIONAL = { scope: 'organization', optional: true, allowEmpty: false } as const;
const GROUP_ROLES = { scope: 'organization', optional: false, allowEmpty: true } as const;
const GROUP_ROLES_OPTIONAL = { scope: 'organization', optional: true, allowEmpty: true } as const;
const WS_REQUIRED = { scope: 'workspace', optional: false, allowEmpty: false } as const;
const WS_OPTIONAL = { scope: 'workspace', optional: true, allowEmpty: false } as const;

/** One entry of `addWorkspaceMembers`: a member, and its workspace roles (none: the default contributor, SPEC §3.4). */
export const workspaceMemberEntrySchema = withRoles({ memberId: id }, WS_OPTIONAL);

/** The snapshot's own connector and permission fields (SPEC §6.1); a command must give the tool list. */
const connectorFields = { ...connectorSchema.omit({ id: true }).shape, tools: z.array(toolSchema) };
const permissionFields = connectorPermissionSchema.shape;
const expiresAt = z.iso.datetime({ offset: true });
const connectorScopes = z.union([z.literal('all'), z.array(id)]);
const email = z.string().regex(EMAIL_PATTERN);

/** Every command's payload, keyed by its `type`; grouped as docs/admin.md's table. */
export const commandSchemas = {
  // members — org.members.manage
  // SPEC §9.2: externalId (unique) and displayName are optional at invitation and set by setMemberProfile.
  inviteMember: withRoles({ type: z.literal('inviteMember'), memberId: id, email, externalId: idSchema.optional(), displayName: nameSchema.optional() }, ORG_OPTIONAL),
  setMemberProfile: z.strictObject({
    type: z.literal('setMemberProfile'),
    memberId: id,
    externalId: idSchema.nullable().optional(),
    displayName: nameSchema.nullable().optional(),
  }),
  removeMember: z.strictObject({ type: z.literal('removeMember'), memberId: id }),
  suspendMember: z.strictObject({ type: z.literal('suspendMember'), memberId: id }),
  reactivateMember: z.strictObject({ type: z.literal('reactivateMember'), memberId: id }),
  changeMemberEmail: z.strictObject({ type: z.literal('changeMemberEmail'), memberId: id, email }),
  setMemberOrgRoles: withRoles({ type: z.literal('setMemberOrgRoles'), memberId: id }, ORG_REQUIRED),
  assignSeat: z.strictObject({ type: z.literal('assignSeat'), memberId: id, product: z.enum(SEAT_PRODUCTS) }),
  releaseSeat: z.strictObject({ type: z.literal('releaseSeat'), memberId: id, product: z.enum(SEAT_PRODUCTS) }),
  // billing — org.billing.manage
  setSeatPoolSize: z.strictObject({ type: z.literal('setSeatPoolSize'), product: z.enum(SEAT_PRODUCTS), size: z.number().int().min(0) }),
  // workspaces — org.workspaces.manage; SPEC §7.21 names
  createWorkspace: z.strictObject({ type: z.literal('createWorkspace'), workspaceId: id, name: nameSchema }),
  renameWorkspace: z.strictObject({ type: z.literal('renameWorkspace'), workspaceId: id, name: nameSchema }),
  deleteWorkspace: z.strictObject({ type: z.literal('deleteWorkspace'), workspaceId: id }),
  // workspace members — workspace.members.manage there
  addWorkspaceMembers: z.strictObject({ type: z.literal('addWorkspaceMembers'), workspaceId: id, members: z.array(workspaceMemberEntrySchema).min(1) }),
  setWorkspaceMemberRoles: withRoles({ type: z.literal('setWorkspaceMemberRoles'), workspaceId: id, memberId: id }, WS_REQUIRED),
  removeWorkspaceMember: z.strictObject({ type: z.literal('removeWorkspaceMember'), workspaceId: id, memberId: id }),
  // groups — org.groups.manage
  createGroup: withRoles({ type: z.literal('createGroup'), groupId: id, name: nameSchema, memberIds: z.array(id).optional() }, GROUP_ROLES_OPTIONAL),
  renameGroup: z.strictObject({ type: z.literal('renameGroup'), groupId: id, name: nameSchema }),
  deleteGroup: z.strictObject({ type: z.literal('deleteGroup'), groupId: id }),
  setGroupMembers: z.strictObject({ type: z.literal('setGroupMembers'), groupId: id, memberIds: z.array(id) }),
  addGroupMembers: z.strictObject({ type: z.literal('addGroupMembers'), groupId: id, memberIds: z.array(id).min(1) }),
  removeGroupMembers: z.strictObject({ type: z.literal('removeGroupMembers'), groupId: id, memberIds: z.array(id).min(1) }),
  setGroupOrgRoles: withRoles({ type: z.literal('setGroupOrgRoles'), groupId: id }, GROUP_ROLES),
  // group workspace roles — workspace.members.manage there
  setGroupWorkspaceRoles: withRoles({ type: z.literal('setGroupWorkspaceRoles'), groupId: id, workspaceId: id }, WS_OPTIONAL),
  removeGroupWorkspaceRoles: z.strictObject({ type: z.literal('removeGroupWorkspaceRoles'), groupId: id, workspaceId: id }),
  // connectors — org.connectors.manage
  registerConnector: z.strictObject({ type: z.literal('registerConnector'), connectorId: id, ...connectorFields }),
  updateConnector: z.strictObject({
    type: z.literal('updateConnector'),
    connectorId: id,
    ...z.strictObject(connectorFields).partial().shape,
  }),
  removeConnector: z.strictObject({ type: z.literal('removeConnector'), connectorId: id }),
  // no workspaceId: the organization level (org.connectors.manage); a workspaceId: that workspace (workspace.connectors.manage there)
  setConnectorPermission: z.strictObject({ type: z.literal('setConnectorPermission'), ...permissionFields, workspaceId: id.optional() }),
  // credentials — by holder (SPEC §5, §7.4); an organization credential is the connector's App Connection
  addCredential: z.discriminatedUnion('holder', [
    z.strictObject({ type: z.literal('addCredential'), credentialId: id, connectorId: id, holder: z.literal('organization') }),
    z.strictObject({ type: z.literal('addCredential'), credentialId: id, connectorId: id, holder: z.literal('workspace'), workspaceId: id }),
    z.strictObject({ type: z.literal('addCredential'), credentialId: id, connectorId: id, holder: z.literal('member'), memberId: id }),
  ]),
  removeCredential: z.strictObject({ type: z.literal('removeCredential'), credentialId: id }),
  // API keys — workspace.api_keys.manage in the key's workspace
  createApiKey: z.strictObject({
    type: z.literal('createApiKey'),
    keyId: id,
    workspaceId: id,
    name: nameSchema,
    expiresAt: expiresAt.optional(),
    connectorScopes: connectorScopes.optional(),
    // SPEC §9.1: hashes only — the service generates the secret and keeps none of it.
    secrets: z.array(apiKeySecretSchema).optional(),
  }),
  revokeApiKey: z.strictObject({ type: z.literal('revokeApiKey'), keyId: id }),
  setApiKeyConnectorScopes: z.strictObject({ type: z.literal('setApiKeyConnectorScopes'), keyId: id, connectorScopes }),
  setApiKeyExpiry: z.strictObject({ type: z.literal('setApiKeyExpiry'), keyId: id, expiresAt: expiresAt.nullable() }),
  // SPEC §9.1: replaces the key's secret hashes — a rotation keeps the old one with a `notAfter`.
  setApiKeySecrets: z.strictObject({ type: z.literal('setApiKeySecrets'), keyId: id, secrets: z.array(apiKeySecretSchema) }),
} as const;

export type CommandType = keyof typeof commandSchemas;
export const COMMAND_TYPES = Object.freeze(Object.keys(commandSchemas)) as readonly CommandType[];

/** A command as a caller writes it: `type` and its payload. */
export type Command = { [T in CommandType]: z.input<(typeof commandSchemas)[T]> }[CommandType];
export type CommandOf<T extends CommandType> = Extract<Command, { type: T }>;
/** A command after its payload was checked: roles resolved to names in `roleNames`. */
export type ParsedCommand<T extends CommandType = CommandType> = z.output<(typeof commandSchemas)[T]>;

/** Every command schema in one union on `type`, for services that validate a whole command at once. */
export const commandSchema = z.union(Object.values(commandSchemas) as unknown as [z.ZodType<ParsedCommand, Command>, ...z.ZodType<ParsedCommand, Command>[]]);

export function isCommandType(value: unknown): value is CommandType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(commandSchemas, value);
}
