import { Immer, enableMapSet, enablePatches } from 'immer';
import { makeChange, wirePatches, type Change, type WirePatch } from '../change/index.js';
import { touchedEntities } from '../change/wire.js';
import { deriveIndexes } from '../model/indexes.js';
import type { Organization } from '../model/index.js';
import { isParsedOrganization, loadOrganization } from '../model/index.js';
import { adoptOrganization } from '../model/parse.js';
import { describe, formatPath } from '../model/problems.js';
import type { Policy } from '../policy/index.js';
import { auditEvent, namedTargets, Targets } from './audit.js';
import { COMMAND_SPECS, type CommandSpec } from './commands/index.js';
import type { Authority, Mutable } from './commands/spec.js';
import { Findings, fromProblems, problemsFromAdminZod, single } from './errors.js';
import { hasActiveOrganizationAdmin, seatsWithinPools } from './invariants.js';
import { nextPolicy, notePatched, policyFor } from './policy.js';
import { isPlainObject, readPlain, type ReadResult } from './read.js';
import { commandSchemas, isCommandType, type CommandType, type ParsedCommand } from './schemas.js';
import type { AdminError, ApplyOptions, AuditEvent, CommandResult, CommandsResult } from './types.js';

enablePatches();
enableMapSet();
// Our own instance: a host that turns immer's auto-freeze off globally does not get unfrozen snapshots from us.
const immer = new Immer({ autoFreeze: true });

type Now = ApplyOptions['now'];

/** One command on one snapshot, before it becomes a public result. */
type Step =
  | { readonly ok: true; readonly snapshot: Organization; readonly patches: readonly WirePatch[]; readonly inversePatches: readonly WirePatch[]; readonly event: AuditEvent }
  | { readonly ok: false; readonly error: AdminError; readonly event: AuditEvent };

const NOTHING: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * SPEC §5: the checks of one command, in order. The command was read once into plain data (`read`);
 * everything below — the actor's authority, the payload, the recipe, the audit targets — uses that copy.
 * The result is at `revision`: one more than the input's, or, within a batch, the batch's (SPEC §8.1).
 */
function step(base: Organization, actor: unknown, read: ReadResult, now: Now, revision: number): Step {
  const raw = read.ok && isPlainObject(read.value) ? read.value : NOTHING;
  const type = isCommandType(raw.type) ? raw.type : null;
  const refuse = (error: AdminError): Step => ({
    ok: false,
    error,
    event: auditEvent(base.id, actor, type, namedTargets(raw).list, now, { status: 'refused', class: error.class, code: error.code }),
  });

  if (!read.ok) return refuse(fromProblems('validation', [read.problem]));
  if (!isPlainObject(read.value)) return refuse(single('validation', 'invalid_type', [], `a command is an object with a type, not ${describe(read.value)}`));
  if (type === null) return refuse(single('validation', 'unknown_command', ['type'], `${formatValue(raw.type)} is not an admin command`));
  const spec = COMMAND_SPECS[type] as unknown as CommandSpec<CommandType>;
  // SPEC §5: the actor first; one who may not run the command learns only `forbidden`.
  if (!authorized(base, actor, spec.authority(raw, base), now)) {
    return refuse(single('forbidden', 'forbidden', [], `${formatValue(actor)} may not run ${type} here`));
  }

  const parsed = commandSchemas[type].safeParse(raw, { reportInput: true });
  if (!parsed.success) return refuse(fromProblems('validation', problemsFromAdminZod(parsed.error.issues)));
  const command = parsed.data as ParsedCommand;
  const findings = new Findings();
  const recipe = spec.plan(base, command, findings);
  if (findings.invalid.length > 0) return refuse(fromProblems('validation', findings.invalid));
  if (findings.missing.length > 0) return refuse(fromProblems('not_found', findings.missing));

  const [produced, immerPatches] = immer.produceWithPatches(base as unknown as Mutable, (draft) => {
    recipe(draft);
    draft.revision = revision;
  });
  const next = produced as unknown as Organization;
  // SPEC §6.1, §8: the patches by entity id, as replicas receive them (immer's name IdMap internals).
  const wire = wirePatches(base, next, immerPatches);
  // Before the invariants, which read the seat counts; a refused `next` is dropped with them.
  deriveIndexes(base, next, touchedEntities(wire.touched));
  for (const invariant of spec.invariants ?? []) {
    if (invariant === 'admin' && !hasActiveOrganizationAdmin(next)) {
      return refuse(single('invariant', 'last_organization_admin', [], 'the organization must keep at least one active organization_admin'));
    }
    if (invariant === 'seats') {
      const excess = seatsWithinPools(next);
      if (excess !== null) return refuse(single('invariant', 'seats_exceeded', type === 'setSeatPoolSize' ? ['size'] : ['product'], excess));
    }
  }
  const adopted = adoptOrganization(next);
  const patches = Object.freeze(wire.patches);
  notePatched(base, adopted, patches);
  let targets: Targets;
  if (spec.changed) {
    targets = new Targets();
    targets.addAll(spec.changed(base, command));
  } else {
    targets = namedTargets(command as unknown as Record<string, unknown>);
  }
  const event = auditEvent(base.id, actor, type, targets.list, now, { status: 'applied', revision: adopted.revision });
  return { ok: true, snapshot: adopted, patches, inversePatches: Object.freeze(wire.inversePatches), event };
}

/** SPEC §5, §7.3: one source of truth — the policy's own `can`. API keys never administer (D5). */
function authorized(o: Organization, actor: unknown, authority: Authority, now: Now): boolean {
  if (authority === 'nobody' || typeof actor !== 'string') return false;
  if ('self' in authority) {
    // SPEC §7.4: that member itself, not while suspended.
    return actor === authority.self && o.members.get(actor)?.status === 'active';
  }
  return policyFor(o).can(actor, authority.action, authority.workspace, now === undefined ? undefined : { now });
}

const formatValue = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : describe(value));

const loadBase = (snapshot: Organization) => (isParsedOrganization(snapshot) ? snapshot : loadOrganization(snapshot));


/**
 * What an applied result offers beyond its data, as lazy getters that are not enumerable, so the result
 * stays plain data for JSON and spreads: `policy`, derived on first read from the input's policy with
 * `policy.update`, and `change`, the SPEC §8 change for replicas. Each is computed once.
 */
function offer<T extends { readonly snapshot: Organization; readonly patches: readonly WirePatch[]; readonly inversePatches: readonly WirePatch[] }>(
  base: Organization,
  result: T,
  events: readonly AuditEvent[],
): T & { readonly policy: Policy; readonly change: Change<AuditEvent> } {
  let policy: Policy | undefined;
  let change: Change<AuditEvent> | undefined;
  Object.defineProperty(result, 'policy', { enumerable: false, get: () => (policy ??= nextPolicy(base, result.snapshot, result.patches)) });
  // SPEC §8.1: each command's patches were taken on the snapshot it applied to and are laid end to end,
  // so a replica replays them in the order they happened (a member removed and added back ends last).
  Object.defineProperty(result, 'change', {
    enumerable: false,
    get: () => (change ??= makeChange(result.snapshot, result.patches, result.inversePatches, events)),
  });
  return Object.freeze(result) as T & { readonly policy: Policy; readonly change: Change<AuditEvent> };
}

/**
 * SPEC §5: applies one admin command to a snapshot. The command is read once into plain data; the actor
 * is checked on it first, through the same `can` the gateways use; then the payload (every problem at
 * once); then the targets; then the invariants. Applied: a new frozen snapshot sharing structure with the
 * input, `revision` one higher, its patches and inverse patches, the audit event, `policy` (the
 * snapshot's compiled policy) and `change` (SPEC §8), both derived lazily. Refused: the very input
 * snapshot, untouched, and the audit event. Never throws for any `command` or `actor`.
 */
export function applyCommand(snapshot: Organization, actor: string, command: unknown, options: ApplyOptions = {}): CommandResult {
  const base = loadBase(snapshot);
  const now = options.now;
  const result = step(base, actor, readPlain(command), now, base.revision + 1);
  if (!result.ok) return Object.freeze({ ok: false, error: result.error, snapshot: base, event: result.event });
  const applied = { ok: true as const, snapshot: result.snapshot, patches: result.patches, inversePatches: result.inversePatches, event: result.event };
  return offer(base, applied, [result.event]);
}

/**
 * Several commands by one actor, atomically (SPEC §8.1: one change): each is checked and applied on the
 * snapshot the previous one produced, and either all are kept or none. Applied: the last snapshot, at
 * `revision` + 1 (the list holds at least one command), every command's patches in order, the
 * inverse patches that undo them all (last command first), one audit event per command, `policy` and
 * `change`. Refused: the first refused command's error and its `index`, the very input snapshot, and the
 * audit events up to it — those before it `rolled_back`.
 */
export function applyCommands(snapshot: Organization, actor: string, commands: unknown, options: ApplyOptions = {}): CommandsResult {
  const base = loadBase(snapshot);
  const now = options.now;
  const refuseList = (error: AdminError, index: number | null): CommandsResult => {
    const event = auditEvent(base.id, actor, null, [], now, { status: 'refused', class: error.class, code: error.code });
    return Object.freeze({ ok: false, error, index, snapshot: base, events: Object.freeze([event]) });
  };
  // The whole list is read once, like a single command: a list that changes while it is applied cannot.
  const read = readPlain(commands);
  if (!read.ok) {
    const [index, ...path] = read.problem.path;
    return refuseList(fromProblems('validation', [{ ...read.problem, path: Object.freeze(path) }]), typeof index === 'number' ? index : null);
  }
  if (!Array.isArray(read.value)) return refuseList(single('validation', 'invalid_type', [], `commands are an array, not ${describe(read.value)}`), null);
  // SPEC §8.1: a change holds one or more commands; an empty one would produce no revision to replicate.
  if (read.value.length === 0) return refuseList(single('validation', 'invalid_value', [], 'give at least one command'), null);

  const items: readonly unknown[] = read.value;
  let current = base;
  const patches: WirePatch[] = [];
  const inverses: (readonly WirePatch[])[] = [];
  const events: AuditEvent[] = [];
  for (let index = 0; index < items.length; index++) {
    // SPEC §8.1: the batch is one change, so every command in it produces the same next revision.
    const result = step(current, actor, { ok: true, value: items[index] }, now, base.revision + 1);
    if (!result.ok) {
      const rolledBack = events.map((event) => Object.freeze({ ...event, result: ROLLED_BACK }));
      return Object.freeze({ ok: false, error: result.error, index, snapshot: base, events: Object.freeze([...rolledBack, result.event]) });
    }
    for (const patch of result.patches) patches.push(patch);
    inverses.push(result.inversePatches);
    events.push(result.event);
    current = result.snapshot;
  }
  const inversePatches: WirePatch[] = [];
  for (let i = inverses.length - 1; i >= 0; i--) for (const patch of inverses[i]!) inversePatches.push(patch);
  const frozenEvents = Object.freeze(events);
  return offer(base, { ok: true as const, snapshot: current, patches: Object.freeze(patches), inversePatches: Object.freeze(inversePatches), events: frozenEvents }, frozenEvents);
}

const ROLLED_BACK = Object.freeze({ status: 'rolled_back' } as const);

export { hasActiveOrganizationAdmin } from './invariants.js';
