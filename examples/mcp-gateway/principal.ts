/**
 * Who asks. An API key presents its secret as `Authorization: Bearer <secret>`; the gateway keeps only
 * the SHA-256 of each secret, mapped to the key's id, outside the snapshot. A member and its workspace
 * come from headers that a trusted front proxy sets after its own sign-in, and that it must strip from
 * every client request.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Policy } from 'org-policy';

export const MEMBER_HEADER = 'x-org-member';
export const WORKSPACE_HEADER = 'x-org-workspace';
const MAX_ID_LENGTH = 256;

export interface Principal {
  readonly id: string;
  readonly kind: 'member' | 'api_key';
  readonly workspace: string;
}

export type Authentication = { readonly ok: true; readonly principal: Principal } | { readonly ok: false; readonly status: 400 | 401; readonly message: string };

/** SHA-256 of a secret, hex: what the key table holds. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Key table: SHA-256 (hex, lower case) → API key id. */
export function keyTable(entries: readonly { readonly keyId: string; readonly sha256: string }[]): ReadonlyMap<string, string> {
  return new Map(entries.map(({ keyId, sha256 }) => [sha256.toLowerCase(), keyId]));
}

/**
 * Reads the principal from the request headers. Never looks further than the headers: whether the
 * principal may do anything is the policy's question, asked per call.
 */
export function authenticate(headers: IncomingHttpHeaders, keys: ReadonlyMap<string, string>, policy: Policy): Authentication {
  const authorization = headers.authorization;
  const member = single(headers[MEMBER_HEADER]);
  const workspace = single(headers[WORKSPACE_HEADER]);
  if (authorization !== undefined) {
    if (member !== undefined) return fail(400, `send either Authorization or ${MEMBER_HEADER}, not both`);
    const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(authorization);
    if (match === null) return fail(401, 'Authorization must be "Bearer <API key secret>"');
    // Hashing first means the look-up never compares secrets, only digests.
    const keyId = keys.get(hashSecret(match[1]!));
    if (keyId === undefined) return fail(401, 'unknown API key');
    // A key works in its own workspace (SPEC §4.1); a key removed from the snapshot has none, and the policy refuses it.
    const own = policy.organization.apiKeys.get(keyId)?.workspaceId ?? '';
    if (workspace !== undefined && workspace !== own) return fail(400, `an API key works only in its own workspace; drop ${WORKSPACE_HEADER}`);
    return { ok: true, principal: { id: keyId, kind: 'api_key', workspace: own } };
  }
  if (member === undefined) return fail(401, `no principal: send Authorization: Bearer <API key secret>, or sign in through the front proxy`);
  if (workspace === undefined) return fail(400, `${WORKSPACE_HEADER} is required with ${MEMBER_HEADER}`);
  if (!isId(member) || !isId(workspace)) return fail(400, `${MEMBER_HEADER} and ${WORKSPACE_HEADER} must be ids of at most ${MAX_ID_LENGTH} characters`);
  return { ok: true, principal: { id: member, kind: 'member', workspace } };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

function isId(value: string): boolean {
  return value.length > 0 && value.length <= MAX_ID_LENGTH;
}

function fail(status: 400 | 401, message: string): Authentication {
  return { ok: false, status, message };
}
