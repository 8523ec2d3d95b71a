import { apiKeyJson, connectorJson, credentialJson, groupJson, memberJson, permissionJson, seatPoolJson, workspaceJson } from './entities.js';
import { freeze } from 'immer';
import { z } from 'zod';
import { checkOrganization } from './check.js';
import { readOrganization } from './fast.js';
import { plainCopy, under, type PlainCopy } from './plain.js';
import { formatPath, problemsFromZod } from './problems.js';
import { organizationSchema } from './schema.js';
import type { Organization, OrganizationJson, Problem } from './types.js';

export type ParseResult =
  | { readonly ok: true; readonly organization: Organization }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/**
 * Snapshots this copy of the library parsed (or produced by a command): `createPolicy` trusts them without
 * a second check. Module-private on purpose: nothing outside this module can add to it, so no other code in
 * the process can make `createPolicy` skip validation by forging a mark (a global `Symbol.for` registry
 * could be filled by anyone). The ESM and CommonJS builds are separate copies with a set each: a snapshot
 * parsed by one and handed to the other is parsed again there, which costs one check and is always safe.
 */
const parsed = new WeakSet<object>();

/**
 * Checks a snapshot against SPEC §6 and returns it typed and deep-frozen, or every problem found —
 * the schema's and the cross-reference rules' together, never only the first. Never throws: a value
 * that cannot be read (a throwing getter or Proxy trap), a circular reference or nesting deeper than a
 * snapshot could is a problem like any other.
 */
export function parseOrganization(input: unknown): ParseResult {
  // One walk reads the input as plainCopy does and, for a snapshot it accepts, builds the parsed form
  // on the way (fast.ts); anything else is decided by the full check on the copy that walk made.
  const read = readOrganization(input);
  if (read.organization !== undefined) return Object.freeze({ ok: true, organization: adoptOrganization(read.organization as Organization) });
  return checkCopy(read.copy);
}

/** Internal (tests): `parseOrganization` without its fast path, the reference its fast path must agree with. */
export function parseOrganizationInFull(input: unknown): ParseResult {
  return checkCopy(plainCopy(input));
}

/** Decides on a plain copy of the input: the schema's problems and the cross-reference rules' together. */
function checkCopy(copy: PlainCopy): ParseResult {
  const unreadable = copy.problems.map((p) => p.path);
  const structural = organizationSchema.safeParse(copy.value, { reportInput: true });
  const found = [...(structural.success ? [] : problemsFromZod(structural.error.issues)), ...checkOrganization(copy.value, unreadable)];
  // What could not be read is reported once, as such; its field may still be unknown.
  const problems = [...copy.problems, ...found.filter((p) => p.code === 'unknown_field' || !under(p.path, unreadable))];
  if (problems.length > 0 || !structural.success) return Object.freeze({ ok: false, problems: Object.freeze(problems) });
  return Object.freeze({ ok: true, organization: adoptOrganization(structural.data) });
}

/** Internal: freezes a snapshot known to be valid (parsed, or the result of an admin command) and marks it parsed. */
export function adoptOrganization(organization: z.output<typeof organizationSchema> | Organization): Organization {
  const frozen = freeze(organization, true) as Organization;
  parsed.add(frozen);
  return frozen;
}

/**
 * Whether `value` is a snapshot this copy of the library parsed or produced (so it is valid, typed and
 * deep-frozen). Only a mark held privately by this module counts: an object that merely looks parsed, or
 * carries any symbol or property, is not. The ESM and CommonJS builds keep one mark each, so a snapshot
 * from the other build answers `false` here (and is simply parsed again by `createPolicy`).
 */
export function isParsedOrganization(value: unknown): value is Organization {
  return typeof value === 'object' && value !== null && parsed.has(value);
}

/** Thrown by `createPolicy` (and the CLI) for an input that is not a valid snapshot. Loading is not a decision. */
export class OrganizationError extends Error {
  readonly problems: readonly Problem[];
  constructor(problems: readonly Problem[]) {
    const lines = problems.slice(0, 20).map((p) => `  - ${formatPath(p.path)}: ${p.message} [${p.code}]`);
    if (problems.length > 20) lines.push(`  … and ${problems.length - 20} more`);
    super(`Invalid organization snapshot (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`);
    this.name = 'OrganizationError';
    this.problems = problems;
  }
}

/**
 * The parsed snapshot, or throws an `OrganizationError` listing every problem. A snapshot this copy of the
 * library parsed is returned as it is. One parsed by another copy (the CommonJS build beside the ESM one,
 * or a second install of the package) is written back to JSON and parsed again, like any other input.
 */
export function loadOrganization(input: unknown): Organization {
  if (isParsedOrganization(input)) return input;
  const result = parseOrganization(foreignParsedAsJson(input));
  if (!result.ok) throw new OrganizationError(result.problems);
  return result.organization;
}

/**
 * An object shaped like a parsed snapshot (its collections are maps, not arrays: another copy's `IdMap`
 * is not this copy's class, so only the shape is asked) but without this module's mark is written back as
 * JSON so that it is checked in full; anything else, or anything that throws on the way, is returned as
 * it is for `parseOrganization` to report.
 */
function foreignParsedAsJson(input: unknown): unknown {
  try {
    const members = typeof input === 'object' && input !== null ? (input as { members?: unknown }).members : undefined;
    if (typeof members === 'object' && members !== null && !Array.isArray(members) && typeof (members as Map<string, unknown>).values === 'function') {
      return serializeOrganization(input as Organization);
    }
  } catch {
    // a hostile or half-formed object: parsed as given, and rejected there with its problems
  }
  return input;
}

/** Writes the snapshot back as the JSON of SPEC §6.1: arrays in order, `revision` always, absent roles and optional fields kept absent. */
export function serializeOrganization(organization: Organization): OrganizationJson & { revision: number } {
  const o = organization;
  return {
    schemaVersion: 1,
    id: o.id,
    name: o.name,
    revision: o.revision,
    members: [...o.members.values()].map(memberJson),
    groups: [...o.groups.values()].map(groupJson),
    workspaces: [...o.workspaces.values()].map(workspaceJson),
    connectors: [...o.connectors.values()].map(connectorJson),
    connectorPermissions: [...o.connectorPermissions.values()].map(permissionJson),
    credentials: [...o.credentials.values()].map(credentialJson),
    apiKeys: [...o.apiKeys.values()].map(apiKeyJson),
    seatPools: [...o.seatPools.values()].map(seatPoolJson),
  };
}

/** The `$id` of the snapshot's JSON Schema: a stable name for schemaVersion 1, not an address to download it from. */
export const ORGANIZATION_SCHEMA_ID = 'https://github.com/org-policy/org-policy/schemas/organization.v1.schema.json';

/**
 * The JSON Schema of the wire format (draft 2020-12), generated from the zod schema: for services not
 * written in TypeScript. The package ships it as `org-policy/organization.schema.json`.
 *
 * It checks structure only: fields, types, formats and enumerations. The cross-reference rules and
 * invariants (dangling and duplicate ids, unknown and wrong-scope roles, seats beyond a pool, an active
 * `organization_admin`, …) need `parseOrganization`, so a snapshot that passes the schema may still be refused.
 */
export function organizationJsonSchema(): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(organizationSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    $schema,
    $id: ORGANIZATION_SCHEMA_ID,
    title: 'org-policy organization snapshot (schemaVersion 1)',
    description:
      'Structure only: fields, types, formats and enumerations. References between entities and the invariants (unique ids and emails, known roles of the right scope, seats within pools, an active organization_admin) are checked by parseOrganization in org-policy.',
    ...rest,
  };
}
