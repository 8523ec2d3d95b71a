/**
 * Look-ups a filter needs at 10,000 members without a scan per request: members by email (folded, SPEC
 * §1: compared case-insensitively) and by `externalId` (exact, SPEC §9.2). Kept beside the followed
 * organization: built once, then grown from each change the follower applies (the changed members'
 * entities are in its patches). An entry is only a candidate — every answer is confirmed against the
 * organization asked about — so an index that remembers old holders never answers wrong, and one that
 * has every current holder never misses.
 */
import type { Follower } from '@org-policy/store';
import type { Organization } from 'org-policy';

export const foldEmail = (email: string) => email.toLowerCase();

export class MemberLookup {
  private emails = new Map<string, Set<string>>();
  private externalIds = new Map<string, Set<string>>();
  /** Every member of every revision from `builtFrom` to `revision` is remembered. */
  private builtFrom = -1;
  private revision = -1;

  constructor(private readonly follower: Follower) {
    this.rebuild(follower.organization);
    // The follower emits right after it moves to the new organization, before anyone reads it.
    follower.on('change', ({ revision, change }) => {
      if (revision !== this.revision + 1) return; // caught by the revision check on the next look-up
      for (const patch of change.patches) {
        if (patch.path[0] === 'members' && patch.path.length === 2 && patch.value !== null && typeof patch.value === 'object') {
          this.remember(patch.value as { id: string; email: string; externalId?: string });
        }
      }
      this.revision = revision;
    });
    follower.on('reload', () => this.rebuild(follower.organization));
  }

  /** Member ids whose email equals `email` case-insensitively, in `organization`. */
  byEmail(organization: Organization, email: string): string[] {
    const folded = foldEmail(email);
    const holds = (id: string) => {
      const member = organization.members.get(id);
      return member !== undefined && foldEmail(member.email) === folded;
    };
    return this.covers(organization) ? [...(this.emails.get(folded) ?? [])].filter(holds) : scan(organization, holds);
  }

  /** Member ids whose `externalId` is exactly `externalId`, in `organization`. */
  byExternalId(organization: Organization, externalId: string): string[] {
    const holds = (id: string) => organization.members.get(id)?.externalId === externalId;
    return this.covers(organization) ? [...(this.externalIds.get(externalId) ?? [])].filter(holds) : scan(organization, holds);
  }

  /** An organization ahead of the index (a missed event) is indexed whole; one older than its last build is scanned. */
  private covers(organization: Organization): boolean {
    if (organization.revision > this.revision) this.rebuild(organization);
    return organization.revision >= this.builtFrom;
  }

  private rebuild(organization: Organization) {
    this.emails = new Map();
    this.externalIds = new Map();
    for (const member of organization.members.values()) this.remember(member);
    this.builtFrom = this.revision = organization.revision;
  }

  private remember(member: { readonly id: string; readonly email: string; readonly externalId?: string | undefined }) {
    add(this.emails, foldEmail(member.email), member.id);
    if (member.externalId !== undefined) add(this.externalIds, member.externalId, member.id);
  }
}

function scan(organization: Organization, holds: (id: string) => boolean): string[] {
  return [...organization.members.keys()].filter(holds);
}

function add(index: Map<string, Set<string>>, key: string, id: string) {
  const ids = index.get(key);
  if (ids) ids.add(id);
  else index.set(key, new Set([id]));
}
