/**
 * What can go wrong in the store itself (I/O, a database in an unexpected state), as an `Error` with a
 * stable `code`. A refused command is not one of these: `store.apply` resolves `{ ok: false, error }`.
 */
export type StoreErrorCode =
  /** `apply`, `follow` or `checkpoint` before `init` seeded the organization. */
  | 'not_initialized'
  /** A snapshot or an import for another organization than the store's. */
  | 'wrong_organization'
  /** A PGlite data directory that another live process (or this one) holds open. */
  | 'data_directory_locked'
  /** The database's schema was migrated by a newer version of this package. */
  | 'database_schema_too_new'
  /** A checkpoint's `schemaVersion` that this version cannot read and no migration turns into one it can. */
  | 'checkpoint_schema_unsupported'
  /** A checkpoint whose content no longer matches its checksum, or does not parse. */
  | 'checkpoint_corrupt'
  /** The log cannot be brought to its head: a change that does not apply even from the latest checkpoint. */
  | 'change_log_broken'
  /** A change the database cannot store (PostgreSQL's `jsonb` refuses the character U+0000). */
  | 'unstorable_change'
  /** `import` into a database that already holds the organization. */
  | 'import_not_empty'
  /** An export that is not one, is truncated, or whose changes do not apply. */
  | 'import_invalid'
  /** The log changed under an export (changes pruned meanwhile): run it again. */
  | 'export_incomplete'
  /** Options that cannot work together, or a value out of range. */
  | 'invalid_options'
  /** A call on a store or follower after `close()`. */
  | 'closed';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: StoreErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

export const isStoreError = (value: unknown, code?: StoreErrorCode): value is StoreError =>
  value instanceof StoreError && (code === undefined || value.code === code);
