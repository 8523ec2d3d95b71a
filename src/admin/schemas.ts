import { z } from 'zod';
import { connectorPermissionSchema, connectorSchema, EMAIL_PATTERN, SEAT_PRODUCTS, toolSchema } from '../model/schema.js';
import type { OrganizationRoleName, Scope, WorkspaceRoleName } from '../roles/index.js';
import { roleById, roleByName } from '../roles/index.js';

/**
 * The payloads of every admin command (SPEC §5), as zod schemas that accept the Admin API's own JSON:
 * roles are given by name (`role_names`) or by role UUID (`roles`), never both (SPEC §5, seed [R]).
 * Each schema's output carries the resolved role names in `roleNames`.
 */

const id = z.string().min(1);
const name = z.string();
const roleField = z.array(z.string());

/** How the role fields of one payload resolve: which scope, and whether they may be left out or empty. */
interface RoleRule {
  readonly scope: Scope;
  /** Leaving both fields out is allowed (the default role applies, §3.4 / §5). */
  readonly optional: boolean;
  /** `[]` is allowed (a group's organization roles, §7.5). */
  readonly allowEmpty: boolean;
}

type RoleNameOf<S extends Scope> = S extends 'organization' ? OrganizationRoleName : WorkspaceRoleName;

/**
 * SPEC §5: names or UUIDs, not both; an unknown role or one of the other scope is an error. Issues
 * carry a stable `params.code` so that `problemsFromAdminZod` keeps it.
 */
function resolveRoles<S extends Scope>(
  value: { role_names?: string[] | undefined; roles?: string[] | undefined },
  ctx: z.RefinementCtx,
  rule: RoleRule & { scope: S },
  base: (string | number)[] = [],
): RoleNameOf<S>[] | undefined {
  const issue = (code: string, path: (string | number)[], message: string) =>
    ctx.addIssue({ code: 'custom', path: [...base, ...path], message, params: { code } });
  if (value.role_names !== undefined && value.roles !== undefined) {
    issue('conflicting_role_fields', ['roles'], 'give roles by name (role_names) or by UUID (roles), not both');
    return undefined;
  }
  const field = value.role_names !== undefined ? 'role_names' : value.roles !== undefined ? 'roles' : undefined;
  if (field === undefined) {
    if (!rule.optional) issue('missing_field', ['role_names'], 'role_names (or roles) is required');
    return undefined;
  }
  const given = value[field]!;
  if (given.length === 0 && !rule.allowEmpty) {
    issue('empty_roles', [field], 'choose one or more roles; leave the field out for the default role');
  }
  const out: RoleNameOf<S>[] = [];
  const seen = new Set<string>();
  given.forEach((entry, i) => {
    const role = field === 'role_names' ? roleByName(entry) : roleById(entry);
    if (!role) {
      issue('unknown_role', [field, i], `${JSON.stringify(entry)} is not a role ${field === 'roles' ? 'UUID' : 'name'}`);
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

const roleFields = { role_names: roleField.optional(), roles: roleField.optional() };

function withRoles<T extends z.ZodRawShape, S extends Scope>(shape: T, rule: RoleRule & { scope: S }) {
  return z.strictObject({ ...shape, ...roleFields }).transform((value, ctx) => {
    const { role_names: _names, roles: _ids, ...rest } = value as typeof value & { role_names?: string[]; roles?: string[] };
    return { ...rest, roleNames: resolveRoles(value as { role_names?: string[]; roles?: string[] }, ctx, rule) };
  });
}

const ORG_REQUIRED = { scope: 'organization', optional: false, allowEmpty: false } as const;
const ORG_OPTIONAL = { scope: 'organization', optional: true, allowEmpty: false } as const;
const GROUP_ROLES = { scope: 'organization', optional: false, allowEmpty: true } as const;
const GROUP_ROLES_OPTIONAL = { scope: 'organization', optional: true, allowEmpty: true } as const;
const WS_REQUIRED = { scope: 'workspace', optional: false, allowEmpty: false } as const;
const WS_OPTIONAL = { scope: 'workspace', optional: true, allowEmpty: false } as const;

/** `PATCH /api/admin/users/<uuid>` body: `{"role_names": [...]}` or `{"roles": [<uuid>...]}`. */
export const memberRolesBodySchema = withRoles({}, ORG_REQUIRED);

/** One entry of `PATCH /api/admin/workspaces/<uuid>/users`: `{ user_uuid, role_names? | roles? }`. */
export const workspaceMemberEntrySchema = withRoles({ user_uuid: id }, WS_OPTIONAL);

/** `PATCH /api/admin/workspaces/<uuid>/users` body: `{"members": [{"user_uuid": ..., "role_names": [...]}]}`. */
export const workspaceMembersBodySchema = z.strictObject({ members: z.array(workspaceMemberEntrySchema).min(1) });

/** The snapshot's own connector and permission fields (SPEC §6.1); a command must give the tool list. */
const connectorFields = { ...connectorSchema.omit({ id: true }).shape, tools: z.array(toolSchema) };
const permissionFields = connectorPermissionSchema.shape;
const expiresAt = z.iso.datetime({ offset: true });
const connectorScopes = z.union([z.literal('all'), z.array(id)]);

/** Every command's payload, keyed by its `type`. */
export const commandSchemas = {
  // members — org.members.manage
  inviteMember: withRoles({ type: z.literal('inviteMember'), id, email: z.string().regex(EMAIL_PATTERN) }, ORG_OPTIONAL),
  suspendMember: z.strictObject({ type: z.literal('suspendMember'), memberId: id }),
  reactivateMember: z.strictObject({ type: z.literal('reactivateMember'), memberId: id }),
  removeMember: z.strictObject({ type: z.literal('removeMember'), memberId: id }),
  changeMemberEmail: z.strictObject({ type: z.literal('changeMemberEmail'), memberId: id, email: z.string().regex(EMAIL_PATTERN) }),
  setMemberRoles: withRoles({ type: z.literal('setMemberRoles'), memberId: id }, ORG_REQUIRED),
  assignSeat: z.strictObject({ type: z.literal('assignSeat'), memberId: id, product: z.enum(SEAT_PRODUCTS) }),
  releaseSeat: z.strictObject({ type: z.literal('releaseSeat'), memberId: id, product: z.enum(SEAT_PRODUCTS) }),
  // billing — org.billing.manage
  setSeatPoolSize: z.strictObject({ type: z.literal('setSeatPoolSize'), product: z.enum(SEAT_PRODUCTS), size: z.number().int().min(0) }),
  // workspaces — org.workspaces.manage
  createWorkspace: z.strictObject({ type: z.literal('createWorkspace'), id, name }),
  renameWorkspace: z.strictObject({ type: z.literal('renameWorkspace'), workspaceId: id, name }),
  deleteWorkspace: z.strictObject({ type: z.literal('deleteWorkspace'), workspaceId: id }),
  // workspace members — workspace.members.manage there
  addWorkspaceMembers: z.strictObject({ type: z.literal('addWorkspaceMembers'), workspaceId: id, members: workspaceMembersBodySchema.shape.members }),
  changeWorkspaceMemberRoles: withRoles({ type: z.literal('changeWorkspaceMemberRoles'), workspaceId: id, memberId: id }, WS_REQUIRED),
  removeWorkspaceMember: z.strictObject({ type: z.literal('removeWorkspaceMember'), workspaceId: id, memberId: id }),
  // groups — org.groups.manage
  createGroup: withRoles({ type: z.literal('createGroup'), id, name, memberIds: z.array(id).optional() }, GROUP_ROLES_OPTIONAL),
  renameGroup: z.strictObject({ type: z.literal('renameGroup'), groupId: id, name }),
  deleteGroup: z.strictObject({ type: z.literal('deleteGroup'), groupId: id }),
  setGroupMembers: z.strictObject({ type: z.literal('setGroupMembers'), groupId: id, memberIds: z.array(id) }),
  setGroupRoles: withRoles({ type: z.literal('setGroupRoles'), groupId: id }, GROUP_ROLES),
  // group grants — workspace.members.manage there
  grantGroupWorkspaceRoles: withRoles({ type: z.literal('grantGroupWorkspaceRoles'), workspaceId: id, groupId: id }, WS_OPTIONAL),
  removeGroupGrant: z.strictObject({ type: z.literal('removeGroupGrant'), workspaceId: id, groupId: id }),
  // connectors — org.connectors.manage
  registerConnector: z.strictObject({ type: z.literal('registerConnector'), id, ...connectorFields }),
  updateConnector: z.strictObject({
    type: z.literal('updateConnector'),
    connectorId: id,
    ...z.strictObject(connectorFields).partial().shape,
  }),
  removeConnector: z.strictObject({ type: z.literal('removeConnector'), connectorId: id }),
  setConnectorPermission: z.strictObject({ type: z.literal('setConnectorPermission'), ...permissionFields }),
  // workspace connector permission — workspace.connectors.manage there
  setWorkspaceConnectorPermission: z.strictObject({ type: z.literal('setWorkspaceConnectorPermission'), workspaceId: id, ...permissionFields }),
  // credentials — by holder (§5, §7.4); an organization credential is the connector's App Connection
  addCredential: z.discriminatedUnion('holder', [
    z.strictObject({ type: z.literal('addCredential'), id, connectorId: id, holder: z.literal('organization') }),
    z.strictObject({ type: z.literal('addCredential'), id, connectorId: id, holder: z.literal('workspace'), workspaceId: id }),
    z.strictObject({ type: z.literal('addCredential'), id, connectorId: id, holder: z.literal('member'), memberId: id }),
  ]),
  removeCredential: z.strictObject({ type: z.literal('removeCredential'), credentialId: id }),
  // API keys — workspace.api_keys.manage in the key's workspace
  createApiKey: z.strictObject({
    type: z.literal('createApiKey'),
    id,
    workspaceId: id,
    name,
    expiresAt: expiresAt.optional(),
    connectorScopes: connectorScopes.optional(),
  }),
  revokeApiKey: z.strictObject({ type: z.literal('revokeApiKey'), keyId: id }),
  setApiKeyConnectorScopes: z.strictObject({ type: z.literal('setApiKeyConnectorScopes'), keyId: id, connectorScopes }),
  setApiKeyExpiry: z.strictObject({ type: z.literal('setApiKeyExpiry'), keyId: id, expiresAt: expiresAt.nullable() }),
} as const;

export type CommandType = keyof typeof commandSchemas;
export const COMMAND_TYPES = Object.freeze(Object.keys(commandSchemas)) as readonly CommandType[];

/** A command as a caller writes it (the Admin API JSON plus `type` and the target ids of the route). */
export type Command = { [T in CommandType]: z.input<(typeof commandSchemas)[T]> }[CommandType];
export type CommandOf<T extends CommandType> = Extract<Command, { type: T }>;
/** A command after its payload was checked: roles resolved to names in `roleNames`. */
export type ParsedCommand<T extends CommandType = CommandType> = z.output<(typeof commandSchemas)[T]>;

/** Every command schema in one union on `type`, for services that validate a whole command at once. */
export const commandSchema = z.union(Object.values(commandSchemas) as unknown as [z.ZodType<ParsedCommand, Command>, ...z.ZodType<ParsedCommand, Command>[]]);

export function isCommandType(value: unknown): value is CommandType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(commandSchemas, value);
}
