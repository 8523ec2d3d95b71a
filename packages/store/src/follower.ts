import { EventEmitter } from 'node:events';
import { applyChange, createPolicy, type AuditEvent, type Change, type ChangeError, type Organization, type Policy } from 'org-policy';
import type { SnapshotMigrations } from './checkpoint.js';
import type { Engine, Listening } from './engine.js';
import { StoreError } from './errors.js';
import { loadState, PAGE_SIZE, readChanges, readHead, type LoadedState, type ReplayFailure } from './log.js';

export interface FollowOptions {
  /**
   * The period of the catch-up read that runs whatever the notifications do (default 5,000 ms): the
   * bound on how late a change arrives when its notification is lost. Each tick also checks the
   * listening connection.
   */
  readonly pollIntervalMs?: number;
}

export interface ChangeEvent {
  readonly revision: number;
  readonly change: Change<AuditEvent>;
  readonly previousPolicy: Policy;
  readonly policy: Policy;
}

/** The follower replaced its state from a checkpoint: a gap in the log, a change that did not apply, a head behind it. */
export interface ReloadEvent {
  readonly reason: 'gap' | 'change_failed' | 'head_behind';
  /** The revision that was missing or did not apply, or the head that was behind. */
  readonly at: number;
  readonly error?: ChangeError;
  readonly fromRevision: number;
  readonly toRevision: number;
  readonly previousPolicy: Policy;
  readonly policy: Policy;
}

export type ConnectionEvent = { readonly state: 'lost'; readonly error: Error } | { readonly state: 'listening'; readonly reconnected: boolean };

/** Something the follower could not do, and will retry: it stays at its revision meanwhile. */
export interface ProblemEvent {
  readonly code: 'catch_up_failed' | 'change_log_broken' | 'listener_threw';
  readonly message: string;
  readonly revision: number;
  readonly error?: unknown;
}

export interface FollowerEvents {
  change: [ChangeEvent];
  reload: [ReloadEvent];
  connection: [ConnectionEvent];
  problem: [ProblemEvent];
  close: [];
}

export type WaitResult =
  | { readonly ok: true; readonly revision: number }
  | { readonly ok: false; readonly error: { readonly code: 'timeout' | 'closed'; readonly revision: number; readonly waitedFor: number; readonly message: string } };

export interface Lag {
  readonly revision: number;
  readonly headRevision: number;
  readonly revisionsBehind: number;
  /** Milliseconds since the head was committed (by the database's clock). */
  readonly msSinceHeadCommit: number;
  /** How long the oldest change this follower has not applied has been committed; 0 at the head. */
  readonly lagMs: number;
}

export interface FollowerStats {
  readonly notifications: number;
  readonly catchUps: { readonly notification: number; readonly timer: number; readonly reconnect: number; readonly wait: number; readonly start: number };
  readonly changesApplied: number;
  readonly reloads: number;
  readonly reconnects: number;
}

type CatchUpReason = keyof FollowerStats['catchUps'];

export interface FollowerContext {
  readonly engine: Engine;
  readonly organizationId: string;
  readonly channel: string;
  readonly migrations: SnapshotMigrations;
}

/**
 * A live policy: loaded from the latest checkpoint and the changes after it, then kept at the head by
 * catch-up reads (`revision > current`, in order) on every notification, on a timer, and after every
 * reconnect — a lost notification or a dropped connection delays a change, never skips one. A gap or
 * a change that does not apply reloads it from a checkpoint (a `reload` event). It never holds a
 * transaction open: the listening connection only listens, the reads are single statements.
 */
export class Follower extends EventEmitter<FollowerEvents> {
  private state: { organization: Organization; policy: Policy };
  private listening: Listening | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closing = false;
  private closed: Promise<void> | undefined;
  /** A revision whose failure already caused a reload: not reloaded for again until it is passed. */
  private reloadedFor: number | undefined;
  private readonly waiters = new Set<{ revision: number; resolve: (result: WaitResult) => void; timer: NodeJS.Timeout }>();
  private readonly counters = { notifications: 0, changesApplied: 0, reloads: 0, reconnects: 0, catchUps: { notification: 0, timer: 0, reconnect: 0, wait: 0, start: 0 } };

  private constructor(
    private readonly context: FollowerContext,
    private readonly pollIntervalMs: number,
    loaded: LoadedState,
  ) {
    super();
    this.state = { organization: loaded.organization, policy: createPolicy(loaded.organization) };
    if (loaded.failure !== undefined) this.reloadedFor = loaded.failure.revision;
  }

  /** Listens first, then loads, so nothing committed meanwhile goes unnoticed; then catches up once. */
  static async open(context: FollowerContext, options: FollowOptions = {}): Promise<Follower> {
    const pollIntervalMs = options.pollIntervalMs ?? 5_000;
    if (!Number.isFinite(pollIntervalMs) || pollIntervalMs < 10) throw new StoreError('invalid_options', 'pollIntervalMs must be at least 10');
    let follower: Follower | undefined;
    let early = false;
    const listening = await context.engine.listen(context.channel, {
      onNotification: (payload) => (follower === undefined ? (early = true) : follower.notified(payload)),
      onListening: ({ reconnected }) => follower?.listeningAgain(reconnected),
      onConnectionLost: (error) => follower?.emitSafely('connection', { state: 'lost', error }),
    });
    try {
      const loaded = await loadState(context.engine, context.organizationId, context.migrations);
      follower = new Follower(context, pollIntervalMs, loaded);
    } catch (error) {
      await listening.close();
      throw error;
    }
    follower.listening = listening;
    follower.timer = setInterval(() => follower.tick(), pollIntervalMs);
    follower.timer.unref();
    if (early) follower.counters.notifications += 1;
    await follower.catchUp('start');
    return follower;
  }

  get policy(): Policy {
    return this.state.policy;
  }

  get organization(): Organization {
    return this.state.organization;
  }

  get revision(): number {
    return this.state.organization.revision;
  }

  stats(): FollowerStats {
    return { ...this.counters, catchUps: { ...this.counters.catchUps } };
  }

  /** Resolves once the follower holds at least `revision` (read-your-writes), or with a typed timeout. */
  waitFor(revision: number, options: { readonly timeoutMs?: number } = {}): Promise<WaitResult> {
    if (!Number.isSafeInteger(revision) || revision < 0) return Promise.reject(new StoreError('invalid_options', `waitFor needs a revision, not ${String(revision)}`));
    if (this.revision >= revision) return Promise.resolve({ ok: true, revision: this.revision });
    const timeoutMs = options.timeoutMs ?? 5_000;
    if (this.closing) return Promise.resolve(this.waitFailure('closed', revision, timeoutMs));
    return new Promise((resolve) => {
      const waiter = {
        revision,
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          resolve(this.waitFailure('timeout', revision, timeoutMs));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
      // The caller knows the revision exists: read now rather than wait for its notification.
      void this.catchUp('wait');
    });
  }

  async lag(): Promise<Lag> {
    const revision = this.revision;
    const rows = await this.context.engine.query<{ revision: string | number; since_head_ms: number; since_next_ms: number | null }>(
      `SELECT h.revision,
              (extract(epoch FROM clock_timestamp() - h.committed_at) * 1000)::float8 AS since_head_ms,
              (SELECT (extract(epoch FROM clock_timestamp() - c.committed_at) * 1000)::float8 FROM org_policy.changes c
                WHERE c.organization_id = h.organization_id AND c.revision = $2::bigint + 1) AS since_next_ms
         FROM org_policy.heads h WHERE h.organization_id = $1`,
      [this.context.organizationId, revision],
    );
    const row = rows[0];
    const headRevision = row === undefined ? revision : Number(row.revision);
    const behind = Math.max(0, headRevision - revision);
    const sinceHead = Math.max(0, Number(row?.since_head_ms ?? 0));
    return { revision, headRevision, revisionsBehind: behind, msSinceHeadCommit: sinceHead, lagMs: behind === 0 ? 0 : Math.max(0, Number(row?.since_next_ms ?? sinceHead)) };
  }

  /** Stops listening and the timer, lets the change being applied finish, and answers pending waits with `closed`. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing = true;
      if (this.timer !== undefined) clearInterval(this.timer);
      await this.listening?.close();
      await this.running;
      for (const waiter of this.waiters) {
        clearTimeout(waiter.timer);
        waiter.resolve(this.waitFailure('closed', waiter.revision, 0));
      }
      this.waiters.clear();
      this.emitSafely('close');
    })();
    return this.closed;
  }

  private notified(payload: string) {
    this.counters.notifications += 1;
    const revision = notifiedRevision(payload);
    if (revision !== undefined && revision <= this.revision) return;
    void this.catchUp('notification');
  }

  private listeningAgain(reconnected: boolean) {
    this.emitSafely('connection', { state: 'listening', reconnected });
    if (!reconnected) return;
    this.counters.reconnects += 1;
    // Whatever was committed while nobody listened.
    void this.catchUp('reconnect');
  }

  private tick() {
    void this.listening?.check();
    void this.catchUp('timer');
  }

  /** One catch-up at a time; a request while one runs makes it run once more. Never rejects. */
  private catchUp(reason: CatchUpReason): Promise<void> {
    if (this.closing) return Promise.resolve();
    this.counters.catchUps[reason] += 1;
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    const run = (async () => {
      try {
        do {
          this.again = false;
          await this.pull(reason === 'timer');
        } while (this.again && !this.closing);
      } catch (error) {
        this.emitSafely('problem', { code: 'catch_up_failed', message: (error as Error).message, revision: this.revision, error });
      } finally {
        this.running = undefined;
      }
    })();
    this.running = run;
    return run;
  }

  private async pull(checkHead: boolean) {
    const { engine, organizationId } = this.context;
    if (checkHead) {
      // A head behind this follower: the database was restored to an earlier point. Follow it.
      const head = await readHead(engine, organizationId);
      if (head !== undefined && head.revision < this.revision) return this.reload({ revision: head.revision, reason: 'head_behind' });
    }
    for (;;) {
      const rows = await readChanges(engine, organizationId, this.revision, PAGE_SIZE);
      for (const row of rows) {
        if (this.closing) return;
        const expected = this.revision + 1;
        if (row.revision !== expected) return this.reloadOnce({ revision: expected, reason: 'gap' });
        const applied = applyChange(this.state.organization, row.change);
        if (!applied.ok) return this.reloadOnce({ revision: row.revision, reason: 'change_failed', error: applied.error });
        const change = row.change as Change<AuditEvent>;
        const previousPolicy = this.state.policy;
        const policy = this.nextPolicy(previousPolicy, change, applied.organization);
        this.state = { organization: applied.organization, policy };
        this.counters.changesApplied += 1;
        if (this.reloadedFor !== undefined && this.revision >= this.reloadedFor) this.reloadedFor = undefined;
        this.settleWaiters();
        this.emitSafely('change', { revision: row.revision, change, previousPolicy, policy });
      }
      if (rows.length < PAGE_SIZE) return;
    }
  }

  /** `policy.update`, or a full build if it ever throws (a bug): the follower must not stall on a change it applied. */
  private nextPolicy(previous: Policy, change: Change<AuditEvent>, organization: Organization): Policy {
    try {
      return previous.update(change);
    } catch (error) {
      this.emitSafely('problem', { code: 'catch_up_failed', message: `policy.update threw at revision ${change.revision}; built the policy whole`, revision: previous.revision, error });
      return createPolicy(organization);
    }
  }

  /** A failure at a revision reloads once; until that revision is passed it is reported, not reloaded for again. */
  private async reloadOnce(failure: ReplayFailure | { revision: number; reason: 'head_behind' }) {
    if (this.reloadedFor === failure.revision) return;
    this.reloadedFor = failure.revision;
    await this.reload(failure);
  }

  private async reload(failure: ReplayFailure | { revision: number; reason: 'head_behind' }) {
    const { engine, organizationId, migrations } = this.context;
    const loaded = await loadState(engine, organizationId, migrations);
    if (this.closing) return;
    // Never step back on a log that is merely broken further on; only a head behind us moves us back.
    if (failure.reason !== 'head_behind' && loaded.organization.revision < this.revision) {
      this.emitSafely('problem', { code: 'change_log_broken', message: `revision ${failure.revision} cannot be applied, even from the latest checkpoint`, revision: this.revision });
      return;
    }
    const previousPolicy = this.state.policy;
    const fromRevision = this.revision;
    const policy = createPolicy(loaded.organization);
    this.state = { organization: loaded.organization, policy };
    this.counters.reloads += 1;
    if (loaded.failure !== undefined) {
      this.reloadedFor = loaded.failure.revision;
      this.emitSafely('problem', { code: 'change_log_broken', message: `revision ${loaded.failure.revision} cannot be applied, even from the latest checkpoint`, revision: this.revision });
    }
    this.settleWaiters();
    this.emitSafely('reload', {
      reason: failure.reason,
      at: failure.revision,
      ...('error' in failure && failure.error !== undefined ? { error: failure.error } : {}),
      fromRevision,
      toRevision: this.revision,
      previousPolicy,
      policy,
    });
  }

  private settleWaiters() {
    for (const waiter of this.waiters) {
      if (waiter.revision > this.revision) continue;
      clearTimeout(waiter.timer);
      this.waiters.delete(waiter);
      waiter.resolve({ ok: true, revision: this.revision });
    }
  }

  private waitFailure(code: 'timeout' | 'closed', waitedFor: number, timeoutMs: number): WaitResult {
    const message = code === 'timeout' ? `revision ${waitedFor} did not arrive within ${timeoutMs} ms (at ${this.revision})` : 'the follower is closed';
    return { ok: false, error: { code, revision: this.revision, waitedFor, message } };
  }

  /** A listener that throws must not stop the follower. */
  private emitSafely<K extends keyof FollowerEvents>(event: K, ...args: FollowerEvents[K]) {
    try {
      (this.emit as (event: K, ...args: FollowerEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      if (event === 'problem') return;
      this.emitSafely('problem', { code: 'listener_threw', message: `a '${String(event)}' listener threw: ${(error as Error).message}`, revision: this.revision, error });
    }
  }
}

function notifiedRevision(payload: string): number | undefined {
  try {
    const value = (JSON.parse(payload) as { revision?: unknown }).revision;
    return typeof value === 'number' ? value : undefined;
  } catch {
    return undefined;
  }
}
