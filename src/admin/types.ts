import type { Patch } from 'immer';
import type { Organization } from '../model/index.js';
import type { CommandType } from './commands.js';

/** SPEC §7.2: the four classes of refusal. */
export type AdminErrorClass = 'forbidden' | 'validation' | 'not_found' | 'invariant';

/** Finer, stable codes under each class (docs/admin.md lists them). */
export type AdminErrorCode =
  // forbidden
  | 'forbidden'
  // validation
  | 'unknown_command'
  | 'missing_field'
  | 'unknown_field'
  | 'invalid_type'
  | 'invalid_value'
  | 'invalid_format'
  | 'conflicting_role_fields'
  | 'unknown_role'
  | 'wrong_scope_role'
  | 'empty_roles'
  | 'duplicate_entry'
  | 'id_taken'
  | 'duplicate_email'
  | 'duplicate_name'
  | 'unknown_tool'
  | 'write_tool_on_read_only'
  | 'workspace_ids_not_allowed'
  | 'workspace_required'
  | 'tools_not_restricted'
  | 'restricted_without_tools'
  | 'seat_already_assigned'
  | 'seat_not_assigned'
  // not_found
  | 'member_not_found'
  | 'workspace_not_found'
  | 'group_not_found'
  | 'connector_not_found'
  | 'credential_not_found'
  | 'seat_pool_not_found'
  | 'not_a_workspace_member'
  | 'no_group_grant'
  // invariant
  | 'last_organization_admin'
  | 'seats_exceeded';

/** One problem of a refused command: a stable code, the path of the offending field, a sentence. */
export interface AdminProblem {
  readonly code: AdminErrorCode;
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** SPEC §5: the typed error of a refused command; `problems` lists every problem of a payload. */
export interface AdminError {
  readonly class: AdminErrorClass;
  readonly code: AdminErrorCode;
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly problems?: readonly AdminProblem[];
}

/** Time as the caller gives it (the library reads no clock): epoch ms or an ISO-8601 string. */
export type AuditTime = number | string | null;

/** What a command touched, for the audit log. */
export interface AuditTarget {
  readonly kind: 'organization' | 'member' | 'workspace' | 'group' | 'connector' | 'credential' | 'api_key' | 'seat_pool';
  readonly id: string;
}

/** SPEC §5: an audit event, for applied and refused commands alike. Plain, serializable, frozen data. */
export interface AuditEvent {
  readonly organizationId: string;
  readonly actor: string;
  /** The command's `type`, or `null` when the command had none this library knows. */
  readonly command: CommandType | null;
  readonly targets: readonly AuditTarget[];
  readonly at: AuditTime;
  readonly result:
    | { readonly status: 'applied'; readonly revision: number }
    | { readonly status: 'refused'; readonly class: AdminErrorClass; readonly code: AdminErrorCode };
}

export type CommandResult =
  | {
      readonly ok: true;
      readonly snapshot: Organization;
      readonly patches: readonly Patch[];
      readonly inversePatches: readonly Patch[];
      readonly event: AuditEvent;
    }
  | { readonly ok: false; readonly error: AdminError; readonly snapshot: Organization; readonly event: AuditEvent };

export interface ApplyOptions {
  /** The time of the command, recorded in the audit event and used for API key expiry. */
  readonly now?: number | string;
}
