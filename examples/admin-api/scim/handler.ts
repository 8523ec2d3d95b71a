/**
 * The SCIM 2.0 service (RFC 7643, RFC 7644) of the Admin API, under `/scim/v2`, and the Admin API routes
 * that issue and revoke its tokens (`/api/admin/scim/tokens`). Every SCIM write becomes org-policy admin
 * commands applied through the store as one change (`store.apply`: all or nothing), by the member the
 * token acts as — so SCIM is authorized through `can` and audited like any admin, and reaches every
 * gateway through the change feed. Reads answer from the followed organization.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApplyResult, Follower, SqlClient, Store } from '@org-policy/store';
import type { ActionName, Change, CommandType, Group, Member, Organization } from 'org-policy';
import { DEFAULT_COUNT, MAX_RESULTS, resourceTypes, schemas, serviceProviderConfig } from './discovery.js';
import { errorBody, fromAdminError, invalid, scimError, ScimRequestError } from './errors.js';
import { groupFilter, userFilter } from './filter.js';
import { readJson, send } from './http.js';
import { MemberLookup } from './lookup.js';
import { inviteCommands, membershipCommands, profileCommands, readGroup, readUser, type Command } from './mapping.js';
import { groupPatchCommands, readOperations, userPatchProfile } from './patch.js';
import { groupResource, LIST_SCHEMA, project, userResource, type GroupLike, type MemberLike, type Resource } from './resources.js';
import { HeadMoved, type ScimToken, type ScimTokens } from './tokens.js';

export const SCIM_BASE_PATH = '/scim/v2';
export const TOKEN_ROUTE = '/api/admin/scim/tokens';

export type AdminAuthentication = { readonly actor: string } | { readonly status: number; readonly body: unknown };

export interface ScimServiceOptions {
  readonly store: Store;
  /** This process's follower of the same organization: reads answer from it, writes wait for it. */
  readonly follower: Follower;
  readonly tokens: ScimTokens;
  /** The clock (the library reads none): audit events and token times. */
  readonly now?: () => string;
  /** The Admin API's own authentication (its admin keys), for the token routes; without it they are not served. */
  readonly authenticateAdmin?: (request: IncomingMessage) => Promise<AdminAuthentication>;
  /** More statements in the transaction of every SCIM change (the Admin API's admin keys following their members). */
  readonly inTransaction?: (tx: SqlClient, result: ApplyResult, change: { readonly actor: string; readonly commands: readonly Record<string, unknown>[] }) => Promise<void>;
  /** How long a write waits for the follower to reach it before answering (read-your-writes); default 5 s. */
  readonly waitTimeoutMs?: number;
  /** `meta.location`'s origin; by default the request's Host. */
  readonly publicUrl?: string;
}

/** Answers the request and resolves `true` if it is the SCIM service's; `false` leaves it to the caller. */
export type ScimHandler = (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;

type Reply = readonly [status: number, body: unknown, headers?: Record<string, string>];

/** The command a write would have been, for the audit event of one refused before it was built. */
const WRITE_COMMAND: Record<'Users' | 'Groups', Record<string, CommandType>> = {
  Users: { POST: 'inviteMember', PUT: 'setMemberProfile', PATCH: 'setMemberProfile', DELETE: 'removeMember' },
  Groups: { POST: 'createGroup', PUT: 'renameGroup', PATCH: 'addGroupMembers', DELETE: 'deleteGroup' },
};

/** How often a token's issue is decided again when another change committed first. */
const MAX_RECOMPUTE = 10;

const READ_ACTION: Record<'Users' | 'Groups', ActionName> = { Users: 'org.members.manage', Groups: 'org.groups.manage' };

export function createScimHandler(options: ScimServiceOptions): ScimHandler {
  const { store, follower, tokens } = options;
  const clock = options.now ?? (() => new Date().toISOString());
  const timeoutMs = options.waitTimeoutMs ?? 5_000;
  const lookup = new MemberLookup(follower);
  /** The revision of the change a request committed: what its answer names in x-policy-revision. */
  const writtenAt = new WeakMap<IncomingMessage, number>();

  /** Every SCIM request's commands, as one change; the tokens of removed members go in its transaction. */
  async function commit(request: IncomingMessage, actor: string, commands: readonly Command[]): Promise<{ revision: number; change: Change | null }> {
    if (commands.length === 0) return { revision: follower.revision, change: null };
    const now = clock();
    const result = await store.apply(actor, commands, {
      now,
      inTransaction: async (tx, applied) => {
        await tokens.revokeForRemovedMembers(tx, applied, now);
        await options.inTransaction?.(tx, applied, { actor, commands });
      },
    });
    if (!result.ok) throw new ScimRequestError(fromAdminError(result.error));
    writtenAt.set(request, result.revision);
    // Read-your-writes: the client's next request, here, sees this change. Past the bound the write
    // still stands (it is durable), and the answer is built from the change itself.
    await follower.waitFor(result.revision, { timeoutMs });
    return { revision: result.revision, change: result.change as Change };
  }

  /** A resource missing from the followed organization may be newer than it: confirmed at the head first. */
  async function find<T>(get: (organization: Organization) => T | undefined, what: string): Promise<T> {
    const found = get(follower.organization);
    if (found !== undefined) return found;
    const head = await store.head();
    if (head !== null && head.revision > follower.revision) await follower.waitFor(head.revision, { timeoutMs });
    const again = get(follower.organization);
    if (again === undefined) throw new ScimRequestError(scimError(404, undefined, `${what} not found`));
    return again;
  }

  /** The follower at the head as the database has it now: what a token is issued on. */
  async function atHead(): Promise<number> {
    const head = await store.head();
    const waited = await follower.waitFor(head?.revision ?? 0, { timeoutMs });
    if (!waited.ok) throw new ScimRequestError(scimError(503, undefined, 'this instance could not reach the head of the change log in time; retry'));
    return follower.revision;
  }

  async function authenticate(request: IncomingMessage): Promise<ScimToken> {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (match === null) throw new ScimRequestError(scimError(401, undefined, 'send a SCIM token: Authorization: Bearer <token>'));
    const token = await tokens.verify(match[1]!);
    if (token === null) throw new ScimRequestError(scimError(401, undefined, 'this SCIM token is not known, or was revoked'));
    if (!follower.organization.members.has(token.memberId)) throw new ScimRequestError(scimError(401, undefined, "this SCIM token's member is no longer in the organization"));
    return token;
  }

  /**
   * The token's member must hold the action that manages the resource before anything is looked up, so it
   * learns nothing of what it may not manage. A write refused here is audited as the library would
   * audit it (the command it would have been, `forbidden`); a read is not audited (SPEC §7.20).
   */
  async function authorize(actor: string, resource: 'Users' | 'Groups', method: string, id: string | undefined) {
    if (follower.policy.can(actor, READ_ACTION[resource])) return;
    const command = method === 'GET' ? undefined : WRITE_COMMAND[resource][method];
    if (command !== undefined) {
      const targets = id === undefined ? [] : [{ kind: resource === 'Users' ? ('member' as const) : ('group' as const), id }];
      await store.recordAudit([{ organizationId: store.organizationId, actor, command, targets, at: clock(), result: { status: 'refused', class: 'forbidden', code: 'forbidden' } }]);
    }
    throw new ScimRequestError(scimError(403, undefined, `forbidden: the SCIM token's member may not manage ${resource === 'Users' ? 'members' : 'groups'} (${READ_ACTION[resource]})`));
  }

  async function scim(request: IncomingMessage, url: URL, path: string, base: string): Promise<Reply> {
    const method = request.method ?? 'GET';
    let segments: string[];
    try {
      segments = path.slice(SCIM_BASE_PATH.length).split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      return invalid('invalidPath', 'the path is not valid percent-encoding');
    }
    const [resource, id, ...rest] = segments;

    // Discovery (RFC 7644 §4): no secret in it, served without a token.
    if (method === 'GET' && resource === 'ServiceProviderConfig' && id === undefined) return [200, serviceProviderConfig(base)];
    if (method === 'GET' && resource === 'ResourceTypes') return discovery(resourceTypes(base), id, 'ResourceType', base);
    if (method === 'GET' && resource === 'Schemas') return discovery(schemas(base), id, 'Schema', base);
    if (resource === 'Bulk' || resource === 'Me') return [501, errorBody(scimError(501, undefined, `/${resource} is not supported`))];
    if ((resource !== 'Users' && resource !== 'Groups') || rest.length > 0) return [404, errorBody(scimError(404, undefined, `no SCIM endpoint ${path}`))];

    const token = await authenticate(request);
    await authorize(token.memberId, resource, method, id);
    const actor = token.memberId;
    const attributes = listParameter(url, 'attributes');
    const excluded = listParameter(url, 'excludedAttributes');

    if (resource === 'Users') {
      const one = (member: MemberLike, status = 200, headers: Record<string, string> = {}): Reply => [status, project(userResource(member, base), attributes, excluded), headers];
      const member = (memberId: string) => find((o) => o.members.get(memberId), `User ${JSON.stringify(memberId)}`);
      if (id === undefined) {
        if (method === 'GET') return [200, listUsers(url, base, attributes, excluded)];
        if (method !== 'POST') return notAllowed(method);
        const profile = readUser(await readJson(request));
        const memberId = randomUUID(); // never reused: a SCIM user's id names one member forever
        const { change } = await commit(request, actor, inviteCommands(memberId, profile));
        const created = entityIn<MemberLike>(change, 'members', memberId) ?? (await member(memberId));
        return one(created, 201, { location: `${base}/Users/${encodeURIComponent(memberId)}` });
      }
      if (method === 'GET') return one(await member(id));
      if (method === 'DELETE') {
        await member(id);
        await commit(request, actor, [{ type: 'removeMember', memberId: id }]);
        return [204, undefined];
      }
      if (method !== 'PUT' && method !== 'PATCH') return notAllowed(method);
      const body = await readJson(request);
      const current = await member(id);
      const profile = method === 'PUT' ? readUser(body) : userPatchProfile(current, readOperations(body));
      const { change } = await commit(request, actor, profileCommands(current, profile));
      return one(entityIn<MemberLike>(change, 'members', id) ?? (await member(id)));
    }

    const withMembers = projected('members', attributes, excluded);
    const one = (group: GroupLike, status = 200, headers: Record<string, string> = {}): Reply => [status, project(groupResource(group, base, memberOf(follower.organization), withMembers), attributes, excluded), headers];
    const group = (groupId: string) => find((o) => o.groups.get(groupId), `Group ${JSON.stringify(groupId)}`);
    if (id === undefined) {
      if (method === 'GET') return [200, listGroups(url, base, attributes, excluded, withMembers)];
      if (method !== 'POST') return notAllowed(method);
      const input = readGroup(await readJson(request));
      const groupId = randomUUID();
      // SCIM makes the group and its membership; its grants and roles are the admins' (docs/scim.md).
      const { change } = await commit(request, actor, [{ type: 'createGroup', groupId, name: input.name, ...(input.memberIds && input.memberIds.length > 0 ? { memberIds: input.memberIds } : {}) }]);
      const created = entityIn<GroupLike>(change, 'groups', groupId) ?? (await group(groupId));
      return one(created, 201, { location: `${base}/Groups/${encodeURIComponent(groupId)}` });
    }
    if (method === 'GET') return one(await group(id));
    if (method === 'DELETE') {
      await group(id);
      await commit(request, actor, [{ type: 'deleteGroup', groupId: id }]);
      return [204, undefined];
    }
    if (method !== 'PUT' && method !== 'PATCH') return notAllowed(method);
    const body = await readJson(request);
    const current = await group(id);
    if (method === 'PATCH') {
      await commit(request, actor, groupPatchCommands(current, readOperations(body)));
      return [204, undefined];
    }
    const input = readGroup(body);
    const commands: Command[] = [
      ...(input.memberIds !== undefined ? membershipCommands(current, input.memberIds) : []),
      ...(input.name !== current.name ? [{ type: 'renameGroup', groupId: id, name: input.name }] : []),
    ];
    const { change } = await commit(request, actor, commands);
    return one(entityIn<GroupLike>(change, 'groups', id) ?? (await group(id)));
  }

  function listUsers(url: URL, base: string, attributes: string[] | null, excluded: string[] | null) {
    const organization = follower.organization;
    const text = url.searchParams.get('filter');
    let members: Iterable<Member> = organization.members.values();
    if (text !== null) {
      const filter = userFilter(text, lookup);
      const ids = filter.candidates(organization);
      const pool = ids === null ? [...organization.members.values()] : ids.map((memberId) => organization.members.get(memberId)).filter((m): m is Member => m !== undefined);
      members = pool.filter((m) => filter.matches(m));
    }
    return page(url, [...members], (member) => project(userResource(member, base), attributes, excluded));
  }

  function listGroups(url: URL, base: string, attributes: string[] | null, excluded: string[] | null, withMembers: boolean) {
    const organization = follower.organization;
    const text = url.searchParams.get('filter');
    let groups: Group[] = [...organization.groups.values()];
    if (text !== null) {
      const filter = groupFilter(text);
      const ids = filter.candidates(organization);
      if (ids !== null) groups = ids.map((groupId) => organization.groups.get(groupId)).filter((g): g is Group => g !== undefined);
      groups = groups.filter((g) => filter.matches(g));
    }
    const members = memberOf(organization);
    return page(url, groups, (group) => project(groupResource(group, base, members, withMembers), attributes, excluded));
  }

  async function tokenRoute(request: IncomingMessage, path: string): Promise<Reply> {
    const adminError = (status: number, code: string, message: string): Reply => [status, { error: { code, path: [], message } }];
    if (options.authenticateAdmin === undefined) return adminError(404, 'unknown_route', 'SCIM tokens are issued through the Admin API');
    const authenticated = await options.authenticateAdmin(request);
    if (!('actor' in authenticated)) return [authenticated.status, authenticated.body];
    const { actor } = authenticated;
    // Issuing a token hands out a member's powers: an organization-level security setting.
    if (!follower.policy.can(actor, 'org.security.manage')) return adminError(403, 'forbidden', 'org.security.manage is needed to manage SCIM tokens');
    const rest = path.slice(TOKEN_ROUTE.length).split('/').filter(Boolean);
    const method = request.method ?? 'GET';
    if (rest.length === 0 && method === 'GET') return [200, { tokens: await tokens.list() }];
    if (rest.length === 0 && method === 'POST') {
      const body = await readJson(request);
      const name = body.name;
      if (typeof name !== 'string' || name.trim() === '' || name.length > 200 || /\p{Cc}/u.test(name)) {
        return adminError(400, 'invalid_value', 'name: a non-empty label of at most 200 characters without control characters');
      }
      const memberId = body.memberId ?? actor;
      if (typeof memberId !== 'string') return adminError(400, 'invalid_type', 'memberId must be a string');
      for (let attempt = 0; ; attempt++) {
        const revision = await atHead();
        const member = follower.organization.members.get(memberId);
        if (member === undefined) return adminError(404, 'member_not_found', `member ${JSON.stringify(memberId)} does not exist`);
        if (member.status !== 'active') return adminError(400, 'member_suspended', `member ${JSON.stringify(memberId)} is suspended: a token acting as it could do nothing`);
        try {
          const issued = await tokens.issue({ memberId, name, createdBy: actor, now: clock(), revision });
          return [201, { token: issued.token, secret: issued.secret }];
        } catch (error) {
          if (!(error instanceof HeadMoved) || attempt >= MAX_RECOMPUTE) throw error;
        }
      }
    }
    if (rest.length === 1 && method === 'DELETE') {
      const tokenId = decodeURIComponent(rest[0]!);
      const revoked = await tokens.revoke(tokenId, { by: actor, now: clock(), revision: await atHead() });
      return revoked === null ? adminError(404, 'token_not_found', 'no such SCIM token') : [200, { token: revoked }];
    }
    return adminError(404, 'unknown_route', `no Admin API route ${method} ${path}`);
  }

  return async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://scim.invalid');
    const path = url.pathname.replace(/\/+$/, '');
    const isScim = path === SCIM_BASE_PATH || path.startsWith(`${SCIM_BASE_PATH}/`);
    const isTokens = path === TOKEN_ROUTE || path.startsWith(`${TOKEN_ROUTE}/`);
    if (!isScim && !isTokens) return false;
    const base = `${options.publicUrl ?? `http://${request.headers.host ?? 'localhost'}`}${SCIM_BASE_PATH}`;
    try {
      const [status, body, headers] = isScim ? await scim(request, url, path, base) : await tokenRoute(request, path);
      send(response, status, body, { ...revisionHeaders(status, writtenAt.get(request)), ...headers }, isScim ? undefined : 'application/json');
    } catch (error) {
      if (!(error instanceof ScimRequestError)) console.error('scim: internal error', error instanceof Error ? error.message : error);
      const failure = error instanceof ScimRequestError ? error.error : scimError(500, undefined, 'internal error');
      const body = isScim ? errorBody(failure) : { error: { code: failure.scimType ?? 'invalid_request', path: [], message: failure.detail } };
      send(response, failure.status, body, revisionHeaders(failure.status), isScim ? undefined : 'application/json');
    }
    return true;
  };

  /** The revision an answer was decided at: the change it committed, or the followed one it read. */
  function revisionHeaders(status: number, written?: number): Record<string, string> {
    return { 'x-policy-revision': String(written ?? follower.revision), ...(status === 401 ? { 'www-authenticate': 'Bearer realm="scim"' } : {}) };
  }
}

function discovery(list: readonly Resource[], id: string | undefined, kind: string, base: string): Reply {
  if (id === undefined) return [200, { schemas: [LIST_SCHEMA], totalResults: list.length, startIndex: 1, itemsPerPage: list.length, Resources: list }];
  const found = list.find((entry) => entry.id === id);
  return found === undefined ? [404, errorBody(scimError(404, undefined, `no ${kind} ${JSON.stringify(id)} at ${base}`))] : [200, found];
}

const notAllowed = (method: string): Reply => [405, errorBody(scimError(405, undefined, `${method} is not supported here`))];

/** `attributes=a,b` → `['a', 'b']`; absent → `null`. */
function listParameter(url: URL, name: string): string[] | null {
  const value = url.searchParams.get(name);
  return value === null ? null : value.split(',').map((part) => part.trim()).filter(Boolean);
}

/** Whether a top-level attribute survives `attributes` / `excludedAttributes` (so that a group's members are not built for nothing). */
function projected(name: string, attributes: string[] | null, excluded: string[] | null): boolean {
  const probe = project({ [name]: true }, attributes, excluded);
  return name in probe;
}

/** RFC 7644 §3.4.2.4: 1-based `startIndex` (below 1 is 1), `count` (default 100, at most 1,000, 0 counts only). */
function page<T>(url: URL, all: readonly T[], represent: (item: T) => Resource) {
  const integer = (name: string, fallback: number) => {
    const raw = url.searchParams.get(name);
    if (raw === null || raw === '') return fallback;
    if (!/^-?\d+$/.test(raw)) return invalid('invalidValue', `${name} must be an integer`);
    return Number(raw);
  };
  const startIndex = Math.max(1, integer('startIndex', 1));
  const count = Math.min(MAX_RESULTS, Math.max(0, integer('count', DEFAULT_COUNT)));
  const resources = all.slice(startIndex - 1, startIndex - 1 + count).map(represent);
  return { schemas: [LIST_SCHEMA], totalResults: all.length, startIndex, itemsPerPage: resources.length, Resources: resources };
}

const memberOf = (organization: Organization) => (memberId: string) => organization.members.get(memberId);

/** The entity as a committed change left it (`undefined`: the change did not touch it). */
function entityIn<T>(change: Change | null, collection: 'members' | 'groups', id: string): T | undefined {
  if (change === null) return undefined;
  for (let i = change.patches.length - 1; i >= 0; i--) {
    const patch = change.patches[i]!;
    if (patch.path.length === 2 && patch.path[0] === collection && patch.path[1] === id) return patch.op === 'remove' ? undefined : (patch.value as T);
  }
  return undefined;
}
