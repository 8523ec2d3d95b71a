/**
 * The Admin API server example: `node:http`, admin keys in the `x-api-key` header, the library's pure
 * commands (SPEC §5) committed through `@org-policy/store` — one request, one change, serialized by the
 * database, so any number of these processes share one PostgreSQL database without losing a write — and
 * reads from the store's followed policy (SPEC §8.4: every answer names its revision, a request may ask
 * for one and waits for it, bounded). Every refusal is in the store's audit log, or the request fails.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openStore, type Follower, type SqlClient, type Store } from '@org-policy/store';
import { listRoles, parseOrganization, type AdminErrorClass, type AdminErrorCode, type ApiKey, type AuditEvent, type AuditTarget, type CommandType, type Organization } from 'org-policy';
import {
  ADMIN_KEY_PREFIX,
  countAdminKeys,
  ensureAdminKeyTable,
  findAdminKey,
  firstOrganizationAdmin,
  followMembers,
  insertAdminKey,
  listAdminKeys,
  memberOfKey,
  newSecret,
  revokeAdminKey,
  sha256Hex,
} from './admin-keys.js';
import { checkString, EdgeError, header, MAX_BODY_BYTES, parseBody, readBody } from './edge.js';
import { lineLogger, type Logger } from './log.js';
import { commandFields, inAdminApiWords } from './payload.js';
import { COMMAND_ROUTES, matchPath, TARGET_OF_PARAMETER, type CommandRoute } from './routes.js';
import { decodeCursor, page, readerOf, View } from './views.js';
import { startScim } from './scim/index.js';

export const SAMPLE_ORGANIZATION = new URL('../sample-organization.json', import.meta.url);
export const API_KEY_PREFIX = 'opk_';
const STATUS_OF_CLASS: Record<AdminErrorClass, number> = { forbidden: 403, validation: 400, not_found: 404, invariant: 409 };
/** How often a command computed on the followed organization is recomputed when another change committed first. */
const MAX_RECOMPUTE = 10;

export interface AdminApiOptions {
  readonly port?: number;
  readonly host?: string;
  /** A PostgreSQL server (`postgres://…`): any number of Admin API processes on one database. */
  readonly databaseUrl?: string;
  /** Otherwise a PGlite data directory (`memory://` in memory): this process alone. */
  readonly dataDir?: string;
  /** The organization seeded into an empty database (SPEC §6.1 JSON); by default the bundled sample. */
  readonly seed?: unknown;
  /** The admin key of the seed's first `organization_admin`, used when no admin key exists yet. */
  readonly bootstrapKey?: string;
  /** A SCIM token acting as that admin, used when no SCIM token was ever issued (docs/scim.md). */
  readonly scimBootstrapToken?: string;
  /** The clock (the library reads none): audit events' time and API key expiry. */
  readonly now?: () => string;
  /** The bound on waiting for `x-policy-min-revision` (default 2,000 ms). */
  readonly minRevisionWaitMs?: number;
  /** How long `close()` lets requests in flight finish before cutting their connections (default 10 s). */
  readonly drainTimeoutMs?: number;
  /** The follower's catch-up period (the store's default when absent). */
  readonly pollIntervalMs?: number;
  readonly log?: Logger;
}

export interface AdminApi {
  readonly url: string;
  readonly organizationId: string;
  readonly store: Store;
  readonly follower: Follower;
  /** Who got the bootstrap key on this start (`null`: admin keys existed already, or no key was given). */
  readonly bootstrapped: { readonly memberId: string } | null;
  /** Whether an admin key exists at all (the first start without a bootstrap key has none). */
  readonly hasAdminKeys: boolean;
  /** Stops accepting, lets requests in flight finish (bounded), then closes the follower and the store. */
  close(): Promise<void>;
}

interface Reply {
  readonly status: number;
  readonly body: unknown;
  /** The policy revision the answer was decided at. */
  readonly revision: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/** An operation of this service, not a library command, in the store's audit log (`command: null`). */
interface ServiceAuditEvent extends AuditEvent {
  readonly operation: 'issueAdminKey' | 'revokeAdminKey' | 'bootstrapAdminKey';
  readonly adminKeyId?: string;
}

/** The followed organization moved between a decision and its transaction: decide again. */
class Moved extends Error {}
class AlreadyHasKeys extends Error {}

export async function startAdminApi(options: AdminApiOptions): Promise<AdminApi> {
  const seed = parsedSeed(options.seed ?? JSON.parse(readFileSync(SAMPLE_ORGANIZATION, 'utf8')));
  const organizationId = seed.id;
  const now = options.now ?? (() => new Date().toISOString());
  const log = options.log ?? lineLogger((line) => process.stdout.write(`${line}\n`));
  const waitMs = options.minRevisionWaitMs ?? 2_000;

  const store = await openStore({
    organizationId,
    ...(options.databaseUrl !== undefined ? { url: options.databaseUrl, applicationName: 'org-policy-admin-api' } : { dataDir: options.dataDir ?? 'memory://' }),
    onEvent: (event) => {
      if (event.type === 'problem') log('store_problem', { context: event.context, message: event.error.message });
    },
  });
  let follower: Follower;
  try {
    const initialized = await store.init(seed);
    if (initialized.ok) log('seeded', { organization: organizationId, revision: initialized.revision });
    await ensureAdminKeyTable(store);
    follower = await store.follow(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs });
  } catch (error) {
    await store.close();
    throw error;
  }

  /** The follower at the head as the database has it now: what a decision of this service must be made on. */
  async function atHead(): Promise<number> {
    const head = await store.head();
    const waited = await follower.waitFor(head?.revision ?? 0, { timeoutMs: waitMs });
    if (!waited.ok) throw new EdgeError(503, 'revision_unavailable', 'this instance could not reach the head of the change log in time; retry', [], 'invalid_value', { 'retry-after': '1' });
    return follower.revision;
  }

  /** Records service events; when the head moved since `revision`, the decision is made again. */
  async function record(events: readonly AuditEvent[], revision: number | null, statements?: (tx: SqlClient) => Promise<void>) {
    try {
      await store.recordAudit(events, {
        inTransaction: async (tx, head) => {
          if (revision !== null && head.revision !== revision) throw new Moved();
          await statements?.(tx);
        },
      });
    } catch (error) {
      if (error instanceof Moved || error instanceof AlreadyHasKeys) throw error;
      throw notRecorded(error);
    }
  }

  const notRecorded = (error: unknown) => {
    log('not_recorded', { message: error instanceof Error ? error.message : String(error) });
    return new EdgeError(503, 'not_recorded', 'the store did not confirm this request, so it may not have been applied: read before retrying', [], 'invalid_value', { 'retry-after': '1' });
  };

  // SPEC §9.3: the first organization admin's key, when no admin key exists at all.
  let bootstrapped: AdminApi['bootstrapped'] = null;
  const bootstrap = async (bootstrapKey: string) => {
    for (let attempt = 0; ; attempt++) {
      const revision = await atHead();
      const memberId = firstOrganizationAdmin(follower.organization);
      if (memberId === null) return;
      const keyId = `ak_${newSecret('').slice(0, 12)}`;
      const event: ServiceAuditEvent = {
        organizationId,
        actor: memberId,
        command: null,
        operation: 'bootstrapAdminKey',
        adminKeyId: keyId,
        targets: [{ kind: 'member', id: memberId }],
        at: now(),
        result: { status: 'applied', revision },
      };
      try {
        await record([event], revision, async (tx) => {
          if ((await countAdminKeys(tx, organizationId)) > 0) throw new AlreadyHasKeys();
          await insertAdminKey(tx, organizationId, { id: keyId, memberId, name: 'bootstrap', secret: bootstrapKey, createdBy: 'bootstrap' });
        });
        bootstrapped = { memberId };
        return;
      } catch (error) {
        if (error instanceof AlreadyHasKeys) return;
        if (!(error instanceof Moved) || attempt >= MAX_RECOMPUTE) throw error;
      }
    }
  };
  let hasAdminKeys: boolean;
  try {
    if (options.bootstrapKey !== undefined) await bootstrap(options.bootstrapKey);
    hasAdminKeys = (await countAdminKeys(store.engine, organizationId)) > 0;
  } catch (error) {
    await store.close();
    throw error;
  }

  /** Who each request authenticated as, for its log line. */
  const actors = new WeakMap<IncomingMessage, string>();

  async function authenticate(request: IncomingMessage): Promise<string> {
    const key = header(request, 'x-api-key');
    if (key === undefined || key === '') throw new EdgeError(401, 'missing_api_key', 'send an admin key in the x-api-key header');
    const actor = await memberOfKey(store.engine, organizationId, key);
    if (actor === null) throw new EdgeError(401, 'unknown_api_key', 'this admin key is not valid (unknown, disabled or revoked)');
    actors.set(request, actor);
    return actor;
  }

  /** SPEC §8.4 read-your-writes: `x-policy-min-revision: N` waits (bounded) until this instance holds N. */
  async function waitForMinRevision(request: IncomingMessage) {
    const wanted = header(request, 'x-policy-min-revision');
    if (wanted === undefined) return;
    if (!/^\d{1,15}$/.test(wanted)) throw new EdgeError(400, 'invalid_min_revision', 'x-policy-min-revision is a revision: a non-negative integer');
    if (follower.revision < Number(wanted)) log('waiting_for_revision', { revision: Number(wanted), holding: follower.revision });
    const waited = await follower.waitFor(Number(wanted), { timeoutMs: waitMs });
    if (!waited.ok) {
      throw new EdgeError(503, 'revision_unavailable', `this instance holds revision ${follower.revision}, not yet ${wanted}; retry`, [], 'invalid_value', { 'retry-after': '1' });
    }
  }

  const view = (actor: string) => new View(follower.organization, readerOf(follower.policy, follower.organization, actor), actor);
  const reply = (status: number, body: unknown, revision = follower.revision, headers?: Readonly<Record<string, string>>): Reply => ({ status, body, revision, ...(headers ? { headers } : {}) });
  const errorReply = (status: number, code: string, message: string, revision = follower.revision): Reply => reply(status, { error: { code, path: [], message } }, revision);

  /** A refusal at the edge, in the audit log as the library would write one (SPEC §5), before it is answered. */
  async function auditRefusal(actor: string, command: CommandType | null, params: Record<string, string>, code: AdminErrorCode) {
    const targets: AuditTarget[] = [];
    for (const [name, id] of Object.entries(params)) {
      const kind = TARGET_OF_PARAMETER[name];
      if (kind !== undefined) targets.push({ kind, id });
    }
    await record([{ organizationId, actor, command, targets, at: now(), result: { status: 'refused', class: 'validation', code } }], null);
  }

  async function refuseAtEdge(actor: string, command: CommandType | null, params: Record<string, string>, error: EdgeError): Promise<never> {
    await auditRefusal(actor, command, params, error.auditCode);
    throw error;
  }

  async function readCommandBody(request: IncomingMessage, actor: string, command: CommandType | null, params: Record<string, string>) {
    try {
      return parseBody(request, await readBody(request, MAX_BODY_BYTES));
    } catch (error) {
      if (error instanceof EdgeError) return refuseAtEdge(actor, command, params, error);
      throw error;
    }
  }

  /** One request, one change (`store.apply`); a removed or suspended member's admin keys follow in its transaction. */
  async function applyCommands(
    actor: string,
    commands: readonly Record<string, unknown>[],
    options: { readonly base?: number } = {},
  ): Promise<{ ok: true; revision: number; events: readonly AuditEvent[] } | { ok: false; reply: Reply }> {
    let result;
    try {
      result = await store.apply(actor, commands, {
        now: now(),
        inTransaction: async (tx, outcome) => {
          if (!outcome.ok) return;
          // A command computed on the followed organization at `base` commits only on it (compare and set).
          if (options.base !== undefined && outcome.revision !== options.base + 1) throw new Moved();
          await followMembers(tx, organizationId, commands, outcome.events, actor);
          await scim.tokens.revokeForRemovedMembers(tx, outcome, now()); // and its SCIM tokens (docs/scim.md)
        },
      });
    } catch (error) {
      if (error instanceof Moved) throw error;
      throw notRecorded(error);
    }
    if (!result.ok) {
      const index = commands.length > 1 ? { index: result.index } : {};
      return { ok: false, reply: reply(STATUS_OF_CLASS[result.error.class], { error: { ...inAdminApiWords(result.error), ...index } }, result.revision) };
    }
    // This instance's reads then show the write (a request to another instance sends x-policy-min-revision);
    // past the bound the write still stands, and the answer's entities are as this instance holds them.
    await follower.waitFor(result.revision, { timeoutMs: waitMs });
    return { ok: true, revision: result.revision, events: result.events };
  }

  function appliedReply(actor: string, applied: { revision: number; events: readonly AuditEvent[] }, extra: Record<string, unknown> = {}): Reply {
    const seen = view(actor);
    const entities = applied.events.flatMap((event) => event.targets).map((target) => ({ kind: target.kind, id: target.id, entity: seen.entity(target.kind, target.id) }));
    return reply(200, { revision: applied.revision, events: applied.events, entities, ...extra }, applied.revision);
  }

  async function runCommandRoute(request: IncomingMessage, route: CommandRoute, params: Record<string, string>): Promise<Reply> {
    const actor = await authenticate(request);
    const body = await readCommandBody(request, actor, route.command, params);
    await waitForMinRevision(request);
    const refused = (route.refuse ?? []).filter((field) => Object.hasOwn(body, field));
    if (refused.length > 0) {
      const message = `${refused.join(', ')} is not a field of ${route.method} ${route.path}${route.issuesSecret ? ': the service generates the secret' : ''}`;
      return refuseAtEdge(actor, route.command, params, new EdgeError(400, 'unknown_field', message, refused, 'unknown_field'));
    }
    const mapped = commandFields(body);
    if (!mapped.ok) {
      await auditRefusal(actor, route.command, params, 'unknown_field');
      return reply(400, { error: { class: 'validation', ...mapped.problems[0]!, problems: mapped.problems } });
    }
    // The route's ids win over the body's; the library's schema checks every other field.
    const command: Record<string, unknown> = { ...mapped.fields, ...params, ...route.fixed, type: route.command };
    let secret: string | undefined;
    if (route.issuesSecret) {
      secret = newSecret(API_KEY_PREFIX);
      command.secrets = [{ sha256: sha256Hex(secret) }];
    }
    const applied = await applyCommands(actor, [command]);
    if (!applied.ok) return applied.reply;
    // SPEC §9.1: the secret is in this answer and nowhere else, ever; the snapshot holds its SHA-256.
    return appliedReply(actor, applied, secret === undefined ? {} : { secret });
  }

  /** SPEC §9.1 rotation: a new secret, and the key's current ones valid until `notAfter` (now, without one). */
  async function rotateApiKey(request: IncomingMessage, keyId: string): Promise<Reply> {
    const actor = await authenticate(request);
    const params = { keyId };
    const body = await readCommandBody(request, actor, 'setApiKeySecrets', params);
    await waitForMinRevision(request);
    const unknown = Object.keys(body).filter((field) => field !== 'notAfter');
    if (unknown.length > 0) return refuseAtEdge(actor, 'setApiKeySecrets', params, new EdgeError(400, 'unknown_field', `${unknown.join(', ')} is not a field of this route (notAfter is)`, unknown, 'unknown_field'));
    const at = now();
    const notAfter = body.notAfter === undefined ? at : body.notAfter;
    if (typeof notAfter !== 'string' || !Number.isFinite(Date.parse(notAfter)) || !/(Z|[+-]\d\d:\d\d)$/.test(notAfter)) {
      return refuseAtEdge(actor, 'setApiKeySecrets', params, new EdgeError(400, 'invalid_format', 'notAfter is an ISO-8601 time with an offset (…Z)', ['notAfter'], 'invalid_format'));
    }
    const secret = newSecret(API_KEY_PREFIX);
    for (let attempt = 0; ; attempt++) {
      const base = await atHead();
      const key: ApiKey | undefined = follower.organization.apiKeys.get(keyId);
      const ends = (s: { readonly notAfter?: string | undefined }) => (s.notAfter === undefined ? Infinity : Date.parse(s.notAfter));
      const kept = (key?.secrets ?? [])
        .filter((s) => ends(s) > Date.parse(at))
        .map((s) => ({ sha256: s.sha256, notAfter: ends(s) < Date.parse(notAfter) ? s.notAfter! : notAfter }));
      try {
        const applied = await applyCommands(actor, [{ type: 'setApiKeySecrets', keyId, secrets: [{ sha256: sha256Hex(secret) }, ...kept] }], { base });
        if (!applied.ok) return applied.reply;
        return appliedReply(actor, applied, { secret, previousSecretsNotAfter: kept.length > 0 ? notAfter : null });
      } catch (error) {
        if (!(error instanceof Moved) || attempt >= MAX_RECOMPUTE) throw error instanceof Moved ? busy() : error;
      }
    }
  }

  const busy = () => new EdgeError(503, 'busy', 'the organization kept changing while this request was decided; retry', [], 'invalid_value', { 'retry-after': '1' });

  /** SPEC §9.3: an organization admin issues keys for any member; a member with `admin.access`, for itself. */
  async function issueAdminKey(request: IncomingMessage, memberId: string): Promise<Reply> {
    const actor = await authenticate(request);
    const params = { memberId };
    const body = await readCommandBody(request, actor, null, params);
    const unknown = Object.keys(body).filter((field) => field !== 'name');
    const name = body.name ?? 'admin key';
    const refusal = (status: number, code: string, message: string, auditClass: AdminErrorClass, auditCode: AdminErrorCode, revision: number): [Reply, ServiceAuditEvent] => [
      reply(status, { error: { class: auditClass, code, path: [], message } }, revision),
      { organizationId, actor, command: null, operation: 'issueAdminKey', targets: [{ kind: 'member', id: memberId }], at: now(), result: { status: 'refused', class: auditClass, code: auditCode } },
    ];
    for (let attempt = 0; ; attempt++) {
      const revision = await atHead();
      const policy = follower.policy;
      const member = follower.organization.members.get(memberId);
      let refused: [Reply, ServiceAuditEvent] | undefined;
      const allowed = policy.can(actor, 'org.security.manage') || (actor === memberId && policy.can(actor, 'admin.access'));
      if (!allowed) refused = refusal(403, 'forbidden', 'issuing an admin key needs org.security.manage, or admin.access for your own', 'forbidden', 'forbidden', revision);
      else if (unknown.length > 0) refused = refusal(400, 'unknown_field', `${unknown.join(', ')} is not a field of this route (name is)`, 'validation', 'unknown_field', revision);
      else if (typeof name !== 'string' || name.trim() === '' || name.length > 200 || /[\u0000-\u001f\u007f-\u009f]/.test(name)) {
        refused = refusal(400, 'invalid_value', 'name is a short text without control characters', 'validation', 'invalid_value', revision);
      } else if (member === undefined) refused = refusal(404, 'member_not_found', `no member ${memberId}`, 'not_found', 'member_not_found', revision);
      else if (member.status !== 'active') refused = refusal(409, 'member_not_active', `${memberId} is suspended: its keys are disabled until it is reactivated`, 'validation', 'invalid_value', revision);
      if (refused !== undefined) {
        await record([refused[1]], null);
        return refused[0];
      }
      const keyId = `ak_${newSecret('').slice(0, 12)}`;
      const secret = newSecret(ADMIN_KEY_PREFIX);
      const event: ServiceAuditEvent = { organizationId, actor, command: null, operation: 'issueAdminKey', adminKeyId: keyId, targets: [{ kind: 'member', id: memberId }], at: now(), result: { status: 'applied', revision } };
      let key;
      try {
        await record([event], revision, async (tx) => {
          key = await insertAdminKey(tx, organizationId, { id: keyId, memberId, name: name as string, secret, createdBy: actor });
        });
      } catch (error) {
        if (error instanceof Moved && attempt < MAX_RECOMPUTE) continue;
        throw error instanceof Moved ? busy() : error;
      }
      // SPEC §9.3: shown once; only its SHA-256 is stored.
      return reply(201, { key, secret }, revision);
    }
  }

  async function revokeAdminKeyRoute(request: IncomingMessage, keyId: string): Promise<Reply> {
    const actor = await authenticate(request);
    await readCommandBody(request, actor, null, {});
    const key = await findAdminKey(store.engine, organizationId, keyId);
    const isSecurityAdmin = follower.policy.can(actor, 'org.security.manage');
    const base = { organizationId, actor, command: null, operation: 'revokeAdminKey', adminKeyId: keyId, targets: key ? [{ kind: 'member' as const, id: key.memberId }] : [], at: now() } as const;
    // Someone else's key is as unknown as a missing one to whoever may not manage it.
    if (key === null || (!isSecurityAdmin && key.memberId !== actor)) {
      await record([{ ...base, targets: [], result: { status: 'refused', class: 'not_found', code: 'member_not_found' } } satisfies ServiceAuditEvent], null);
      return errorReply(404, 'admin_key_not_found', `no admin key ${keyId} of yours`);
    }
    let revoked = key;
    const revision = await atHead();
    await record([{ ...base, result: { status: 'applied', revision } } satisfies ServiceAuditEvent], null, async (tx) => {
      revoked = (await revokeAdminKey(tx, organizationId, keyId, actor)) ?? key;
    });
    return reply(200, { key: revoked }, revision);
  }

  async function listAdminKeysRoute(request: IncomingMessage, memberId: string | null): Promise<Reply> {
    const actor = await authenticate(request);
    await waitForMinRevision(request);
    const isSecurityAdmin = follower.policy.can(actor, 'org.security.manage');
    if (!isSecurityAdmin && memberId !== null && memberId !== actor) return errorReply(403, 'forbidden', 'listing the admin keys of another member needs org.security.manage');
    const keys = await listAdminKeys(store.engine, organizationId, isSecurityAdmin ? memberId : actor);
    return reply(200, { keys });
  }

  function pageOptions(url: URL): { limit: number; cursor: string | null } {
    for (const [name, value] of url.searchParams) checkString(value, `query ${name}`, []);
    const limitText = url.searchParams.get('limit');
    const limit = limitText === null ? 100 : Number(limitText);
    if (!/^\d{1,4}$/.test(limitText ?? '100') || limit < 1 || limit > 1_000) throw new EdgeError(400, 'invalid_limit', 'limit is an integer from 1 to 1000');
    return { limit, cursor: url.searchParams.get('cursor') };
  }

  function idPage(url: URL, ids: readonly string[]) {
    const { limit, cursor } = pageOptions(url);
    const after = cursor === null ? null : decodeCursor(cursor);
    if (cursor !== null && after === null) throw new EdgeError(400, 'invalid_cursor', 'cursor is one a previous page returned as nextCursor');
    return page(ids, after, limit);
  }

  const forbidden = () => errorReply(403, 'forbidden', 'reading this needs organization_admin or workspace_admin (SPEC §5.1)');

  /** A page of a collection, as the reader may see it. */
  function list(url: URL, seen: View, name: string, ids: readonly string[], item: (id: string) => unknown): Reply {
    if (seen.reader.kind === 'none') return forbidden();
    const { ids: slice, nextCursor } = idPage(url, ids);
    return reply(200, { [name]: slice.map(item), nextCursor }, seen.organization.revision);
  }

  /** One entity; not visible and missing are one answer, so a reader learns nothing of what it may not see. */
  function single(seen: View, found: unknown, code: string, message: string): Reply {
    if (seen.reader.kind === 'none') return forbidden();
    return found === null ? errorReply(404, code, message, seen.organization.revision) : reply(200, found, seen.organization.revision);
  }

  function workspaceWhole(seen: View, workspaceId: string) {
    const workspace = seen.workspace(workspaceId);
    if (workspace === null) return null;
    const apiKeys = seen.apiKeys().filter((k) => k.workspaceId === workspaceId).map((k) => seen.apiKey(k.id));
    const credentials = seen.credentials().filter((c) => c.holder === 'workspace' && c.workspaceId === workspaceId).map((c) => seen.credential(c.id));
    return { ...workspace, credentials, apiKeys };
  }

  async function auditLog(url: URL, actor: string): Promise<Reply> {
    if (!follower.policy.can(actor, 'org.audit_logs.view')) return errorReply(403, 'forbidden', 'the audit log needs org.audit_logs.view');
    const { limit, cursor } = pageOptions(url);
    if (cursor !== null && !/^\d{1,19}$/.test(cursor)) throw new EdgeError(400, 'invalid_cursor', 'cursor is one a previous page returned as nextCursor');
    const order = url.searchParams.get('order') ?? 'asc';
    if (order !== 'asc' && order !== 'desc') throw new EdgeError(400, 'invalid_order', 'order is asc or desc');
    const found = await store.auditLog({ limit, cursor, order });
    return reply(200, { entries: found.entries.map((entry) => ({ ...entry, recordedAt: entry.recordedAt.toISOString() })), nextCursor: found.nextCursor });
  }

  /** The read routes (SPEC §5.1), or `null` when the path is none of them. */
  const READS: readonly [string, (url: URL, seen: View, params: Record<string, string>) => Reply | Promise<Reply>][] = [
    ['/api/admin/roles', () => reply(200, listRoles())], // anyone authenticated
    ['/api/admin/organization', (_url, seen) => (seen.reader.kind === 'none' ? forbidden() : reply(200, seen.organizationJson(), seen.organization.revision))],
    ['/api/admin/users', (url, seen) => list(url, seen, 'members', seen.memberIds(), (id) => seen.member(id))],
    ['/api/admin/users/:memberId', (_url, seen, { memberId }) => single(seen, seen.member(memberId!), 'member_not_found', 'no such member, or not one you may read')],
    ['/api/admin/workspaces', (url, seen) => list(url, seen, 'workspaces', seen.workspaceIds(), (id) => seen.workspace(id))],
    ['/api/admin/workspaces/:workspaceId', (_url, seen, { workspaceId }) => single(seen, workspaceWhole(seen, workspaceId!), 'workspace_not_found', 'no such workspace, or not one you may read')],
    ['/api/admin/groups', (url, seen) => list(url, seen, 'groups', seen.groupIds(), (id) => seen.group(id))],
    ['/api/admin/groups/:groupId', (_url, seen, { groupId }) => single(seen, seen.group(groupId!), 'group_not_found', 'no such group, or not one you may read')],
    ['/api/admin/audit-log', (url, seen) => auditLog(url, seen.actor)],
  ];

  async function read(request: IncomingMessage, url: URL, path: string): Promise<Reply | null> {
    for (const [pattern, answer] of READS) {
      const params = matchPath(pattern, path);
      if (params === null) continue;
      checkParams(params);
      const actor = await authenticate(request);
      await waitForMinRevision(request);
      return answer(url, view(actor), params);
    }
    return null;
  }

  function checkParams(params: Record<string, string>) {
    for (const [name, value] of Object.entries(params)) checkString(value, `path parameter ${name}`, []);
  }

  /** This service's own routes: admin keys, and API key rotation (a command whose secrets are computed here). */
  const OWN_ROUTES: readonly [method: string, pattern: string, answer: (request: IncomingMessage, params: Record<string, string>) => Promise<Reply>][] = [
    ['GET', '/api/admin/admin-keys', (request) => listAdminKeysRoute(request, null)],
    ['GET', '/api/admin/users/:memberId/admin-keys', (request, { memberId }) => listAdminKeysRoute(request, memberId!)],
    ['POST', '/api/admin/users/:memberId/admin-keys', (request, { memberId }) => issueAdminKey(request, memberId!)],
    ['POST', '/api/admin/admin-keys/:keyId/revoke', (request, { keyId }) => revokeAdminKeyRoute(request, keyId!)],
    ['POST', '/api/admin/api-keys/:keyId/rotate', (request, { keyId }) => rotateApiKey(request, keyId!)],
  ];

  async function handle(request: IncomingMessage): Promise<Reply> {
    const url = new URL(request.url ?? '/', 'http://admin-api.invalid');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/$/, '') : url.pathname;
    const method = request.method ?? 'GET';
    if (method === 'GET') {
      const answered = await read(request, url, path);
      if (answered !== null) return answered;
    }
    for (const [routeMethod, pattern, answer] of OWN_ROUTES) {
      const params = routeMethod === method ? matchPath(pattern, path) : null;
      if (params === null) continue;
      checkParams(params);
      return answer(request, params);
    }
    for (const route of COMMAND_ROUTES) {
      if (route.method !== method) continue;
      const params = matchPath(route.path, path);
      if (params === null) continue;
      checkParams(params);
      return runCommandRoute(request, route, params);
    }
    return errorReply(404, 'unknown_route', `no Admin API route ${method} ${path.slice(0, 200)}`);
  }

  // SCIM 2.0 under /scim/v2 and its token routes (docs/scim.md): the same store, follower and admin keys;
  // a SCIM change that removes or suspends a member takes its admin keys along, as the Admin API's do.
  let scim: Awaited<ReturnType<typeof startScim>>;
  try {
    scim = await startScim({
      store,
      follower,
      now,
      waitTimeoutMs: waitMs,
      ...(options.scimBootstrapToken !== undefined ? { bootstrapToken: options.scimBootstrapToken } : {}),
      bootstrapMember: () => firstOrganizationAdmin(follower.organization),
      authenticateAdmin: (request) =>
        authenticate(request).then(
          (actor) => ({ actor }),
          (error: unknown) => {
            if (error instanceof EdgeError) return { status: error.status, body: error.body };
            throw error;
          },
        ),
      inTransaction: async (tx, outcome, { actor, commands }) => {
        if (outcome.ok) await followMembers(tx, organizationId, commands, outcome.events, actor);
      },
    });
  } catch (error) {
    await store.close();
    throw error;
  }

  let inFlight = 0;
  let draining = false;
  let drained: (() => void) | undefined;
  const server = createServer((request, response) => {
    inFlight++;
    const started = performance.now();
    scim.handler(request, response)
      .then((handled) => (handled ? null : handle(request)))
      .catch((error: unknown): Reply => {
        if (error instanceof EdgeError) return reply(error.status, error.body, follower.revision, error.headers);
        log('internal_error', { method: request.method, path: pathOf(request), message: error instanceof Error ? error.message : String(error) });
        return errorReply(500, 'internal_error', 'internal error');
      })
      .then((answer) => {
        if (answer !== null) send(response, answer, draining); // null: the SCIM service answered
        const revision = answer?.revision ?? Number(response.getHeader('x-policy-revision'));
        log('request', { method: request.method, path: pathOf(request), status: answer?.status ?? response.statusCode, revision, actor: actors.get(request), ms: Math.round(performance.now() - started) });
      })
      .finally(() => {
        inFlight--;
        if (draining && inFlight === 0) drained?.();
      });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    organizationId,
    store,
    follower,
    bootstrapped,
    hasAdminKeys,
    close() {
      closing ??= (async () => {
        draining = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (inFlight > 0) {
          await new Promise<void>((resolve) => {
            drained = resolve;
            setTimeout(resolve, options.drainTimeoutMs ?? 10_000).unref();
          });
        }
        server.closeAllConnections();
        await stopped;
        await follower.close();
        await store.close();
      })();
      return closing;
    },
  };
}

function parsedSeed(json: unknown): Organization {
  const parsed = parseOrganization(json);
  if (!parsed.ok) throw new Error(`the seed organization does not load: ${parsed.problems.map((p) => p.message).join('; ')}`);
  return parsed.organization;
}

/** The path without the query: a query is the client's, and may hold what a log should not. */
const pathOf = (request: IncomingMessage) => (request.url ?? '').split('?')[0];

function send(response: ServerResponse, answer: Reply, closing: boolean): void {
  if (response.headersSent) return;
  const text = JSON.stringify(answer.body);
  response.writeHead(answer.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-policy-revision': String(answer.revision),
    ...(closing ? { connection: 'close' } : {}),
    ...answer.headers,
  });
  response.end(text);
}

