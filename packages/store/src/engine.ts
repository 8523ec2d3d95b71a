/**
 * The one interface both engines implement (PostgreSQL through `pg`, PGlite in-process). The store speaks
 * plain PostgreSQL through it; what differs between engines is how a connection is held and how a
 * notification arrives.
 */
export type Row = Record<string, unknown>;

export interface SqlClient {
  /** One statement, `$1`-style parameters; the rows it returns. */
  query<R extends Row = Row>(text: string, params?: readonly unknown[]): Promise<R[]>;
}

export interface ListenHandlers {
  /** A NOTIFY on the channel; at most once, and only while a connection is listening. */
  onNotification(payload: string): void;
  /** LISTEN is in place: after the first connection, and again after every reconnect. */
  onListening?(event: { readonly reconnected: boolean }): void;
  /** The listening connection was lost; the engine is reconnecting. */
  onConnectionLost?(error: Error): void;
}

export interface Listening {
  /** Checks that the listening connection is alive (a round trip), reconnecting if it is not. */
  check(): Promise<void>;
  /** Stops listening and closes the listening connection. */
  close(): Promise<void>;
}

export interface Engine extends SqlClient {
  readonly kind: 'postgres' | 'pglite';
  /**
   * Whether several processes may open the same database. PGlite is single-process: one process holds
   * its data directory, and notifications reach listeners of that process only.
   */
  readonly multiProcess: boolean;
  /** Runs `work` in one transaction on one dedicated connection: COMMIT if it resolves, ROLLBACK if it throws. */
  transaction<T>(work: (client: SqlClient) => Promise<T>): Promise<T>;
  /** LISTEN on `channel` (a lowercase SQL identifier), on a connection of its own that holds no transaction. */
  listen(channel: string, handlers: ListenHandlers): Promise<Listening>;
  /** Closes what the engine opened. */
  close(): Promise<void>;
}

/** A channel name both engines accept unquoted. */
export const CHANNEL_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
