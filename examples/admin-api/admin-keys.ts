/**
 * Admin keys (SPEC §9.3): the Admin API's `x-api-key`, each bound to a member and acting as that member.
 * Only the SHA-256 of a key is stored, in a table of this service beside the store's (`admin_api.admin_keys`
 * in the same database). A key's life follows its member's in the same transaction as the change:
 * removing the member revokes its keys, suspending disables them, reactivating enables the disabled ones
 * again — so a later member who reuses the id inherits nothing. A key is issued under the head's lock
 * (`store.recordAudit`), on the organization at that head, so no removal can slip between the check that
 * the member exists and the key's row.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { SqlClient, Store } from '@org-policy/store';
import type { AuditEvent, Organization } from 'org-policy';

export const ADMIN_KEY_PREFIX = 'oak_';

export const sha256Hex = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');

/** 32 bytes from the CSPRNG (256 bits), base64url, after a prefix that says what it is. */
export const newSecret = (prefix: string) => `${prefix}${randomBytes(32).toString('base64url')}`;

export type AdminKeyStatus = 'active' | 'disabled' | 'revoked';

/** What a listing shows of a key: never the secret, never its hash. */
export interface AdminKeyListing {
  readonly id: string;
  readonly memberId: string;
  readonly name: string;
  readonly status: AdminKeyStatus;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly revokedAt: string | null;
  readonly revokedBy: string | null;
  readonly revokedReason: string | null;
}

/** Idempotent: every process runs it on start; the advisory lock keeps two starting together from racing. */
export async function ensureAdminKeyTable(store: Store): Promise<void> {
  await store.engine.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('org-policy admin-api schema'))");
    await tx.query('CREATE SCHEMA IF NOT EXISTS admin_api');
    await tx.query(`CREATE TABLE IF NOT EXISTS admin_api.admin_keys (
      organization_id text NOT NULL,
      key_id          text NOT NULL,
      member_id       text NOT NULL,
      name            text NOT NULL,
      sha256          text NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
      status          text NOT NULL CHECK (status IN ('active', 'disabled', 'revoked')),
      created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
      created_by      text NOT NULL,
      revoked_at      timestamptz,
      revoked_by      text,
      revoked_reason  text,
      PRIMARY KEY (organization_id, key_id)
    )`);
    await tx.query('CREATE INDEX IF NOT EXISTS admin_keys_member ON admin_api.admin_keys (organization_id, member_id)');
  });
}

type KeyRow = {
  key_id: string;
  member_id: string;
  name: string;
  status: AdminKeyStatus;
  created_at: Date | string;
  created_by: string;
  revoked_at: Date | string | null;
  revoked_by: string | null;
  revoked_reason: string | null;
};

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

const listing = (row: KeyRow): AdminKeyListing => ({
  id: row.key_id,
  memberId: row.member_id,
  name: row.name,
  status: row.status,
  createdAt: iso(row.created_at)!,
  createdBy: row.created_by,
  revokedAt: iso(row.revoked_at),
  revokedBy: row.revoked_by,
  revokedReason: row.revoked_reason,
});

const COLUMNS = 'key_id, member_id, name, status, created_at, created_by, revoked_at, revoked_by, revoked_reason';

/** The member an active key acts as, or `null` (unknown, disabled or revoked: all the same to the caller). */
export async function memberOfKey(db: SqlClient, organizationId: string, secret: string): Promise<string | null> {
  const rows = await db.query<{ member_id: string }>(
    "SELECT member_id FROM admin_api.admin_keys WHERE organization_id = $1 AND sha256 = $2 AND status = 'active'",
    [organizationId, sha256Hex(secret)],
  );
  return rows[0]?.member_id ?? null;
}

export async function listAdminKeys(db: SqlClient, organizationId: string, memberId: string | null): Promise<AdminKeyListing[]> {
  const rows = await db.query<KeyRow>(
    `SELECT ${COLUMNS} FROM admin_api.admin_keys WHERE organization_id = $1 AND ($2::text IS NULL OR member_id = $2) ORDER BY created_at, key_id`,
    [organizationId, memberId],
  );
  return rows.map(listing);
}

export async function findAdminKey(db: SqlClient, organizationId: string, keyId: string): Promise<AdminKeyListing | null> {
  const rows = await db.query<KeyRow>(`SELECT ${COLUMNS} FROM admin_api.admin_keys WHERE organization_id = $1 AND key_id = $2`, [organizationId, keyId]);
  return rows[0] === undefined ? null : listing(rows[0]);
}

export async function insertAdminKey(
  tx: SqlClient,
  organizationId: string,
  key: { readonly id: string; readonly memberId: string; readonly name: string; readonly secret: string; readonly createdBy: string },
): Promise<AdminKeyListing> {
  const rows = await tx.query<KeyRow>(
    `INSERT INTO admin_api.admin_keys (organization_id, key_id, member_id, name, sha256, status, created_by)
     VALUES ($1, $2, $3, $4, $5, 'active', $6) RETURNING ${COLUMNS}`,
    [organizationId, key.id, key.memberId, key.name, sha256Hex(key.secret), key.createdBy],
  );
  return listing(rows[0]!);
}

export async function revokeAdminKey(tx: SqlClient, organizationId: string, keyId: string, by: string): Promise<AdminKeyListing | null> {
  const rows = await tx.query<KeyRow>(
    `UPDATE admin_api.admin_keys SET status = 'revoked', revoked_at = clock_timestamp(), revoked_by = $3, revoked_reason = 'revoked'
      WHERE organization_id = $1 AND key_id = $2 AND status <> 'revoked' RETURNING ${COLUMNS}`,
    [organizationId, keyId, by],
  );
  return rows[0] === undefined ? null : listing(rows[0]);
}

export async function countAdminKeys(tx: SqlClient, organizationId: string): Promise<number> {
  const rows = await tx.query<{ count: string | number }>('SELECT count(*) AS count FROM admin_api.admin_keys WHERE organization_id = $1', [organizationId]);
  return Number(rows[0]?.count ?? 0);
}

/**
 * What an applied change does to admin keys, run in its transaction: in command order, a removed member's
 * keys are revoked (for good), a suspended member's active keys disabled, a reactivated member's disabled
 * keys enabled. `commands` are the very commands of the change (the HTTP edge built them as plain data).
 */
export async function followMembers(tx: SqlClient, organizationId: string, commands: readonly Record<string, unknown>[], events: readonly AuditEvent[], actor: string) {
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    const memberId = commands[i]?.memberId;
    if (event.result.status !== 'applied' || typeof memberId !== 'string') continue;
    if (event.command === 'removeMember') {
      await tx.query(
        `UPDATE admin_api.admin_keys SET status = 'revoked', revoked_at = clock_timestamp(), revoked_by = $3, revoked_reason = 'member_removed'
          WHERE organization_id = $1 AND member_id = $2 AND status <> 'revoked'`,
        [organizationId, memberId, actor],
      );
    } else if (event.command === 'suspendMember') {
      await tx.query("UPDATE admin_api.admin_keys SET status = 'disabled' WHERE organization_id = $1 AND member_id = $2 AND status = 'active'", [organizationId, memberId]);
    } else if (event.command === 'reactivateMember') {
      await tx.query("UPDATE admin_api.admin_keys SET status = 'active' WHERE organization_id = $1 AND member_id = $2 AND status = 'disabled'", [organizationId, memberId]);
    }
  }
}

/** The first active member holding `organization_admin` directly: who the bootstrap key belongs to. */
export function firstOrganizationAdmin(organization: Organization): string | null {
  for (const member of organization.members.values()) {
    if (member.status === 'active' && member.orgRoles.includes('organization_admin')) return member.id;
  }
  return null;
}
