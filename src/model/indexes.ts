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

/**
 * Where each member is named — the groups that list it, the workspaces it has an entry in, the
 * credentials it holds — so removing a member looks at those and not at every group, workspace and
 * credential. Shared by a lineage and grow-only like the email look-up: an id names every entity that
 * named the member in some snapshot of the lineage, and each answer is confirmed against the snapshot
 * asked about. Built on first use (one walk of the snapshot), then carried over by `deriveIndexes`.
 */
interface Naming {
  readonly groups: Map<string, string[]>;
  readonly workspaces: Map<string, string[]>;
  readonly credentials: Map<string, string[]>;
}

const lineages = new WeakMap<Organization, Lineage>();
const namings = new WeakMap<Organization, Naming>();
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

function note(index: Map<string, string[]>, memberId: string, entityId: string) {
  const ids = index.get(memberId);
  if (ids === undefined) index.set(memberId, [entityId]);
  else if (!ids.includes(entityId)) ids.push(entityId);
}

function namingOf(organization: Organization): Naming {
  let naming = namings.get(organization);
  if (!naming) {
    naming = { groups: new Map(), workspaces: new Map(), credentials: new Map() };
    for (const group of organization.groups.values()) for (const memberId of group.memberIds) note(naming.groups, memberId, group.id);
    for (const workspace of organization.workspaces.values()) for (const memberId of workspace.members.keys()) note(naming.workspaces, memberId, workspace.id);
    for (const credential of organization.credentials.values()) if (credential.holder === 'member') note(naming.credentials, credential.memberId, credential.id);
    namings.set(organization, naming);
  }
  return naming;
}

/** What names member `memberId` in this snapshot (SPEC §7.7: what removing it must change), each list sorted by id. */
export interface MemberNamedBy {
  readonly groups: readonly string[];
  readonly workspaces: readonly string[];
  readonly credentials: readonly string[];
}

export function memberNamedBy(organization: Organization, memberId: string): MemberNamedBy {
  const naming = namingOf(organization);
  // Sorted, so the answer does not depend on the history of the lineage.
  const confirmed = (index: Map<string, string[]>, names: (id: string) => boolean) => (index.get(memberId) ?? []).filter(names).sort();
  return {
    groups: confirmed(naming.groups, (id) => organization.groups.get(id)?.memberIds.includes(memberId) === true),
    workspaces: confirmed(naming.workspaces, (id) => organization.workspaces.get(id)?.members.has(memberId) === true),
    credentials: confirmed(naming.credentials, (id) => {
      const credential = organization.credentials.get(id);
      return credential?.holder === 'member' && credential.memberId === memberId;
    }),
  };
}

/** The entities a change touched, as `deriveIndexes` needs them. */
export interface TouchedEntities {
  readonly members?: Iterable<string> | undefined;
  readonly groups?: Iterable<string> | undefined;
  /** Workspaces touched as a whole (added or replaced). */
  readonly workspaces?: Iterable<string> | undefined;
  /** Workspaces touched in part: the member ids of the entries touched in each. */
  readonly workspaceEntries?: Iterable<readonly [workspaceId: string, memberIds: Iterable<string>]> | undefined;
  readonly credentials?: Iterable<string> | undefined;
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

/** `next` is `previous` with these entities changed (added, removed or edited): carry the look-ups over. */
export function deriveIndexes(previous: Organization, next: Organization, touched: TouchedEntities): void {
  if (previous === next) return;
  deriveNaming(previous, next, touched);
  const lineage = lineages.get(previous);
  const counts = seatCounts.get(previous);
  if (!lineage && !counts) return;
  const fresh = counts ? new Map(counts) : undefined;
  for (const id of touched.members ?? []) {
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

/** Only additions need noting: a name that went away is filtered out when it is confirmed. */
function deriveNaming(previous: Organization, next: Organization, touched: TouchedEntities) {
  const naming = namings.get(previous);
  if (!naming) return;
  for (const id of touched.groups ?? []) {
    const group = next.groups.get(id);
    if (group !== undefined && group !== previous.groups.get(id)) for (const memberId of group.memberIds) note(naming.groups, memberId, id);
  }
  for (const id of touched.workspaces ?? []) {
    const workspace = next.workspaces.get(id);
    if (workspace !== undefined && workspace !== previous.workspaces.get(id)) for (const memberId of workspace.members.keys()) note(naming.workspaces, memberId, id);
  }
  for (const [id, memberIds] of touched.workspaceEntries ?? []) {
    const entries = next.workspaces.get(id)?.members;
    if (entries !== undefined) for (const memberId of memberIds) if (entries.has(memberId)) note(naming.workspaces, memberId, id);
  }
  for (const id of touched.credentials ?? []) {
    const credential = next.credentials.get(id);
    if (credential?.holder === 'member') note(naming.credentials, credential.memberId, id);
  }
  namings.set(next, naming);
}
