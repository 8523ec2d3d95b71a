import type { Path } from './problems.js';
import { formatPath, problem, quote } from './problems.js';
import type { Problem } from './types.js';

/**
 * A snapshot nests six levels deep (`workspaces[i].connectorPermissions[j].tools[k]`); anything far
 * deeper is not a snapshot, and stopping early keeps a hostile input from exhausting the stack.
 */
export const MAX_DEPTH = 32;

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
 * Reads an untrusted input exactly once into plain arrays and objects (own enumerable string keys,
 * as `JSON.stringify` would, but never calling `toJSON`), so that what is checked is what is kept:
 * a getter that answers differently on each read, or a Proxy, is read once. A throwing getter or
 * trap, a revoked Proxy, a circular reference or nesting deeper than `MAX_DEPTH` becomes a problem
 * at its path. An object reached twice (not in a cycle) is copied once.
 */
export function plainCopy(input: unknown): PlainCopy {
  const problems: Problem[] = [];
  const copies = new Map<object, unknown>();
  const open = new Set<object>();

  const copy = (value: unknown, path: Path): unknown => {
    if (typeof value === 'function') return FUNCTION;
    if (typeof value !== 'object' || value === null) return value;
    if (open.has(value)) {
      problems.push(problem('circular_reference', path, `${formatPath(path)} contains itself (a circular reference); a snapshot is a tree`));
      return UNREADABLE;
    }
    if (copies.has(value)) return copies.get(value);
    if (path.length >= MAX_DEPTH) {
      problems.push(problem('too_deep', path, `${formatPath(path)} is nested more than ${MAX_DEPTH} levels deep; a snapshot nests six`));
      return UNREADABLE;
    }
    open.add(value);
    try {
      const out = read(value, path, copy, problems);
      copies.set(value, out);
      return out;
    } finally {
      open.delete(value);
    }
  };

  const value = copy(input, []);
  return { value, problems };
}

function read(value: object, path: Path, copy: (value: unknown, path: Path) => unknown, problems: Problem[]): unknown {
  const unreadable = (at: Path, why: string) => {
    problems.push(problem('unreadable_value', at, `${formatPath(at)} could not be read (${why})`));
    return UNREADABLE;
  };
  let isArray: boolean;
  let keys: string[];
  try {
    isArray = Array.isArray(value);
    keys = isArray ? [] : Object.keys(value);
  } catch (error) {
    return unreadable(path, reason(error));
  }
  if (isArray) {
    let length: unknown;
    try {
      length = (value as unknown[]).length;
    } catch (error) {
      return unreadable(path, reason(error));
    }
    if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0 || length > 2 ** 32 - 1) {
      return unreadable(path, `its length is ${quote(length)}`);
    }
    const out: unknown[] = [];
    for (let i = 0; i < length; i++) {
      let item: unknown;
      try {
        item = (value as unknown[])[i];
      } catch (error) {
        out.push(unreadable([...path, i], reason(error)));
        continue;
      }
      out.push(copy(item, [...path, i]));
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    let item: unknown;
    try {
      item = (value as Record<string, unknown>)[key];
    } catch (error) {
      define(out, key, unreadable([...path, key], reason(error)));
      continue;
    }
    define(out, key, copy(item, [...path, key]));
  }
  return out;
}

/** An own data property even for `__proto__`, as `JSON.parse` makes it. */
function define(target: Record<string, unknown>, key: string, value: unknown) {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
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

/** Whether a value of the copy stands for one that could not be read. */
export function isUnreadable(value: unknown): boolean {
  return value === UNREADABLE;
}

/** Whether anything in a value of the copy could not be read (the copy is a tree: this ends). */
export function containsUnreadable(value: unknown): boolean {
  if (value === UNREADABLE) return true;
  if (typeof value !== 'object' || value === null) return false;
  return (Array.isArray(value) ? value : Object.values(value)).some(containsUnreadable);
}

/** Whether `path` lies at or under one of `roots`. */
export function under(path: Path, roots: readonly Path[]): boolean {
  return roots.some((root) => root.length <= path.length && root.every((part, i) => path[i] === part));
}
