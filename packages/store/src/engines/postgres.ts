import pg from 'pg';
import { CHANNEL_PATTERN, type Engine, type ListenHandlers, type Listening, type Row, type SqlClient } from '../engine.js';
import { StoreError } from '../errors.js';

export interface PostgresEngineOptions {
  /** A `postgres://` URL. Give this or `pool`. */
  readonly connectionString?: string;
  /** Your own pool (it is not ended by `close()`). Listening connections need `connectionString` or this pool's options. */
  readonly pool?: pg.Pool;
  /** Connections in the pool of this process (writes and catch-up reads); default 4. Each follower adds one listening connection. */
  readonly poolSize?: number;
  /** `application_name` of the pool's connections; listening connections get `<name>:listen`. */
  readonly applicationName?: string;
  /** Backoff between reconnects of a listening connection: doubles from `initialMs` up to `maxMs` (defaults 100 and 5,000). */
  readonly reconnect?: { readonly initialMs?: number; readonly maxMs?: number };
  /** Errors the engine recovered from (an idle pooled connection that died, a listener reconnecting). */
  readonly onProblem?: (error: Error) => void;
}

/**
 * PostgreSQL through node-postgres: a `Pool` for transactions and reads, and one dedicated `Client` per
 * listener, never in a transaction (a listener that holds one would stop the server's notification
 * queue from draining). It must be a direct or session-pooled connection: a transaction-pooling proxy
 * (PgBouncer `pool_mode = transaction`) does not deliver notifications.
 */
export function postgresEngine(options: PostgresEngineOptions): Engine {
  const applicationName = options.applicationName ?? 'org-policy-store';
  const clientConfig: pg.ClientConfig = options.connectionString !== undefined
    ? { connectionString: options.connectionString }
    : ((options.pool as unknown as { options?: pg.ClientConfig } | undefined)?.options ?? {});
  if (options.connectionString === undefined && options.pool === undefined) {
    throw new StoreError('invalid_options', 'postgresEngine needs a connectionString or a pool');
  }
  const ownsPool = options.pool === undefined;
  const pool = options.pool ?? new pg.Pool({ ...clientConfig, max: options.poolSize ?? 4, application_name: applicationName, keepAlive: true });
  const onProblem = options.onProblem ?? (() => {});
  // An idle pooled connection that dies (a restart, pg_terminate_backend) is dropped by the pool; without
  // a listener its 'error' would crash the process.
  if (ownsPool) pool.on('error', (error) => onProblem(error));
  const listenings = new Set<Listening>();
  let closed = false;

  const asClient = (client: pg.Pool | pg.PoolClient): SqlClient => ({
    async query<R extends Row = Row>(text: string, params?: readonly unknown[]) {
      const result = await client.query<R>(text, params as unknown[] | undefined);
      return result.rows;
    },
  });

  return {
    kind: 'postgres',
    multiProcess: true,
    query: (text, params) => asClient(pool).query(text, params),

    async transaction<T>(work: (client: SqlClient) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await work(asClient(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          broken = rollbackError as Error;
        }
        throw error;
      } finally {
        client.release(broken);
      }
    },

    async listen(channel: string, handlers: ListenHandlers): Promise<Listening> {
      if (!CHANNEL_PATTERN.test(channel)) throw new StoreError('invalid_options', `not a channel name: ${JSON.stringify(channel)}`);
      const listening = listenOn({ ...clientConfig, application_name: `${applicationName}:listen`, keepAlive: true }, channel, handlers, options.reconnect ?? {}, onProblem);
      await listening.started;
      listenings.add(listening);
      const close = listening.close;
      return {
        check: listening.check,
        close: async () => {
          listenings.delete(listening);
          await close();
        },
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...listenings].map((listening) => listening.close()));
      if (ownsPool) await pool.end();
    },
  };
}

/** One listening connection, replaced by a new one (LISTEN again) whenever it fails or ends. */
function listenOn(
  config: pg.ClientConfig,
  channel: string,
  handlers: ListenHandlers,
  backoff: { readonly initialMs?: number; readonly maxMs?: number },
  onProblem: (error: Error) => void,
): Listening & { started: Promise<void> } {
  const initialMs = backoff.initialMs ?? 100;
  const maxMs = backoff.maxMs ?? 5_000;
  let current: pg.Client | undefined;
  let closed = false;
  let attempt = 0;
  let retry: NodeJS.Timeout | undefined;

  const connect = async (reconnected: boolean) => {
    const client = new pg.Client(config);
    client.on('notification', (message) => {
      if (client === current && message.channel === channel) handlers.onNotification(message.payload ?? '');
    });
    client.on('error', (error) => lost(client, error));
    client.on('end', () => lost(client, new Error('the listening connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${channel}`);
    } catch (error) {
      client.end().catch(() => {});
      throw error;
    }
    if (closed) {
      await client.end().catch(() => {});
      return;
    }
    current = client;
    attempt = 0;
    handlers.onListening?.({ reconnected });
  };

  const lost = (client: pg.Client, error: Error) => {
    if (client !== current || closed) return;
    current = undefined;
    client.end().catch(() => {});
    onProblem(error);
    handlers.onConnectionLost?.(error);
    schedule();
  };

  const schedule = () => {
    if (closed || retry !== undefined) return;
    const delay = Math.min(maxMs, initialMs * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt += 1;
    retry = setTimeout(() => {
      retry = undefined;
      connect(true).catch((error: Error) => {
        onProblem(error);
        schedule();
      });
    }, delay);
  };

  return {
    started: connect(false),
    async check() {
      const client = current;
      if (client === undefined || closed) return;
      try {
        await client.query('SELECT 1');
      } catch (error) {
        lost(client, error as Error);
      }
    },
    async close() {
      closed = true;
      if (retry !== undefined) clearTimeout(retry);
      retry = undefined;
      const client = current;
      current = undefined;
      if (client !== undefined) await client.end().catch(() => {});
    },
  };
}
