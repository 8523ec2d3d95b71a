import type { Immutable } from 'immer';
import type { z } from 'zod';
import type * as schema from './schema.js';

/** The snapshot as JSON (SPEC §6.1), what `parseOrganization` accepts and `serializeOrganization` writes. */
export type OrganizationJson = z.input<typeof schema.organizationSchema>;
/** A parsed, deep-frozen snapshot: every collection is a `ReadonlyMap` keyed by id, in snapshot order. */
export type Organization = Immutable<z.output<typeof schema.organizationSchema>>;

export type Member = Immutable<z.output<typeof schema.memberSchema>>;
export type Group = Immutable<z.output<typeof schema.groupSchema>>;
export type Workspace = Immutable<z.output<typeof schema.workspaceSchema>>;
export type WorkspaceMember = Immutable<z.output<typeof schema.workspaceMemberSchema>>;
export type GroupGrant = Immutable<z.output<typeof schema.groupGrantSchema>>;
export type ConnectorPermission = Immutable<z.output<typeof schema.connectorPermissionSchema>>;
export type Connector = Immutable<z.output<typeof schema.connectorSchema>>;
export type Tool = Immutable<z.output<typeof schema.toolSchema>>;
export type Credential = Immutable<z.output<typeof schema.credentialSchema>>;
export type ApiKey = Immutable<z.output<typeof schema.apiKeySchema>>;
export type SeatPool = Immutable<z.output<typeof schema.seatPoolSchema>>;
export type SeatProduct = (typeof schema.SEAT_PRODUCTS)[number];
export type PermissionMode = (typeof schema.PERMISSION_MODES)[number];

/** One problem found in a snapshot or a payload: a stable code, where, and a sentence. */
export interface Problem {
  readonly code: ProblemCode;
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export type ProblemCode =
  | 'missing_field'
  | 'unknown_field'
  | 'invalid_type'
  | 'invalid_value'
  | 'invalid_format'
  | 'unsupported_version'
  | 'unreadable_value'
  | 'circular_reference'
  | 'too_deep'
  | 'empty_name'
  | 'control_character'
  | 'duplicate_id'
  | 'duplicate_email'
  | 'duplicate_external_id'
  | 'duplicate_name'
  | 'duplicate_entry'
  | 'dangling_reference'
  | 'unknown_role'
  | 'wrong_scope_role'
  | 'empty_roles'
  | 'seat_without_pool'
  | 'seats_exceeded'
  | 'no_active_admin'
  | 'tools_not_restricted'
  | 'restricted_without_tools'
  | 'unknown_tool'
  | 'write_tool_on_read_only'
  | 'workspace_ids_not_allowed';
