import type { Organization } from '../model/index.js';
import { seatsHeld } from '../model/indexes.js';
import { SEAT_PRODUCTS } from '../model/schema.js';

/** SPEC §5, §7.6: an active `organization_admin` remains — held directly or through a group; suspended admins do not count. */
export function hasActiveOrganizationAdmin(o: Organization): boolean {
  for (const member of o.members.values()) {
    if (member.status === 'active' && member.orgRoles.includes('organization_admin')) return true;
  }
  for (const group of o.groups.values()) {
    if (!group.orgRoles.includes('organization_admin')) continue;
    if (group.memberIds.some((id) => o.members.get(id)?.status === 'active')) return true;
  }
  return false;
}

/** SPEC §5: no more seats held than a pool's size; the sentence says which, or `null` when none is exceeded. */
export function seatsWithinPools(o: Organization): string | null {
  // Counted once per lineage and carried over by each change (model/indexes.ts), not by a scan.
  for (const product of SEAT_PRODUCTS) {
    const count = seatsHeld(o, product);
    const size = o.seatPools.get(product)?.size ?? 0;
    if (count > 0 && count > size) return `${count} ${product} seats would be held but the pool has ${size}`;
  }
  return null;
}
