/**
 * The SCIM service on real HTTP over loopback, on a store of its own: PGlite in this process, or a fresh
 * database on the PostgreSQL test server. The Admin API's admin keys are stood in for by fixed keys, so
 * the token routes are driven as a client would.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openStore, type Follower, type Store } from '@org-policy/store';
import { parseOrganization, type Organization } from 'org-policy';
import { createTestDatabase, type TestDatabase } from '../../../packages/store/test/support/server.js';
import { createScimHandler, SCIM_BASE_PATH, type ScimServiceOptions } from './handler.js';
import { openScimTokens, type ScimTokens } from './tokens.js';

export const ADMIN_KEYS: Readonly<Record<string, string>> = { 'key-ada': 'm-ada', 'key-chloe': 'm-chloe', 'key-dave': 'm-dave' };

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

export interface ScimHarness {
  readonly url: string;
  /** The PostgreSQL database, when on the server: another instance may join it. */
  readonly databaseUrl: string | null;
  readonly store: Store;
  readonly follower: Follower;
  readonly tokens: ScimTokens;
  /** A SCIM token acting as m-ada, the sample's organization admin. */
  readonly token: string;
  /** A request under `/scim/v2` with `token` (or another, or none with `null`). */
  scim(method: string, path: string, body?: unknown, token?: string | null): Promise<Reply>;
  /** A request to the Admin API's SCIM token routes with an admin key. */
  admin(method: string, path: string, key: string | null, body?: unknown): Promise<Reply>;
  close(): Promise<void>;
}

export function sampleOrganization(): Organization {
  const parsed = parseOrganization(JSON.parse(readFileSync(new URL('../../sample-organization.json', import.meta.url), 'utf8')));
  if (!parsed.ok) throw new Error('the sample organization does not parse');
  return parsed.organization;
}

export async function startScimHarness(
  options: {
    readonly database?: 'pglite' | 'postgres';
    /** Another instance of the service on this harness's database (PostgreSQL), sharing its token. */
    readonly join?: ScimHarness;
    readonly organization?: Organization;
    readonly service?: Partial<ScimServiceOptions>;
  } = {},
): Promise<ScimHarness> {
  const organization = options.organization ?? sampleOrganization();
  let database: TestDatabase | undefined;
  if (options.database === 'postgres' && options.join === undefined) database = await createTestDatabase('scim');
  const databaseUrl = options.join?.databaseUrl ?? database?.url ?? null;
  const store = await openStore({ organizationId: organization.id, ...(databaseUrl !== null ? { url: databaseUrl } : { dataDir: 'memory://' }) });
  if (options.join === undefined) {
    const init = await store.init(organization);
    if (!init.ok) throw new Error(init.error.message);
  }
  const follower = await store.follow();
  const tokens = await openScimTokens(store);
  const secret =
    options.join?.token ?? (await tokens.issue({ memberId: 'm-ada', name: 'test', createdBy: 'm-ada', now: new Date().toISOString(), revision: follower.revision })).secret;
  const handler = createScimHandler({
    store,
    follower,
    tokens,
    authenticateAdmin: async (request) => {
      const key = request.headers['x-api-key'];
      const actor = typeof key === 'string' ? ADMIN_KEYS[key] : undefined;
      return actor !== undefined ? { actor } : { status: 401, body: { error: { code: 'unknown_api_key', path: [], message: 'this admin key is not known' } } };
    },
    ...options.service,
  });
  const server: Server = createServer((request, response) => {
    handler(request, response).then(
      (handled) => {
        if (!handled) response.writeHead(404).end();
      },
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const call = async (path: string, method: string, headers: Record<string, string>, body: unknown): Promise<Reply> => {
    const response = await fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/scim+json', ...headers }, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
  };

  return {
    url,
    databaseUrl,
    store,
    follower,
    tokens,
    token: secret,
    scim: (method, path, body, token = secret) => call(`${SCIM_BASE_PATH}${path}`, method, token === null ? {} : { authorization: `Bearer ${token}` }, body),
    admin: (method, path, key, body) => call(path, method, key === null ? {} : { 'x-api-key': key }, body),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await store.close();
      await database?.drop();
    },
  };
}

/**
 * 60 PATCH adds and 20 removes (half by value filter, half in Entra's shape) at once on one group, spread
 * over `instances`: every instance ends with exactly the expected members, each PATCH its own change.
 */
export async function raceOnOneGroup(instances: readonly ScimHarness[]): Promise<void> {
  const ADDED = 60;
  const REMOVED = 20;
  const [first] = instances;
  const ids = Array.from({ length: ADDED + REMOVED }, (_, i) => `m-race-${i}`);
  const invited = await first!.store.apply('m-ada', ids.map((memberId) => ({ type: 'inviteMember', memberId, email: `${memberId}@acme.test` })), { now: Date.now() });
  expect(invited.ok).toBe(true);
  if (invited.ok) for (const instance of instances) await instance.follower.waitFor(invited.revision, { timeoutMs: 10_000 });
  const staying = ids.slice(ADDED);
  const group = await first!.scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Race', members: staying.map((value) => ({ value })) });
  expect(group.status).toBe(201);
  const groupId: string = group.body.id;
  const leaving = staying.slice(0, REMOVED / 2);
  const before = first!.follower.revision;

  const requests = [
    ...ids.slice(0, ADDED).map((value) => ({ op: 'add', path: 'members', value: [{ value }] })),
    ...leaving.map((value, i) => (i % 2 === 0 ? { op: 'remove', path: `members[value eq "${value}"]` } : { op: 'Remove', path: 'members', value: [{ value }] })),
  ];
  const replies = await Promise.all(
    requests.map((operation, i) => instances[i % instances.length]!.scim('PATCH', `/Groups/${groupId}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [operation] })),
  );
  expect(replies.map((r) => r.status)).toEqual(requests.map(() => 204));

  const head = (await first!.store.head())!.revision;
  expect(head).toBe(before + requests.length);
  for (const instance of instances) {
    await instance.follower.waitFor(head, { timeoutMs: 10_000 });
    const members = instance.follower.organization.groups.get(groupId)!.memberIds;
    expect(new Set(members)).toEqual(new Set([...ids.slice(0, ADDED), ...staying.slice(REMOVED / 2)]));
    expect(members).toHaveLength(ADDED + REMOVED / 2);
  }
  const seen = await first!.scim('GET', `/Groups/${groupId}`);
  expect(seen.body.members).toHaveLength(ADDED + REMOVED / 2);
}
