import { createHash } from 'node:crypto';
import { parseOrganization, serializeOrganization, type Organization } from 'org-policy';
import type { SqlClient } from './engine.js';
import { StoreError } from './errors.js';

/** The snapshot format version that `parseOrganization` reads (SPEC §6.1). */
export const READABLE_SCHEMA_VERSION = 1;

/**
 * Migrations of checkpoints written in an older `schemaVersion`: `migrations[n]` turns the JSON of
 * version `n` into the JSON of version `n + 1`. A checkpoint with no path to the readable version, or a
 * newer one, is refused with `checkpoint_schema_unsupported` — never parsed as if it were current.
 */
export type SnapshotMigrations = Readonly<Record<number, (snapshot: Record<string, unknown>) => Record<string, unknown>>>;

export interface CheckpointRow {
  readonly revision: number;
  readonly schemaVersion: number;
  /** `snapshot::text`: the JSON as the database holds it. */
  readonly text: string;
  readonly sha256: string;
}

export const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

export async function readLatestCheckpoint(db: SqlClient, organizationId: string, atMost?: number): Promise<CheckpointRow | undefined> {
  const rows = await db.query<{ revision: number | string; schema_version: number; text: string; sha256: string }>(
    `SELECT revision, schema_version, snapshot::text AS text, sha256 FROM org_policy.checkpoints
      WHERE organization_id = $1 AND ($2::bigint IS NULL OR revision <= $2::bigint)
      ORDER BY revision DESC LIMIT 1`,
    [organizationId, atMost ?? null],
  );
  const row = rows[0];
  return row === undefined ? undefined : { revision: Number(row.revision), schemaVersion: Number(row.schema_version), text: row.text, sha256: row.sha256 };
}

/** A checkpoint as an organization: checksum, version (migrated if need be), parse, identity. */
export function organizationOfCheckpoint(row: CheckpointRow, organizationId: string, migrations: SnapshotMigrations = {}): Organization {
  const at = { organizationId, revision: row.revision, schemaVersion: row.schemaVersion };
  if (sha256Hex(row.text) !== row.sha256) throw new StoreError('checkpoint_corrupt', `the checkpoint at revision ${row.revision} does not match its sha256`, at);
  let json = JSON.parse(row.text) as Record<string, unknown>;
  if (json.schemaVersion !== row.schemaVersion) {
    throw new StoreError('checkpoint_corrupt', `the checkpoint at revision ${row.revision} says schemaVersion ${String(json.schemaVersion)} but was stored as ${row.schemaVersion}`, at);
  }
  for (let version = row.schemaVersion; version !== READABLE_SCHEMA_VERSION; version += 1) {
    const migration = version < READABLE_SCHEMA_VERSION ? migrations[version] : undefined;
    if (migration === undefined) {
      throw new StoreError(
        'checkpoint_schema_unsupported',
        version > READABLE_SCHEMA_VERSION
          ? `the checkpoint at revision ${row.revision} is in schemaVersion ${row.schemaVersion}, newer than the ${READABLE_SCHEMA_VERSION} this org-policy reads; upgrade org-policy`
          : `the checkpoint at revision ${row.revision} is in schemaVersion ${row.schemaVersion} and no migration from version ${version} was given (checkpointMigrations)`,
        { ...at, readable: READABLE_SCHEMA_VERSION },
      );
    }
    json = migration(json);
    if (json.schemaVersion !== version + 1) {
      throw new StoreError('checkpoint_schema_unsupported', `the migration from schemaVersion ${version} did not produce version ${version + 1}`, { ...at, readable: READABLE_SCHEMA_VERSION });
    }
  }
  const parsed = parseOrganization(json);
  if (!parsed.ok) {
    throw new StoreError('checkpoint_corrupt', `the checkpoint at revision ${row.revision} is not a valid snapshot: ${parsed.problems[0]?.message ?? ''}`, { ...at, problems: parsed.problems });
  }
  const organization = parsed.organization;
  if (organization.id !== organizationId) {
    throw new StoreError('wrong_organization', `the checkpoint at revision ${row.revision} is of organization ${JSON.stringify(organization.id)}`, at);
  }
  if (organization.revision !== row.revision) {
    throw new StoreError('checkpoint_corrupt', `the checkpoint stored at revision ${row.revision} holds revision ${organization.revision}`, at);
  }
  return organization;
}

/** The JSON of a checkpoint (SPEC §6.1) and its size: a full serialization, O(organization). */
export function checkpointText(organization: Organization): { readonly text: string; readonly schemaVersion: number } {
  const json = serializeOrganization(organization) as { schemaVersion: number };
  return { text: JSON.stringify(json), schemaVersion: json.schemaVersion };
}

/** Inserts a checkpoint (nothing if one is there at that revision); its sha256 is the database's, of `snapshot::text`. */
export async function insertCheckpoint(db: SqlClient, organizationId: string, revision: number, schemaVersion: number, text: string): Promise<{ readonly inserted: boolean; readonly sha256?: string }> {
  const rows = await db.query<{ sha256: string }>(
    `INSERT INTO org_policy.checkpoints (organization_id, revision, schema_version, snapshot, sha256, size_bytes)
     SELECT $1, $2, $3, s.snapshot, encode(sha256(convert_to(s.snapshot::text, 'UTF8')), 'hex'), $5
       FROM (SELECT $4::jsonb AS snapshot) AS s
     ON CONFLICT (organization_id, revision) DO NOTHING
     RETURNING sha256`,
    [organizationId, revision, schemaVersion, text, Buffer.byteLength(text)],
  );
  const row = rows[0];
  return row === undefined ? { inserted: false } : { inserted: true, sha256: row.sha256 };
}
