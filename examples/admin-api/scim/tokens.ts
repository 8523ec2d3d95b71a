/**
 * SCIM bearer tokens: issued and revoked through the Admin API, each acting as one member (SPEC §9.3, as
 * admin keys do). Only a token's SHA-256 is stored, in a table of this service's own in the store's
 * database (`org_policy_scim.tokens`), created idempotently on open; the secret is shown once.
 * Issuing, revoking and the bootstrap token are audited in the store's audit log, each in the
 * transaction that writes its row, under the head's lock (`store.recordAudit`): a token is issued on the
 * organization at that head, so no removal of its member can slip between the check and the row.
 * Removing the member revokes its tokens in the transaction of the change that removed it, so a later
 * member with the same id inherits nothing.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { ApplyResult, SqlClient, Store } from '@org-policy/store';
import type { AuditEvent } from 'org-policy';

export interface ScimToken {
  readonly tokenId: string;
  /** The member the token acts as: its roles authorize every change, and the audit log names it. */
  readonly memberId: string;
  readonly name: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly revokedAt: string | null;
  readonly revokedBy: string | null;
}

/** An operation of this service in the store's audit log (`command: null`), as the Admin API records its own. */
export interface ScimAuditEvent extends AuditEvent {
  readonly operation: 'issueScimToken' | 'revokeScimToken' | 'bootstrapScimToken';
  readonly scimTokenId: string;
}

/** The head moved past the revision a decision was made at: decide again on the new one. */
export class HeadMoved extends Error {}

export interface ScimTokens {
  /**
   * A new token acting as `memberId`, decided on the organization at `revision`: the secret is in this
   * answer only. Rejects with `HeadMoved` when another change committed since.
   */
  issue(options: { readonly memberId: string; readonly name: string; readonly createdBy: string; readonly now: string; readonly revision: number }): Promise<{ readonly secret: string; readonly token: ScimToken }>;
  /**
   * `ORG_POLICY_SCIM_BOOTSTRAP_TOKEN`: stored as a token acting as `memberId` if this organization never had
   * a token (the service's first start); whether it was. Rejects with `HeadMoved` as `issue` does.
   */
  seedBootstrap(options: { readonly secret: string; readonly memberId: string; readonly now: string; readonly revision: number }): Promise<boolean>;
  /** The live token a secret stands for, or `null` (unknown or revoked). */
  verify(secret: string): Promise<ScimToken | null>;
  list(): Promise<ScimToken[]>;
  get(tokenId: string): Promise<ScimToken | null>;
  /** Revokes a token; `null` when there is no such token. Revoking twice keeps the first revocation. */
  revoke(tokenId: string, options: { readonly by: string; readonly now: string; readonly revision: number }): Promise<ScimToken | null>;
  /** For `store.apply`'s `inTransaction`: the tokens of the members a committed change removed are revoked with it. */
  revokeForRemovedMembers(tx: SqlClient, result: ApplyResult, now: string): Promise<void>;
}

/** At least 128 bits as hex (32 digits) or more: a bootstrap secret shorter than this is refused. */
export const MIN_SECRET_LENGTH = 32;
const TOKEN_PREFIX = 'scim_';
/** Serializes the schema's creation across processes opening one database at once. */
const SCHEMA_LOCK = 7_305_420_114;

const SCHEMA = [
  'CREATE SCHEMA IF NOT EXISTS org_policy_scim',
  `CREATE TABLE IF NOT EXISTS org_policy_scim.tokens (
     organization_id TEXT NOT NULL,
     token_id        TEXT NOT NULL,
     sha256          TEXT NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
     member_id       TEXT NOT NULL,
     name            TEXT NOT NULL,
     created_at      TIMESTAMPTZ NOT NULL,
     created_by      TEXT NOT NULL,
     revoked_at      TIMESTAMPTZ,
     revoked_by      TEXT,
     PRIMARY KEY (organization_id, token_id)
   )`,
  'CREATE INDEX IF NOT EXISTS tokens_member ON org_policy_scim.tokens (organization_id, member_id) WHERE revoked_at IS NULL',
];

class AlreadySeeded extends Error {}

export const sha256Hex = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');

interface Row extends Record<string, unknown> {
  token_id: string;
  member_id: string;
  name: string;
  created_at: Date | string;
  created_by: string;
  revoked_at: Date | string | null;
  revoked_by: string | null;
}

const COLUMNS = 'token_id, member_id, name, created_at, created_by, revoked_at, revoked_by';
const iso = (value: Date | string) => new Date(value).toISOString();
const tokenOf = (row: Row): ScimToken => ({
  tokenId: row.token_id,
  memberId: row.member_id,
  name: row.name,
  createdAt: iso(row.created_at),
  createdBy: row.created_by,
  revokedAt: row.revoked_at === null ? null : iso(row.revoked_at),
  revokedBy: row.revoked_by,
});

export async function openScimTokens(store: Store): Promise<ScimTokens> {
  const { engine, organizationId } = store;
  await engine.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK})`);
    for (const statement of SCHEMA) await tx.query(statement);
  });

  const insert = (client: SqlClient, tokenId: string, hash: string, memberId: string, name: string, now: string, createdBy: string) =>
    client.query<Row>(
      `INSERT INTO org_policy_scim.tokens (organization_id, token_id, sha256, member_id, name, created_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [organizationId, tokenId, hash, memberId, name, now, createdBy],
    );

  const event = (operation: ScimAuditEvent['operation'], scimTokenId: string, actor: string, memberId: string, now: string, revision: number): ScimAuditEvent => ({
    organizationId,
    actor,
    command: null,
    operation,
    scimTokenId,
    targets: [{ kind: 'member', id: memberId }],
    at: now,
    result: { status: 'applied', revision },
  });
  const atRevision = (revision: number) => (head: { readonly revision: number }) => {
    if (head.revision !== revision) throw new HeadMoved(`the head is at ${head.revision}, not ${revision}`);
  };

  const get = async (tokenId: string) => {
    const rows = await engine.query<Row>(`SELECT ${COLUMNS} FROM org_policy_scim.tokens WHERE organization_id = $1 AND token_id = $2`, [organizationId, tokenId]);
    return rows[0] === undefined ? null : tokenOf(rows[0]);
  };

  return {
    get,

    async issue({ memberId, name, createdBy, now, revision }) {
      const secret = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
      const tokenId = randomUUID();
      let row: Row | undefined;
      await store.recordAudit([event('issueScimToken', tokenId, createdBy, memberId, now, revision)], {
        inTransaction: async (tx, head) => {
          atRevision(revision)(head);
          [row] = await insert(tx, tokenId, sha256Hex(secret), memberId, name, now, createdBy);
        },
      });
      return { secret, token: tokenOf(row!) };
    },

    async seedBootstrap({ secret, memberId, now, revision }) {
      if (secret.length < MIN_SECRET_LENGTH) throw new Error(`ORG_POLICY_SCIM_BOOTSTRAP_TOKEN must be at least ${MIN_SECRET_LENGTH} characters (128 random bits as hex)`);
      const tokenId = randomUUID();
      let seeded = true;
      try {
        await store.recordAudit([event('bootstrapScimToken', tokenId, memberId, memberId, now, revision)], {
          inTransaction: async (tx, head) => {
            await tx.query(`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK})`);
            const any = await tx.query('SELECT 1 FROM org_policy_scim.tokens WHERE organization_id = $1 LIMIT 1', [organizationId]);
            if (any.length > 0) throw new AlreadySeeded();
            atRevision(revision)(head);
            await insert(tx, tokenId, sha256Hex(secret), memberId, 'bootstrap', now, 'ORG_POLICY_SCIM_BOOTSTRAP_TOKEN');
          },
        });
      } catch (error) {
        if (!(error instanceof AlreadySeeded)) throw error;
        seeded = false;
      }
      return seeded;
    },

    async verify(secret) {
      const rows = await engine.query<Row>(`SELECT ${COLUMNS} FROM org_policy_scim.tokens WHERE sha256 = $1 AND organization_id = $2 AND revoked_at IS NULL`, [sha256Hex(secret), organizationId]);
      return rows[0] === undefined ? null : tokenOf(rows[0]);
    },

    async list() {
      const rows = await engine.query<Row>(`SELECT ${COLUMNS} FROM org_policy_scim.tokens WHERE organization_id = $1 ORDER BY created_at, token_id`, [organizationId]);
      return rows.map(tokenOf);
    },

    async revoke(tokenId, { by, now, revision }) {
      const found = await get(tokenId);
      if (found === null) return null;
      let row: Row | undefined;
      await store.recordAudit([event('revokeScimToken', tokenId, by, found.memberId, now, revision)], {
        inTransaction: async (tx) => {
          [row] = await tx.query<Row>(
            `UPDATE org_policy_scim.tokens SET revoked_at = COALESCE(revoked_at, $3), revoked_by = COALESCE(revoked_by, $4)
             WHERE organization_id = $1 AND token_id = $2 RETURNING ${COLUMNS}`,
            [organizationId, tokenId, now, by],
          );
        },
      });
      return row === undefined ? null : tokenOf(row);
    },

    async revokeForRemovedMembers(tx, result, now) {
      if (!result.ok) return;
      const removed = result.events.filter((event) => event.command === 'removeMember' && event.result.status === 'applied').flatMap((event) => event.targets.filter((t) => t.kind === 'member').map((t) => t.id));
      for (const memberId of new Set(removed)) {
        await tx.query(
          `UPDATE org_policy_scim.tokens SET revoked_at = $3, revoked_by = '(member removed)'
           WHERE organization_id = $1 AND member_id = $2 AND revoked_at IS NULL`,
          [organizationId, memberId, now],
        );
      }
    },
  };
}
