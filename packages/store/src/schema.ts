import type { Engine } from './engine.js';
import { StoreError } from './errors.js';

/**
 * The store's tables, in the PostgreSQL schema `org_policy`, created by numbered migrations that are
 * applied on open, once, in order, under an advisory lock (so processes opening a new database together
 * do not race). A database migrated by a newer version of this package is refused, never guessed at.
 */
export const MIGRATIONS: readonly { readonly version: number; readonly name: string; readonly statements: readonly string[] }[] = [
  {
    version: 1,
    name: 'heads, changes, checkpoints, audit',
    statements: [
      // One row per organization: its head, the row every write locks (SELECT … FOR UPDATE).
      `CREATE TABLE org_policy.heads (
        organization_id        text PRIMARY KEY,
        revision               bigint NOT NULL CHECK (revision >= 0),
        committed_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
        checkpoint_revision    bigint NOT NULL,
        bytes_since_checkpoint bigint NOT NULL DEFAULT 0
      )`,
      // The log: one row per change (SPEC §8), its revision unique per organization.
      `CREATE TABLE org_policy.changes (
        organization_id text NOT NULL REFERENCES org_policy.heads (organization_id),
        revision        bigint NOT NULL,
        change          jsonb NOT NULL,
        size_bytes      integer NOT NULL,
        committed_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (organization_id, revision),
        CHECK (change ->> 'organizationId' = organization_id AND (change ->> 'revision')::bigint = revision)
      )`,
      // Full snapshots (serializeOrganization) at a revision; sha256 of snapshot::text, computed by the database.
      `CREATE TABLE org_policy.checkpoints (
        organization_id text NOT NULL REFERENCES org_policy.heads (organization_id),
        revision        bigint NOT NULL,
        schema_version  integer NOT NULL,
        snapshot        jsonb NOT NULL,
        sha256          text NOT NULL,
        size_bytes      bigint NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (organization_id, revision)
      )`,
      // Every command's audit event, applied or refused, in the order they were decided.
      `CREATE TABLE org_policy.audit (
        organization_id text NOT NULL REFERENCES org_policy.heads (organization_id),
        seq             bigint GENERATED ALWAYS AS IDENTITY,
        revision        bigint NOT NULL,
        status          text NOT NULL,
        event           jsonb NOT NULL,
        recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (organization_id, seq)
      )`,
    ],
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Any fixed 64-bit key: the advisory lock that serializes migrations across processes. */
const MIGRATION_LOCK = 0x6f72_6770_6f6c_6d67n;

/** Brings the database to this package's schema; a no-op (one read, no DDL) when it is there already. */
export async function migrate(engine: Engine): Promise<{ readonly applied: readonly number[] }> {
  if ((await currentVersion(engine)) === SCHEMA_VERSION) return { applied: [] };
  return engine.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
    await tx.query('CREATE SCHEMA IF NOT EXISTS org_policy');
    await tx.query(`CREATE TABLE IF NOT EXISTS org_policy.migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT clock_timestamp()
    )`);
    const rows = await tx.query<{ version: number }>('SELECT version FROM org_policy.migrations ORDER BY version');
    const done = new Set(rows.map((row) => Number(row.version)));
    refuseNewer(done);
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue;
      for (const statement of migration.statements) await tx.query(statement);
      await tx.query('INSERT INTO org_policy.migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      applied.push(migration.version);
    }
    return { applied };
  });
}

async function currentVersion(engine: Engine): Promise<number | undefined> {
  const [exists] = await engine.query<{ present: boolean }>(`SELECT to_regclass('org_policy.migrations') IS NOT NULL AS present`);
  if (exists?.present !== true) return undefined;
  const rows = await engine.query<{ version: number }>('SELECT version FROM org_policy.migrations');
  const versions = new Set(rows.map((row) => Number(row.version)));
  refuseNewer(versions);
  return MIGRATIONS.every((migration) => versions.has(migration.version)) ? SCHEMA_VERSION : undefined;
}

function refuseNewer(versions: ReadonlySet<number>) {
  const unknown = [...versions].filter((version) => !MIGRATIONS.some((migration) => migration.version === version));
  if (unknown.length > 0) {
    throw new StoreError(
      'database_schema_too_new',
      `the database's org_policy schema has migration ${Math.max(...unknown)}, which this version of @org-policy/store (schema ${SCHEMA_VERSION}) does not know; upgrade the package`,
      { versions: [...versions].sort((a, b) => a - b), known: SCHEMA_VERSION },
    );
  }
}
