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
const OBJECTS_BEFORE_MEMO = 2 ** 22;

/** Stands in the copy for a value that could not be read; the schema sees a primitive and reads nothing further. */
const UNREADABLE: unique symbol = Symbol('unreadable');
/** Stands in for a function: the schema reports its type without touching it. */
const FUNCTION = Object.freeze(function opaque() {});

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
  const problems: Problem[] = [];
  // The objects and keys from the root to where the walk is: for paths, cycles and depth.
  const objects: object[] = [];
  const keys: (string | number)[] = [];
  let copied = 0;
  let memo: Map<object, unknown> | undefined;

  const report = (code: Problem['code'], key: string | number | undefined, say: (where: string) => string) => {
    const path = key === undefined ? [...keys] : [...keys, key];
    problems.push(problem(code, path, say(formatPath(path))));
    return UNREADABLE;
  };

  const copy = (value: unknown): unknown => {
    if (typeof value === 'function') return FUNCTION;
    if (typeof value !== 'object' || value === null) return value;
    if (memo?.has(value)) return memo.get(value);
    if (objects.includes(value)) return report('circular_reference', undefined, (at) => `${at} contains itself (a circular reference); a snapshot is a tree`);
    if (objects.length >= MAX_DEPTH) return report('too_deep', undefined, (at) => `${at} is nested more than ${MAX_DEPTH} levels deep; a snapshot nests six`);
    if (++copied === OBJECTS_BEFORE_MEMO) memo = new Map();
    objects.push(value);
    const out = read(value);
    objects.pop();
    memo?.set(value, out);
    return out;
  };

  // A child already read: primitives as they are, objects copied one level down.
  const child = (key: string | number, value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return typeof value === 'function' ? FUNCTION : value;
    keys.push(key);
    const out = copy(value);
    keys.pop();
    return out;
  };
  const unreadable = (key: string | number, error: unknown) => report('unreadable_value', key, (at) => `${at} could not be read (${reason(error)})`);

  const read = (value: object): unknown => {
    let isArray: boolean;
    let names: string[];
    let length: unknown;
    try {
      isArray = Array.isArray(value);
      names = isArray ? [] : Object.keys(value);
      length = isArray ? (value as unknown[]).length : 0;
    } catch (error) {
      return report('unreadable_value', undefined, (at) => `${at} could not be read (${reason(error)})`);
    }
    if (isArray) {
      if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0 || length > 2 ** 32 - 1) {
        return report('unreadable_value', undefined, (at) => `${at} could not be read (its length is ${quote(length)})`);
      }
      const list = value as unknown[];
      const out = new Array<unknown>(length);
      for (let i = 0; i < length; i++) {
        let item: unknown;
        try {
          item = list[i];
        } catch (error) {
          out[i] = unreadable(i, error);
          continue;
        }
        out[i] = child(i, item);
      }
      return out;
    }
    const record = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const name of names) {
      let item: unknown;
      try {
        item = record[name];
      } catch (error) {
        define(out, name, unreadable(name, error));
        continue;
      }
      define(out, name, child(name, item));
    }
    return out;
  };

  const value = copy(input);
  return { value, problems };
}

/** An own data property even for `__proto__`, as `JSON.parse` makes it. */
function define(target: Record<string, unknown>, key: string, value: unknown) {
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
