import { LayeredMap } from './layered.js';

/**
 * Every member's compiled decisions, packed in one `Int32Array`. A decision reads one
 * member's row — a few neighbouring integers — instead of following pointers from a member object to a
 * `Map` to its backing store, which at 100,000 members is a cache miss at every step.
 *
 * A row, as `MemberTable.of` and `with` take it and `row` gives it back:
 *
 * | index | holds |
 * |---|---|
 * | `0` | flags: `ACTIVE`, `ORGANIZATION_ADMIN`, `ADMIN_ANYWHERE` |
 * | `1` | the organization actions, as a bitset |
 * | `2` | `n`, the number of workspaces where the member holds roles |
 * | `3 + 2i`, `4 + 2i` | a workspace's number and the member's actions there, as a bitset |
 * | `3 + 2n` | `d`, the number of workspaces the member was added to directly |
 * | `4 + 2n + 2i`, `5 + 2n + 2i` | such a workspace's number and the actions of the roles given there |
 *
 * Decisions read the first `3 + 2n` integers only; those are stored at the member's offset in `rows`,
 * followed by one integer: where the rest — `d` and the direct pairs, what recompiling the member for a
 * group change starts from (`DirectPairs`) — is stored in a second buffer. Kept apart, the integers
 * every decision reads are packed together (12 MB at scale L instead of 20 MB with the direct pairs
 * between them), and the direct pairs cost two integers each instead of a small array per member.
 *
 * Action bitsets use bits 0–30 (the catalog has 19 actions), so a mask is never negative and
 * `workspaceMask` can answer `-1` for "holds no role there".
 */
export const ACTIVE = 1;
/** Holds `organization_admin`, directly or through a group (D1, §7.9). */
export const ORGANIZATION_ADMIN = 2;
/** `admin.access` without a workspace: an organization admin, or a workspace admin somewhere (§7.9). */
export const ADMIN_ANYWHERE = 4;
const HEADER = 3;

/** A row as `MemberTable.of` and `with` take it: any list of integers laid out as above. */
export type Row = ArrayLike<number>;

/** The member's actions in workspace number `workspace`, or -1 when it holds no role there. */
export function workspaceMask(rows: Int32Array, at: number, workspace: number): number {
  const end = at + HEADER + 2 * rows[at + 2]!;
  for (let i = at + HEADER; i < end; i += 2) if (rows[i] === workspace) return rows[i + 1]!;
  return -1;
}

/** The workspace numbers of a member's row, in row order. */
export function rowWorkspaces(rows: Int32Array, at: number): number[] {
  const out: number[] = [];
  const end = at + HEADER + 2 * rows[at + 2]!;
  for (let i = at + HEADER; i < end; i += 2) out.push(rows[i]!);
  return out;
}

/** How many integers of `rows` the row at `at` takes: the decision part and the pointer to the rest. */
function hotLength(rows: Int32Array, at: number): number {
  return HEADER + 2 * rows[at + 2]! + 1;
}

/** Where the decision part of a logical row ends (`d` follows). */
function splitAt(row: Row): number {
  return HEADER + 2 * row[2]!;
}

/**
 * The buffers of rows and how far the rows written into them reach, shared by every table derived from
 * one build. Tables read only at their own offsets, which are never written again, so a buffer may
 * be replaced by a larger copy — the same integers at the same offsets — under all of them at once.
 */
interface Arena {
  rows: Int32Array;
  end: number;
  /** `d` and the direct pairs of each row, at the offset its last integer in `rows` gives. */
  rest: Int32Array;
  restEnd: number;
}

/**
 * Member id → row, and every other principal's id → its entry (`Other`: an API key's), in one map, so
 * that a decision finds any principal — or learns it is nobody — with one look-up. A look-up that misses
 * walks a whole hash chain, a cache miss per id on it; two maps (members, then keys) made every key and
 * every unknown principal pay that twice. Members and keys share one id space (the loader refuses a
 * clash), and an offset is a number while an entry is an object, so the two cannot be confused.
 *
 * Immutable to its readers: `with` writes the changed rows past the end of everything
 * ever written into the arena — where no table, old or new, reads — and maps their ids to the new
 * offsets in a `LayeredMap`, so every earlier table keeps answering exactly as before, and two updates
 * of one policy (a preview and the real change, say) do not disturb each other. A full buffer doubles
 * (one copy, amortised over the many updates that filled it). The rows an update replaces stay behind
 * as garbage; when a full arena holds more than twice as much garbage as the table being updated has
 * live rows, that table first moves its live rows to an arena of its own — the same rows for the same
 * ids, so nobody reading it can tell — and later updates of it, previews included, append there.
 */
export class MemberTable<Other extends object = object> {
  private constructor(
    // Replaced only by `compact`, by the same rows for the same ids (and the same other principals).
    private offsets: LayeredMap<string, number | Other>,
    private arena: Arena,
    /** How many integers of `rows` this table's rows take. */
    private readonly live: number,
  ) {}

  /**
   * A table over rows already written: decision parts (each followed by the offset of its rest) in
   * `rows` up to `end`, the rests in `rest` up to `restEnd`, at the offsets `offsets` gives; the map's
   * object values are the other principals.
   */
  static from<Other extends object>(offsets: ReadonlyMap<string, number | Other>, rows: Int32Array, end: number, rest: Int32Array, restEnd: number): MemberTable<Other> {
    return new MemberTable<Other>(LayeredMap.of(offsets), { rows, end, rest, restEnd }, end);
  }

  /** A table of `rows`, with the principals `others` that are not members. */
  static of<Other extends object = object>(rows: ReadonlyMap<string, Row>, others: Iterable<[string, Other]> = []): MemberTable<Other> {
    let size = 0;
    let restSize = 0;
    for (const row of rows.values()) {
      const split = splitAt(row);
      size += split + 1;
      restSize += row.length - split;
    }
    const arena: Arena = { rows: new Int32Array(withRoom(size)), end: 0, rest: new Int32Array(withRoom(restSize)), restEnd: 0 };
    const offsets = new Map<string, number | Other>();
    for (const [id, row] of rows) offsets.set(id, write(arena, row));
    for (const [id, other] of others) offsets.set(id, other);
    return new MemberTable<Other>(LayeredMap.of(offsets), arena, arena.end);
  }

  /** Every row's decision part; read only at the offsets `offsetOf` gives. */
  get rows(): Int32Array {
    return this.arena.rows;
  }

  /** The principal `id` names: a member's row offset (a number), another principal's entry, or `undefined` for nobody. */
  find(id: unknown): number | Other | undefined {
    return this.offsets.get(id as string);
  }

  /** The offset of `id`'s row, or `undefined` for anything that is not a member's id. */
  offsetOf(id: unknown): number | undefined {
    const found = this.offsets.get(id as string);
    return typeof found === 'number' ? found : undefined;
  }

  /** Every member id and its row's offset. */
  *entries(): Generator<[string, number]> {
    for (const entry of this.offsets.entries()) if (typeof entry[1] === 'number') yield entry as [string, number];
  }

  /** Every other principal's id and entry. */
  *others(): Generator<[string, Other]> {
    for (const entry of this.offsets.entries()) if (typeof entry[1] !== 'number') yield entry as [string, Other];
  }

  /** `id`'s whole row, as `of` and `with` take it; `undefined` for no member. */
  row(id: string): number[] | undefined {
    const at = this.offsetOf(id);
    return at === undefined ? undefined : logicalRow(this.arena, at);
  }

  /** The direct (workspace number, actions) pairs of `id`'s row; `undefined` for no member. */
  directPairs(id: string): number[] | undefined {
    const at = this.offsetOf(id);
    if (at === undefined) return undefined;
    const { rows, rest } = this.arena;
    const from = rows[at + hotLength(rows, at) - 1]!;
    return Array.from(rest.subarray(from + 1, from + 1 + 2 * rest[from]!));
  }

  /** A table with `changes` applied (`undefined` removes a member); this one is left as it is. */
  with(changes: ReadonlyMap<string, Row | undefined>): MemberTable<Other> {
    let needed = 0;
    let restNeeded = 0;
    let live = this.live;
    const offsets = new Map<string, number | undefined>();
    for (const [id, row] of changes) {
      const old = this.offsetOf(id);
      if (old !== undefined) live -= hotLength(this.arena.rows, old);
      if (row === undefined) {
        if (old !== undefined) offsets.set(id, undefined); // removes a member, never another principal
      } else {
        const split = splitAt(row);
        needed += split + 1;
        restNeeded += row.length - split;
      }
    }
    live += needed;
    if (this.arena.end + needed > this.arena.rows.length && this.arena.end - this.live > 2 * this.live) this.compact();
    const { arena } = this;
    if (arena.end + needed > arena.rows.length) {
      const larger = new Int32Array(Math.max(2 * arena.rows.length, withRoom(arena.end + needed)));
      larger.set(arena.rows.subarray(0, arena.end));
      arena.rows = larger;
    }
    if (arena.restEnd + restNeeded > arena.rest.length) {
      const larger = new Int32Array(Math.max(2 * arena.rest.length, withRoom(arena.restEnd + restNeeded)));
      larger.set(arena.rest.subarray(0, arena.restEnd));
      arena.rest = larger;
    }
    for (const [id, row] of changes) if (row !== undefined) offsets.set(id, write(arena, row));
    return new MemberTable<Other>(this.offsets.with(offsets), arena, live);
  }

  /**
   * A table with the other principals `changes` applied (`undefined` removes one, never a member: an id
   * given to a member and taken from a key in one change stays the member's); the rows are shared, this
   * table is left as it is.
   */
  withOthers(changes: ReadonlyMap<string, Other | undefined>): MemberTable<Other> {
    const others = new Map<string, Other | undefined>();
    for (const [id, other] of changes) if (other !== undefined || typeof this.offsets.get(id) === 'object') others.set(id, other);
    return new MemberTable<Other>(this.offsets.with(others), this.arena, this.live);
  }

  /** This table's live rows moved to an arena of their own: one O(members) step, amortised over the garbage it drops. */
  private compact() {
    const live = new Map<string, Row>();
    for (const [id, at] of this.entries()) live.set(id, logicalRow(this.arena, at));
    const moved = MemberTable.of(live, this.others());
    this.offsets = moved.offsets;
    this.arena = moved.arena;
  }
}

/** Writes `row` at the ends of `arena` (which has room); returns its offset. */
function write(arena: Arena, row: Row): number {
  const split = splitAt(row);
  const at = arena.end;
  const { rows, rest } = arena;
  for (let i = 0; i < split; i++) rows[at + i] = row[i]!;
  rows[at + split] = arena.restEnd;
  arena.end = at + split + 1;
  for (let i = split; i < row.length; i++) rest[arena.restEnd++] = row[i]!;
  return at;
}

/** The row at `at`, both parts put back together. */
function logicalRow(arena: Arena, at: number): number[] {
  const { rows, rest } = arena;
  const length = hotLength(rows, at);
  const from = rows[at + length - 1]!;
  return [...rows.subarray(at, at + length - 1), ...rest.subarray(from, from + 1 + 2 * rest[from]!)];
}

/** Room for `size` integers and an eighth more, so that many updates append before the arena grows. */
export function withRoom(size: number): number {
  return size + (size >> 3) + 1024;
}

/**
 * Member → its direct (workspace number, actions) pairs, read from the member rows of one table, with
 * the pairs of the members a pending update changes on top. `policy.update` derives the changed members'
 * rows from it, then `on` the table holding those rows, whose rows say the same: a view, so the pairs of
 * 1,000,000 memberships are not kept a second time as 100,000 small arrays.
 */
export class DirectPairs {
  private constructor(
    private readonly table: MemberTable,
    private readonly changed: ReadonlyMap<string, readonly number[] | undefined> | null,
  ) {}

  static of(table: MemberTable): DirectPairs {
    return new DirectPairs(table, null);
  }

  get(id: string): readonly number[] | undefined {
    if (this.changed !== null && this.changed.has(id)) return this.changed.get(id);
    const pairs = this.table.directPairs(id);
    return pairs !== undefined && pairs.length > 0 ? pairs : undefined;
  }

  /** These pairs with `changes` (`undefined`: none) on top; this view answers as before. */
  with(changes: ReadonlyMap<string, readonly number[] | undefined>): DirectPairs {
    const changed = new Map(this.changed ?? []);
    for (const [id, pairs] of changes) changed.set(id, pairs);
    return new DirectPairs(this.table, changed);
  }

  /** The same pairs read from `table`, whose rows were compiled from this view (every changed member's among them). */
  on(table: MemberTable): DirectPairs {
    return new DirectPairs(table, null);
  }
}
