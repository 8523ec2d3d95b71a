/** Administration (SPEC §5): the Admin API as pure, authorized, invariant-keeping operations. */
export { applyCommand, hasActiveOrganizationAdmin } from './apply.js';
export {
  commandSchemas,
  commandSchema,
  memberRolesBodySchema,
  workspaceMembersBodySchema,
  workspaceMemberEntrySchema,
  COMMAND_TYPES,
  isCommandType,
  type Command,
  type CommandOf,
  type CommandType,
  type ParsedCommand,
} from './commands.js';
export { listRoles, type RoleListing } from './roles.js';
export type * from './types.js';
