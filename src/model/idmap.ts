import { immerable } from 'immer';

/**
 * An insertion-ordered map from ids to entities whose copies share almost everything.
 *
 * The parsed snapshot keeps its large collections (100,000 members) in one of these rather than in a
 * `Map`: immer copies a `Map` whole on the first write to it and walks every entry when it finishes, so
 * one member changed in a plain `Map` costs O(organization). Here entries live in chunks of at most
 * `CHUNK` in insertion order, and an id finds its chunk through one of `BUCKETS` small maps chosen by a
 * hash of the id. A write copies one chunk, one bucket and two short arrays — O(√n) entries at worst,
 * about 1,000 at 100,000 members — and every other chunk is shared with the previous snapshot.
 *
 * It is a `Map` to its readers (iteration in insertion order, `get`, `has`, `size`, …) and to immer's
 * recipes (`set` and `delete` on a draft). A frozen one throws on `set`, as a frozen `Map` does.
 * Patches that immer produces for it address its internals (`chunks`, `where`, `count`);
 * `src/change` rewrites them to address the entity by id (SPEC §6.1).
 */
export class IdMap<V> implements Map<string, V> {
  static readonly [immerable] = true;

  /** Entries in insertion order, `CHUNK` at most per chunk; a chunk emptied by deletions stays. */
  chunks: Map<string, V>[] = [];
  /**
   * Bucket (a hash of the id) → id → the number of its chunk; buckets are created when first used, in an
   * array of fixed length, so that a new bucket replaces a slot (no holes, no growing array in patches).
   */
  where: (Map<string, number> | undefined)[] = emptyBuckets();
  count = 0;

  constructor(entries?: Iterable<readonly [string, V]>) {
    if (entries) for (const [key, value] of entries) this.set(key, value);
  }

  get size(): number {
    return this.count;
  }

  get(key: string): V | undefined {
    const chunk = this.where[bucketOf(key)]?.get(key);
    return chunk === undefined ? undefined : this.chunks[chunk]!.get(key);
  }

  has(key: string): boolean {
    return typeof key === 'string' && this.where[bucketOf(key)]?.has(key) === true;
  }

  set(key: string, value: V): this {
    const bucket = bucketOf(key);
    const chunk = this.where[bucket]?.get(key);
    if (chunk !== undefined) {
      this.chunks[chunk]!.set(key, value);
      return this;
    }
    let last = this.chunks.length - 1;
    if (last < 0 || this.chunks[last]!.size >= CHUNK) {
      this.chunks.push(new Map());
      last++;
    }
    this.chunks[last]!.set(key, value);
    (this.where[bucket] ??= new Map()).set(key, last);
    this.count++;
    return this;
  }

  delete(key: string): boolean {
    if (typeof key !== 'string') return false;
    const bucket = bucketOf(key);
    const chunk = this.where[bucket]?.get(key);
    if (chunk === undefined) return false;
    this.chunks[chunk]!.delete(key);
    this.where[bucket]!.delete(key);
    this.count--;
    return true;
  }

  clear(): void {
    this.chunks = [];
    this.where = emptyBuckets();
    this.count = 0;
  }

  *entries(): MapIterator<[string, V]> {
    for (const chunk of this.chunks) yield* chunk.entries();
  }

  *keys(): MapIterator<string> {
    for (const chunk of this.chunks) yield* chunk.keys();
  }

  *values(): MapIterator<V> {
    for (const chunk of this.chunks) yield* chunk.values();
  }

  forEach(callback: (value: V, key: string, map: Map<string, V>) => void, thisArg?: unknown): void {
    for (const chunk of this.chunks) for (const [key, value] of chunk) callback.call(thisArg, value, key, this);
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'IdMap';
  }
}

/** Entries per chunk and the number of buckets: about √n at 100,000 members, so a write copies little of either. */
const CHUNK = 512;
const BUCKETS = 256;

const emptyBuckets = (): (Map<string, number> | undefined)[] => new Array<Map<string, number> | undefined>(BUCKETS).fill(undefined);

/** FNV-1a over UTF-16 code units, folded into a bucket number. Not for security: ids are not secret. */
function bucketOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % BUCKETS;
}

/** Is this path segment one of an `IdMap`'s own fields (as immer's patches name them)? */
export const ID_MAP_FIELDS: ReadonlySet<string> = new Set(['chunks', 'where', 'count']);
