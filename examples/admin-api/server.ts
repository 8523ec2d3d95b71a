/**
 * The Admin API server example: `node:http`, admin keys in an `x-api-key` header, the
 * library's pure commands (SPEC §5) on a snapshot stored in PGlite, every applied and refused command
 * in an append-only audit log, and concurrent commands serialized by an optimistic check on `revision`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  applyCommand,
  createPolicy,
  listRoles,
  parseOrganization,
  serializeOrganization,
  type AdminErrorClass,
  type Organization,
  type Policy,
} from 'org-policy';
import { commandFields, inAdminApiWords } from './payload.js';
import { COMMAND_ROUTES, matchPath } from './routes.js';
import { openPgliteStorage, type AdminStorage } from './storage.js';

/** The sample actors who get an admin key on the first start, with what each stands for in the sample. */
export const SAMPLE_ACTORS = ['m-ada', 'm-chloe', 'm-bruno', 'm-dave'] as const;
const SAMPLE_ORGANIZATION = new URL('../sample-organization.json', import.meta.url);
const MAX_BODY_BYTES = 1 << 20;
/** A lost race on `revision` reloads and re-applies; after this many tries the request gets 409. */
const MAX_ATTEMPTS = 25;

const STATUS_OF_CLASS: Record<AdminErrorClass, number> = { forbidden: 403, validation: 400, not_found: 404, invariant: 409 };

export interface AdminApiOptions {
  readonly port?: number;
  readonly host?: string;
  /** A PGlite data directory, or `memory://`. */
  readonly dataDir: string;
  /** The clock (the library reads none): the audit event's time and API key expiry. */
  readonly now?: () => string;
  /** Wraps the storage (tests add latency, as a PostgreSQL server over the network would have). */
  readonly wrapStorage?: (storage: AdminStorage) => AdminStorage;
}

export interface AdminApi {
  readonly url: string;
  /** Keys generated on this start (first start only: empty when the database was already seeded). */
  readonly seededKeys: ReadonlyMap<string, string>;
  readonly storage: AdminStorage;
  /** How many commits lost the race on `revision` and were re-applied on the stored snapshot. */
  readonly stats: { readonly revisionConflicts: number };
  close(): Promise<void>;
}

export const sha256 = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

const errorBody = (code: string, message: string, path: readonly (string | number)[] = []) => ({ error: { code, path, message } });

export async function startAdminApi(options: AdminApiOptions): Promise<AdminApi> {
  const opened = await openPgliteStorage(options.dataDir);
  const storage = options.wrapStorage ? options.wrapStorage(opened) : opened;
  const now = options.now ?? (() => new Date().toISOString());
  const seededKeys = await seedOnFirstStart(storage);

  // The last snapshot this instance saw, parsed once; a lost race replaces it with the stored one.
  let current = await loadCurrent(storage);
  const stats = { revisionConflicts: 0 };
  const policies = new WeakMap<Organization, Policy>();
  const policyOf = (organization: Organization) => {
    let policy = policies.get(organization);
    if (policy === undefined) policies.set(organization, (policy = createPolicy(organization)));
    return policy;
  };

  async function authenticate(request: IncomingMessage): Promise<string> {
    const key = request.headers['x-api-key'];
    if (typeof key !== 'string' || key === '') throw new HttpError(401, errorBody('missing_api_key', 'send an admin key in the x-api-key header'));
    const actor = await storage.actorForKeyHash(sha256(key));
    if (actor === null) throw new HttpError(401, errorBody('unknown_api_key', 'this admin key is not known'));
    return actor;
  }

  async function runCommand(actor: string, command: Record<string, unknown>): Promise<[number, unknown]> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const base = current;
      const result = applyCommand(base.organization, actor, command, { now: now() });
      if (!result.ok) {
        await storage.appendAudit(result.event);
        const { error } = result;
        return [STATUS_OF_CLASS[error.class], { error: inAdminApiWords(error) }];
      }
      const serialized = serializeOrganization(result.snapshot);
      const revision = result.snapshot.revision;
      if (await storage.commit(base.revision, { snapshot: serialized, revision }, result.event)) {
        if (current === base) current = { organization: result.snapshot, revision };
        return [200, { revision, event: result.event, entities: entitiesOf(serialized, result.event.targets) }];
      }
      stats.revisionConflicts++;
      current = await loadCurrent(storage); // SPEC §5: another writer won; re-apply on its revision
      await backOff(attempt);
    }
    return [409, errorBody('revision_conflict', `the organization changed ${MAX_ATTEMPTS} times while this command was applied; retry`)];
  }

  async function handle(request: IncomingMessage): Promise<[number, unknown]> {
    const url = new URL(request.url ?? '/', 'http://admin-api.invalid');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/$/, '') : url.pathname;
    const method = request.method ?? 'GET';

    if (method === 'GET' && (path === '/api/admin/roles' || path === '/api/admin/organization' || path === '/api/admin/audit-log')) {
      const actor = await authenticate(request);
      if (path === '/api/admin/roles') return [200, listRoles()]; // SPEC §5: anyone
      current = await loadCurrent(storage); // another instance may have written since this one last did
      if (path === '/api/admin/organization') {
        // SPEC §2: opening the Admin Panel is `admin.access`
        if (!policyOf(current.organization).can(actor, 'admin.access')) return [403, errorBody('forbidden', 'admin.access is needed')];
        return [200, serializeOrganization(current.organization)];
      }
      if (!policyOf(current.organization).can(actor, 'org.audit_logs.view')) return [403, errorBody('forbidden', 'org.audit_logs.view is needed')];
      return [200, { events: await storage.auditLog() }];
    }

    for (const route of COMMAND_ROUTES) {
      if (route.method !== method) continue;
      const params = matchPath(route.path, path);
      if (params === null) continue;
      const actor = await authenticate(request);
      const body = await readJsonObject(request);
      const refused = (route.refuse ?? []).filter((field) => field in body);
      if (refused.length > 0) return [400, errorBody('unknown_field', `${refused.join(', ')} is not a field of ${method} ${route.path}`, refused)];
      const mapped = commandFields(body);
      if (!mapped.ok) return [400, { error: { class: 'validation', ...mapped.problems[0]!, problems: mapped.problems } }];
      // The route's ids win over the body's; the library's schema checks every other field.
      return runCommand(actor, { ...mapped.fields, ...params, ...route.fixed, type: route.command });
    }
    return [404, errorBody('unknown_route', `no Admin API route ${method} ${path}`)];
  }

  const server = createServer((request, response) => {
    handle(request)
      .then(([status, body]) => send(response, status, body))
      .catch((error: unknown) => {
        if (error instanceof HttpError) return send(response, error.status, error.body);
        console.error('admin-api: internal error', error instanceof Error ? error.message : error);
        send(response, 500, errorBody('internal_error', 'internal error'));
      });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;

  return {
    url: `http://${address.address}:${address.port}`,
    seededKeys,
    storage,
    stats,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await storage.close();
    },
  };
}

/** A random pause that grows with each lost race, so that contending writers spread out instead of colliding again. */
function backOff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * 2 ** Math.min(attempt, 6)));
}

/** First start: the bundled sample organization and one fresh key per sample actor; only hashes are stored. */
async function seedOnFirstStart(storage: AdminStorage): Promise<ReadonlyMap<string, string>> {
  if ((await storage.load()) !== null) return new Map();
  const parsed = parseOrganization(JSON.parse(readFileSync(SAMPLE_ORGANIZATION, 'utf8')));
  if (!parsed.ok) throw new Error(`the bundled sample organization does not load: ${parsed.problems.map((p) => p.message).join('; ')}`);
  const keys = new Map(SAMPLE_ACTORS.map((actor) => [actor, `oak_${randomBytes(24).toString('base64url')}`]));
  const hashes = [...keys].map(([actor, key]) => ({ actor, hash: sha256(key) }));
  const seeded = await storage.seed(serializeOrganization(parsed.organization), parsed.organization.revision, hashes);
  return seeded ? keys : new Map(); // another instance seeded first: its keys count
}

async function loadCurrent(storage: AdminStorage): Promise<{ organization: Organization; revision: number }> {
  const stored = await storage.load();
  if (stored === null) throw new Error('no organization stored');
  const parsed = parseOrganization(stored.snapshot);
  if (!parsed.ok) throw new Error(`the stored organization does not load: ${parsed.problems.map((p) => p.message).join('; ')}`);
  return { organization: parsed.organization, revision: stored.revision };
}

const COLLECTION_OF_KIND: Record<string, string> = {
  member: 'members',
  workspace: 'workspaces',
  group: 'groups',
  connector: 'connectors',
  credential: 'credentials',
  api_key: 'apiKeys',
  seat_pool: 'seatPools',
};

/** The applied command's targets as they now stand in the snapshot (absent when it deleted them). */
function entitiesOf(serialized: unknown, targets: readonly { kind: string; id: string }[]) {
  const snapshot = serialized as Record<string, unknown>;
  return targets.map((target) => {
    const collection = snapshot[COLLECTION_OF_KIND[target.kind] ?? ''];
    const entity = Array.isArray(collection)
      ? (collection as Record<string, unknown>[]).find((item) => (target.kind === 'seat_pool' ? item.product : item.id) === target.id)
      : undefined;
    return { kind: target.kind, id: target.id, entity: entity ?? null };
  });
}

async function readJsonObject(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  // An oversized body is drained, not cut off, so the client reads the 413 instead of a reset connection.
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  if (size > MAX_BODY_BYTES) throw new HttpError(413, errorBody('body_too_large', `a request body is at most ${MAX_BODY_BYTES} bytes`));
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, errorBody('malformed_json', `the request body is not JSON: ${error instanceof Error ? error.message : String(error)}`));
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, errorBody('invalid_body', 'the request body must be a JSON object'));
  }
  return body as Record<string, unknown>;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
