/**
 * `filter` on Users and Groups (RFC 7644 §3.4.2.2). scim2-parse-filter reads the expression into an AST;
 * this file evaluates it on members and groups, and answers the common look-ups — `userName`, a work
 * email, `externalId` or `id` with `eq`, combined by `and` / `or` — from indexes instead of a scan.
 * Attribute names compare case-insensitively (RFC 7643 §2.1); values by each attribute's `caseExact`.
 */
import type { Group, Member, Organization } from 'org-policy';
import { parse, type Filter } from 'scim2-parse-filter';
import { invalid } from './errors.js';
import { foldEmail, type MemberLookup } from './lookup.js';
import { stripCoreUrn } from './resources.js';

type Value = string | boolean;
interface AttributeReader<T> {
  readonly caseExact: boolean;
  read(entity: T): readonly Value[];
}

const string = <T>(caseExact: boolean, read: (entity: T) => readonly Value[]): AttributeReader<T> => ({ caseExact, read });
const optional = (value: string | undefined) => (value === undefined ? [] : [value]);

/** The one email of a member, as the sub-attributes of `emails`. */
const EMAIL_SUB: Record<string, AttributeReader<Member>> = {
  value: string(false, (m) => [m.email]),
  type: string(false, () => ['work']),
  primary: string(true, () => [true]),
  display: string(false, (m) => [m.email]),
};

const USER_ATTRIBUTES: Record<string, AttributeReader<Member>> = {
  id: string(true, (m) => [m.id]),
  username: string(false, (m) => [m.email]),
  externalid: string(true, (m) => optional(m.externalId)),
  displayname: string(false, (m) => optional(m.displayName)),
  'name.formatted': string(false, (m) => optional(m.displayName)),
  active: string(true, (m) => [m.status === 'active']),
  emails: EMAIL_SUB.value!,
  'emails.value': EMAIL_SUB.value!,
  'emails.type': EMAIL_SUB.type!,
  'emails.primary': EMAIL_SUB.primary!,
  'emails.display': EMAIL_SUB.display!,
  'meta.resourcetype': string(true, () => ['User']),
};

const MEMBER_SUB: Record<string, AttributeReader<string>> = { value: string(true, (id) => [id]) };

const GROUP_ATTRIBUTES: Record<string, AttributeReader<Group>> = {
  id: string(true, (g) => [g.id]),
  displayname: string(false, (g) => [g.name]),
  externalid: string(true, () => []), // SCIM groups' externalId is not stored: it matches nothing
  members: string(true, (g) => g.memberIds),
  'members.value': string(true, (g) => g.memberIds),
  'meta.resourcetype': string(true, () => ['Group']),
};

/** A filter on one resource type: candidate ids from an index when it can, and the test every result passes. */
export interface CompiledFilter<T> {
  candidates(organization: Organization): string[] | null;
  matches(entity: T): boolean;
}

function read(text: string): Filter {
  try {
    return parse(text);
  } catch (error) {
    return invalid('invalidFilter', `filter ${JSON.stringify(text)} does not parse: ${(error as Error).message}`);
  }
}

const nameOf = (attrPath: string) => stripCoreUrn(attrPath).toLowerCase();

export function userFilter(text: string, lookup: MemberLookup): CompiledFilter<Member> {
  const ast = read(text);
  const test = predicate(ast, USER_ATTRIBUTES, { emails: { sub: EMAIL_SUB, each: (m) => [m] } });
  return {
    matches: test,
    candidates: (organization) => userCandidates(ast, organization, lookup),
  };
}

export function groupFilter(text: string): CompiledFilter<Group> {
  const ast = read(text);
  const test = predicate(ast, GROUP_ATTRIBUTES, { members: { sub: MEMBER_SUB, each: (g) => g.memberIds } });
  return {
    matches: test,
    candidates: (organization) => idCandidates(ast, organization.groups),
  };
}

interface Complex<T> {
  readonly sub: Record<string, AttributeReader<never>>;
  /** The values of the multi-valued attribute, each tested by a value filter (`emails[type eq "work"]`). */
  each(entity: T): readonly unknown[];
}

function predicate<T>(filter: Filter, attributes: Record<string, AttributeReader<T>>, complex: Record<string, Complex<T>>): (entity: T) => boolean {
  switch (filter.op) {
    case 'and':
    case 'or': {
      const parts = filter.filters.map((f) => predicate(f, attributes, complex));
      return filter.op === 'and' ? (e) => parts.every((p) => p(e)) : (e) => parts.some((p) => p(e));
    }
    case 'not': {
      const inner = predicate(filter.filter, attributes, complex);
      return (e) => !inner(e);
    }
    case '[]': {
      const attribute = complex[nameOf(filter.attrPath)];
      if (attribute === undefined) return invalid('invalidFilter', `${filter.attrPath}[…] is not a multi-valued attribute this service filters on`);
      const inner = predicate(filter.valFilter, attribute.sub as Record<string, AttributeReader<unknown>>, {});
      return (e) => attribute.each(e).some((value) => inner(value));
    }
    default: {
      const attribute = attributes[nameOf(filter.attrPath)];
      if (attribute === undefined) return invalid('invalidFilter', `${filter.attrPath} is not an attribute this service filters on`);
      if (filter.op === 'pr') return (e) => attribute.read(e).some((v) => v !== '');
      const compare = comparison(filter.op, filter.compValue, attribute.caseExact);
      if (filter.op === 'ne') return (e) => !attribute.read(e).some((v) => compare.equal(v));
      return (e) => attribute.read(e).some((v) => compare.test(v));
    }
  }
}

function comparison(op: string, expected: unknown, caseExact: boolean): { equal(v: Value): boolean; test(v: Value): boolean } {
  if (typeof expected === 'boolean') {
    if (op !== 'eq' && op !== 'ne') return invalid('invalidFilter', `${op} does not compare booleans`);
    return { equal: (v) => v === expected, test: (v) => v === expected };
  }
  if (typeof expected !== 'string') return invalid('invalidFilter', `${op} ${JSON.stringify(expected)}: this service compares strings and booleans`);
  const fold = (s: string) => (caseExact ? s : s.toLowerCase());
  const want = fold(expected);
  const equal = (v: Value) => typeof v === 'string' && fold(v) === want;
  const tests: Record<string, (have: string) => boolean> = {
    eq: (have) => have === want,
    ne: (have) => have !== want,
    co: (have) => have.includes(want),
    sw: (have) => have.startsWith(want),
    ew: (have) => have.endsWith(want),
    gt: (have) => have > want,
    ge: (have) => have >= want,
    lt: (have) => have < want,
    le: (have) => have <= want,
  };
  const test = tests[op];
  if (test === undefined) return invalid('invalidFilter', `unknown operator ${op}`);
  return { equal, test: (v) => typeof v === 'string' && test(fold(v)) };
}

/** Ids that can hold a match, from the indexes; `null` when only a scan can tell. */
function userCandidates(filter: Filter, organization: Organization, lookup: MemberLookup): string[] | null {
  switch (filter.op) {
    case 'eq': {
      if (typeof filter.compValue !== 'string') return null;
      const name = nameOf(filter.attrPath);
      if (name === 'username' || name === 'emails' || name === 'emails.value') return lookup.byEmail(organization, foldEmail(filter.compValue));
      if (name === 'externalid') return lookup.byExternalId(organization, filter.compValue);
      if (name === 'id') return organization.members.has(filter.compValue) ? [filter.compValue] : [];
      return null;
    }
    case 'and':
      return intersect(filter.filters.map((f) => userCandidates(f, organization, lookup)));
    case 'or':
      return union(filter.filters.map((f) => userCandidates(f, organization, lookup)));
    default:
      return null;
  }
}

function idCandidates(filter: Filter, entities: ReadonlyMap<string, unknown>): string[] | null {
  switch (filter.op) {
    case 'eq':
      if (typeof filter.compValue !== 'string' || nameOf(filter.attrPath) !== 'id') return null;
      return entities.has(filter.compValue) ? [filter.compValue] : [];
    case 'and':
      return intersect(filter.filters.map((f) => idCandidates(f, entities)));
    case 'or':
      return union(filter.filters.map((f) => idCandidates(f, entities)));
    default:
      return null;
  }
}

function intersect(sets: readonly (string[] | null)[]): string[] | null {
  const known = sets.filter((s): s is string[] => s !== null);
  if (known.length === 0) return null;
  const [first, ...rest] = known.sort((a, b) => a.length - b.length);
  const others = rest.map((s) => new Set(s));
  return first!.filter((id) => others.every((s) => s.has(id)));
}

function union(sets: readonly (string[] | null)[]): string[] | null {
  if (sets.some((s) => s === null)) return null;
  return [...new Set(sets.flat() as string[])];
}
