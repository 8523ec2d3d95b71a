import { freeze } from 'immer';
import { z } from 'zod';
import { checkOrganization } from './check.js';
import { formatPath, problemsFromZod } from './problems.js';
import { organizationSchema } from './schema.js';
import type { Organization, OrganizationJson, Problem } from './types.js';

export type ParseResult =
  | { readonly ok: true; readonly organization: Organization }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/**
 * Snapshots this library parsed (or produced by a command): `createPolicy` trusts them without a second
 * check. Registered under a global symbol so that the ESM and CommonJS copies of the package, loaded side
 * by side, recognise each other's snapshots.
 */
const registry = globalThis as { [key: symbol]: WeakSet<object> | undefined };
const PARSED = Symbol.for('org-policy.parsed-snapshots.v1');
const parsed: WeakSet<object> = (registry[PARSED] ??= new WeakSet<object>());

/**
 * Checks a snapshot against SPEC §6 and returns it typed and deep-frozen, or every problem found —
 * the schema's and the cross-reference rules' together, never only the first.
 */
export function parseOrganization(input: unknown): ParseResult {
  const structural = organizationSchema.safeParse(input, { reportInput: true });
  const problems = [...(structural.success ? [] : problemsFromZod(structural.error.issues)), ...checkOrganization(input)];
  if (problems.length > 0 || !structural.success) return Object.freeze({ ok: false, problems: Object.freeze(problems) });
  return Object.freeze({ ok: true, organization: adoptOrganization(structural.data) });
}

/** Internal: freezes a snapshot known to be valid (parsed, or the result of an admin command) and marks it parsed. */
export function adoptOrganization(organization: z.output<typeof organizationSchema> | Organization): Organization {
  const frozen = freeze(organization, true) as Organization;
  parsed.add(frozen);
  return frozen;
}

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

/** The parsed snapshot, or throws an `OrganizationError` listing every problem. */
export function loadOrganization(input: unknown): Organization {
  if (isParsedOrganization(input)) return input;
  const result = parseOrganization(input);
  if (!result.ok) throw new OrganizationError(result.problems);
  return result.organization;
}

/** Writes the snapshot back as the JSON of SPEC §6.1: arrays in order, `revision` always, absent roles kept absent. */
export function serializeOrganization(organization: Organization): OrganizationJson & { revision: number } {
  const o = organization;
  return {
    schemaVersion: 1,
    id: o.id,
    name: o.name,
    revision: o.revision,
    members: [...o.members.values()].map((m) => ({ id: m.id, email: m.email, status: m.status, orgRoles: [...m.orgRoles], seats: [...m.seats] })),
    groups: [...o.groups.values()].map((g) => ({ id: g.id, name: g.name, memberIds: [...g.memberIds], orgRoles: [...g.orgRoles] })),
    workspaces: [...o.workspaces.values()].map((w) => ({
      id: w.id,
      name: w.name,
      members: [...w.members.values()].map((m) => (m.roles ? { memberId: m.memberId, roles: [...m.roles] } : { memberId: m.memberId })),
      groupGrants: [...w.groupGrants.values()].map((g) => (g.roles ? { groupId: g.groupId, roles: [...g.roles] } : { groupId: g.groupId })),
      connectorPermissions: [...w.connectorPermissions.values()].map(serializePermission),
    })),
    connectors: [...o.connectors.values()].map((c) => ({
      id: c.id,
      name: c.name,
      visibility: c.visibility,
      ...(c.workspaceIds ? { workspaceIds: [...c.workspaceIds] } : {}),
      authentication: c.authentication,
      origin: c.origin,
      capabilities: c.capabilities,
      tools: c.tools.map((t) => ({ name: t.name, access: t.access })),
    })),
    connectorPermissions: [...o.connectorPermissions.values()].map(serializePermission),
    credentials: [...o.credentials.values()].map((c) => ({ ...c })),
    apiKeys: [...o.apiKeys.values()].map((k) => ({
      id: k.id,
      name: k.name,
      workspaceId: k.workspaceId,
      status: k.status,
      ...(k.expiresAt !== undefined ? { expiresAt: k.expiresAt } : {}),
      connectorScopes: k.connectorScopes === 'all' ? 'all' : [...k.connectorScopes],
    })),
    seatPools: [...o.seatPools.values()].map((p) => ({ product: p.product, size: p.size })),
  };
}

function serializePermission(p: Organization['connectorPermissions'] extends ReadonlyMap<string, infer P> ? P : never) {
  return p.tools ? { connectorId: p.connectorId, mode: p.mode, tools: [...p.tools] } : { connectorId: p.connectorId, mode: p.mode };
}

/** The JSON Schema of the wire format (draft 2020-12), generated from the zod schema: for services not written in TypeScript. */
export function organizationJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(organizationSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
}
