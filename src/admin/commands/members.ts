import type { Organization } from '../../model/index.js';
import { memberNamedBy, membersWithEmail, membersWithExternalId } from '../../model/indexes.js';
import type { Findings } from '../errors.js';
import { memberExists, orgAction, principalIdFree, q, type CommandSpecs } from './spec.js';

type MemberCommand = 'inviteMember' | 'setMemberProfile' | 'removeMember' | 'suspendMember' | 'reactivateMember' | 'changeMemberEmail' | 'setMemberOrgRoles' | 'assignSeat' | 'releaseSeat' | 'setSeatPoolSize';

/** SPEC §5 members and seats: org.members.manage; seat pool sizes: org.billing.manage. */
export const memberCommands: CommandSpecs<MemberCommand> = {
  inviteMember: {
    authority: orgAction('org.members.manage'),
    plan: (o, c, f) => {
      principalIdFree(o, c.memberId, ['memberId'], f);
      emailUnique(o, c.email, undefined, f);
      if (c.externalId !== undefined) externalIdUnique(o, c.externalId, undefined, f);
      // SPEC §5: new members get `member` unless roles are given.
      return (d) =>
        void d.members.set(c.memberId, {
          id: c.memberId,
          email: c.email,
          status: 'active',
          orgRoles: c.roleNames ?? ['member'],
          seats: [],
          ...(c.externalId !== undefined ? { externalId: c.externalId } : {}),
          ...(c.displayName !== undefined ? { displayName: c.displayName } : {}),
        });
    },
  },
  setMemberProfile: {
    authority: orgAction('org.members.manage'),
    plan: (o, c, f) => {
      if (memberExists(o, c.memberId, ['memberId'], f) && typeof c.externalId === 'string') externalIdUnique(o, c.externalId, c.memberId, f);
      // SPEC §9.2: absent leaves a field as it is; null clears it.
      return (d) => {
        const member = d.members.get(c.memberId)!;
        if (c.externalId === null) delete member.externalId;
        else if (c.externalId !== undefined) member.externalId = c.externalId;
        if (c.displayName === null) delete member.displayName;
        else if (c.displayName !== undefined) member.displayName = c.displayName;
      };
    },
  },
  removeMember: {
    authority: orgAction('org.members.manage'),
    invariants: ['admin'],
    plan: (o, c, f) => {
      memberExists(o, c.memberId, ['memberId'], f);
      // SPEC §7.7: out of its workspaces and groups, its own credentials deleted.
      // What names it is looked up (model/indexes.ts), not searched for in every group, workspace and credential.
      const named = memberNamedBy(o, c.memberId);
      return (d) => {
        d.members.delete(c.memberId);
        for (const id of named.groups) {
          const group = d.groups.get(id)!;
          group.memberIds = group.memberIds.filter((m) => m !== c.memberId);
        }
        for (const id of named.workspaces) d.workspaces.get(id)!.members.delete(c.memberId);
        for (const id of named.credentials) d.credentials.delete(id);
      };
    },
  },
  suspendMember: {
    authority: orgAction('org.members.manage'),
    invariants: ['admin'],
    plan: (o, c, f) => {
      memberExists(o, c.memberId, ['memberId'], f);
      return (d) => void (d.members.get(c.memberId)!.status = 'suspended');
    },
  },
  reactivateMember: {
    authority: orgAction('org.members.manage'),
    plan: (o, c, f) => {
      memberExists(o, c.memberId, ['memberId'], f);
      return (d) => void (d.members.get(c.memberId)!.status = 'active');
    },
  },
  changeMemberEmail: {
    authority: orgAction('org.members.manage'),
    plan: (o, c, f) => {
      if (memberExists(o, c.memberId, ['memberId'], f)) emailUnique(o, c.email, c.memberId, f);
      return (d) => void (d.members.get(c.memberId)!.email = c.email);
    },
  },
  setMemberOrgRoles: {
    authority: orgAction('org.members.manage'),
    invariants: ['admin'],
    plan: (o, c, f) => {
      memberExists(o, c.memberId, ['memberId'], f);
      // SPEC §7.5: replaces, never merges.
      return (d) => void (d.members.get(c.memberId)!.orgRoles = c.roleNames!);
    },
  },
  assignSeat: {
    authority: orgAction('org.members.manage'),
    invariants: ['seats'],
    plan: (o, c, f) => {
      const member = memberExists(o, c.memberId, ['memberId'], f);
      if (member?.seats.includes(c.product)) f.validation('seat_already_assigned', ['product'], `member ${q(c.memberId)} already holds a ${c.product} seat`);
      if (!o.seatPools.has(c.product)) f.notFound('seat_pool_not_found', ['product'], `there is no ${c.product} seat pool`);
      return (d) => void d.members.get(c.memberId)!.seats.push(c.product);
    },
  },
  releaseSeat: {
    authority: orgAction('org.members.manage'),
    plan: (o, c, f) => {
      const member = memberExists(o, c.memberId, ['memberId'], f);
      if (member && !member.seats.includes(c.product)) f.validation('seat_not_assigned', ['product'], `member ${q(c.memberId)} holds no ${c.product} seat`);
      return (d) => {
        const m = d.members.get(c.memberId)!;
        m.seats = m.seats.filter((s) => s !== c.product);
      };
    },
  },
  setSeatPoolSize: {
    authority: orgAction('org.billing.manage'),
    invariants: ['seats'],
    plan: (_o, c) => (d) => void d.seatPools.set(c.product, { product: c.product, size: c.size }),
  },
};

/** SPEC §1: emails are unique, compared case-insensitively. */
function externalIdUnique(o: Organization, externalId: string, self: string | undefined, f: Findings) {
  // SPEC §9.2: the subject an identity provider knows one member by — never two.
  if (membersWithExternalId(o, externalId).some((id) => id !== self)) f.validation('duplicate_external_id', ['externalId'], `externalId ${q(externalId)} is already another member's`);
}

function emailUnique(o: Organization, email: string, self: string | undefined, f: Findings) {
  // SPEC §1: unique, compared case-insensitively; a look-up, not a scan of every member.
  if (membersWithEmail(o, email).some((id) => id !== self)) f.validation('duplicate_email', ['email'], `email ${q(email)} is already used by another member`);
}
