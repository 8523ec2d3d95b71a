/**
 * Storage of the Admin API example: one organization snapshot with its revision, an append-only audit
 * log and the SHA-256 hashes of admin keys. The interface is small so any backend can stand behind it;
 * this one is PGlite (PostgreSQL in WebAssembly) and its SQL is plain PostgreSQL, so several instances
 * could share one PostgreSQL server unchanged.
 */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { AuditEvent } from 'org-policy';

export interface StoredSnapshot {
  /** `serializeOrganization` output: the JSON of SPEC §6.1. */
  readonly snapshot: unknown;
  readonly revision: number;
}

export interface AdminStorage {
  /** The stored snapshot, or `null` before the first seed. */
  load(): Promise<StoredSnapshot | null>;
  /** First start only: stores the snapshot and the key hashes unless a snapshot is already there. */
  seed(snapshot: unknown, revision: number, keys: readonly { readonly hash: string; readonly actor: string }[]): Promise<boolean>;
  /**
   * SPEC §5 "serializes commands on revision": writes `next` and appends its audit event in one
   * transaction only if the stored revision is still `expectedRevision`; `false` on a lost race.
   */
  commit(expectedRevision: number, next: StoredSnapshot, event: AuditEvent): Promise<boolean>;
  /** Appends the audit event of a refused command. */
  appendAudit(event: AuditEvent): Promise<void>;
  /** The audit log in append order. */
  auditLog(): Promise<AuditEvent[]>;
  /** The actor (a member id) an admin key's SHA-256 hash stands for. */
  actorForKeyHash(hash: string): Promise<string | null>;
  close(): Promise<void>;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS organization_snapshot (
  singleton  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
  revision   INTEGER NOT NULL,
  snapshot   JSONB   NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS audit_log (
  seq         BIGSERIAL PRIMARY KEY,
  event       JSONB NOT NULL,
  recorded_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS admin_keys (
  key_sha256 TEXT PRIMARY KEY,
  actor      TEXT NOT NULL
);
`;

/** Opens (or creates) the database in `dataDir`; `memory://` keeps it in memory. */
export async function openPgliteStorage(dataDir: string): Promise<AdminStorage> {
  if (!dataDir.includes('://')) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  await db.exec(SCHEMA);

  return {
    async load() {
      const { rows } = await db.query<{ revision: number; snapshot: unknown }>('SELECT revision, snapshot FROM organization_snapshot');
      const row = rows[0];
      return row === undefined ? null : { revision: row.revision, snapshot: row.snapshot };
    },

    async seed(snapshot, revision, keys) {
      return db.transaction(async (tx) => {
        const inserted = await tx.query(
          'INSERT INTO organization_snapshot (revision, snapshot) VALUES ($1, $2) ON CONFLICT (singleton) DO NOTHING',
          [revision, JSON.stringify(snapshot)],
        );
        if (inserted.affectedRows !== 1) return false;
        for (const key of keys) await tx.query('INSERT INTO admin_keys (key_sha256, actor) VALUES ($1, $2)', [key.hash, key.actor]);
        return true;
      });
    },

    async commit(expectedRevision, next, event) {
      return db.transaction(async (tx) => {
        const updated = await tx.query(
          'UPDATE organization_snapshot SET revision = $1, snapshot = $2, updated_at = now() WHERE revision = $3',
          [next.revision, JSON.stringify(next.snapshot), expectedRevision],
        );
        if (updated.affectedRows !== 1) return false;
        await tx.query('INSERT INTO audit_log (event) VALUES ($1)', [JSON.stringify(event)]);
        return true;
      });
    },

    async appendAudit(event) {
      await db.query('INSERT INTO audit_log (event) VALUES ($1)', [JSON.stringify(event)]);
    },

    async auditLog() {
      const { rows } = await db.query<{ event: AuditEvent }>('SELECT event FROM audit_log ORDER BY seq');
      return rows.map((row) => row.event);
    },

    async actorForKeyHash(hash) {
      const { rows } = await db.query<{ actor: string }>('SELECT actor FROM admin_keys WHERE key_sha256 = $1', [hash]);
      return rows[0]?.actor ?? null;
    },

    async close() {
      await db.close();
    },
  };
}
