/**
 * SCIM request bodies onto org-policy's admin commands (the mapping table of docs/scim.md). Only the
 * mapped attributes are read; every other attribute a client sends (title, addresses, the enterprise
 * extension, a password, …) is not stored and is ignored, as RFC 7643 lets a service provider do.
 */
import type { Group, Member } from 'org-policy';
import { invalid } from './errors.js';
import { foldEmail } from './lookup.js';
import { GROUP_SCHEMA, USER_SCHEMA } from './resources.js';

type Json = Record<string, unknown>;

/** What a request asserts about a member: `undefined` leaves a field as it is, `null` clears it. */
export interface Profile {
  readonly email?: string;
  readonly externalId?: string | null;
  readonly displayName?: string | null;
  readonly active?: boolean;
}

export type Command = Record<string, unknown> & { readonly type: string };

export const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

export function checkSchemas(body: Json, schema: string) {
  if (body.schemas === undefined) return;
  if (!Array.isArray(body.schemas) || !body.schemas.includes(schema)) invalid('invalidSyntax', `schemas must list ${schema}`);
}

/** `active`: a boolean, or the strings "True" / "False" in any case (Microsoft Entra ID sends them). */
export function readActive(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  return invalid('invalidValue', `active must be true or false, not ${JSON.stringify(value)}`);
}

const nullableString = (value: unknown, name: string): string | null | undefined => {
  if (value === undefined || value === null) return value;
  if (typeof value !== 'string') return invalid('invalidValue', `${name} must be a string`);
  return value;
};

/** The primary email, else the work email: the one this service keeps. */
export function workEmail(emails: unknown): string | undefined {
  if (emails === undefined || emails === null) return undefined;
  const list = Array.isArray(emails) ? emails : [emails];
  const entries = list.filter(isObject);
  const primary = entries.find((e) => e.primary === true || (typeof e.primary === 'string' && e.primary.toLowerCase() === 'true'));
  const chosen = primary ?? entries.find((e) => typeof e.type === 'string' && e.type.toLowerCase() === 'work');
  if (chosen === undefined || chosen.value === undefined) return undefined;
  if (typeof chosen.value !== 'string') return invalid('invalidValue', 'emails[].value must be a string');
  return chosen.value;
}

/** `displayName`, else `name.formatted`, else `name.givenName name.familyName`; an empty one clears it. */
export function displayNameOf(body: Json): string | null | undefined {
  const given = nullableString(body.displayName, 'displayName');
  if (given !== undefined) return given === null || given.trim() === '' ? null : given;
  if (!isObject(body.name)) return undefined;
  const formatted = nullableString(body.name.formatted, 'name.formatted');
  if (typeof formatted === 'string' && formatted.trim() !== '') return formatted;
  const parts = [nullableString(body.name.givenName, 'name.givenName'), nullableString(body.name.familyName, 'name.familyName')].filter(
    (part): part is string => typeof part === 'string' && part.trim() !== '',
  );
  return parts.length > 0 ? parts.join(' ') : undefined;
}

/** `userName` and the work email are one field here (the member's email): both given, they must agree. */
export function oneEmail(userName: string | undefined, email: string | undefined): string | undefined {
  if (userName !== undefined && email !== undefined && foldEmail(userName) !== foldEmail(email)) {
    invalid('invalidValue', `userName ${JSON.stringify(userName)} and the work email ${JSON.stringify(email)} differ: this service keeps one email per member, and userName is it`);
  }
  return userName ?? email;
}

/** A User in a POST or PUT body: `userName` is required (RFC 7643 §4.1.1). */
export function readUser(body: Json): Profile & { readonly email: string } {
  checkSchemas(body, USER_SCHEMA);
  const userName = body.userName;
  if (typeof userName !== 'string' || userName === '') return invalid('invalidValue', 'userName is required: the member’s email');
  const email = oneEmail(userName, workEmail(body.emails))!;
  const externalId = nullableString(body.externalId, 'externalId');
  const displayName = displayNameOf(body);
  return {
    email,
    ...(externalId !== undefined ? { externalId: externalId === '' ? null : externalId } : {}),
    ...(displayName !== undefined ? { displayName } : {}),
    ...(body.active !== undefined ? { active: readActive(body.active) } : {}),
  };
}

/** POST /Users: an invitation (default org role `member`), suspended at once when it arrives inactive. */
export function inviteCommands(memberId: string, profile: Profile & { readonly email: string }): Command[] {
  const invite: Command = {
    type: 'inviteMember',
    memberId,
    email: profile.email,
    ...(typeof profile.externalId === 'string' ? { externalId: profile.externalId } : {}),
    ...(typeof profile.displayName === 'string' ? { displayName: profile.displayName } : {}),
  };
  return profile.active === false ? [invite, { type: 'suspendMember', memberId }] : [invite];
}

/** The commands that bring `member` to what `profile` asserts; none when it already is. */
export function profileCommands(member: Member, profile: Profile): Command[] {
  const memberId = member.id;
  const commands: Command[] = [];
  if (profile.email !== undefined && profile.email !== member.email) commands.push({ type: 'changeMemberEmail', memberId, email: profile.email });
  const fields: Json = {};
  if (profile.externalId !== undefined && profile.externalId !== (member.externalId ?? null)) fields.externalId = profile.externalId;
  if (profile.displayName !== undefined && profile.displayName !== (member.displayName ?? null)) fields.displayName = profile.displayName;
  if (Object.keys(fields).length > 0) commands.push({ type: 'setMemberProfile', memberId, ...fields });
  if (profile.active === false && member.status === 'active') commands.push({ type: 'suspendMember', memberId });
  if (profile.active === true && member.status === 'suspended') commands.push({ type: 'reactivateMember', memberId });
  return commands;
}

/** `members: [{ value }]` → member ids, each once. */
export function memberIdsOf(value: unknown, where: string): string[] {
  if (value === null || value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  const ids = list.map((entry) => {
    const id = isObject(entry) ? entry.value : undefined;
    if (typeof id !== 'string' || id === '') return invalid('invalidValue', `${where}: each member is { "value": "<member id>" }`);
    return id;
  });
  return [...new Set(ids)];
}

/** A Group in a POST or PUT body; `members` absent is not asserted (left as it is by a PUT). */
export function readGroup(body: Json): { readonly name: string; readonly memberIds?: string[] } {
  checkSchemas(body, GROUP_SCHEMA);
  if (typeof body.displayName !== 'string' || body.displayName.trim() === '') return invalid('invalidValue', 'displayName is required: the group’s name');
  return { name: body.displayName, ...(body.members !== undefined ? { memberIds: memberIdsOf(body.members, 'members') } : {}) };
}

/**
 * Membership as deltas (addGroupMembers / removeGroupMembers): a list a client sends in full (PUT, a
 * `replace` of members) becomes the difference from the group as this request saw it, so a concurrent
 * push that added someone else is never overwritten.
 */
export function membershipCommands(group: Group, wanted: readonly string[]): Command[] {
  const current = new Set(group.memberIds);
  const target = new Set(wanted);
  const adding = wanted.filter((id) => !current.has(id));
  const leaving = group.memberIds.filter((id) => !target.has(id));
  return [
    ...(adding.length > 0 ? [{ type: 'addGroupMembers', groupId: group.id, memberIds: adding }] : []),
    ...(leaving.length > 0 ? [{ type: 'removeGroupMembers', groupId: group.id, memberIds: leaving }] : []),
  ];
}
