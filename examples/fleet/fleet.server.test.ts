/**
 * The fleet over real processes and the real PostgreSQL server (a fresh database, dropped after): two
 * Admin API processes writing and three MCP gateway replicas following, each the example's own `main.ts`.
 * 200 concurrent requests split across the two writers are all acknowledged, at 200 revisions without a
 * gap, all in the change log and the audit log; every replica reaches the head and answers tools/list over
 * MCP as `createPolicy` on the final snapshot does, for members signed in with access tokens and for the
 * new API keys by their secrets. An API key created through the Admin API works at each replica and is
 * refused there once revoked; how long that took is printed, not asserted.
 *
 * A server suite (`*.server.test.ts`): it runs when TEST_DATABASE_URL's server answers, and under CI=true
 * an unreachable server fails the run (vitest.config.ts, packages/store/test/support).
 */
import { openStore, type Follower, type Store } from '@org-policy/store';
import { importJWK, SignJWT, type JWK } from 'jose';
import { createPolicy, parseOrganization, serializeOrganization, type Organization, type Policy } from 'org-policy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, sql, type TestDatabase } from '../../packages/store/test/support/server.js';
import { generateSigningKey, startDevIssuer, TOOLS_SCOPE, type DevIssuer } from '../mcp-gateway/dev-issuer.js';
import { SEPARATOR } from '../mcp-gateway/source.js';
import { adminCall, describePropagation, followKeyThroughFleet, health, ORGANIZATION_ID, startFleet, toolsList, until, type Fleet, type McpAnswer } from './fleet.js';
import { loadPlan, SAMPLE_WORKSPACES, type LoadRequest } from './load.js';

const BOOTSTRAP_KEY = `oak_fleet-test-${'0123456789abcdef'.repeat(2)}`;

let db: TestDatabase | undefined;
let issuer: DevIssuer | undefined;
let fleet: Fleet | undefined;
let store: Store | undefined;
let follower: Follower | undefined;
let signingKey: JWK;
const adminKeys = new Map<LoadRequest['actor'], string>([['m-ada', BOOTSTRAP_KEY]]);

beforeAll(async () => {
  db = await createTestDatabase('fleet');
  // One authorization server for the fleet; the test holds its signing key to mint access tokens directly.
  signingKey = await generateSigningKey('fleet-test');
  issuer = await startDevIssuer({ users: [], clients: [], signingKey, registration: false, resource: () => false });
  fleet = await startFleet({ databaseUrl: db.url, bootstrapKey: BOOTSTRAP_KEY, oauthIssuer: issuer.issuer, adminApiPorts: [0, 0], gatewayPorts: [0, 0, 0] });
  await follow();
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
  await follower?.close();
  await store?.close();
  await issuer?.close();
  await db?.drop();
}, 60_000);

/** The test's own follower of the database, keeping the organization at every revision it applies. */
const organizations = new Map<number, Organization>();

async function follow() {
  store = await openStore({ url: db!.url, organizationId: ORGANIZATION_ID, autoCheckpoint: false, applicationName: 'fleet-test' });
  follower = await store.follow({ pollIntervalMs: 500 });
  organizations.set(follower.revision, follower.organization);
  follower.on('change', ({ revision, policy }) => organizations.set(revision, policy.organization));
}

/** `createPolicy` on the snapshot at `revision` as JSON, parsed afresh: nothing shared with the replicas' incremental updates. */
async function snapshotAt(revision: number): Promise<{ policy: Policy; revision: number }> {
  expect(await follower!.waitFor(revision, { timeoutMs: 30_000 })).toMatchObject({ ok: true });
  const organization = organizations.get(revision);
  if (organization === undefined) throw new Error(`the test's follower skipped revision ${revision}`);
  const parsed = parseOrganization(JSON.parse(JSON.stringify(serializeOrganization(organization))));
  if (!parsed.ok) throw new Error(`the final snapshot does not parse: ${parsed.problems.map((p) => p.message).join('; ')}`);
  return { policy: createPolicy(parsed.organization), revision: parsed.organization.revision };
}

const toolNames = (policy: Policy, principal: string, workspace: string) =>
  policy.toolsByConnector(principal, workspace, { now: Date.now() }).flatMap(({ connector, tools }) => tools.map((tool) => `${connector.name}${SEPARATOR}${tool}`));

async function accessToken(gatewayUrl: string, workspace: string, sub: string): Promise<string> {
  const seconds = Math.floor(Date.now() / 1000);
  const payload = { iss: issuer!.issuer, aud: `${gatewayUrl}/workspaces/${workspace}/mcp`, sub, iat: seconds, exp: seconds + 600, scope: TOOLS_SCOPE, client_id: 'fleet-test', jti: crypto.randomUUID() };
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: signingKey.kid! }).sign(await importJWK(signingKey, 'ES256'));
}

/** Runs `tasks` with at most `width` in flight. */
async function pooled<T>(tasks: readonly (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]!();
      }
    }),
  );
  return results;
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

/** Filled by the first test, read by the second. */
let head = 0;
let finalPolicy: Policy;

describe('a fleet on one PostgreSQL database: 2 Admin API processes, 3 gateway replicas', () => {
  it('200 concurrent commands across two writers: all acknowledged, no gap, every replica at the head answering as createPolicy on the final snapshot', async () => {
    const [writer1, writer2] = fleet!.adminApis;
    const issued = await adminCall(writer1!.url, BOOTSTRAP_KEY, 'POST', '/api/admin/users/m-chloe/admin-keys', { name: 'fleet test' });
    expect(issued.status).toBe(201);
    adminKeys.set('m-chloe', issued.body.secret);
    const before = (await adminCall(writer2!.url, BOOTSTRAP_KEY, 'GET', '/api/admin/roles')).revision;

    const plan = loadPlan();
    expect(plan).toHaveLength(200);
    const replies = await Promise.all(plan.map((request, i) => adminCall((i % 2 === 0 ? writer1 : writer2)!.url, adminKeys.get(request.actor)!, request.method, request.path, request.body)));
    const refused = replies.flatMap((reply, i) => (reply.status === 200 ? [] : [{ request: plan[i], status: reply.status, body: reply.body }]));
    expect(refused).toEqual([]);
    // Each answer names its own change: 200 distinct revisions, exactly the next 200.
    expect(replies.map((r) => r.body.revision)).toEqual(replies.map((r) => r.revision));
    expect(replies.map((r) => r.revision).sort((a, b) => a - b)).toEqual(range(before + 1, 200));
    head = before + 200;

    // The database holds what was acknowledged: 200 changes without a gap, 200 applied audit entries, nothing refused.
    const changes = await sql<{ revision: string }>(db!.url, 'SELECT revision FROM org_policy.changes WHERE organization_id = $1 AND revision > $2 ORDER BY revision', [ORGANIZATION_ID, before]);
    expect(changes.map((c) => Number(c.revision))).toEqual(range(before + 1, 200));
    const audit = await sql<{ revision: string; status: string; command: string }>(
      db!.url,
      "SELECT revision, status, event->>'command' AS command FROM org_policy.audit WHERE organization_id = $1 AND revision > $2 ORDER BY seq",
      [ORGANIZATION_ID, before],
    );
    expect(audit.filter((a) => a.status === 'applied').map((a) => Number(a.revision)).sort((a, b) => a - b)).toEqual(range(before + 1, 200));
    expect(audit.filter((a) => a.status !== 'applied')).toEqual([]);
    const commands = (list: readonly string[]) => Object.fromEntries([...new Set(list)].sort().map((c) => [c, list.filter((x) => x === c).length]));
    expect(commands(audit.map((a) => a.command))).toEqual(commands(replies.map((r) => r.body.events[0].command)));
    expect(Number((await sql<{ revision: string }>(db!.url, 'SELECT revision FROM org_policy.heads WHERE organization_id = $1', [ORGANIZATION_ID]))[0]!.revision)).toBe(head);

    // Every replica at the head, by its /healthz.
    for (const gateway of fleet!.gateways) {
      const reached = await until(`${gateway.name} at revision ${head}`, () => health(gateway.url), (h) => h.revision >= head, 30_000);
      expect(reached.revision).toBe(head);
    }

    // The grid: members by access token (their external ids came with the load) and the new keys by secret,
    // at four workspaces, at every replica — each answer at the head, listing exactly createPolicy's tools.
    const final = await snapshotAt(head);
    expect(final.revision).toBe(head);
    finalPolicy = final.policy;
    const members = plan.flatMap((r) => (r.externalId === undefined ? [] : [r.externalId]));
    const invited = plan.flatMap((r) => (typeof r.body.externalId === 'string' && r.path === '/api/admin/users' ? [{ memberId: r.body.memberId as string, sub: r.body.externalId }] : []));
    const keys = plan.flatMap((r, i) => (r.apiKey === undefined ? [] : [{ keyId: r.apiKey.keyId, secret: replies[i]!.body.secret as string }]));
    expect([members.length, invited.length, keys.length]).toEqual([8, 20, 60]);
    expect(keys.every((k) => typeof k.secret === 'string' && k.secret.length >= 32)).toBe(true);
    const workspaces = [...SAMPLE_WORKSPACES, 'ws-load-0'];

    type Cell = { gateway: string; principal: string; workspace: string; expected: readonly string[]; ask: () => Promise<McpAnswer> };
    const cells: Cell[] = [];
    for (const gateway of fleet!.gateways) {
      for (const workspace of workspaces) {
        for (const { memberId, sub } of [...members, ...invited]) {
          cells.push({ gateway: gateway.name, principal: memberId, workspace, expected: toolNames(finalPolicy, memberId, workspace), ask: async () => toolsList(gateway.url, workspace, await accessToken(gateway.url, workspace, sub)) });
        }
        for (const { keyId, secret } of keys) {
          cells.push({ gateway: gateway.name, principal: keyId, workspace, expected: toolNames(finalPolicy, keyId, workspace), ask: () => toolsList(gateway.url, workspace, secret) });
        }
      }
    }
    const answers = await pooled(cells.map((cell) => cell.ask), 8);
    const differing = cells.flatMap((cell, i) => {
      const answer = answers[i]!;
      return answer.status === 200 && answer.revision === head && JSON.stringify(answer.tools) === JSON.stringify(cell.expected)
        ? []
        : [{ gateway: cell.gateway, principal: cell.principal, workspace: cell.workspace, expected: cell.expected, answer }];
    });
    expect(differing.slice(0, 5)).toEqual([]);
    // The grid tells policies apart: many distinct lists, empty ones and long ones.
    const lists = new Set(cells.map((cell) => cell.expected.join(',')));
    expect(cells).toHaveLength(3 * 4 * 88);
    expect(lists.size).toBeGreaterThanOrEqual(8);
    expect(lists.has('')).toBe(true);
    console.log(`fleet: ${replies.length} commands acknowledged by 2 writers at revisions ${before + 1}–${head}; ${cells.length} tools/list over MCP at 3 replicas agreed with createPolicy (${lists.size} distinct lists)`);
  }, 150_000);

  it('an API key created through one Admin API works at every replica, and is refused at every replica once revoked', async () => {
    expect(head).toBeGreaterThan(0);
    const writer = fleet!.adminApis[1]!;
    const result = await followKeyThroughFleet({ adminApiUrl: writer.url, adminKey: BOOTSTRAP_KEY, gateways: fleet!.gateways, workspaceId: 'ws-research', keyId: 'k-fleet-propagation', commitTimes: true });
    const { created, revoked } = result;

    expect(created.status).toBe(200);
    expect(created.revision).toBe(head + 1);
    // What the secret lists is the key's tools under createPolicy at that revision.
    const atCreation = await snapshotAt(created.revision);
    expect(result.tools).toEqual(toolNames(atCreation.policy, 'k-fleet-propagation', 'ws-research'));
    expect(result.tools.length).toBeGreaterThan(0);
    for (const replica of created.replicas) {
      // Unknown before the replica held the change; listing its tools from the first answer at that revision on.
      const [atRevision, ...earlier] = [replica.answers.at(-1)!, ...replica.answers.slice(0, -1)];
      expect(earlier.every((a) => a.revision < created.revision && a.status === 401)).toBe(true);
      expect(atRevision).toMatchObject({ status: 200, revision: created.revision, tools: result.tools });
      // The policy allows the call; no upstream is configured in the fleet, so it stops there.
      expect(replica.call.error).toEqual({ code: -32004, reason: 'upstream_unavailable' });
      expect(replica.appliedMs).not.toBeNull();
    }

    expect(revoked.status).toBe(200);
    expect(revoked.revision).toBe(created.revision + 1);
    for (const replica of revoked.replicas) {
      // Working at every answer before the replica held the revocation; refused from the first one at it.
      const [refusal, ...earlier] = [replica.answers.at(-1)!, ...replica.answers.slice(0, -1)];
      expect(earlier.every((a) => a.revision < revoked.revision && a.status === 200 && JSON.stringify(a.tools) === JSON.stringify(result.tools))).toBe(true);
      expect(refusal).toMatchObject({ status: 200, revision: revoked.revision, tools: [] });
      expect(replica.call.error).toEqual({ code: -32003, reason: 'key_revoked' });
      expect(replica.appliedMs).not.toBeNull();
    }
    expect(created.committedMs).not.toBeNull();
    expect(revoked.committedMs).not.toBeNull();
    console.log(['fleet: an API key through the fleet', ...describePropagation(result)].join('\n'));
  }, 60_000);
});
