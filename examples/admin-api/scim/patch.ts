/**
 * PATCH (RFC 7644 §3.5.2) onto commands. A User's attributes are patched by scim-patch on the User as
 * this service represents it, and the difference becomes commands; a Group's membership is never patched
 * as a list: each operation becomes a delta (addGroupMembers / removeGroupMembers), so two clients that
 * change one group at once never overwrite each other.
 *
 * `op` is read case-insensitively (Microsoft Entra ID sends "Add", "Replace", "Remove"). Only mapped
 * attributes reach scim-patch — which, in 0.8.3, writes through `__proto__` and `constructor.prototype`
 * paths into Object.prototype — rebuilt from known names; every other attribute is ignored.
 */
import type { Group, Member } from 'org-policy';
import { parse, type Filter } from 'scim2-parse-filter';
import { scimPatch, ScimError as PatchError, type ScimPatchOperation, type ScimResource } from 'scim-patch';
import { invalid, scimError, ScimRequestError, type ScimType } from './errors.js';
import { displayNameOf, isObject, memberIdsOf, membershipCommands, oneEmail, readActive, type Command, type Profile } from './mapping.js';
import { PATCH_SCHEMA, stripCoreUrn, userResource } from './resources.js';

type Json = Record<string, unknown>;
type Op = 'add' | 'replace' | 'remove';
interface Operation {
  readonly op: Op;
  readonly path?: string;
  readonly value?: unknown;
}

/** The PatchOp message: `Operations`, each with an `op` of add / replace / remove in any case. */
export function readOperations(body: Json): Operation[] {
  if (body.schemas !== undefined && (!Array.isArray(body.schemas) || !body.schemas.includes(PATCH_SCHEMA))) invalid('invalidSyntax', `schemas must list ${PATCH_SCHEMA}`);
  const operations = body.Operations ?? body.operations;
  if (!Array.isArray(operations) || operations.length === 0) return invalid('invalidSyntax', 'Operations must be a non-empty array');
  return operations.map((entry, i) => {
    if (!isObject(entry)) return invalid('invalidSyntax', `Operations[${i}] must be an object`);
    const op = typeof entry.op === 'string' ? entry.op.toLowerCase() : '';
    if (op !== 'add' && op !== 'replace' && op !== 'remove') return invalid('invalidSyntax', `Operations[${i}].op must be add, replace or remove, not ${JSON.stringify(entry.op)}`);
    if (entry.path !== undefined && (typeof entry.path !== 'string' || entry.path === '')) return invalid('invalidPath', `Operations[${i}].path must be a non-empty string`);
    if (entry.path === undefined && op === 'remove') return invalid('noTarget', `Operations[${i}]: remove needs a path`);
    if (entry.path === undefined && !isObject(entry.value)) return invalid('invalidValue', `Operations[${i}]: without a path, value must be an object of attributes`);
    return { op, ...(entry.path !== undefined ? { path: entry.path as string } : {}), ...('value' in entry ? { value: entry.value } : {}) };
  });
}

interface Path {
  readonly attribute: string;
  readonly filter?: string;
  readonly sub?: string;
}

const PATH = /^([A-Za-z][\w-]*)(?:\[(.+)\])?(?:\.([A-Za-z$][\w$-]*))?$/;

/** A path into the core schema's attributes, names canonical; `null` for an attribute this service does not store. */
function readPath(path: string, attributes: Record<string, string>): Path | null {
  const stripped = stripCoreUrn(path);
  if (/^urn:/i.test(stripped)) return null; // an extension schema's attribute (the enterprise User, …): not stored
  const match = PATH.exec(stripped);
  if (match === null) return invalid('invalidPath', `${JSON.stringify(path)} is not an attribute path`);
  const attribute = attributes[match[1]!.toLowerCase()];
  if (attribute === undefined) return null;
  return { attribute, ...(match[2] !== undefined ? { filter: match[2] } : {}), ...(match[3] !== undefined ? { sub: match[3] } : {}) };
}

// ---- Users ----

const USER_ATTRIBUTES: Record<string, string> = { username: 'userName', displayname: 'displayName', externalid: 'externalId', active: 'active', name: 'name', emails: 'emails' };
const NAME_SUBS: Record<string, string> = { formatted: 'formatted', givenname: 'givenName', familyname: 'familyName', middlename: 'middleName', honorificprefix: 'honorificPrefix', honorificsuffix: 'honorificSuffix' };
const EMAIL_SUBS: Record<string, string> = { value: 'value', type: 'type', primary: 'primary', display: 'display' };

const scalar = (value: unknown, where: string): unknown => {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  return invalid('invalidValue', `${where} must be a string or a boolean`);
};

/** Keeps the known sub-attributes of a complex value, under their canonical names. */
function known(value: unknown, subs: Record<string, string>, where: string): Json {
  if (!isObject(value)) return invalid('invalidValue', `${where} must be an object`);
  const out: Json = {};
  for (const [key, sub] of Object.entries(value)) {
    const name = subs[key.toLowerCase()];
    if (name !== undefined) out[name] = scalar(sub, `${where}.${key}`);
  }
  return out;
}

function userValue(path: Path, value: unknown, where: string): unknown {
  if (path.attribute === 'name') return path.sub === undefined ? known(value, NAME_SUBS, where) : scalar(value, where);
  if (path.attribute === 'emails') {
    if (path.sub !== undefined) return scalar(value, where);
    return (Array.isArray(value) ? value : [value]).map((entry, i) => known(entry, EMAIL_SUBS, `${where}[${i}]`));
  }
  return scalar(value, where);
}

function canonicalUserPath(path: Path, raw: string): string {
  const subs = path.attribute === 'name' ? NAME_SUBS : path.attribute === 'emails' ? EMAIL_SUBS : {};
  if (path.filter !== undefined) {
    if (path.attribute !== 'emails') invalid('invalidPath', `${raw}: only emails takes a value filter`);
    checkFilter(path.filter, EMAIL_SUBS, raw);
  }
  let sub = '';
  if (path.sub !== undefined) {
    const name = subs[path.sub.toLowerCase()];
    if (name === undefined) invalid('invalidPath', `${raw}: ${path.sub} is not a sub-attribute of ${path.attribute}`);
    sub = `.${name}`;
  }
  return `${path.attribute}${path.filter !== undefined ? `[${path.filter}]` : ''}${sub}`;
}

/** A value filter refers to sub-attributes only (`type eq "work"`), and parses. */
function checkFilter(text: string, subs: Record<string, string>, raw: string): Filter {
  let filter: Filter;
  try {
    filter = parse(text);
  } catch (error) {
    return invalid('invalidPath', `${raw}: the value filter does not parse: ${(error as Error).message}`);
  }
  const visit = (f: Filter): void => {
    if (f.op === 'and' || f.op === 'or') return f.filters.forEach(visit);
    if (f.op === 'not') return visit(f.filter);
    if (f.op === '[]') return void invalid('invalidPath', `${raw}: a value filter cannot nest`);
    const { attrPath } = f as { attrPath: string };
    if (subs[attrPath.toLowerCase()] === undefined) invalid('invalidPath', `${raw}: ${attrPath} is not a sub-attribute here`);
  };
  visit(filter);
  return filter;
}

/**
 * An operation without a path carries attributes in its value; each is the same operation on that path
 * (`{ "op": "replace", "value": { "active": false, "name.givenName": "Ada" } }`), as RFC 7644 §3.5.2 reads.
 */
function withPaths(operations: readonly Operation[]): (Operation & { readonly path: string; readonly where: string })[] {
  return operations.flatMap((operation, i) =>
    operation.path !== undefined
      ? [{ ...operation, path: operation.path, where: `Operations[${i}]` }]
      : Object.entries(operation.value as Json).map(([key, value]) => ({ op: operation.op, path: key, value, where: `Operations[${i}].value.${key}` })),
  );
}

/** The operations scim-patch is given: mapped attributes only, rebuilt from known names and values. */
function userOperations(operations: readonly Operation[]): ScimPatchOperation[] {
  const out: ScimPatchOperation[] = [];
  for (const operation of withPaths(operations)) {
    const path = readPath(operation.path, USER_ATTRIBUTES);
    if (path === null) continue;
    const canonical = canonicalUserPath(path, operation.path);
    if (operation.op === 'remove') out.push({ op: 'remove', path: canonical });
    else out.push({ op: operation.op, path: canonical, value: userValue(path, operation.value, `${operation.where}.value`) });
  }
  return out;
}

const PATCH_ERROR_TYPES = new Set<ScimType>(['invalidFilter', 'invalidPath', 'invalidSyntax', 'invalidValue', 'noTarget', 'mutability']);

/** What a PATCH asserts about a member: the attributes it changed on the member's User. */
export function userPatchProfile(member: Member, operations: readonly Operation[]): Profile {
  const patched = userOperations(operations);
  if (patched.length === 0) return {};
  const before = userResource(member, '');
  let after: Json;
  try {
    after = scimPatch(structuredClone(before) as unknown as ScimResource, patched, { mutateDocument: true, treatMissingAsAdd: true }) as unknown as Json;
  } catch (error) {
    if (error instanceof PatchError) {
      const type = PATCH_ERROR_TYPES.has(error.scimCode as ScimType) ? (error.scimCode as ScimType) : 'invalidValue';
      throw new ScimRequestError(scimError(400, type, error.message));
    }
    throw error;
  }
  if (after.userName === undefined || after.userName === null) invalid('invalidValue', 'userName is required: the member’s email');
  if (typeof after.userName !== 'string') invalid('invalidValue', 'userName must be a string');
  const changed = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);

  const userName = after.userName !== before.userName ? (after.userName as string) : undefined;
  const emailAfter = firstWork(after.emails);
  const email = oneEmail(userName, emailAfter !== undefined && emailAfter !== member.email ? emailAfter : undefined);

  let displayName: string | null | undefined;
  if (changed(after.displayName, before.displayName)) displayName = displayNameOf({ displayName: after.displayName ?? null });
  else if (changed((after.name as Json | undefined)?.formatted, (before.name as Json | undefined)?.formatted)) displayName = displayNameOf({ name: { formatted: (after.name as Json | undefined)?.formatted } }) ?? null;
  else if (member.displayName === undefined && changed(after.name, before.name) && isObject(after.name)) displayName = displayNameOf({ name: after.name });

  return {
    ...(email !== undefined ? { email } : {}),
    ...(changed(after.externalId, before.externalId) ? { externalId: typeof after.externalId === 'string' && after.externalId !== '' ? after.externalId : null } : {}),
    ...(displayName !== undefined ? { displayName } : {}),
    ...(changed(after.active, before.active) && after.active !== undefined ? { active: readActive(after.active) } : {}),
  };
}

function firstWork(emails: unknown): string | undefined {
  if (!Array.isArray(emails)) return undefined;
  const entries = emails.filter(isObject);
  const chosen = entries.find((e) => e.primary === true || e.primary === 'true') ?? entries.find((e) => typeof e.type === 'string' && e.type.toLowerCase() === 'work');
  return typeof chosen?.value === 'string' ? chosen.value : undefined;
}

// ---- Groups ----

const GROUP_ATTRIBUTES: Record<string, string> = { displayname: 'displayName', members: 'members' };

/** Member ids a `members[...]` filter names outright (`value eq "a"`, or several joined by `or`), else `null`. */
function namedIds(filter: Filter): string[] | null {
  if (filter.op === 'eq' && filter.attrPath.toLowerCase() === 'value' && typeof filter.compValue === 'string') return [filter.compValue];
  if (filter.op === 'or') {
    const parts = filter.filters.map(namedIds);
    return parts.every((p) => p !== null) ? (parts as string[][]).flat() : null;
  }
  return null;
}

function matching(filter: Filter, ids: readonly string[]): string[] {
  const test = (f: Filter, id: string): boolean => {
    if (f.op === 'and') return f.filters.every((g) => test(g, id));
    if (f.op === 'or') return f.filters.some((g) => test(g, id));
    if (f.op === 'not') return !test(f.filter, id);
    if (f.op === 'eq') return id === f.compValue;
    if (f.op === 'ne') return id !== f.compValue;
    if (f.op === 'pr' || f.op === '[]') return f.op === 'pr';
    const want = (f as { compValue: unknown }).compValue;
    if (typeof want !== 'string') return false;
    return f.op === 'sw' ? id.startsWith(want) : f.op === 'ew' ? id.endsWith(want) : f.op === 'co' ? id.includes(want) : false;
  };
  return ids.filter((id) => test(filter, id));
}

/**
 * A Group PATCH as commands, in the order of its operations: membership as deltas from the group as this
 * request saw it (updated by its own earlier operations), and one rename at the end if the name changed.
 */
export function groupPatchCommands(group: Group, operations: readonly Operation[]): Command[] {
  const commands: Command[] = [];
  const view = new Set(group.memberIds);
  let name = group.name;
  const add = (ids: readonly string[]) => {
    if (ids.length === 0) return;
    commands.push({ type: 'addGroupMembers', groupId: group.id, memberIds: [...ids] });
    for (const id of ids) view.add(id);
  };
  const remove = (ids: readonly string[]) => {
    if (ids.length === 0) return;
    commands.push({ type: 'removeGroupMembers', groupId: group.id, memberIds: [...new Set(ids)] });
    for (const id of ids) view.delete(id);
  };
  const members = (op: Op, value: unknown, where: string) => {
    if (op === 'add') return add(memberIdsOf(value, where));
    if (op === 'remove') return remove(value === undefined ? [...view] : memberIdsOf(value, where)); // the second: Entra's shape
    const delta = membershipCommands({ ...group, memberIds: [...view] }, memberIdsOf(value, where));
    for (const command of delta) (command.type === 'addGroupMembers' ? add : remove)(command.memberIds as string[]);
  };
  const rename = (op: Op, value: unknown, where: string) => {
    if (op === 'remove') invalid('invalidValue', `${where}: displayName is required`);
    if (typeof value !== 'string' || value.trim() === '') invalid('invalidValue', `${where}: displayName must be a non-empty string`);
    name = value as string;
  };

  for (const operation of withPaths(operations)) {
    const { where } = operation;
    const path = readPath(operation.path, GROUP_ATTRIBUTES);
    if (path === null) continue;
    if (path.attribute === 'displayName') {
      if (path.filter !== undefined || path.sub !== undefined) invalid('invalidPath', `${operation.path}: displayName has no sub-attributes`);
      rename(operation.op, operation.value, where);
      continue;
    }
    if (path.sub !== undefined) invalid('invalidPath', `${operation.path}: members are added and removed whole`);
    if (path.filter === undefined) {
      members(operation.op, operation.value, `${where}.value`);
      continue;
    }
    if (operation.op !== 'remove') invalid('invalidPath', `${operation.path}: a value filter on members selects members to remove`);
    const filter = checkFilter(path.filter, { value: 'value' }, operation.path);
    remove(namedIds(filter) ?? matching(filter, [...view]));
  }
  if (name !== group.name) commands.push({ type: 'renameGroup', groupId: group.id, name });
  return commands;
}

export type { Operation };
