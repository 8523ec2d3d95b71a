import { freeze } from 'immer';
import { ORGANIZATION_ROLE_NAMES, WORKSPACE_ROLE_NAMES } from '../roles/index.js';
import { IdMap } from './idmap.js';
import type { PlainCopy } from './plain.js';
import { FUNCTION, MAX_DEPTH, OBJECTS_BEFORE_MEMO, PlainReader, RECORD, UNREADABLE, UNREADABLE_HEAD, define } from './plain.js';
import { EMAIL_PATTERN, SEAT_PRODUCTS, apiKeySchema, connectorSchema, nameSchema, seatPoolSchema } from './schema.js';

/**
 * The fast path of `parseOrganization`: one walk over the input that reads it exactly as `plainCopy`
 * does (the same reads in the same order, so a getter is still read once and every unreadable value,
 * cycle or excess depth is the same problem at the same path) and, where the input has the shape of
 * a snapshot, checks that shape as it reads and builds the parsed entities directly — frozen, with
 * identical role lists shared — instead of a plain copy for zod to walk and copy again.
 *
 * It only ever *accepts*. Anything it does not accept — a wrong type, an unknown field, a broken rule
 * of SPEC §6, or merely something unusual such as an optional field present as `undefined` — sends the
 * copy it made to the full check (zod and `checkOrganization`), which reports exactly what it reported
 * before. The copy holds, for every entity the fast path accepted, that entity in its parsed form; zod
 * and the checks read an accepted entity the same way as its plain copy (it is valid either way, and
 * defaults stand where absence stood), so the problems are the same. `test/fast.test.ts` holds both
 * paths to the same answers on random inputs.
 */
export interface FastRead {
  /** The parsed snapshot, frozen (not yet marked as parsed), when the fast path accepts the input. */
  readonly organization: Record<string, unknown> | undefined;
  /** Otherwise what `plainCopy(input)` gives, for the full check. */
  readonly copy: PlainCopy;
}

/** One of the closed lists a snapshot's string lists draw from, with each list that occurs frozen once. */
class Catalog {
  readonly index: ReadonlyMap<unknown, number>;
  readonly radix: number;
  private readonly lists = new Map<number, readonly string[]>();
  constructor(readonly names: readonly string[]) {
    this.index = new Map(names.map((name, i) => [name, i]));
    this.radix = names.length + 1;
  }
  /** The frozen list whose code is `code` (each name's position + 1, as digits in base `radix`): one array per list. */
  list(code: number): readonly string[] {
    let list = this.lists.get(code);
    if (list === undefined) {
      const out: string[] = [];
      for (let c = code; c > 0; c = Math.floor(c / this.radix)) out.push(this.names[(c % this.radix) - 1]!);
      list = Object.freeze(out.reverse());
      this.lists.set(code, list);
    }
    return list;
  }
}
const ORGANIZATION_ROLES = new Catalog(ORGANIZATION_ROLE_NAMES);
const WORKSPACE_ROLES = new Catalog(WORKSPACE_ROLE_NAMES);
const SEATS = new Catalog(SEAT_PRODUCTS);
const NO_IDS: readonly string[] = Object.freeze([]);

/** A field not present in the record read. */
const NONE: unique symbol = Symbol('none');

const ROOT_FIELDS = new Set(['schemaVersion', 'id', 'name', 'revision', 'members', 'groups', 'workspaces', 'connectors', 'connectorPermissions', 'credentials', 'apiKeys', 'seatPools']);
const MEMBER_FIELDS = new Set(['id', 'email', 'status', 'orgRoles', 'seats', 'externalId', 'displayName']);
const GROUP_FIELDS = new Set(['id', 'name', 'memberIds', 'orgRoles']);
const WORKSPACE_FIELDS = new Set(['id', 'name', 'members', 'groupGrants', 'connectorPermissions']);
const GROUP_GRANT_FIELDS = new Set(['groupId', 'roles']);
const PERMISSION_FIELDS = new Set(['connectorId', 'mode', 'tools']);
const CREDENTIAL_FIELDS = new Set(['id', 'connectorId', 'holder', 'workspaceId', 'memberId']);

/** What a list holds, for `list`. */
const enum Entry {
  Member,
  Group,
  Workspace,
  WorkspaceMember,
  GroupGrant,
  Permission,
  Credential,
  /** Read as `plainCopy` does; checked by the entity's zod schema (the small collections). */
  Plain,
}

type Json = Record<string, unknown>;

const isId = (value: unknown): value is string => typeof value === 'string' && value !== '';
const isName = (value: unknown): boolean => typeof value === 'string' && nameSchema.safeParse(value).success;
const isMode = (value: unknown): boolean => value === 'allowed' || value === 'restricted' || value === 'blocked';

class SnapshotReader extends PlainReader {
  /** False once anything was read that the fast path does not accept: the copy then goes to the full check. */
  valid = true;
  /** Set by `names` and `ids`: whether the list they just returned is in its parsed form. */
  private listOk = false;

  // What the rules of SPEC §6 need, gathered while the values are read (a value just read is still in
  // the CPU's cache; looked up again in `build`, after a million others, it is not).
  /** Member id → its number, for the accepted members (while `members` is read, then complete). */
  readonly memberNumbers = new Map<string, number>();
  readonly members = new IdMap<unknown>();
  readonly emails = new Set<string>();
  readonly externalIds = new Set<string>();
  /** Whether `memberNumbers` holds every member: the root's `members` list was read in full before the workspaces. */
  membersRead = false;
  /** Each accepted workspace's entries keyed by member id, in the order the workspaces were read. */
  readonly workspaceEntries: Map<string, unknown>[] = [];
  private lastEntries: Map<string, unknown> | undefined;
  /** The member number of each workspace entry, in reading order, when `membersRead`. */
  readonly entryNumbers: number[] = [];

  /** The checks `copy` makes before descending into `value`; false: let `child` read it (and report what it finds). */
  private open(key: string | number, value: object): boolean {
    const { memo, objects } = this;
    if ((memo !== undefined && memo.has(value)) || objects.length >= MAX_DEPTH || objects.includes(value)) return false;
    if (++this.copied === OBJECTS_BEFORE_MEMO) this.memo = new Map();
    objects.push(value);
    this.keys.push(key);
    return true;
  }

  private close(value: object, out: unknown) {
    this.objects.pop();
    this.keys.pop();
    this.memo?.set(value, out);
  }

  /** A field that should hold a string or a number: as `child` copies it, and not accepted if it is an object or a function. */
  private scalar(key: string, value: unknown): unknown {
    if (typeof value === 'object' && value !== null) {
      this.valid = false;
      return this.child(key, value);
    }
    if (typeof value === 'function') {
      this.valid = false;
      return FUNCTION;
    }
    return value;
  }

  /** An object read where a record (`head` answering `RECORD`) was expected but is not one. */
  private notRecord(value: object, head: number): unknown {
    this.valid = false;
    return head === UNREADABLE_HEAD ? UNREADABLE : this.items(value as unknown[], 0, new Array<unknown>(head));
  }

  /** Whether every key is one of `fields`; if not, the record is copied as `plainCopy` would and not accepted. */
  private known(names: readonly string[], fields: ReadonlySet<string>): boolean {
    for (let n = 0; n < names.length; n++) if (!fields.has(names[n]!)) return false;
    return true;
  }

  root(input: unknown): { copy: unknown; collected: Collected } {
    const collected: Collected = {
      id: NONE,
      name: NONE,
      revision: NONE,
      schemaVersion: NONE,
      members: NONE,
      groups: NONE,
      workspaces: NONE,
      connectors: NONE,
      connectorPermissions: NONE,
      credentials: NONE,
      apiKeys: NONE,
      seatPools: NONE,
    };
    if (typeof input !== 'object' || input === null || !this.open('', input)) {
      this.valid = false;
      return { copy: this.copy(input), collected };
    }
    this.keys.pop(); // the root has no key
    const head = this.head(input);
    let out: unknown;
    if (head !== RECORD) out = this.notRecord(input, head);
    else {
      const names = this.names;
      const record = input as Json;
      const copy: Json = {};
      for (let n = 0; n < names.length; n++) {
        const name = names[n]!;
        let item: unknown;
        try {
          item = record[name];
        } catch (error) {
          this.valid = false;
          define(copy, name, this.unreadable(name, error));
          continue;
        }
        if (!ROOT_FIELDS.has(name)) {
          this.valid = false;
          define(copy, name, this.child(name, item));
          continue;
        }
        let value: unknown;
        switch (name) {
          case 'members':
            value = this.list(name, item, Entry.Member);
            this.membersRead = this.valid;
            break;
          case 'groups':
            value = this.list(name, item, Entry.Group);
            break;
          case 'workspaces':
            value = this.list(name, item, Entry.Workspace);
            break;
          case 'credentials':
            value = this.list(name, item, Entry.Credential);
            break;
          case 'connectorPermissions':
            value = this.list(name, item, Entry.Permission);
            break;
          case 'connectors':
          case 'apiKeys':
          case 'seatPools':
            value = this.list(name, item, Entry.Plain);
            break;
          default:
            value = this.scalar(name, item);
        }
        (collected as unknown as Json)[name] = value;
        copy[name] = value;
      }
      out = copy;
    }
    this.objects.pop();
    return { copy: out, collected };
  }

  /** A list of entities of one kind: the list as `plainCopy` copies it, each entity read by its own reader. */
  private list(key: string, value: unknown, entry: Entry): unknown {
    if (typeof value !== 'object' || value === null || !this.open(key, value)) {
      this.valid = false;
      return this.child(key, value);
    }
    const head = this.head(value);
    let out: unknown;
    if (head === RECORD) {
      this.valid = false;
      out = this.fields(value as Json, this.names, 0, {});
    } else if (head === UNREADABLE_HEAD) {
      this.valid = false;
      out = UNREADABLE;
    } else {
      const list = value as unknown[];
      const copy = new Array<unknown>(head);
      const entries = entry === Entry.WorkspaceMember ? new Map<string, unknown>() : undefined;
      for (let i = 0; i < head; i++) {
        let item: unknown;
        try {
          item = list[i];
        } catch (error) {
          this.valid = false;
          copy[i] = this.unreadable(i, error);
          continue;
        }
        if (typeof item !== 'object' || item === null || entry === Entry.Plain || !this.open(i, item)) {
          if (entry !== Entry.Plain) this.valid = false;
          copy[i] = this.child(i, item);
          continue;
        }
        const itemHead = this.head(item);
        let read: unknown;
        if (itemHead !== RECORD) read = this.notRecord(item, itemHead);
        else {
          const names = this.names;
          switch (entry) {
            case Entry.Member:
              read = this.member(item as Json, names);
              break;
            case Entry.WorkspaceMember:
              read = this.workspaceMember(item as Json, names);
              if (this.valid) {
                const memberId = (read as { memberId: string }).memberId;
                entries!.set(memberId, read);
                if (entries!.size !== i + 1) this.valid = false; // duplicate_entry
                else if (this.membersRead) {
                  const number = this.memberNumbers.get(memberId);
                  if (number === undefined) this.valid = false; // dangling_reference
                  else this.entryNumbers.push(number);
                }
              }
              break;
            case Entry.Group:
              read = this.group(item as Json, names);
              break;
            case Entry.Workspace:
              read = this.workspace(item as Json, names);
              break;
            case Entry.GroupGrant:
              read = this.groupGrant(item as Json, names);
              break;
            case Entry.Permission:
              read = this.permission(item as Json, names);
              break;
            case Entry.Credential:
              read = this.credential(item as Json, names);
              break;
          }
        }
        this.close(item, read);
        copy[i] = read;
      }
      if (entries !== undefined) this.lastEntries = entries;
      out = copy;
    }
    this.close(value, out);
    return out;
  }

  /**
   * The entity readers: a record whose keys are all fields of the entity is read field by field (each
   * value once, in key order) and, if every field is acceptable, returned in its parsed form, frozen;
   * otherwise it is returned as `plainCopy` copies it and the input is not accepted.
   */
  private member(record: Json, names: readonly string[]): unknown {
    if (!this.known(names, MEMBER_FIELDS)) {
      this.valid = false;
      return this.fields(record, names, 0, {});
    }
    let id: unknown = NONE;
    let email: unknown = NONE;
    let status: unknown = NONE;
    let orgRoles: unknown = NONE;
    let seats: unknown = NONE;
    let externalId: unknown = NONE;
    let displayName: unknown = NONE;
    let ok = true;
    for (let n = 0; n < names.length; n++) {
      const name = names[n]!;
      let item: unknown;
      try {
        item = record[name];
      } catch (error) {
        item = this.unreadable(name, error);
        ok = false;
        if (name === 'id') id = item;
        else if (name === 'email') email = item;
        else if (name === 'status') status = item;
        else if (name === 'orgRoles') orgRoles = item;
        else if (name === 'seats') seats = item;
        else if (name === 'externalId') externalId = item;
        else displayName = item;
        continue;
      }
      switch (name) {
        case 'id':
          id = this.scalar(name, item);
          break;
        case 'email':
          email = this.scalar(name, item);
          break;
        case 'status':
          status = this.scalar(name, item);
          break;
        case 'orgRoles':
          orgRoles = this.names_(name, item, ORGANIZATION_ROLES, false);
          ok = ok && this.listOk;
          break;
        case 'seats':
          seats = this.names_(name, item, SEATS, true);
          ok = ok && this.listOk;
          break;
        case 'externalId':
          externalId = this.scalar(name, item);
          break;
        default:
          displayName = this.scalar(name, item);
      }
    }
    if (
      ok &&
      isId(id) &&
      typeof email === 'string' &&
      EMAIL_PATTERN.test(email) &&
      (status === 'active' || status === 'suspended') &&
      orgRoles !== NONE &&
      (externalId === NONE || isId(externalId)) &&
      (displayName === NONE || isName(displayName))
    ) {
      const member: Json = { id, email, status, orgRoles, seats: seats === NONE ? SEATS.list(0) : seats };
      if (externalId !== NONE) member.externalId = externalId;
      if (displayName !== NONE) member.displayName = displayName;
      Object.freeze(member);
      if (this.valid) {
        const numbers = this.memberNumbers;
        numbers.set(id, numbers.size);
        const folded = email.toLowerCase();
        if (numbers.size !== this.members.size + 1 || this.emails.has(folded)) this.valid = false; // duplicate_id, duplicate_email
        else if (externalId !== NONE && this.externalIds.has(externalId as string)) this.valid = false; // duplicate_external_id (SPEC §9.2)
        else {
          this.emails.add(folded);
          if (externalId !== NONE) this.externalIds.add(externalId as string);
          this.members.set(id, member);
        }
      }
      return member;
    }
    this.valid = false;
    const copy: Json = {};
    for (const name of names) {
      define(copy, name, { id, email, status, orgRoles, seats, externalId, displayName }[name]);
    }
    return copy;
  }

  private group(record: Json, names: readonly string[]): unknown {
    if (!this.known(names, GROUP_FIELDS)) {
      this.valid = false;
      return this.fields(record, names, 0, {});
    }
    let id: unknown = NONE;
    let name_: unknown = NONE;
    let memberIds: unknown = NONE;
    let orgRoles: unknown = NONE;
    let ok = true;
    for (let n = 0; n < names.length; n++) {
      const name = names[n]!;
      let item: unknown;
      let readable = true;
      try {
        item = record[name];
      } catch (error) {
        item = this.unreadable(name, error);
        ok = readable = false;
      }
      switch (name) {
        case 'id':
          id = readable ? this.scalar(name, item) : item;
          break;
        case 'name':
          name_ = readable ? this.scalar(name, item) : item;
          break;
        case 'memberIds':
          memberIds = readable ? this.ids(name, item) : item;
          ok = ok && this.listOk;
          break;
        default:
          orgRoles = readable ? this.names_(name, item, ORGANIZATION_ROLES, true) : item;
          ok = ok && this.listOk;
      }
    }
    if (ok && isId(id) && isName(name_)) {
      return Object.freeze({ id, name: name_, memberIds: memberIds === NONE ? NO_IDS : memberIds, orgRoles: orgRoles === NONE ? ORGANIZATION_ROLES.list(0) : orgRoles });
    }
    this.valid = false;
    const copy: Json = {};
    for (const name of names) define(copy, name, { id, name: name_, memberIds, orgRoles }[name]);
    return copy;
  }

  private workspace(record: Json, names: readonly string[]): unknown {
    if (!this.known(names, WORKSPACE_FIELDS)) {
      this.valid = false;
      return this.fields(record, names, 0, {});
    }
    let id: unknown = NONE;
    let name_: unknown = NONE;
    let members: unknown = NONE;
    let groupGrants: unknown = NONE;
    let connectorPermissions: unknown = NONE;
    let entries: Map<string, unknown> | undefined = members === NONE ? new Map() : undefined;
    let ok = true;
    for (let n = 0; n < names.length; n++) {
      const name = names[n]!;
      let item: unknown;
      let readable = true;
      try {
        item = record[name];
      } catch (error) {
        item = this.unreadable(name, error);
        ok = readable = false;
      }
      switch (name) {
        case 'id':
          id = readable ? this.scalar(name, item) : item;
          break;
        case 'name':
          name_ = readable ? this.scalar(name, item) : item;
          break;
        case 'members':
          this.lastEntries = undefined;
          members = readable ? this.list(name, item, Entry.WorkspaceMember) : item;
          entries = this.lastEntries;
          break;
        case 'groupGrants':
          groupGrants = readable ? this.list(name, item, Entry.GroupGrant) : item;
          break;
        default:
          connectorPermissions = readable ? this.list(name, item, Entry.Permission) : item;
      }
    }
    if (ok && this.valid && isId(id) && isName(name_) && entries !== undefined) {
      // The lists stay lists here (the full check reads them so); `build` makes maps of the others.
      this.workspaceEntries.push(entries);
      return {
        id,
        name: name_,
        members: members === NONE ? [] : members,
        groupGrants: groupGrants === NONE ? [] : groupGrants,
        connectorPermissions: connectorPermissions === NONE ? [] : connectorPermissions,
      };
    }
    this.valid = false;
    const copy: Json = {};
    for (const name of names) define(copy, name, { id, name: name_, members, groupGrants, connectorPermissions }[name]);
    return copy;
  }

  private workspaceMember(record: Json, names: readonly string[]): unknown {
    // The most numerous entity (1,000,000 at scale L): its two keys are compared, not looked up in a
    // set, and its fields are read by name, which a JIT caches per shape (same reads, same order).
    for (let n = 0; n < names.length; n++) {
      const name = names[n];
      if (name !== 'memberId' && name !== 'roles') {
        this.valid = false;
        return this.fields(record, names, 0, {});
      }
    }
    let memberId: unknown = NONE;
    let roles: unknown = NONE;
    let ok = true;
    for (let n = 0; n < names.length; n++) {
      const name = names[n]!;
      let item: unknown;
      let readable = true;
      try {
        item = name === 'memberId' ? record.memberId : record.roles;
      } catch (error) {
        item = this.unreadable(name, error);
        ok = readable = false;
      }
      if (name === 'memberId') memberId = readable ? this.scalar(name, item) : item;
      else {
        roles = readable ? this.names_(name, item, WORKSPACE_ROLES, false) : item;
        ok = ok && this.listOk;
      }
    }
    if (ok && isId(memberId)) return Object.freeze(roles === NONE ? { memberId } : { memberId, roles });
    this.valid = false;
    const copy: Json = {};
    for (const name of names) define(copy, name, name === 'memberId' ? memberId : roles);
    return copy;
  }

  private groupGrant(record: Json, names: readonly string[]): unknown {
    if (!this.known(names, GROUP_GRANT_FIELDS)) {
      this.valid = false;
      return this.fields(record, names, 0, {});
    }
    let groupId: unknown = NONE;
    let roles: unknown = NONE;
    let ok = true;
    for (let n = 0; n < names.length; n++) {
      const name = names[n]!;
      let item: unknown;
      let readable = true;
      try {
        item = record[name];
      } catch (error) {
        item = this.unreadable(name, error);
        ok = readable = false;
      }
      if (name === 'groupId') groupId = readable ? this.scalar(name, item) : item;
      else {
        roles = readable ? this.names_(name, item, WORKSPACE_ROLES, false) : item;
        ok = ok && this.listOk;
      }
    }
    if (ok && isId(groupId)) return Object.freeze(roles === NONE ? { groupId } : { groupId, roles });
    this.valid = false;
    const copy: Json = {};
    for (const name of names) define(copy, name, name === 'groupId' ? groupId : roles);
    return copy;
  }

  private permission(record: Json, names: readonly string[]): unknown {
    if (!this.known(names, PERMISSION_FIELDS)) {
      this.valid = false;
      return this.fields(record, names, 0, {});
    }
    let connectorId: unknown = NONE;
    let mode: unknown = NONE;
    let tools: unknown = NONE;
    let ok = true;
    for (let n = 0; n < names.length; n++) {
      const name = names[n]!;
      let item: unknown;
      let readable = true;
      try {
        item = record[name];
      } catch (error) {
        item = this.unreadable(name, error);
        ok = readable = false;
      }
      if (name === 'connectorId') connectorId = readable ? this.scalar(name, item) : item;
      else if (name === 'mode') mode = readable ? this.scalar(name, item) : item;
      else {
        tools = readable ? this.ids(name, item) : item;
        ok = ok && this.listOk;
      }
    }
    if (ok && isId(connectorId) && isMode(mode)) return Object.freeze(tools === NONE ? { connectorId, mode } : { connectorId, mode, tools });
    this.valid = false;
    const copy: Json = {};
    for (const name of names) define(copy, name, name === 'connectorId' ? connectorId : name === 'mode' ? mode : tools);
    return copy;
  }

  private credential(record: Json, names: readonly string[]): unknown {
    if (!this.known(names, CREDENTIAL_FIELDS)) {
      this.valid = false;
      return this.fields(record, names, 0, {});
    }
    let id: unknown = NONE;
    let connectorId: unknown = NONE;
    let holder: unknown = NONE;
    let workspaceId: unknown = NONE;
    let memberId: unknown = NONE;
    let ok = true;
    for (let n = 0; n < names.length; n++) {
      const name = names[n]!;
      let item: unknown;
      try {
        item = this.scalar(name, record[name]);
      } catch (error) {
        item = this.unreadable(name, error);
        ok = false;
      }
      if (name === 'id') id = item;
      else if (name === 'connectorId') connectorId = item;
      else if (name === 'holder') holder = item;
      else if (name === 'workspaceId') workspaceId = item;
      else memberId = item;
    }
    if (ok && isId(id) && isId(connectorId)) {
      if (holder === 'organization' && workspaceId === NONE && memberId === NONE) return Object.freeze({ id, connectorId, holder });
      if (holder === 'workspace' && isId(workspaceId) && memberId === NONE) return Object.freeze({ id, connectorId, holder, workspaceId });
      if (holder === 'member' && isId(memberId) && workspaceId === NONE) return Object.freeze({ id, connectorId, holder, memberId });
    }
    this.valid = false;
    const copy: Json = {};
    for (const name of names) define(copy, name, { id, connectorId, holder, workspaceId, memberId }[name]);
    return copy;
  }

  /**
   * A list of names from `catalog` (roles, seats), each at most once — empty only if `empty`: the one
   * frozen array of that list (`listOk`), or else the list as `plainCopy` copies it.
   */
  private names_(key: string, value: unknown, catalog: Catalog, empty: boolean): unknown {
    this.listOk = false;
    if (typeof value !== 'object' || value === null || !this.open(key, value)) {
      this.valid = false;
      return this.child(key, value);
    }
    const head = this.head(value);
    let out: unknown;
    if (head === RECORD) out = this.fields(value as Json, this.names, 0, {});
    else if (head === UNREADABLE_HEAD) out = UNREADABLE;
    else {
      const list = value as unknown[];
      let code = 0;
      let seen = 0;
      let i = 0;
      for (; i < head; i++) {
        let item: unknown;
        try {
          item = list[i];
        } catch (error) {
          const copy: unknown[] = [...catalog.list(code)];
          copy.length = head;
          copy[i] = this.unreadable(i, error);
          out = this.items(list, i + 1, copy);
          break;
        }
        const at = catalog.index.get(item);
        if (at === undefined || (seen & (1 << at)) !== 0) {
          const copy: unknown[] = [...catalog.list(code)];
          copy.length = head;
          copy[i] = this.child(i, item);
          out = this.items(list, i + 1, copy);
          break;
        }
        seen |= 1 << at;
        code = code * catalog.radix + at + 1;
      }
      if (i === head) {
        out = catalog.list(code);
        this.listOk = empty || head > 0;
      }
    }
    this.close(value, out);
    if (!this.listOk) this.valid = false;
    return out;
  }

  /** A list of non-empty strings (ids, tool names): a frozen copy (`listOk`), or else the list as `plainCopy` copies it. */
  private ids(key: string, value: unknown): unknown {
    this.listOk = false;
    if (typeof value !== 'object' || value === null || !this.open(key, value)) {
      this.valid = false;
      return this.child(key, value);
    }
    const head = this.head(value);
    let out: unknown;
    if (head === RECORD) out = this.fields(value as Json, this.names, 0, {});
    else if (head === UNREADABLE_HEAD) out = UNREADABLE;
    else {
      const list = value as unknown[];
      const copy = new Array<unknown>(head);
      let ok = true;
      for (let i = 0; i < head; i++) {
        let item: unknown;
        try {
          item = list[i];
        } catch (error) {
          copy[i] = this.unreadable(i, error);
          ok = false;
          continue;
        }
        if (typeof item === 'string' && item !== '') copy[i] = item;
        else {
          ok = false;
          copy[i] = this.child(i, item);
        }
      }
      out = ok ? Object.freeze(copy) : copy;
      this.listOk = ok;
    }
    this.close(value, out);
    if (!this.listOk) this.valid = false;
    return out;
  }
}

/** What the root's fields read as (`NONE` when absent). */
interface Collected {
  schemaVersion: unknown;
  id: unknown;
  name: unknown;
  revision: unknown;
  members: unknown;
  groups: unknown;
  workspaces: unknown;
  connectors: unknown;
  connectorPermissions: unknown;
  credentials: unknown;
  apiKeys: unknown;
  seatPools: unknown;
}

/**
 * For each snapshot the fast path built, the number (position) of the member of each workspace entry,
 * workspace by workspace in snapshot order: found while checking that every entry names a member, and
 * taken by the first `createPolicy` of that snapshot, which would otherwise look the 1,000,000 entries
 * of scale L up by id a second time. Taken once, so it is not kept beside the policy; a snapshot is
 * immutable, so the numbers cannot go stale.
 */
const memberNumbers = new WeakMap<object, Int32Array>();

/** The member numbers of `organization`'s workspace entries, if it was parsed here and they were not taken yet. */
export function takeMemberNumbers(organization: object): Int32Array | undefined {
  const numbers = memberNumbers.get(organization);
  if (numbers !== undefined) memberNumbers.delete(organization);
  return numbers;
}

export function readOrganization(input: unknown): FastRead {
  const reader = new SnapshotReader();
  const { copy, collected } = reader.root(input);
  const organization = reader.valid && reader.problems.length === 0 ? build(collected, reader) : undefined;
  return { organization, copy: { value: copy, problems: reader.problems } };
}

interface Member {
  readonly id: string;
  readonly email: string;
  readonly status: string;
  readonly orgRoles: readonly string[];
  readonly seats: readonly string[];
  readonly externalId?: string;
}
interface Group {
  readonly id: string;
  readonly memberIds: readonly string[];
  readonly orgRoles: readonly string[];
}
interface WorkspaceCopy {
  readonly id: string;
  readonly name: string;
  readonly members: readonly { readonly memberId: string }[];
  readonly groupGrants: readonly { readonly groupId: string }[];
  readonly connectorPermissions: readonly Permission[];
}
interface Permission {
  readonly connectorId: string;
  readonly mode: string;
  readonly tools?: readonly string[];
}
interface Credential {
  readonly id: string;
  readonly connectorId: string;
  readonly holder: string;
  readonly workspaceId?: string;
  readonly memberId?: string;
}

/** Entities checked by their zod schema; `undefined` if one is not accepted. */
function parsedEach<T>(list: unknown, schema: { safeParse(value: unknown): { success: boolean; data?: unknown } }): T[] | undefined {
  if (list === NONE) return [];
  const out: T[] = [];
  for (const item of list as unknown[]) {
    const result = schema.safeParse(item);
    if (!result.success) return undefined;
    out.push(result.data as T);
  }
  return out;
}

/** Each list of ids holds each id once, and `known` knows them all. */
function uniqueKnown(ids: readonly string[], known: { has(id: string): boolean }): boolean {
  if (ids.length === 0) return true;
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id) || !known.has(id)) return false;
    seen.add(id);
  }
  return true;
}

/**
 * The rules of `checkOrganization` (SPEC §6), as one yes/no over entities already known to be well
 * formed, and the parsed snapshot built from them on the way: `undefined` at the first rule broken.
 */
function build(c: Collected, read: SnapshotReader): Record<string, unknown> | undefined {
  if (c.schemaVersion !== 1 || !isId(c.id) || !isName(c.name)) return undefined;
  const revision = c.revision === NONE ? 0 : c.revision;
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0) return undefined;
  // Without a members list the admin rule is not asked (see checkOrganization): left to the full check.
  if (c.members === NONE) return undefined;
  const connectorList = parsedEach<{ id: string; name: string; visibility: string; workspaceIds?: readonly string[]; capabilities: string; tools: readonly { name: string; access: string }[] }>(
    c.connectors,
    connectorSchema,
  );
  const keyList = parsedEach<{ id: string; workspaceId: string; connectorScopes: 'all' | readonly string[] }>(c.apiKeys, apiKeySchema);
  const poolList = parsedEach<{ product: string; size: number }>(c.seatPools, seatPoolSchema);
  if (connectorList === undefined || keyList === undefined || poolList === undefined) return undefined;

  const pools = new Map<string, { size: number; held: number }>();
  const seatPools = new IdMap<unknown>();
  for (const pool of poolList) {
    if (pools.has(pool.product)) return undefined;
    pools.set(pool.product, { size: pool.size, held: 0 });
    seatPools.set(pool.product, pool);
  }

  // Ids and emails were checked, and the members map built, as the members were read.
  const memberList = c.members as readonly Member[];
  const members = read.members;
  const memberById = read.memberNumbers;
  if (members.size !== memberList.length) return undefined;
  let admin = false;
  for (let i = 0; i < memberList.length; i++) {
    const member = memberList[i]!;
    for (const seat of member.seats) {
      const pool = pools.get(seat);
      if (pool === undefined) return undefined; // seat_without_pool
      pool.held++;
    }
    if (!admin && member.status === 'active' && member.orgRoles.includes('organization_admin')) admin = true;
  }
  for (const pool of pools.values()) if (pool.held > 0 && pool.held > pool.size) return undefined; // seats_exceeded

  const keyIds = new Set<string>();
  for (const key of keyList) {
    if (memberById.has(key.id) || keyIds.has(key.id)) return undefined; // duplicate_id
    keyIds.add(key.id);
  }

  const groupList = (c.groups === NONE ? [] : c.groups) as readonly Group[];
  const groups = new IdMap<Group>();
  for (const group of groupList) {
    if (groups.has(group.id)) return undefined;
    groups.set(group.id, group);
    if (!uniqueKnown(group.memberIds, memberById)) return undefined;
    if (!admin && group.orgRoles.includes('organization_admin')) {
      for (const id of group.memberIds) if (memberList[memberById.get(id)!]!.status === 'active') admin = true;
    }
  }
  if (!admin) return undefined; // no_active_admin

  const workspaceList = (c.workspaces === NONE ? [] : c.workspaces) as readonly WorkspaceCopy[];
  const workspaceIds = new Set<string>();
  for (const workspace of workspaceList) {
    if (workspaceIds.has(workspace.id)) return undefined;
    workspaceIds.add(workspace.id);
  }

  const connectors = new IdMap<unknown>();
  const toolsOf = new Map<string, Set<string>>();
  const connectorNames = new Set<string>();
  for (const connector of connectorList) {
    if (toolsOf.has(connector.id) || connectorNames.has(connector.name)) return undefined;
    connectorNames.add(connector.name);
    if (connector.visibility === 'organization' && connector.workspaceIds !== undefined) return undefined;
    if (connector.visibility === 'workspace' && connector.workspaceIds !== undefined && !uniqueKnown(connector.workspaceIds, workspaceIds)) return undefined;
    const tools = new Set<string>();
    for (const tool of connector.tools) {
      if (tools.has(tool.name)) return undefined;
      tools.add(tool.name);
      if (connector.capabilities === 'read_only' && tool.access === 'write') return undefined;
    }
    toolsOf.set(connector.id, tools);
    connectors.set(connector.id, connector);
  }

  const permissions = <M extends Map<string, Permission> | IdMap<Permission>>(list: readonly Permission[], into: M): M | undefined => {
    for (let i = 0; i < list.length; i++) {
      const permission = list[i]!;
      const tools = toolsOf.get(permission.connectorId);
      if (tools === undefined) return undefined; // dangling_reference
      into.set(permission.connectorId, permission);
      if (into.size !== i + 1) return undefined; // duplicate_entry
      if (permission.mode === 'restricted') {
        if (permission.tools === undefined || permission.tools.length === 0 || !uniqueKnown(permission.tools, tools)) return undefined;
      } else if (permission.tools !== undefined) return undefined; // tools_not_restricted
    }
    return into;
  };
  const connectorPermissions = permissions((c.connectorPermissions === NONE ? [] : c.connectorPermissions) as readonly Permission[], new IdMap<Permission>());
  if (connectorPermissions === undefined) return undefined;

  const workspaces = new IdMap<unknown>();
  let entryCount = 0;
  for (const workspace of workspaceList) entryCount += workspace.members.length;
  // Each workspace's entries were mapped by member as they were read; and, when the members were read
  // first, each entry's member was found then.
  if (read.workspaceEntries.length !== workspaceList.length) return undefined;
  const found = read.membersRead && read.entryNumbers.length === entryCount;
  const numbers = found ? Int32Array.from(read.entryNumbers) : new Int32Array(entryCount);
  let k = 0;
  for (let w = 0; w < workspaceList.length; w++) {
    const workspace = workspaceList[w]!;
    const entries = read.workspaceEntries[w]!;
    if (!found) {
      for (const entry of workspace.members) {
        const number = memberById.get(entry.memberId);
        if (number === undefined) return undefined; // dangling_reference
        numbers[k++] = number;
      }
    }
    const grants = new Map<string, unknown>();
    const grantList = workspace.groupGrants;
    for (let i = 0; i < grantList.length; i++) {
      const grant = grantList[i]!;
      if (!groups.has(grant.groupId)) return undefined;
      grants.set(grant.groupId, grant);
      if (grants.size !== i + 1) return undefined;
    }
    const workspacePermissions = permissions(workspace.connectorPermissions, new Map<string, Permission>());
    if (workspacePermissions === undefined) return undefined;
    workspaces.set(
      workspace.id,
      Object.freeze({ id: workspace.id, name: workspace.name, members: freeze(entries), groupGrants: freeze(grants), connectorPermissions: freeze(workspacePermissions) }),
    );
  }

  const credentials = new IdMap<Credential>();
  for (const credential of (c.credentials === NONE ? [] : c.credentials) as readonly Credential[]) {
    if (credentials.has(credential.id) || !toolsOf.has(credential.connectorId)) return undefined;
    if (credential.holder === 'workspace' && !workspaceIds.has(credential.workspaceId!)) return undefined;
    if (credential.holder === 'member' && !memberById.has(credential.memberId!)) return undefined;
    credentials.set(credential.id, credential);
  }

  const apiKeys = new IdMap<unknown>();
  for (const key of keyList) {
    if (!workspaceIds.has(key.workspaceId)) return undefined;
    if (key.connectorScopes !== 'all' && !uniqueKnown(key.connectorScopes, toolsOf)) return undefined;
    apiKeys.set(key.id, key);
  }

  const organization = Object.freeze({
    schemaVersion: 1,
    id: c.id,
    name: c.name,
    revision,
    members: freeze(members, true),
    groups: freeze(groups, true),
    workspaces: freeze(workspaces, true),
    connectors: freeze(connectors, true),
    connectorPermissions: freeze(connectorPermissions, true),
    credentials: freeze(credentials, true),
    apiKeys: freeze(apiKeys, true),
    seatPools: freeze(seatPools, true),
  });
  memberNumbers.set(organization, numbers);
  return organization;
}
