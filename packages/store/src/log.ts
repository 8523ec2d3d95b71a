import { applyChange, type ChangeError, type ChangeResult, type Organization } from 'org-policy';
import { organizationOfCheckpoint, readLatestCheckpoint, type SnapshotMigrations } from './checkpoint.js';
import type { SqlClient } from './engine.js';
import { StoreError } from './errors.js';

/** Changes read per query while catching up. */
export const PAGE_SIZE = 500;

export interface Head {
  readonly revision: number;
  readonly committedAt: Date;
  readonly checkpointRevision: number;
  readonly bytesSinceCheckpoint: number;
}

export interface ChangeRow {
  readonly revision: number;
  readonly change: unknown;
}

export async function readHead(db: SqlClient, organizationId: string, options: { forUpdate?: boolean } = {}): Promise<Head | undefined> {
  const rows = await db.query<{ revision: string | number; committed_at: Date | string; checkpoint_revision: string | number; bytes_since_checkpoint: string | number }>(
    `SELECT revision, committed_at, checkpoint_revision, bytes_since_checkpoint FROM org_policy.heads WHERE organization_id = $1${options.forUpdate === true ? ' FOR UPDATE' : ''}`,
    [organizationId],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  return {
    revision: Number(row.revision),
    committedAt: new Date(row.committed_at),
    checkpointRevision: Number(row.checkpoint_revision),
    bytesSinceCheckpoint: Number(row.bytes_since_checkpoint),
  };
}

export async function requireHead(db: SqlClient, organizationId: string, options: { forUpdate?: boolean } = {}): Promise<Head> {
  const head = await readHead(db, organizationId, options);
  if (head === undefined) throw notInitialized(organizationId);
  return head;
}

export const notInitialized = (organizationId: string) =>
  new StoreError('not_initialized', `the database holds no organization ${JSON.stringify(organizationId)}: call store.init(snapshot) first`, { organizationId });

/** Changes after `after`, in revision order, at most `limit`, none beyond `upTo`. */
export async function readChanges(db: SqlClient, organizationId: string, after: number, limit = PAGE_SIZE, upTo?: number): Promise<ChangeRow[]> {
  const rows = await db.query<{ revision: string | number; change: unknown }>(
    `SELECT revision, change FROM org_policy.changes
      WHERE organization_id = $1 AND revision > $2 AND ($4::bigint IS NULL OR revision <= $4::bigint)
      ORDER BY revision LIMIT $3`,
    [organizationId, after, limit, upTo ?? null],
  );
  return rows.map((row) => ({ revision: Number(row.revision), change: row.change }));
}

/** Where replaying the log stopped short: a missing revision, or a change that does not apply. */
export interface ReplayFailure {
  readonly revision: number;
  readonly reason: 'gap' | 'change_failed';
  readonly error?: ChangeError;
}

export interface Replayed {
  readonly organization: Organization;
  readonly applied: number;
  readonly failure?: ReplayFailure;
}

/** Applies the log's changes after `organization`, in order, up to `upTo` (or the end); stops at the first that does not follow. */
export async function replay(
  db: SqlClient,
  organizationId: string,
  organization: Organization,
  upTo?: number,
  onChange?: (row: ChangeRow, next: Organization) => void,
  /** How one change is applied: `applyChange` unless the caller also keeps a policy up to date. */
  step: (current: Organization, change: unknown) => ChangeResult = applyChange,
): Promise<Replayed> {
  let current = organization;
  let applied = 0;
  for (;;) {
    const rows = await readChanges(db, organizationId, current.revision, PAGE_SIZE, upTo);
    for (const row of rows) {
      if (row.revision !== current.revision + 1) return { organization: current, applied, failure: { revision: current.revision + 1, reason: 'gap' } };
      const result = step(current, row.change);
      if (!result.ok) return { organization: current, applied, failure: { revision: row.revision, reason: 'change_failed', error: result.error } };
      current = result.organization;
      applied += 1;
      onChange?.(row, current);
    }
    if (rows.length < PAGE_SIZE) return { organization: current, applied };
  }
}

export interface LoadedState extends Replayed {
  readonly checkpointRevision: number;
}

/** The latest checkpoint (at most `upTo`), then the changes after it. */
export async function loadState(db: SqlClient, organizationId: string, migrations: SnapshotMigrations, upTo?: number): Promise<LoadedState> {
  const row = await readLatestCheckpoint(db, organizationId, upTo);
  if (row === undefined) throw notInitialized(organizationId);
  const organization = organizationOfCheckpoint(row, organizationId, migrations);
  const replayed = await replay(db, organizationId, organization, upTo);
  return { ...replayed, checkpointRevision: row.revision };
}
