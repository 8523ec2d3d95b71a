/**
 * A persistent map for the incremental `policy.update`: a shared base `Map` and a small layer of
 * changes on top. Deriving a changed map copies the layer (a few entries), never the base (100,000
 * principals at scale L would cost ~10 ms per admin change), so the previous policy's map is never
 * touched. When the layer would grow past a fraction of the base, the map being derived from first
 * folds its own layer into a fresh base of its own — the same entries, so nobody reading it can tell —
 * and the new map starts a small layer on that: one O(n) copy every many updates, amortised to little,
 * even when many maps are derived from one (previews of admin changes). A look-up costs one extra
 * probe of the (usually empty) layer.
 */
const REMOVED = Symbol('removed');

/** Fold the layer into the base beyond this many entries, or 1/16 of the base, whichever is larger. */
const MIN_LAYER_BEFORE_FOLD = 1024;

export class LayeredMap<K, V> {
  private constructor(
    // Replaced only by `fold`, by a map with the same entries.
    private base: ReadonlyMap<K, V>,
    private layer: ReadonlyMap<K, V | typeof REMOVED> | null,
  ) {}

  static of<K, V>(base: ReadonlyMap<K, V>): LayeredMap<K, V> {
    return new LayeredMap(base, null);
  }

  get(key: K): V | undefined {
    if (this.layer !== null) {
      const changed = this.layer.get(key);
      if (changed !== undefined) return changed === REMOVED ? undefined : changed;
    }
    return this.base.get(key);
  }

  /** Every entry, the base's first (order is not kept across changes). */
  *entries(): Generator<[K, V]> {
    const layer = this.layer;
    for (const entry of this.base) if (layer === null || !layer.has(entry[0])) yield entry;
    if (layer !== null) for (const [key, value] of layer) if (value !== REMOVED) yield [key, value];
  }

  /** A new map with `changes` applied (`undefined` removes the key); this one answers as it did. */
  with(changes: ReadonlyMap<K, V | undefined>): LayeredMap<K, V> {
    if ((this.layer?.size ?? 0) + changes.size > Math.max(MIN_LAYER_BEFORE_FOLD, this.base.size >> 4)) this.fold();
    const layer = new Map<K, V | typeof REMOVED>(this.layer ?? []);
    for (const [key, value] of changes) layer.set(key, value === undefined ? REMOVED : value);
    return new LayeredMap(this.base, layer);
  }

  /** The layer folded into a fresh base: the same entries, one look-up each. Maps sharing the old base keep it. */
  private fold() {
    if (this.layer === null) return;
    const folded = new Map(this.base);
    for (const [key, value] of this.layer) {
      if (value === REMOVED) folded.delete(key);
      else folded.set(key, value);
    }
    this.base = folded;
    this.layer = null;
  }
}
