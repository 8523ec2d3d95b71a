/**
 * @org-policy/store: an organization's change log on PostgreSQL (or PGlite, in one process). Writers
 * commit changes serialized by the database; followers keep a live policy at the head.
 */
export {
  openStore,
  channelOf,
  type Store,
  type StoreOptions,
  type StoreEvent,
  type ApplyOptions,
  type RecordAuditOptions,
  type ApplyResult,
  type Applied,
  type Refused,
  type InitResult,
  type CheckpointResult,
  type AuditEntry,
  type AuditPage,
} from './store.js';
export {
  Follower,
  type FollowOptions,
  type FollowerEvents,
  type ChangeEvent,
  type ReloadEvent,
  type ConnectionEvent,
  type ProblemEvent,
  type WaitResult,
  type Lag,
  type FollowerStats,
} from './follower.js';
export type { ImportResult } from './backup.js';
export { EXPORT_FORMAT, EXPORT_VERSION } from './backup.js';
export type { SnapshotMigrations } from './checkpoint.js';
export { READABLE_SCHEMA_VERSION } from './checkpoint.js';
export type { Engine, SqlClient, Row, ListenHandlers, Listening } from './engine.js';
export { postgresEngine, type PostgresEngineOptions } from './engines/postgres.js';
export { pgliteEngine, type PgliteEngineOptions } from './engines/pglite.js';
export { StoreError, isStoreError, type StoreErrorCode } from './errors.js';
export { MIGRATIONS, SCHEMA_VERSION as DATABASE_SCHEMA_VERSION } from './schema.js';
