import { formatPath } from '../model/problems.js';
import type { AdminProblem } from './types.js';

/**
 * A command is read exactly once, into plain data, before anything looks at it: the actor is then
 * authorized and the change applied on that copy. A getter that answers differently on each read, or a
 * Proxy, cannot show the authorization one workspace and the recipe another; a getter or trap that
 * throws (`unreadable_value`), a cycle or absurd nesting (`too_deep`), or an absurd size (`too_large`) is a
 * `validation` error, never an exception (SPEC §5: errors are typed results).
 *
 * Read as JSON would be: own enumerable string keys of objects, indices of arrays; primitives as they
 * are (the payload schemas refuse what JSON cannot hold).
 */

/** No command nests deeper than four levels (command → members → entry → roleNames); this leaves room. */
export const MAX_COMMAND_DEPTH = 8;
/** Array entries and object fields in one command (or one list of commands), all levels together. */
export const MAX_COMMAND_ENTRIES = 1_000_000;

export type ReadResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problem: AdminProblem };

/** A limit the walk reached; kept aside, since what a hostile getter throws is never inspected (not even by `instanceof`). */
interface Limit {
  readonly code: 'too_deep' | 'too_large';
  readonly message: string;
}

export function readPlain(input: unknown): ReadResult {
  const path: (string | number)[] = [];
  let budget = MAX_COMMAND_ENTRIES;
  let limit: Limit | undefined;
  const stop = (code: Limit['code'], message: string): never => {
    limit = { code, message };
    throw limit;
  };
  const spend = (count: number) => {
    if (count > budget) stop('too_large', `a command holds at most ${MAX_COMMAND_ENTRIES} entries`);
    budget -= count;
  };
  const copy = (value: unknown, depth: number): unknown => {
    // Primitives and functions are kept as they are: no schema accepts a function, and none reads into one.
    if (value === null || typeof value !== 'object') return value;
    if (depth >= MAX_COMMAND_DEPTH) return stop('too_deep', `a command nests at most ${MAX_COMMAND_DEPTH} levels (a circular reference never ends)`);
    if (Array.isArray(value)) {
      const length: unknown = value.length;
      if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) return stop('too_large', 'an array without a usable length');
      spend(length);
      const out = new Array<unknown>(length);
      for (let i = 0; i < length; i++) {
        path.push(i);
        out[i] = copy(value[i], depth + 1);
        path.pop();
      }
      return out;
    }
    const keys = Object.keys(value);
    spend(keys.length);
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      path.push(key);
      // defineProperty, not assignment: a key such as `__proto__` stays a plain field of the copy.
      Object.defineProperty(out, key, { value: copy((value as Record<string, unknown>)[key], depth + 1), enumerable: true, writable: true, configurable: true });
      path.pop();
    }
    return out;
  };
  try {
    return { ok: true, value: copy(input, 0) };
  } catch {
    const where = Object.freeze([...path]);
    if (limit) return { ok: false, problem: Object.freeze({ code: limit.code, path: where, message: `${formatPath(where)}: ${limit.message}` }) };
    // The same code as a snapshot's unreadable value (parseOrganization).
    return { ok: false, problem: Object.freeze({ code: 'unreadable_value', path: where, message: `${formatPath(where)} could not be read (a getter or Proxy trap threw)` }) };
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
