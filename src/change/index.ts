/**
 * Changes (SPEC §8): what passes from the writer of record to every replica — JSON patches that address
 * the snapshot by entity id, the audit events of the commands behind them, and a checksum — and how a
 * replica applies one: all of it or nothing, checked as `parseOrganization` would check the entities it
 * touches.
 */
import { z } from 'zod';
import { deriveIndexes } from '../model/indexes.js';
import { adoptOrganization } from '../model/parse.js';
import { problemsFromZod } from '../model/problems.js';
import { isParsedOrganization } from '../model/parse.js';
import type { Organization, Problem } from '../model/types.js';
import { applyWirePatches } from './apply.js';
import { checkTouched } from './check.js';
import { canonicalJson, sha256Hex } from './sha256.js';
import { touchedEntities, type Touched, type WirePatch } from './wire.js';

export type { WirePatch, Touched } from './wire.js';
export { canonicalJson, sha256Hex } from './sha256.js';

/** SPEC §8: one or more commands, applied atomically, as plain JSON. */
export interface Change<Event = unknown> {
  readonly organizationId: string;
  /** The revision this change produces: the previous one + 1. */
  readonly revision: number;
  readonly patches: readonly WirePatch[];
  readonly inversePatches: readonly WirePatch[];
  /** One audit event per command, in order. */
  readonly events: readonly Event[];
  /** Hex SHA-256 of the canonical JSON of the change without this field. */
  readonly sha256: string;
}

export type ChangeErrorCode = 'malformed_change' | 'wrong_organization' | 'revision_gap' | 'checksum_mismatch' | 'patch_failed' | 'invalid_result';

/** Why a change was not applied; nothing of it was. */
export interface ChangeError {
  readonly code: ChangeErrorCode;
  readonly message: string;
  readonly problems?: readonly Problem[];
}

export type ChangeResult = { readonly ok: true; readonly organization: Organization } | { readonly ok: false; readonly error: ChangeError };

const wirePatchSchema = z.strictObject({
  op: z.enum(['add', 'replace', 'remove']),
  path: z.array(z.string()).min(1).max(4),
  value: z.unknown().optional(),
});

const changeSchema = z.strictObject({
  organizationId: z.string().min(1),
  revision: z.number().int().min(1),
  patches: z.array(wirePatchSchema),
  inversePatches: z.array(wirePatchSchema),
  events: z.array(z.unknown()),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

/** The checksum a change must carry: SHA-256 of its canonical JSON without `sha256`. */
export function changeChecksum(change: Omit<Change, 'sha256'> & { sha256?: string }): string {
  const { sha256: _ignored, ...rest } = change;
  return sha256Hex(canonicalJson(rest));
}

/**
 * Internal, for the admin layer: the change that produced `after` (at its revision) from these wire
 * patches and events — checksummed, plain and frozen.
 */
export function makeChange<Event>(after: Organization, patches: readonly WirePatch[], inversePatches: readonly WirePatch[], events: readonly Event[]): Change<Event> {
  const body = { organizationId: after.id, revision: after.revision, patches, inversePatches, events };
  const plain = JSON.parse(JSON.stringify(body)) as Omit<Change<Event>, 'sha256'>;
  return deepFreeze({ ...plain, sha256: changeChecksum(plain) });
}

export { wirePatches } from './wire.js';

/**
 * Applies a change to the snapshot at the revision before it (SPEC §8.2): checks its shape, its
 * organization, its place in the revision chain and its checksum, applies its patches, and checks the
 * entities they touch. Returns the next snapshot — parsed, frozen, trusted by `createPolicy` — or a
 * typed error, never a half-applied snapshot. Never throws on a malformed change.
 */
export function applyChange(organization: Organization, change: unknown): ChangeResult {
  if (!isParsedOrganization(organization)) {
    return fail('malformed_change', 'applyChange needs a snapshot returned by parseOrganization, applyCommand or applyChange');
  }
  let plain: unknown;
  try {
    plain = JSON.parse(JSON.stringify(change) ?? 'null');
  } catch (error) {
    return fail('malformed_change', `the change is not JSON: ${(error as Error).message}`);
  }
  const parsed = changeSchema.safeParse(plain, { reportInput: true });
  if (!parsed.success) return fail('malformed_change', 'the change does not have the shape of SPEC §8', problemsFromZod(parsed.error.issues));
  const c = parsed.data as Change;
  if (c.organizationId !== organization.id) {
    return fail('wrong_organization', `the change is for organization ${JSON.stringify(c.organizationId)}, not ${JSON.stringify(organization.id)}`);
  }
  if (c.revision !== organization.revision + 1) {
    return fail('revision_gap', `the change produces revision ${c.revision}, but the snapshot is at revision ${organization.revision} (it needs ${c.revision - 1})`);
  }
  if (changeChecksum(c) !== c.sha256) return fail('checksum_mismatch', 'the change does not match its sha256: it was altered or truncated');

  const applied = applyWirePatches(organization, c.patches);
  if (!applied.ok) return fail('patch_failed', applied.error.message, applied.error.problems);
  const next = withRevision(applied.organization, c.revision);
  // Before the check, which reads them; on a refusal `next` is dropped, and the shared email look-up
  // only ever holds more candidates than needed (model/indexes.ts), so nothing is left wrong.
  deriveIndexes(organization, next, touchedEntities(applied.touched));
  const problems = checkTouched(organization, next, applied.touched);
  if (problems.length > 0) return fail('invalid_result', `the change would leave the organization invalid: ${problems[0]!.message}`, problems);
  return Object.freeze({ ok: true, organization: next });
}

/** What a change touched, for `policy.update`: the same paths its patches name. */
export function patchesOf(change: Change): readonly WirePatch[] {
  return change.patches;
}

function withRevision(organization: Organization, revision: number): Organization {
  return adoptOrganization({ ...organization, revision } as Organization);
}

function fail(code: ChangeErrorCode, message: string, problems?: readonly Problem[]): ChangeResult {
  return Object.freeze({ ok: false, error: Object.freeze({ code, message, ...(problems ? { problems: Object.freeze(problems) } : {}) }) });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

export type { Touched as ChangeTouched };
