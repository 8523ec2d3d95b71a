import type { WirePatch } from '../change/index.js';
import type { Change } from '../change/index.js';
import type { Organization } from '../model/index.js';
import type { Policy } from '../policy/index.js';
import type { CommandType } from './schemas.js';

/** SPEC §7.2: the four classes of refusal. */
export type AdminErrorClass = 'forbidden' | 'validation' | 'not_found' | 'invariant';

/** Finer, stable codes under each class (docs/admin.md lists them). */
export type AdminErrorCode =
  // forbidden
  | 'forbidden'
  // validation
  | 'unknown_command'
  | 'unreadable_value'
  | 'too_deep'
  | 'too_large'
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
  | 'duplicate_external_id'
  | 'duplicate_name'
  | 'empty_name'
  | 'control_character'
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

/** An entity a command changed (or, refused, would have changed), for the audit log. */
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
    | { readonly status: 'refused'; readonly class: AdminErrorClass; readonly code: AdminErrorCode }
    /** `applyCommands` only: this command applied, then a later one of the same batch was refused, so none was kept. */
    | { readonly status: 'rolled_back' };
}

/**
 * What an applied result offers besides its data, as lazy getters that are not enumerable — computed on
 * first read, then kept — so JSON, spreads and structured clones of the result carry the data only.
 */
export interface NextPolicy {
  /** The compiled policy of `snapshot`, built with `policy.update` from the input snapshot's policy and the patches (not a full build). */
  readonly policy: Policy;
  /** The SPEC §8 change for replicas: wire patches by entity id, the audit events, a checksum. */
  readonly change: Change<AuditEvent>;
}

/** `applyCommand` applied: a new frozen snapshot (`revision` + 1), its patches and inverse, the audit event; `policy` and `change`. */
export interface CommandApplied extends NextPolicy {
  readonly ok: true;
  readonly snapshot: Organization;
  readonly patches: readonly WirePatch[];
  readonly inversePatches: readonly WirePatch[];
  readonly event: AuditEvent;
}

/** `applyCommand` refused: the typed error, the very input snapshot, the audit event of the refusal. */
export interface CommandRefused {
  readonly ok: false;
  readonly error: AdminError;
  readonly snapshot: Organization;
  readonly event: AuditEvent;
}

export type CommandResult = CommandApplied | CommandRefused;

/**
 * `applyCommands` applied every command, in order, as one change (SPEC §8.1): the last snapshot at
 * `revision` + 1, the patches of all of them in order (`inversePatches` undo them, last command first),
 * and one audit event per command, each at that revision; `policy` and `change`.
 */
export interface CommandsApplied extends NextPolicy {
  readonly ok: true;
  readonly snapshot: Organization;
  readonly patches: readonly WirePatch[];
  readonly inversePatches: readonly WirePatch[];
  readonly events: readonly AuditEvent[];
}

/**
 * `applyCommands` refused one command, so none is applied: its error, its `index` in the list, the very
 * input snapshot, and the audit events of the commands up to it — `rolled_back` for those before it,
 * `refused` for it; later ones never ran. When the list cannot be read (not an array, or a hostile
 * value in it), nothing ran: one `refused` event with `command: null`, and `index` is the entry that
 * could not be read, or `null` for the list itself.
 */
export interface CommandsRefused {
  readonly ok: false;
  readonly error: AdminError;
  readonly index: number | null;
  readonly snapshot: Organization;
  readonly events: readonly AuditEvent[];
}

export type CommandsResult = CommandsApplied | CommandsRefused;

export interface ApplyOptions {
  /** The time of the command, recorded in the audit event and used for API key expiry. */
  readonly now?: number | string;
}
