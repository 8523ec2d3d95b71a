import type { Path } from './problems.js';
import { formatPath, problem, quote } from './problems.js';
import type { Problem } from './types.js';

/**
 * A snapshot nests six levels deep (`workspaces[i].connectorPermissions[j].tools[k]`); anything far
 * deeper is not a snapshot, and stopping early keeps a hostile input from exhausting the stack.
 */
export const MAX_DEPTH = 32;

/**
 * Objects copied before the walk starts remembering what it copied. A snapshot is a tree, and a Map of
 * every object would double the cost of the copy; past this many objects (about twice a snapshot of
 * 100 000 members) each object is copied once however often it is reached, so that a small graph
 * sharing its nodes cannot unfold into an exponential tree.
 */
export const OBJECTS_BEFORE_MEMO = 2 ** 22;

/** Stands in the copy for a value that could not be read; the schema sees a primitive and reads nothing further. */
export const UNREADABLE: unique symbol = Symbol('unreadable');
/** Stands in for a function: the schema reports its type without touching it. */
export const FUNCTION = Object.freeze(function opaque() {});

export interface PlainCopy {
  readonly value: unknown;
  /** Every value that could not be read, too deep or circular, each at its path. */
  readonly problems: readonly Problem[];
}

/**
 * Reads an untrusted input once into plain arrays and objects (own enumerable string keys, as
 * `JSON.stringify` would, but never calling `toJSON`), so that what is checked is what is kept: a
 * getter that answers differently on each read, or a Proxy, is read once. A throwing getter or trap,
 * a revoked Proxy, a circular reference or nesting deeper than `MAX_DEPTH` becomes a problem at its
 * path, and the copy holds a stand-in there that the schema reads as a wrong type.
 */
export function plainCopy(input: unknown): PlainCopy {
  const reader = new PlainReader();
  const value = reader.copy(input);
  return { value, problems: reader.problems };
}

/**
 * The walk behind `plainCopy`, as a class so that a reader that knows the snapshot's shape
 * (`fast.ts`) can read the parts it expects its own way and hand everything else to these methods,
 * which then read it exactly as `plainCopy` would: same reads, same order, same problems at the same paths.
 */
export class PlainReader {
  readonly problems: Problem[] = [];
  /** The objects and keys from the root to where the walk is: for paths, cycles and depth. */
  protected readonly objects: object[] = [];
  protected readonly keys: (string | number)[] = [];
  protected copied = 0;
  protected memo: Map<object, unknown> | undefined;

  report(code: Problem['code'], key: string | number | undefined, say: (where: string) => string): typeof UNREADABLE {
    const path = key === undefined ? [...this.keys] : [...this.keys, key];
    this.problems.push(problem(code, path, say(formatPath(path))));
    return UNREADABLE;
  }

  copy(value: unknown): unknown {
    if (typeof value === 'function') return FUNCTION;
    if (typeof value !== 'object' || value === null) return value;
    const { memo, objects } = this;
    if (memo?.has(value)) return memo.get(value);
    if (objects.includes(value)) return this.report('circular_reference', undefined, (at) => `${at} contains itself (a circular reference); a snapshot is a tree`);
    if (objects.length >= MAX_DEPTH) return this.report('too_deep', undefined, (at) => `${at} is nested more than ${MAX_DEPTH} levels deep; a snapshot nests six`);
    if (++this.copied === OBJECTS_BEFORE_MEMO) this.memo = new Map();
    objects.push(value);
    const out = this.read(value);
    objects.pop();
    this.memo?.set(value, out);
    return out;
  }

  /** A child already read: primitives as they are, objects copied one level down. */
  child(key: string | number, value: unknown): unknown {
    if (typeof value !== 'object' || value === null) return typeof value === 'function' ? FUNCTION : value;
    this.keys.push(key);
    const out = this.copy(value);
    this.keys.pop();
    return out;
  }

  unreadable(key: string | number | undefined, error: unknown): typeof UNREADABLE {
    return this.report('unreadable_value', key, (at) => `${at} could not be read (${reason(error)})`);
  }

  read(value: object): unknown {
    const head = this.head(value);
    if (head === UNREADABLE_HEAD) return UNREADABLE;
    if (head === RECORD) return this.fields(value as Record<string, unknown>, this.names, 0, {});
    return this.items(value as unknown[], 0, new Array<unknown>(head));
  }

  /** The keys `head` read, when it answered `RECORD`; read them before reading anything else. */
  protected names: readonly string[] = NO_NAMES;

  /**
   * What `read` asks of an object before reading any of its values: whether it is an array and its
   * length (returned), or else its own enumerable keys (`RECORD`, the keys in `names`). `UNREADABLE_HEAD`
   * when that could not be read (reported).
   */
  head(value: object): number {
    let isArray: boolean;
    let names: string[];
    let length: unknown;
    try {
      isArray = Array.isArray(value);
      names = isArray ? NO_NAMES : Object.keys(value);
      length = isArray ? (value as unknown[]).length : 0;
    } catch (error) {
      this.unreadable(undefined, error);
      return UNREADABLE_HEAD;
    }
    if (!isArray) {
      this.names = names;
      return RECORD;
    }
    if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0 || length > 2 ** 32 - 1) {
      this.report('unreadable_value', undefined, (at) => `${at} could not be read (its length is ${quote(length)})`);
      return UNREADABLE_HEAD;
    }
    return length;
  }

  /** Copies `list[from..]` into `out` (already holding the copies of `list[0..from)`). */
  items(list: unknown[], from: number, out: unknown[]): unknown[] {
    for (let i = from; i < out.length; i++) {
      let item: unknown;
      try {
        item = list[i];
      } catch (error) {
        out[i] = this.unreadable(i, error);
        continue;
      }
      out[i] = this.child(i, item);
    }
    return out;
  }

  /** Copies the fields `names[from..]` of `record` into `out` (already holding the ones before). */
  fields(record: Record<string, unknown>, names: readonly string[], from: number, out: Record<string, unknown>): Record<string, unknown> {
    for (let n = from; n < names.length; n++) {
      const name = names[n]!;
      let item: unknown;
      try {
        item = record[name];
      } catch (error) {
        define(out, name, this.unreadable(name, error));
        continue;
      }
      define(out, name, this.child(name, item));
    }
    return out;
  }
}

/** `head`'s answers besides an array's length. */
export const RECORD = -1;
export const UNREADABLE_HEAD = -2;

const NO_NAMES: string[] = [];

/** An own data property even for `__proto__`, as `JSON.parse` makes it. */
export function define(target: Record<string, unknown>, key: string, value: unknown) {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** What was thrown, described without trusting it (its `message` getter or `toString` may throw too). */
function reason(error: unknown): string {
  try {
    if (typeof error === 'string') return `it threw ${quote(error)}`;
    if (error instanceof Error && typeof error.message === 'string' && error.message !== '') return `it threw ${quote(error.message)}`;
  } catch {
    // fall through
  }
  return 'it threw';
}

/** Whether `path` lies at or under one of `roots`. */
export function under(path: Path, roots: readonly Path[]): boolean {
  return roots.some((root) => root.length <= path.length && root.every((part, i) => path[i] === part));
}
