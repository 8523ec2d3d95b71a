import { LayeredMap } from './layered.js';

/**
 * Every member's compiled decisions, packed in one `Int32Array`. A decision reads one
 * member's row — a few neighbouring integers — instead of following pointers from a member object to a
 * `Map` to its backing store, which at 100,000 members is a cache miss at every step.
 *
 * A row, at the offset its member id maps to:
 *
 * | index | holds |
 * |---|---|
 * | `at` | flags: `ACTIVE`, `ORGANIZATION_ADMIN`, `ADMIN_ANYWHERE` |
 * | `at + 1` | the organization actions, as a bitset |
 * | `at + 2` | `n`, the number of workspaces where the member holds roles |
 * | `at + 3 + 2i`, `at + 4 + 2i` | a workspace's number and the member's actions there, as a bitset |
 * | `at + 3 + 2n` | `d`, the number of workspaces the member was added to directly |
 * | `at + 4 + 2n + 2i`, `at + 5 + 2n + 2i` | such a workspace's number and the actions of the roles given there |
 *
 * Decisions read the first `3 + 2n` integers only. The direct pairs after them are what recompiling the
 * member for a group change starts from (`DirectPairs`): kept here, beside the row they produced, they
 * cost two integers each instead of a small array per member.
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

/** The whole row at `at`, its direct pairs included. */
export function rowLength(rows: Int32Array, at: number): number {
  const direct = at + HEADER + 2 * rows[at + 2]!;
  return direct + 1 + 2 * rows[direct]! - at;
}

/** The direct pairs of the row at `at` (see above), as (workspace number, actions) pairs. */
export function rowDirectPairs(rows: Int32Array, at: number): number[] {
  const direct = at + HEADER + 2 * rows[at + 2]!;
  return Array.from(rows.subarray(direct + 1, direct + 1 + 2 * rows[direct]!));
}

/**
 * One buffer of rows and how far the rows written into it reach, shared by every table derived from
 * one build. Tables read only at their own offsets, which are never written again, so the buffer may
 * be replaced by a larger copy — the same integers at the same offsets — under all of them at once.
 */
interface Arena {
  rows: Int32Array;
  end: number;
}

/**
 * Member id → row. Immutable to its readers: `with` writes the changed rows past the end of everything
 * ever written into the arena — where no table, old or new, reads — and maps their ids to the new
 * offsets in a `LayeredMap`, so every earlier table keeps answering exactly as before, and two updates
 * of one policy (a preview and the real change, say) do not disturb each other. A full arena doubles
 * (one copy, amortised over the many updates that filled it). The rows an update replaces stay behind
 * as garbage; when a full arena holds more than twice as much garbage as the table being updated has
 * live rows, that table first moves its live rows to an arena of its own — the same rows for the same
 * ids, so nobody reading it can tell — and later updates of it, previews included, append there.
 */
export class MemberTable {
  private constructor(
    // Replaced only by `compact`, by the same rows for the same ids.
    private offsets: LayeredMap<string, number>,
    private arena: Arena,
    /** How many integers this table's rows take. */
    private readonly live: number,
  ) {}

  /** A table over rows already written into `buffer` (up to `end`), at the offsets `offsets` gives. */
  static from(offsets: ReadonlyMap<string, number>, buffer: Int32Array, end: number): MemberTable {
    return new MemberTable(LayeredMap.of(offsets), { rows: buffer, end }, end);
  }

  static of(rows: ReadonlyMap<string, Row>): MemberTable {
    let size = 0;
    for (const row of rows.values()) size += row.length;
    const buffer = new Int32Array(withRoom(size));
    const offsets = new Map<string, number>();
    let end = 0;
    for (const [id, row] of rows) {
      offsets.set(id, end);
      buffer.set(row, end);
      end += row.length;
    }
    return new MemberTable(LayeredMap.of(offsets), { rows: buffer, end }, end);
  }

  /** Every row; read only at the offsets `offsetOf` gives. */
  get rows(): Int32Array {
    return this.arena.rows;
  }

  /** The offset of `id`'s row, or `undefined` for anything that is not a member's id. */
  offsetOf(id: unknown): number | undefined {
    return this.offsets.get(id as string);
  }

  /** Every member id and its row's offset. */
  entries(): Iterable<[string, number]> {
    return this.offsets.entries();
  }

  /** A table with `changes` applied (`undefined` removes a member); this one is left as it is. */
  with(changes: ReadonlyMap<string, Row | undefined>): MemberTable {
    let needed = 0;
    let live = this.live;
    for (const [id, row] of changes) {
      const old = this.offsets.get(id);
      if (old !== undefined) live -= rowLength(this.arena.rows, old);
      if (row !== undefined) needed += row.length;
    }
    live += needed;
    if (this.arena.end + needed > this.arena.rows.length && this.arena.end - this.live > 2 * this.live) this.compact();
    const { arena } = this;
    if (arena.end + needed > arena.rows.length) {
      const larger = new Int32Array(Math.max(2 * arena.rows.length, withRoom(arena.end + needed)));
      larger.set(arena.rows.subarray(0, arena.end));
      arena.rows = larger;
    }
    const offsets = new Map<string, number | undefined>();
    for (const [id, row] of changes) {
      if (row === undefined) {
        offsets.set(id, undefined);
        continue;
      }
      arena.rows.set(row, arena.end);
      offsets.set(id, arena.end);
      arena.end += row.length;
    }
    return new MemberTable(this.offsets.with(offsets), arena, live);
  }

  /** This table's live rows moved to an arena of their own: one O(members) step, amortised over the garbage it drops. */
  private compact() {
    const { rows } = this.arena;
    const live = new Map<string, Row>();
    for (const [id, at] of this.offsets.entries()) live.set(id, rows.subarray(at, at + rowLength(rows, at)));
    const moved = MemberTable.of(live);
    this.offsets = moved.offsets;
    this.arena = moved.arena;
  }
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
    const at = this.table.offsetOf(id);
    if (at === undefined) return undefined;
    const pairs = rowDirectPairs(this.table.rows, at);
    return pairs.length > 0 ? pairs : undefined;
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
