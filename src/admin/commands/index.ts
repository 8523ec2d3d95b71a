import type { CommandType } from '../schemas.js';
import { apiKeyCommands } from './apiKeys.js';
import { connectorCommands } from './connectors.js';
import { credentialCommands } from './credentials.js';
import { groupCommands } from './groups.js';
import { memberCommands } from './members.js';
import type { CommandSpecs } from './spec.js';
import { workspaceCommands } from './workspaces.js';

/** Every command of SPEC §5, each an authority and a plan, by the entity it changes. */
export const COMMAND_SPECS: CommandSpecs<CommandType> = {
  ...memberCommands,
  ...workspaceCommands,
  ...groupCommands,
  ...connectorCommands,
  ...credentialCommands,
  ...apiKeyCommands,
};

export type { CommandSpec, Raw } from './spec.js';
