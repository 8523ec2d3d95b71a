/** Administration (SPEC §5): the Admin API as pure, authorized, invariant-keeping operations. */
export { applyCommand, applyCommands, hasActiveOrganizationAdmin } from './apply.js';
export { MAX_COMMAND_DEPTH, MAX_COMMAND_ENTRIES } from './read.js';
export {
  commandSchemas,
  commandSchema,
  workspaceMemberEntrySchema,
  COMMAND_TYPES,
  isCommandType,
  type Command,
  type CommandOf,
  type CommandType,
  type ParsedCommand,
} from './schemas.js';
export { listRoles, type RoleListing } from './roles.js';
export type * from './types.js';
