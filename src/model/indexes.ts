import type { Organization, SeatProduct } from './types.js';

/**
 * Derived look-ups that keep one-entity checks O(1) at 100,000 members: who holds an email, and how many
 * seats are held. A snapshot derived from another by a change inherits its predecessor's, updated by the
 * members the change touched; any other snapshot builds them once, on first use.
 *
 * The email look-up is shared by every snapshot of one lineage and only ever grows: it maps a folded
 * email to every member id that held it in some snapshot of the lineage, and each answer is confirmed
 * against the snapshot asked about. So it can never miss a holder, whichever snapshots are still in use.
 */
interface Lineage {
  readonly emails: Map<string, Set<string>>;
  /** SPEC §9.2: externalId → member ids that held it (compared exactly). */
  readonly externalIds: Map<string, Set<string>>;
}

const lineages = new WeakMap<Organization, Lineage>();
const seatCounts = new WeakMap<Organization, ReadonlyMap<SeatProduct, number>>();

export const foldEmail = (email: string) => email.toLowerCase();

function lineageOf(organization: Organization): Lineage {
  let lineage = lineages.get(organization);
  if (!lineage) {
    lineage = { emails: new Map(), externalIds: new Map() };
    for (const member of organization.members.values()) {
      remember(lineage.emails, foldEmail(member.email), member.id);
      if (member.externalId !== undefined) remember(lineage.externalIds, member.externalId, member.id);
    }
    lineages.set(organization, lineage);
  }
  return lineage;
}

function remember(index: Map<string, Set<string>>, key: string, id: string) {
  const ids = index.get(key);
  if (ids) ids.add(id);
  else index.set(key, new Set([id]));
}

/** The members of this snapshot whose email equals `email`, compared case-insensitively (SPEC §1). */
export function membersWithEmail(organization: Organization, email: string): string[] {
  const folded = foldEmail(email);
  const out: string[] = [];
  for (const id of lineageOf(organization).emails.get(folded) ?? []) {
    const member = organization.members.get(id);
    if (member !== undefined && foldEmail(member.email) === folded) out.push(id);
  }
  return out;
}

/** The members of this snapshot whose `externalId` is `externalId` (SPEC §9.2: unique, compared exactly). */
export function membersWithExternalId(organization: Organization, externalId: string): string[] {
  const out: string[] = [];
  for (const id of lineageOf(organization).externalIds.get(externalId) ?? []) {
    if (organization.members.get(id)?.externalId === externalId) out.push(id);
  }
  return out;
}

/** Seats of `product` held by the snapshot's members. */
export function seatsHeld(organization: Organization, product: SeatProduct): number {
  let counts = seatCounts.get(organization);
  if (!counts) {
    const fresh = new Map<SeatProduct, number>();
    for (const member of organization.members.values()) for (const seat of member.seats) fresh.set(seat, (fresh.get(seat) ?? 0) + 1);
    seatCounts.set(organization, (counts = fresh));
  }
  return counts.get(product) ?? 0;
}

/** `next` is `previous` with these members changed (added, removed or edited): carry the look-ups over. */
export function deriveIndexes(previous: Organization, next: Organization, touchedMembers: Iterable<string>): void {
  if (previous === next) return;
  const lineage = lineages.get(previous);
  const counts = seatCounts.get(previous);
  if (!lineage && !counts) return;
  const fresh = counts ? new Map(counts) : undefined;
  for (const id of touchedMembers) {
    const before = previous.members.get(id);
    const after = next.members.get(id);
    if (before === after) continue;
    if (after && lineage) {
      remember(lineage.emails, foldEmail(after.email), id);
      if (after.externalId !== undefined) remember(lineage.externalIds, after.externalId, id);
    }
    if (fresh) {
      for (const seat of before?.seats ?? []) fresh.set(seat, (fresh.get(seat) ?? 0) - 1);
      for (const seat of after?.seats ?? []) fresh.set(seat, (fresh.get(seat) ?? 0) + 1);
    }
  }
  if (lineage) lineages.set(next, lineage);
  if (fresh) seatCounts.set(next, fresh);
}
