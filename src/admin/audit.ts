import type { CommandType } from './schemas.js';
import type { ApplyOptions, AuditEvent, AuditTarget } from './types.js';

/** The fields that name an entity (one vocabulary, docs/admin.md), the command's own entity first. */
const TARGET_FIELDS: readonly (readonly [string, AuditTarget['kind']])[] = [
  ['keyId', 'api_key'],
  ['credentialId', 'credential'],
  ['connectorId', 'connector'],
  ['groupId', 'group'],
  ['workspaceId', 'workspace'],
  ['memberId', 'member'],
];

/** Audit targets in first-seen order, each once; a Set keeps this linear in the size of the command. */
export class Targets {
  private readonly seen = new Set<string>();
  readonly list: AuditTarget[] = [];
  add(kind: AuditTarget['kind'], id: unknown): void {
    if (typeof id !== 'string') return;
    const key = `${kind}\u0000${id}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push(Object.freeze({ kind, id }));
  }
  addAll(targets: Iterable<AuditTarget>): void {
    for (const target of targets) this.add(target.kind, target.id);
  }
}

/**
 * The entities a command names, read from the one copy of it that was (or would have been) applied; a
 * refused command is audited too, so anything that is not a string id is skipped, never trusted.
 */
export function namedTargets(command: Readonly<Record<string, unknown>>): Targets {
  const targets = new Targets();
  for (const [field, kind] of TARGET_FIELDS) targets.add(kind, command[field]);
  const { members, memberIds } = command;
  if (Array.isArray(members)) {
    for (const entry of members) if (entry !== null && typeof entry === 'object') targets.add('member', (entry as Record<string, unknown>).memberId);
  }
  if (Array.isArray(memberIds)) for (const id of memberIds) targets.add('member', id);
  targets.add('seat_pool', command.product);
  return targets;
}

export function auditEvent(
  organizationId: string,
  actor: unknown,
  command: CommandType | null,
  targets: readonly AuditTarget[],
  at: ApplyOptions['now'] | null,
  result: AuditEvent['result'],
): AuditEvent {
  return Object.freeze({
    organizationId,
    actor: actorName(actor),
    command,
    targets: Object.freeze(targets),
    at: at ?? null,
    result: Object.freeze(result),
  });
}

/** An actor that is not a string id is recorded by its kind: its own `toString` is never called. */
function actorName(actor: unknown): string {
  if (typeof actor === 'string') return actor;
  return actor === null || (typeof actor !== 'object' && typeof actor !== 'function') ? String(actor) : `(${typeof actor})`;
}
