export * from './schema.js';
export type * from './types.js';
export { formatPath } from './problems.js';
/** The map type of a parsed snapshot's collections (a `ReadonlyMap` to readers); exported for its declarations. */
export type { IdMap } from './idmap.js';
export {
  parseOrganization,
  loadOrganization,
  serializeOrganization,
  isParsedOrganization,
  organizationJsonSchema,
  ORGANIZATION_SCHEMA_ID,
  OrganizationError,
  type ParseResult,
} from './parse.js';
export { organizationBuilder, OrganizationBuilder, type ConnectorSpec, type WorkspaceRolesSpec } from './builder.js';
