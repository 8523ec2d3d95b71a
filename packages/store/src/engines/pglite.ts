import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { CHANNEL_PATTERN, type Engine, type ListenHandlers, type Listening, type Row, type SqlClient } from '../engine.js';
import { StoreError } from '../errors.js';
import { lockDataDirectory, type DataDirectoryLock } from './lock-file.js';

export interface PgliteEngineOptions {
  /** A data directory (created if missing, locked while open), or `memory://` (the default) for an in-memory database. */
  readonly dataDir?: string;
  /** Your own PGlite instance instead (it is neither locked nor closed by the store). */
  readonly db?: PGlite;
}

/**
 * PGlite: PostgreSQL in WebAssembly, in this process. One connection, so transactions run one at a time;
 * `LISTEN/NOTIFY` is delivered in-process (after COMMIT, never on ROLLBACK). Single-process: the data
 * directory is locked against every other opener, so two processes never write one directory.
 */
export async function pgliteEngine(options: PgliteEngineOptions = {}): Promise<Engine> {
  let lock: DataDirectoryLock | undefined;
  let db = options.db;
  if (db === undefined) {
    const dataDir = options.dataDir ?? 'memory://';
    if (!dataDir.includes('://')) {
      mkdirSync(dataDir, { recursive: true });
      lock = lockDataDirectory(dataDir);
    }
    try {
      db = await PGlite.create(dataDir);
    } catch (error) {
      lock?.release();
      throw error;
    }
  }
  const instance = db;
  const owns = options.db === undefined;
  const listenings = new Set<() => Promise<void>>();
  let closed = false;

  const asClient = (target: Pick<PGlite, 'query'>): SqlClient => ({
    async query<R extends Row = Row>(text: string, params?: readonly unknown[]) {
      const result = await target.query<R>(text, params as unknown[] | undefined);
      return result.rows;
    },
  });

  return {
    kind: 'pglite',
    multiProcess: false,
    query: (text, params) => asClient(instance).query(text, params),
    transaction: (work) => instance.transaction((tx) => work(asClient(tx))),

    async listen(channel: string, handlers: ListenHandlers): Promise<Listening> {
      if (!CHANNEL_PATTERN.test(channel)) throw new StoreError('invalid_options', `not a channel name: ${JSON.stringify(channel)}`);
      const unlisten = await instance.listen(channel, (payload) => handlers.onNotification(payload));
      const close = async () => {
        if (!listenings.delete(close)) return;
        if (!instance.closed) await unlisten();
      };
      listenings.add(close);
      handlers.onListening?.({ reconnected: false });
      // In-process: there is no connection to lose.
      return { check: async () => {}, close };
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...listenings].map((close) => close()));
      try {
        if (owns) await instance.close();
      } finally {
        lock?.release();
      }
    },
  };
}
