import type { Store, StoreOptions } from '../../src/index.js';

/**
 * Behaviour an engine does not have, declared by its tester. The suite runs a check of the declared
 * behaviour in place of the tests that need what is missing — never a silent skip.
 */
export type EngineException =
  /** One process only: a second process opening the database is refused (PGlite's data-directory lock). */
  'single_process';

export type OpenOptions = Omit<StoreOptions, 'url' | 'dataDir' | 'engine'>;

/** A database of the engine under test, fresh for the tests that use it. */
export interface TestDatabase {
  /** Opens a store of one organization on this database (each call its own store, its own connections). */
  open(options: OpenOptions): Promise<Store>;
  /** Raw SQL on the database, to inspect or damage what the store wrote. */
  sql<R extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  /** Environment for a child process to open this database (`DATABASE_URL` or `DATA_DIR`). */
  readonly processEnv: Record<string, string>;
  close(): Promise<void>;
}

export interface StoreTester {
  readonly name: 'pglite' | 'postgres';
  readonly exceptions: readonly EngineException[];
  /** A new, empty database. */
  database(label: string): Promise<TestDatabase>;
}
