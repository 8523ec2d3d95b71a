import { applyChange, type Organization } from 'org-policy';
import { organizationOfCheckpoint, readLatestCheckpoint, sha256Hex, type SnapshotMigrations } from './checkpoint.js';
import type { Engine, SqlClient } from './engine.js';
import { StoreError } from './errors.js';
import { PAGE_SIZE, requireHead } from './log.js';

/** The first line of an export. */
export const EXPORT_FORMAT = 'org-policy-store-export';
export const EXPORT_VERSION = 1;

export interface ImportResult {
  readonly revision: number;
  readonly checkpointRevision: number;
  readonly changes: number;
  readonly auditEntries: number;
}

/**
 * JSON lines, each ending with `\n`: a header, the latest checkpoint, the changes after it, the whole
 * audit log, and an end line with the counts (so a truncated file is refused on import). The head is
 * read first and nothing past it is written; changes are immutable and the audit log only grows, so no
 * transaction is held open while the caller consumes the lines.
 */
export async function* exportLines(engine: Engine, organizationId: string): AsyncGenerator<string> {
  const head = await requireHead(engine, organizationId);
  const [last] = await engine.query<{ seq: string | number | null }>('SELECT max(seq) AS seq FROM org_policy.audit WHERE organization_id = $1', [organizationId]);
  const lastSeq = last?.seq === null || last?.seq === undefined ? 0 : Number(last.seq);
  const checkpoint = await readLatestCheckpoint(engine, organizationId, head.revision);
  if (checkpoint === undefined) throw new StoreError('export_incomplete', `no checkpoint at or before revision ${head.revision}`);
  yield `${JSON.stringify({ type: 'header', format: EXPORT_FORMAT, version: EXPORT_VERSION, organizationId, revision: head.revision })}\n`;
  yield `{"type":"checkpoint","revision":${checkpoint.revision},"schemaVersion":${checkpoint.schemaVersion},"sha256":${JSON.stringify(checkpoint.sha256)},"snapshot":${checkpoint.text}}\n`;

  let revision = checkpoint.revision;
  let changes = 0;
  while (revision < head.revision) {
    const rows = await engine.query<{ revision: string | number; text: string; committed_at: Date }>(
      `SELECT revision, change::text AS text, committed_at FROM org_policy.changes
        WHERE organization_id = $1 AND revision > $2 AND revision <= $3 ORDER BY revision LIMIT $4`,
      [organizationId, revision, head.revision, PAGE_SIZE],
    );
    if (rows.length === 0) throw new StoreError('export_incomplete', `revision ${revision + 1} was pruned during the export; run it again`);
    for (const row of rows) {
      if (Number(row.revision) !== revision + 1) throw new StoreError('export_incomplete', `revision ${revision + 1} was pruned during the export; run it again`);
      revision += 1;
      changes += 1;
      yield `{"type":"change","revision":${revision},"committedAt":${JSON.stringify(new Date(row.committed_at).toISOString())},"change":${row.text}}\n`;
    }
  }

  let seq = 0;
  let audit = 0;
  while (seq < lastSeq) {
    const rows = await engine.query<{ seq: string | number; revision: string | number; status: string; recorded_at: Date; text: string }>(
      `SELECT seq, revision, status, recorded_at, event::text AS text FROM org_policy.audit
        WHERE organization_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4`,
      [organizationId, seq, lastSeq, PAGE_SIZE],
    );
    if (rows.length === 0) break;
    for (const row of rows) {
      seq = Number(row.seq);
      audit += 1;
      yield `{"type":"audit","revision":${Number(row.revision)},"status":${JSON.stringify(row.status)},"recordedAt":${JSON.stringify(new Date(row.recorded_at).toISOString())},"event":${row.text}}\n`;
    }
  }
  yield `${JSON.stringify({ type: 'end', revision: head.revision, changes, audit })}\n`;
}

type Line =
  | { type: 'header'; format: string; version: number; organizationId: string; revision: number }
  | { type: 'checkpoint'; revision: number; schemaVersion: number; sha256: string; snapshot: unknown }
  | { type: 'change'; revision: number; committedAt: string; change: { revision: number } }
  | { type: 'audit'; revision: number; status: string; recordedAt: string; event: unknown }
  | { type: 'end'; revision: number; changes: number; audit: number };

/**
 * Loads an export into a database that does not hold the organization: in one transaction, every change
 * applied in order (`applyChange`: the chain, the checksums, the entities), the checkpoint's checksum
 * recomputed — all of it, or nothing.
 */
export async function importLines(
  engine: Engine,
  organizationId: string,
  channel: string,
  migrations: SnapshotMigrations,
  input: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
): Promise<ImportResult> {
  if ((await engine.query('SELECT 1 FROM org_policy.heads WHERE organization_id = $1', [organizationId])).length > 0) {
    throw new StoreError('import_not_empty', `the database already holds organization ${JSON.stringify(organizationId)}`, { organizationId });
  }
  return engine.transaction(async (tx) => {
    let lineNumber = 0;
    let stage: 'header' | 'checkpoint' | 'body' | 'done' = 'header';
    let organization: Organization | undefined;
    let checkpointRevision = 0;
    let changes = 0;
    let auditEntries = 0;
    let lastCommittedAt: string | undefined;
    const invalid = (message: string) => new StoreError('import_invalid', `line ${lineNumber}: ${message}`, { line: lineNumber });

    for await (const text of splitLines(input)) {
      lineNumber += 1;
      if (text.trim() === '') continue;
      if (stage === 'done') throw invalid('a line after the end line');
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        throw invalid('not JSON');
      }
      if (stage === 'header') {
        if (line.type !== 'header' || line.format !== EXPORT_FORMAT) throw invalid(`not an ${EXPORT_FORMAT}`);
        if (line.version !== EXPORT_VERSION) throw invalid(`export version ${String(line.version)}; this version reads ${EXPORT_VERSION}`);
        if (line.organizationId !== organizationId) throw new StoreError('wrong_organization', `the export is of organization ${JSON.stringify(line.organizationId)}`, { line: lineNumber });
        stage = 'checkpoint';
      } else if (stage === 'checkpoint') {
        if (line.type !== 'checkpoint') throw invalid('the checkpoint must follow the header');
        const inserted = await tx.query(
          `INSERT INTO org_policy.heads (organization_id, revision, checkpoint_revision) VALUES ($1, $2, $2) ON CONFLICT (organization_id) DO NOTHING RETURNING revision`,
          [organizationId, line.revision],
        );
        if (inserted.length === 0) throw new StoreError('import_not_empty', `the database already holds organization ${JSON.stringify(organizationId)}`, { organizationId });
        const [stored] = await tx.query<{ text: string; sha256: string }>(
          `INSERT INTO org_policy.checkpoints (organization_id, revision, schema_version, snapshot, sha256, size_bytes)
           SELECT $1, $2, $3, s.snapshot, encode(sha256(convert_to(s.snapshot::text, 'UTF8')), 'hex'), octet_length(s.snapshot::text)
             FROM (SELECT $4::jsonb AS snapshot) AS s
           RETURNING snapshot::text AS text, sha256`,
          [organizationId, line.revision, line.schemaVersion, JSON.stringify(line.snapshot)],
        );
        if (stored === undefined || stored.sha256 !== line.sha256) throw invalid('the checkpoint does not match its sha256');
        try {
          organization = organizationOfCheckpoint({ revision: line.revision, schemaVersion: line.schemaVersion, text: stored.text, sha256: sha256Hex(stored.text) }, organizationId, migrations);
        } catch (error) {
          throw invalid((error as Error).message);
        }
        checkpointRevision = line.revision;
        stage = 'body';
      } else if (line.type === 'change') {
        const result = applyChange(organization!, line.change);
        if (!result.ok) throw invalid(`the change of revision ${String(line.change?.revision)} does not apply: ${result.error.message}`);
        organization = result.organization;
        const change = JSON.stringify(line.change);
        await tx.query(
          'INSERT INTO org_policy.changes (organization_id, revision, change, size_bytes, committed_at) VALUES ($1, $2, $3::jsonb, $4, $5)',
          [organizationId, organization.revision, change, Buffer.byteLength(change), line.committedAt],
        );
        lastCommittedAt = line.committedAt;
        changes += 1;
      } else if (line.type === 'audit') {
        await tx.query(
          'INSERT INTO org_policy.audit (organization_id, revision, status, event, recorded_at) VALUES ($1, $2, $3, $4::jsonb, $5)',
          [organizationId, line.revision, line.status, JSON.stringify(line.event), line.recordedAt],
        );
        auditEntries += 1;
      } else if (line.type === 'end') {
        if (line.revision !== organization!.revision || line.changes !== changes || line.audit !== auditEntries) {
          throw invalid(`the end line says revision ${line.revision}, ${line.changes} changes and ${line.audit} audit entries; read ${organization!.revision}, ${changes} and ${auditEntries}`);
        }
        stage = 'done';
      } else {
        throw invalid(`unexpected line of type ${JSON.stringify((line as { type?: unknown }).type)}`);
      }
    }
    if (stage !== 'done') throw new StoreError('import_invalid', 'the export is truncated: no end line', { line: lineNumber });
    const revision = organization!.revision;
    await setHead(tx, organizationId, revision, checkpointRevision, lastCommittedAt);
    await tx.query('SELECT pg_notify($1, $2)', [channel, JSON.stringify({ organizationId, revision })]);
    return { revision, checkpointRevision, changes, auditEntries };
  });
}

async function setHead(tx: SqlClient, organizationId: string, revision: number, checkpointRevision: number, committedAt: string | undefined) {
  await tx.query(
    `UPDATE org_policy.heads SET revision = $2, committed_at = coalesce($3::timestamptz, committed_at),
       bytes_since_checkpoint = (SELECT coalesce(sum(size_bytes), 0) FROM org_policy.changes WHERE organization_id = $1 AND revision > $4)
     WHERE organization_id = $1`,
    [organizationId, revision, committedAt ?? null, checkpointRevision],
  );
}

/**
 * Strings are whole lines (with or without their newline, as `export()` and `readline` give them); bytes
 * are chunks of a file (`createReadStream`), split at newlines — JSON lines never hold a raw newline.
 */
async function* splitLines(input: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of input) {
    if (typeof chunk === 'string') {
      yield* chunk.split('\n');
      continue;
    }
    buffered += decoder.decode(chunk, { stream: true });
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    yield* lines;
  }
  buffered += decoder.decode();
  if (buffered !== '') yield buffered;
}
