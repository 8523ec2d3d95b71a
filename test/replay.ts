/**
 * Test helpers for wire patches (SPEC §8): replay them on a snapshot as a replica does, and compare
 * snapshots by content. Two snapshots with the same entities compare equal whatever the chunk layout of
 * their IdMaps; `canonical` also ignores order, since an inverse patch re-adds a removed entity last.
 */
import { applyWirePatches } from '../src/change/apply.js';
import { serializeOrganization, type Organization, type WirePatch } from 'org-policy';

export function replay(from: Organization, patches: readonly WirePatch[], revision = from.revision): ReturnType<typeof serializeOrganization> {
  const applied = applyWirePatches(from, patches);
  if (!applied.ok) throw new Error(JSON.stringify(applied.error));
  return { ...serializeOrganization(applied.organization), revision };
}

type Json = ReturnType<typeof serializeOrganization>;
const byKey = (key: string) => (a: Record<string, unknown>, b: Record<string, unknown>) => String(a[key]).localeCompare(String(b[key]));

/** The snapshot's JSON with every collection sorted by its key: equal content, equal value. */
export function canonical(organization: Organization | Json): unknown {
  const json = 'schemaVersion' in organization && Array.isArray((organization as Json).members) ? (organization as Json) : serializeOrganization(organization as Organization);
  const sorted = (list: readonly object[], key: string) => [...(list as Record<string, unknown>[])].sort(byKey(key));
  return {
    ...json,
    members: sorted(json.members ?? [], 'id'),
    groups: sorted(json.groups ?? [], 'id'),
    workspaces: sorted(
      (json.workspaces ?? []).map((w) => ({ ...w, members: sorted(w.members ?? [], 'memberId'), groupGrants: sorted(w.groupGrants ?? [], 'groupId'), connectorPermissions: sorted(w.connectorPermissions ?? [], 'connectorId') })),
      'id',
    ),
    connectors: sorted(json.connectors ?? [], 'id'),
    connectorPermissions: sorted(json.connectorPermissions ?? [], 'connectorId'),
    credentials: sorted(json.credentials ?? [], 'id'),
    apiKeys: sorted(json.apiKeys ?? [], 'id'),
    seatPools: sorted(json.seatPools ?? [], 'product'),
  };
}
