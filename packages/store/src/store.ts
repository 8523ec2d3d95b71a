import { createHash } from 'node:crypto';
import { ChangeRejectedError, applyCommands, type AdminError, type AuditEvent, type Change, type ChangeResult, type Organization, type Policy } from 'org-policy';
import { exportLines, importLines, type ImportResult } from './backup.js';
import { checkpointText, insertCheckpoint, type SnapshotMigrations } from './checkpoint.js';
import { CHANNEL_PATTERN, type Engine, type SqlClient } from './engine.js';
import { postgresEngine } from './engines/postgres.js';
import { pgliteEngine } from './engines/pglite.js';
import { StoreError } from './errors.js';
import { Follower, type FollowOptions } from './follower.js';
import { loadState, readHead, replay, requireHead, type Head } from './log.js';
import { migrate } from './schema.js';

export interface StoreOptions {
  /** The organization this store writes and follows; one database holds any number of them. */
  readonly organizationId: string;
  /** A `postgres://` URL: a PostgreSQL server, for any number of writer and follower processes. */
  readonly url?: string;
  /** A PGlite data directory (`memory://` for an in-memory database): one process only. */
  readonly dataDir?: string;
  /** An engine you built (`postgresEngine`, `pgliteEngine`); `store.close()` leaves it open. */
  readonly engine?: Engine;
  /** Write a checkpoint once this many changes follow the last one (default 1,000; 0: never by count). */
  readonly checkpointEvery?: number;
  /** …or once the changes since the last one weigh this many bytes (default 16 MiB; 0: never by size). */
  readonly checkpointBytes?: number;
  /**
   * Whether this process writes due checkpoints itself, after the command that made one due is
   * acknowledged (default true). Serializing a snapshot blocks the event loop for O(organization) — at
   * 100,000 members, seconds — so large organizations set this to false on writers and call
   * `store.checkpoint()` from a process of its own.
   */
  readonly autoCheckpoint?: boolean;
  /** How long changes older than the latest checkpoint are kept (default 7 days), and how many checkpoints (default 2). */
  readonly retention?: { readonly changesMs?: number; readonly checkpoints?: number };
  /** The NOTIFY channel (a lowercase SQL identifier); by default one derived from the organization id. */
  readonly channel?: string;
  /** PostgreSQL only: `application_name` of this process's connections (listeners add `:listen`). */
  readonly applicationName?: string;
  /** PostgreSQL only: connections in this process's pool (default 4). */
  readonly poolSize?: number;
  /** Apply the store's migrations on open (default true). */
  readonly migrate?: boolean;
  /** Migrations for checkpoints of older snapshot versions. */
  readonly checkpointMigrations?: SnapshotMigrations;
  /** What happens in the background: checkpoints written, pruning, reloads, problems recovered from. */
  readonly onEvent?: (event: StoreEvent) => void;
}

export type StoreEvent =
  | { readonly type: 'checkpoint'; readonly revision: number; readonly bytes: number; readonly serializeMs: number }
  | { readonly type: 'pruned'; readonly changes: number; readonly checkpoints: number }
  | { readonly type: 'writer_reloaded'; readonly reason: string; readonly revision: number }
  | { readonly type: 'problem'; readonly context: string; readonly error: Error };

export interface ApplyOptions {
  /** The time of the commands (epoch ms or ISO-8601): written into their audit events, and used for API key expiry. */
  readonly now?: number | string;
  /**
   * A service's own statements, run in the transaction that commits the change (or records the refusal),
   * after the store's writes: its rows change with the change or not at all (an Admin API revokes a
   * removed member's keys here). Throwing rolls the whole transaction back, and the apply rejects.
   */
  readonly inTransaction?: (tx: SqlClient, result: ApplyResult) => Promise<void>;
}

export interface RecordAuditOptions {
  /**
   * The caller's own statements, in the transaction that appends the events (both or neither), run while
   * it holds the head's lock: no change commits meanwhile, so `revision` is the organization they see.
   */
  readonly inTransaction?: (tx: SqlClient, head: { readonly revision: number }) => Promise<void>;
}

/** Committed, durable, notified: `revision` is the change's. */
export interface Applied {
  readonly ok: true;
  readonly revision: number;
  readonly change: Change<AuditEvent>;
  readonly events: readonly AuditEvent[];
}

/** Refused (none of the commands applied); the refusal is in the audit log. `revision`: the head it was judged at. */
export interface Refused {
  readonly ok: false;
  readonly error: AdminError;
  readonly index: number | null;
  readonly revision: number;
  readonly events: readonly AuditEvent[];
}

export type ApplyResult = Applied | Refused;

export type InitResult =
  | { readonly ok: true; readonly revision: number }
  | { readonly ok: false; readonly error: { readonly code: 'already_initialized'; readonly revision: number; readonly message: string } };

export interface CheckpointResult {
  /** Whether this call wrote one (not when none was due, or one was there at that revision). */
  readonly written: boolean;
  /** The latest checkpoint's revision after the call. */
  readonly revision: number;
  readonly bytes?: number;
  readonly pruned: { readonly changes: number; readonly checkpoints: number };
}

export interface AuditEntry {
  readonly cursor: string;
  /** An applied command: the change's revision; a refused one: the head it was judged at. */
  readonly revision: number;
  readonly status: AuditEvent['result']['status'];
  readonly recordedAt: Date;
  readonly event: AuditEvent;
}

export interface AuditPage {
  readonly entries: readonly AuditEntry[];
  /** Pass it back as `cursor` for the next page; `null` on the last one. */
  readonly nextCursor: string | null;
}

export interface Store {
  readonly organizationId: string;
  readonly engine: Engine;
  readonly channel: string;
  /** Seeds an empty database with the organization: its head and a checkpoint at its revision. */
  init(snapshot: Organization): Promise<InitResult>;
  /** Applies the commands as one change (all or none), committed in one transaction before it resolves. */
  apply(actor: string, commands: readonly unknown[], options?: ApplyOptions): Promise<ApplyResult>;
  /** A live policy, kept at the head. */
  follow(options?: FollowOptions): Promise<Follower>;
  /** The head: `null` before `init`. */
  head(): Promise<{ readonly revision: number; readonly committedAt: Date } | null>;
  /** Writes a checkpoint if one is due (or always, with `force`), then prunes past the retention. */
  checkpoint(options?: { readonly force?: boolean }): Promise<CheckpointResult>;
  /**
   * Appends audit events decided outside `apply` — a service's refusal at its own edge, an operation of its
   * own — at the head's revision, under the head's lock, in one transaction with `inTransaction`; rejects if
   * they are not written.
   */
  recordAudit(events: readonly AuditEvent[], options?: RecordAuditOptions): Promise<{ readonly revision: number }>;
  /** The audit log, oldest first (or newest first with `order: 'desc'`), paged. */
  auditLog(options?: { readonly limit?: number; readonly cursor?: string | null; readonly order?: 'asc' | 'desc' }): Promise<AuditPage>;
  /** The latest checkpoint, the changes after it and the audit log, as JSON lines (each ends with `\n`). */
  export(): AsyncIterable<string>;
  /** Loads an export into a database that does not hold the organization yet, all or nothing. */
  import(lines: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>): Promise<ImportResult>;
  /** Waits for writes and checkpoints in flight, closes the followers, then what the store opened. */
  close(): Promise<void>;
}

const DAY_MS = 86_400_000;

/** Opens the store of one organization on a PostgreSQL server (`url`), a PGlite directory (`dataDir`) or an engine. */
export async function openStore(options: StoreOptions): Promise<Store> {
  const given = [options.url, options.dataDir, options.engine].filter((value) => value !== undefined).length;
  if (given !== 1) throw new StoreError('invalid_options', 'openStore needs exactly one of url, dataDir and engine');
  if (typeof options.organizationId !== 'string' || options.organizationId === '') throw new StoreError('invalid_options', 'openStore needs an organizationId');
  const channel = options.channel ?? channelOf(options.organizationId);
  if (!CHANNEL_PATTERN.test(channel)) throw new StoreError('invalid_options', `not a channel name: ${JSON.stringify(channel)}`);
  const onEvent = options.onEvent ?? (() => {});
  let engine: Engine;
  if (options.engine !== undefined) engine = options.engine;
  else if (options.url !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(options.url)) throw new StoreError('invalid_options', 'url must be a postgres:// URL; use dataDir for PGlite');
    engine = postgresEngine({
      connectionString: options.url,
      ...(options.applicationName !== undefined ? { applicationName: options.applicationName } : {}),
      ...(options.poolSize !== undefined ? { poolSize: options.poolSize } : {}),
      onProblem: (error) => onEvent({ type: 'problem', context: 'connection', error }),
    });
  } else engine = await pgliteEngine({ dataDir: options.dataDir ?? 'memory://' });
  try {
    if (options.migrate !== false) await migrate(engine);
  } catch (error) {
    if (options.engine === undefined) await engine.close();
    throw error;
  }
  return new OrganizationStore(engine, options.engine === undefined, channel, options, onEvent);
}

/** The default NOTIFY channel of an organization: a fixed-size name whatever its id. */
export const channelOf = (organizationId: string) => `org_policy_${createHash('sha256').update(organizationId).digest('hex').slice(0, 40)}`;

/** The payload of a NOTIFY: the revision, and the organization id while it fits well under 8,000 bytes. */
export function notificationPayload(organizationId: string, revision: number): string {
  const full = JSON.stringify({ organizationId, revision });
  return Buffer.byteLength(full) <= 1_000 ? full : JSON.stringify({ revision });
}

/** A writer's snapshot and its compiled policy: a command's result (`policy` derived on first read), or one a catch-up brought up to date. */
type PolicySource = { readonly snapshot: Organization; readonly policy: Policy };

class OrganizationStore implements Store {
  readonly organizationId: string;
  private readonly checkpointEvery: number;
  private readonly checkpointBytes: number;
  private readonly retentionMs: number;
  private readonly keepCheckpoints: number;
  private readonly migrations: SnapshotMigrations;
  private readonly followers = new Set<Follower>();
  /** The writer's organization: the head as this process last saw it. Advanced only by the write queue. */
  private organization: Organization | undefined;
  /**
   * Where the policy of a writer's snapshot comes from: the last command's result (its `policy` is
   * derived on first read), or the policy this writer brought up to date while it caught up. With it,
   * the changes other writers committed are followed with `policy.update`, and the next command is
   * authorized on that policy — not on a full build of the organization after every catch-up.
   */
  private policySource: PolicySource | undefined;
  /** In-process order of writes: one transaction of this process contends for the head lock at a time. */
  private writes: Promise<unknown> = Promise.resolve();
  private readonly pending: PendingApply[] = [];
  private batchScheduled = false;
  private checkpointing: Promise<CheckpointResult> | undefined;
  private scheduled: NodeJS.Immediate | undefined;
  private closed = false;

  constructor(
    readonly engine: Engine,
    private readonly ownsEngine: boolean,
    readonly channel: string,
    private readonly options: StoreOptions,
    private readonly onEvent: (event: StoreEvent) => void,
  ) {
    this.organizationId = options.organizationId;
    this.checkpointEvery = nonNegative(options.checkpointEvery ?? 1_000, 'checkpointEvery');
    this.checkpointBytes = nonNegative(options.checkpointBytes ?? 16 * 1024 * 1024, 'checkpointBytes');
    this.retentionMs = nonNegative(options.retention?.changesMs ?? 7 * DAY_MS, 'retention.changesMs');
    this.keepCheckpoints = Math.max(1, nonNegative(options.retention?.checkpoints ?? 2, 'retention.checkpoints'));
    this.migrations = options.checkpointMigrations ?? {};
  }

  async init(snapshot: Organization): Promise<InitResult> {
    this.assertOpen();
    if (snapshot.id !== this.organizationId) {
      throw new StoreError('wrong_organization', `the snapshot is of organization ${JSON.stringify(snapshot.id)}, this store's is ${JSON.stringify(this.organizationId)}`);
    }
    const { text, schemaVersion } = checkpointText(snapshot);
    return this.queued(async () => {
      const result = await this.engine.transaction(async (tx): Promise<InitResult> => {
        const inserted = await tx.query(
          `INSERT INTO org_policy.heads (organization_id, revision, checkpoint_revision) VALUES ($1, $2, $2)
           ON CONFLICT (organization_id) DO NOTHING RETURNING revision`,
          [this.organizationId, snapshot.revision],
        );
        if (inserted.length === 0) {
          const head = await requireHead(tx, this.organizationId);
          return { ok: false, error: { code: 'already_initialized', revision: head.revision, message: `organization ${JSON.stringify(this.organizationId)} is already in the database, at revision ${head.revision}` } };
        }
        await insertCheckpoint(tx, this.organizationId, snapshot.revision, schemaVersion, text);
        await tx.query('SELECT pg_notify($1, $2)', [this.channel, notificationPayload(this.organizationId, snapshot.revision)]);
        return { ok: true, revision: snapshot.revision };
      });
      if (result.ok) this.organization = snapshot;
      return result;
    });
  }

  async apply(actor: string, commands: readonly unknown[], options: ApplyOptions = {}): Promise<ApplyResult> {
    this.assertOpen();
    return new Promise<ApplyResult>((resolve, reject) => {
      this.pending.push({ actor, commands, options, resolve, reject });
      this.scheduleBatch();
    });
  }

  /**
   * Group commit: the applies waiting when the write queue gets to them share one transaction — one
   * lock of the head, one COMMIT (one fsync) — each still its own change at its own revision, each
   * acknowledged only after that COMMIT. Under concurrency this multiplies what one writer commits per
   * second; alone, a batch is one apply.
   */
  private scheduleBatch() {
    if (this.batchScheduled) return;
    this.batchScheduled = true;
    void this.queued(async () => {
      this.batchScheduled = false;
      const batch = this.pending.splice(0, MAX_BATCH);
      if (this.pending.length > 0) this.scheduleBatch();
      if (batch.length > 0) await this.applyBatch(batch);
    });
  }

  private async applyBatch(batch: readonly PendingApply[]) {
    try {
      const outcomes = await this.commitBatch(batch);
      outcomes.forEach((outcome, i) => batch[i]!.resolve(outcome));
    } catch (error) {
      // Failed before COMMIT was sent, so nothing of it was written: one bad change must not fail the
      // others, so each is tried alone. A failure at or after COMMIT may have committed: never retried.
      if (batch.length > 1 && error instanceof BeforeCommit) {
        for (const item of batch) await this.applyBatch([item]);
        return;
      }
      const cause = error instanceof BeforeCommit ? error.cause : error;
      for (const item of batch) item.reject(storeErrorOf(cause));
    }
  }

  private async commitBatch(batch: readonly PendingApply[]): Promise<ApplyResult[]> {
    // Loading from a checkpoint is O(organization): done before taking the lock, caught up under it.
    if (this.organization === undefined) this.organization = await this.loadOrganization();
    let due = false;
    let last: Organization | undefined;
    /** The last applied command's result: the policy source of `last`. */
    let source: PolicySource | undefined;
    const outcomes = await this.engine.transaction(async (tx) => {
      try {
        const head = await requireHead(tx, this.organizationId, { forUpdate: true });
        let current = await this.atHead(tx, head);
        // Committed by others (we hold the lock): safe to keep even if this transaction rolls back.
        this.organization = current;
        let bytes = head.bytesSinceCheckpoint;
        const results: ApplyResult[] = [];
        for (const { actor, commands, options } of batch) {
          const result = applyCommands(current, actor, commands, options.now === undefined ? {} : { now: options.now });
          if (!result.ok) {
            await insertAudit(tx, this.organizationId, current.revision, result.events);
            const refused: Refused = { ok: false, error: result.error, index: result.index, revision: current.revision, events: result.events };
            await options.inTransaction?.(tx, refused);
            results.push(refused);
            continue;
          }
          const change = result.change as Change<AuditEvent>;
          if (change.revision !== current.revision + 1 || change.organizationId !== this.organizationId) {
            throw new Error(`applyCommands produced revision ${change.revision} of ${change.organizationId} on ${current.revision}`);
          }
          const text = JSON.stringify(change);
          const size = Buffer.byteLength(text);
          await commitChange(tx, this.organizationId, change.revision, text, size);
          bytes += size;
          current = result.snapshot;
          source = result;
          const applied: Applied = { ok: true, revision: change.revision, change, events: result.events };
          await options.inTransaction?.(tx, applied);
          results.push(applied);
        }
        if (current.revision > head.revision) {
          await tx.query('SELECT pg_notify($1, $2)', [this.channel, notificationPayload(this.organizationId, current.revision)]);
          due = this.isDue({ ...head, bytesSinceCheckpoint: bytes }, current.revision, 0);
          last = current;
        }
        return results;
      } catch (error) {
        throw new BeforeCommit(error);
      }
    });
    if (last !== undefined) {
      this.organization = last;
      this.policySource = source;
    }
    if (due) this.scheduleCheckpoint();
    return outcomes;
  }

  /** The writer's organization brought to the locked head: the missing changes, or a checkpoint if they do not apply. */
  private async atHead(tx: SqlClient, head: Head): Promise<Organization> {
    const current = this.organization!;
    if (current.revision === head.revision) return current;
    if (current.revision < head.revision) {
      let policy = this.policySource?.snapshot === current ? this.policySource.policy : undefined;
      const step = (_: Organization, change: unknown): ChangeResult => {
        try {
          policy = policy!.update(change as Change);
          return { ok: true, organization: policy.organization };
        } catch (error) {
          if (error instanceof ChangeRejectedError) return { ok: false, error: error.error };
          throw error;
        }
      };
      const replayed = await replay(tx, this.organizationId, current, head.revision, undefined, policy === undefined ? undefined : step);
      if (replayed.failure === undefined && replayed.organization.revision === head.revision) {
        if (policy !== undefined) this.policySource = { snapshot: replayed.organization, policy };
        return replayed.organization;
      }
    }
    const loaded = await loadState(tx, this.organizationId, this.migrations, head.revision);
    if (loaded.failure !== undefined || loaded.organization.revision !== head.revision) {
      throw new StoreError('change_log_broken', `the log cannot be brought to its head ${head.revision}: ${describeFailure(loaded.failure, loaded.organization.revision)}`, {
        organizationId: this.organizationId,
        head: head.revision,
        reached: loaded.organization.revision,
      });
    }
    this.onEvent({ type: 'writer_reloaded', reason: current.revision > head.revision ? 'head_behind_writer' : 'changes_did_not_apply', revision: head.revision });
    return loaded.organization;
  }

  private async loadOrganization(): Promise<Organization> {
    const loaded = await loadState(this.engine, this.organizationId, this.migrations);
    // A change that does not apply here is retried under the lock, from the checkpoint, in atHead.
    return loaded.organization;
  }

  private isDue(head: Head, revision: number, size: number): boolean {
    return (this.checkpointEvery > 0 && revision - head.checkpointRevision >= this.checkpointEvery) ||
      (this.checkpointBytes > 0 && head.bytesSinceCheckpoint + size >= this.checkpointBytes);
  }

  private scheduleCheckpoint() {
    if (this.options.autoCheckpoint === false || this.scheduled !== undefined || this.checkpointing !== undefined || this.closed) return;
    // After the acknowledgement: the caller's continuation runs first.
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      this.checkpoint().catch((error: unknown) => this.onEvent({ type: 'problem', context: 'checkpoint', error: error as Error }));
    });
  }

  async checkpoint(options: { readonly force?: boolean } = {}): Promise<CheckpointResult> {
    this.assertOpen();
    if (this.checkpointing !== undefined) return this.checkpointing;
    const running = this.checkpointNow(options.force === true).finally(() => {
      this.checkpointing = undefined;
    });
    this.checkpointing = running;
    return running;
  }

  private async checkpointNow(force: boolean): Promise<CheckpointResult> {
    const head = await requireHead(this.engine, this.organizationId);
    let revision = head.checkpointRevision;
    let written = false;
    let bytes: number | undefined;
    if (force || this.isDue(head, head.revision, 0)) {
      // Catch up without the lock (reads only), in the write queue so it never races a write of this process.
      const organization = await this.queued(async () => {
        if (this.organization === undefined) this.organization = await this.loadOrganization();
        const replayed = await replay(this.engine, this.organizationId, this.organization);
        this.organization = replayed.organization;
        return replayed.organization;
      });
      const started = performance.now();
      const { text, schemaVersion } = checkpointText(organization);
      const serializeMs = performance.now() - started;
      bytes = Buffer.byteLength(text);
      const inserted = await this.engine.transaction(async (tx) => {
        const result = await insertCheckpoint(tx, this.organizationId, organization.revision, schemaVersion, text);
        await tx.query(
          `UPDATE org_policy.heads SET checkpoint_revision = $2,
             bytes_since_checkpoint = (SELECT coalesce(sum(size_bytes), 0) FROM org_policy.changes WHERE organization_id = $1 AND revision > $2)
           WHERE organization_id = $1 AND checkpoint_revision < $2`,
          [this.organizationId, organization.revision],
        );
        return result.inserted;
      });
      written = inserted;
      revision = Math.max(revision, organization.revision);
      if (inserted) this.onEvent({ type: 'checkpoint', revision: organization.revision, bytes, serializeMs });
    }
    const pruned = await this.prune();
    return { written, revision, ...(bytes !== undefined ? { bytes } : {}), pruned };
  }

  /** Changes covered by the latest checkpoint and older than the retention; checkpoints beyond the ones kept. */
  private async prune(): Promise<{ changes: number; checkpoints: number }> {
    const changes = await this.engine.query(
      `DELETE FROM org_policy.changes
        WHERE organization_id = $1
          AND revision <= (SELECT max(revision) FROM org_policy.checkpoints WHERE organization_id = $1)
          AND committed_at < clock_timestamp() - make_interval(secs => $2::float8 / 1000)
        RETURNING revision`,
      [this.organizationId, this.retentionMs],
    );
    const checkpoints = await this.engine.query(
      `DELETE FROM org_policy.checkpoints
        WHERE organization_id = $1
          AND revision < (SELECT revision FROM org_policy.checkpoints WHERE organization_id = $1 ORDER BY revision DESC OFFSET $2 LIMIT 1)
        RETURNING revision`,
      [this.organizationId, this.keepCheckpoints - 1],
    );
    const pruned = { changes: changes.length, checkpoints: checkpoints.length };
    if (pruned.changes > 0 || pruned.checkpoints > 0) this.onEvent({ type: 'pruned', ...pruned });
    return pruned;
  }

  async follow(options: FollowOptions = {}): Promise<Follower> {
    this.assertOpen();
    const follower = await Follower.open({ engine: this.engine, organizationId: this.organizationId, channel: this.channel, migrations: this.migrations }, options);
    this.followers.add(follower);
    follower.once('close', () => this.followers.delete(follower));
    return follower;
  }

  async head() {
    this.assertOpen();
    const head = await readHead(this.engine, this.organizationId);
    return head === undefined ? null : { revision: head.revision, committedAt: head.committedAt };
  }

  async auditLog(options: { readonly limit?: number; readonly cursor?: string | null; readonly order?: 'asc' | 'desc' } = {}): Promise<AuditPage> {
    this.assertOpen();
    const limit = Math.min(Math.max(Math.trunc(options.limit ?? 100), 1), 1_000);
    const descending = options.order === 'desc';
    const cursor = options.cursor ?? null;
    if (cursor !== null && !/^\d{1,19}$/.test(cursor)) throw new StoreError('invalid_options', `not an audit cursor: ${JSON.stringify(cursor)}`);
    const rows = await this.engine.query<{ seq: string | number; revision: string | number; status: string; recorded_at: Date; event: AuditEvent }>(
      `SELECT seq, revision, status, recorded_at, event FROM org_policy.audit
        WHERE organization_id = $1 AND ($2::bigint IS NULL OR seq ${descending ? '<' : '>'} $2::bigint)
        ORDER BY seq ${descending ? 'DESC' : 'ASC'} LIMIT $3`,
      [this.organizationId, cursor, limit + 1],
    );
    const entries = rows.slice(0, limit).map((row) => ({
      cursor: String(row.seq),
      revision: Number(row.revision),
      status: row.status as AuditEntry['status'],
      recordedAt: new Date(row.recorded_at),
      event: row.event,
    }));
    return { entries, nextCursor: rows.length > limit ? entries[entries.length - 1]!.cursor : null };
  }

  async recordAudit(events: readonly AuditEvent[], options: RecordAuditOptions = {}): Promise<{ readonly revision: number }> {
    this.assertOpen();
    return this.queued(() =>
      this.engine.transaction(async (tx) => {
        const head = await requireHead(tx, this.organizationId, { forUpdate: true });
        await options.inTransaction?.(tx, { revision: head.revision });
        await insertAudit(tx, this.organizationId, head.revision, events);
        return { revision: head.revision };
      }).catch((error: unknown) => {
        throw storeErrorOf(error);
      }),
    );
  }

  async *export(): AsyncIterable<string> {
    this.assertOpen();
    yield* exportLines(this.engine, this.organizationId);
  }

  async import(lines: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>): Promise<ImportResult> {
    this.assertOpen();
    return this.queued(() => importLines(this.engine, this.organizationId, this.channel, this.migrations, lines));
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    // Writes accepted before close, including batches the queue chains while it drains.
    for (let tail = this.writes; ; tail = this.writes) {
      await tail;
      if (tail === this.writes) break;
    }
    await this.checkpointing?.catch(() => {});
    await Promise.all([...this.followers].map((follower) => follower.close()));
    if (this.ownsEngine) await this.engine.close();
  }

  private queued<T>(work: () => Promise<T>): Promise<T> {
    const run = this.writes.then(work, work);
    this.writes = run.catch(() => {});
    return run;
  }

  private assertOpen() {
    if (this.closed) throw new StoreError('closed', 'the store is closed');
  }
}

/** Inserts the change and its audit events and moves the head: one statement, inside the head's lock. */
async function commitChange(tx: SqlClient, organizationId: string, revision: number, text: string, size: number) {
  const rows = await tx.query<{ revision: string | number | null }>(
    `WITH change AS (
       INSERT INTO org_policy.changes (organization_id, revision, change, size_bytes) VALUES ($1, $2, $3::jsonb, $4)
       RETURNING change, committed_at
     ), audit AS (
       INSERT INTO org_policy.audit (organization_id, revision, status, event)
       SELECT $1, $2, e.event -> 'result' ->> 'status', e.event
         FROM change, jsonb_array_elements(change.change -> 'events') WITH ORDINALITY AS e(event, n)
        ORDER BY e.n
     ), head AS (
       UPDATE org_policy.heads
          SET revision = $2, committed_at = (SELECT committed_at FROM change), bytes_since_checkpoint = bytes_since_checkpoint + $4
        WHERE organization_id = $1 AND revision = $2 - 1
       RETURNING revision
     )
     SELECT (SELECT revision FROM head) AS revision`,
    [organizationId, revision, text, size],
  );
  // The head moved under us: impossible while we hold its lock, so never commit in that case.
  if (rows[0]?.revision === null || rows[0]?.revision === undefined) throw new Error(`the head of ${organizationId} is not at revision ${revision - 1}`);
}

async function insertAudit(tx: SqlClient, organizationId: string, revision: number, events: readonly AuditEvent[]) {
  if (events.length === 0) return;
  await tx.query(
    `INSERT INTO org_policy.audit (organization_id, revision, status, event)
     SELECT $1, $2, e.event -> 'result' ->> 'status', e.event FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS e(event, n) ORDER BY e.n`,
    [organizationId, revision, JSON.stringify(events)],
  );
}

/** Applies waiting for the write queue. */
interface PendingApply {
  readonly actor: string;
  readonly commands: readonly unknown[];
  readonly options: ApplyOptions;
  readonly resolve: (result: ApplyResult) => void;
  readonly reject: (error: unknown) => void;
}

/** Applies committed together at most: a transaction stays short, the lock is released often. */
const MAX_BATCH = 64;

/** An error inside the transaction, before COMMIT: nothing of it was written. */
class BeforeCommit extends Error {
  constructor(override readonly cause: unknown) {
    super((cause as Error)?.message ?? String(cause));
  }
}

function storeErrorOf(error: unknown): unknown {
  return (error as { code?: unknown }).code === '22P05'
    ? new StoreError('unstorable_change', 'the change holds a character PostgreSQL cannot store in jsonb (U+0000)', {}, { cause: error })
    : error;
}

function describeFailure(failure: { revision: number; reason: string; error?: { message: string } } | undefined, reached: number): string {
  if (failure === undefined) return `replay stopped at ${reached}`;
  return failure.reason === 'gap' ? `revision ${failure.revision} is missing` : `the change of revision ${failure.revision} does not apply (${failure.error?.message ?? ''})`;
}

function nonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new StoreError('invalid_options', `${name} must be a number ≥ 0`);
  return value;
}
