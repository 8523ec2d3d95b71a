import type { Draft } from 'immer';
import type { z } from 'zod';
import type { Organization } from '../../model/index.js';
import type { organizationSchema } from '../../model/schema.js';
import type { Action } from '../../roles/index.js';
import type { Findings } from '../errors.js';
import type { CommandType, ParsedCommand } from '../schemas.js';
import type { AuditTarget } from '../types.js';

/** What a command's recipe writes: the parsed snapshot, mutable inside immer's draft. */
export type Mutable = z.output<typeof organizationSchema>;
export type OrgDraft = Draft<Mutable>;
export type Path = (string | number)[];
/** The command as read once from the caller's value (plain data, not yet checked by its schema). */
export type Raw = Readonly<Record<string, unknown>>;

/** Who may run a command (SPEC §5 table): an action of the policy, or "that member itself" (SPEC §7.4). */
export type Authority = { readonly action: Action; readonly workspace?: string } | { readonly self: string } | 'nobody';

export type Recipe = (draft: OrgDraft) => void;

export interface CommandSpec<T extends CommandType> {
  /** Read from the raw command: the actor is checked before the payload (SPEC §5). */
  readonly authority: (raw: Raw, org: Organization) => Authority;
  /** Checks against the snapshot (every problem into `findings`), then the change as an immer recipe. */
  readonly plan: (org: Organization, command: ParsedCommand<T>, findings: Findings) => Recipe;
  /** SPEC §5 invariants this command can break, checked on its result. */
  readonly invariants?: readonly ('admin' | 'seats')[];
  /**
   * The targets of an applied command when they are not simply the ids it names: the membership
   * deltas list only the members whose membership changed.
   */
  readonly changed?: (org: Organization, command: ParsedCommand<T>) => Iterable<AuditTarget>;
}

export type CommandSpecs<T extends CommandType> = { readonly [K in T]: CommandSpec<K> };

export const orgAction = (action: Action) => (): Authority => ({ action });

/** SPEC §7.20: a workspace that does not exist has no one who manages it, so the payload's must name one. */
export const inWorkspace =
  (action: Action) =>
  (raw: Raw): Authority =>
    typeof raw.workspaceId === 'string' ? { action, workspace: raw.workspaceId } : 'nobody';

export const q = (value: unknown) => JSON.stringify(value);

// ---------------------------------------------------------------------------------------------
// Checks shared by the commands of several entities.

export function memberExists(o: Organization, id: string, path: Path, f: Findings) {
  const member = o.members.get(id);
  if (!member) f.notFound('member_not_found', path, `member ${q(id)} does not exist`);
  return member;
}

/** Every id an organization member, none listed twice (SPEC §6.1: lists are canonical). */
export function membersExist(o: Organization, ids: readonly string[], path: Path, f: Findings) {
  const seen = new Set<string>();
  ids.forEach((id, i) => {
    if (seen.has(id)) f.validation('duplicate_entry', [...path, i], `member ${q(id)} is listed twice`);
    seen.add(id);
    memberExists(o, id, [...path, i], f);
  });
}

export function connectorsExist(o: Organization, ids: readonly string[], path: Path, f: Findings) {
  const seen = new Set<string>();
  ids.forEach((id, i) => {
    if (seen.has(id)) f.validation('duplicate_entry', [...path, i], `connector ${q(id)} is listed twice`);
    seen.add(id);
    if (!o.connectors.has(id)) f.notFound('connector_not_found', [...path, i], `connector ${q(id)} does not exist`);
  });
}

export function connectorExists(o: Organization, id: string, f: Findings) {
  const connector = o.connectors.get(id);
  if (!connector) f.notFound('connector_not_found', ['connectorId'], `connector ${q(id)} does not exist`);
  return connector;
}

export function groupExists(o: Organization, id: string, f: Findings) {
  const group = o.groups.get(id);
  if (!group) f.notFound('group_not_found', ['groupId'], `group ${q(id)} does not exist`);
  return group;
}

/** SPEC §1: members and API keys share one id space. */
export function principalIdFree(o: Organization, id: string, path: Path, f: Findings) {
  if (o.members.has(id) || o.apiKeys.has(id)) f.validation('id_taken', path, `id ${q(id)} is already taken by a member or an API key`);
}
