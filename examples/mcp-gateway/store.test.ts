/**
 * The gateway following the organization's change log (`@org-policy/store`, here on PGlite in this
 * process, as the store allows it): an admin's change reaches the gateway without a file or a restart,
 * tells exactly the sessions whose tool list it changed, and `GET /healthz` says where it stands.
 */
import { openStore, type Store } from '@org-policy/store';
import { parseOrganization } from 'org-policy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICY_DENIED } from './gateway.js';
import { storeSource } from './store-source.js';
import { bearer, listChanged, SECRETS, openRawSession, refusalOf, startHarness, testSnapshot, until, withClient, type Harness, type RawSession } from './testing.js';

let store: Store;
let h: Harness;
const notified = new Map<number, readonly string[]>();
const sessions: RawSession[] = [];

beforeAll(async () => {
  const parsed = parseOrganization(testSnapshot());
  if (!parsed.ok) throw new Error('the test snapshot does not parse');
  store = await openStore({ dataDir: 'memory://', organizationId: parsed.organization.id });
  expect(await store.init(parsed.organization)).toMatchObject({ ok: true, revision: 0 });
  const source = await storeSource({ store, organizationId: parsed.organization.id });
  h = await startHarness({ upstreams: new Map(), gateway: { source, onToolListChanges: (changes, revision) => notified.set(revision, changes.notified) } });
});

afterAll(async () => {
  for (const session of sessions) await session.close().catch(() => undefined);
  await h?.close();
  await store?.close();
});

describe('store mode: the gateway follows the change log', () => {
  it('GET /healthz answers the revision in force and the lag behind the head', async () => {
    const health = await fetch(`${h.gateway.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ revision: 0, lagMs: 0 });
  });

  it("a committed change is in force at the next request, and tells exactly the sessions whose tool list it changed", async () => {
    // Signed in with tokens: members' externalId and keys' secrets travel through the store's checkpoints and changes.
    const eve = await openRawSession(h.gateway, 'ws-marketing', bearer(await h.token('eve', 'ws-marketing')));
    const chloe = await openRawSession(h.gateway, 'ws-research', bearer(await h.token('chloe', 'ws-research')));
    sessions.push(eve, chloe);

    // Marketing narrows everything to echo: eve's list there changes, chloe's at Research does not.
    const narrow = { type: 'setConnectorPermission', workspaceId: 'ws-marketing', connectorId: 'c-everything', mode: 'restricted', tools: ['echo'] };
    expect(await store.apply('m-ada', [narrow], { now: Date.now() })).toMatchObject({ ok: true, revision: 1 });
    await until(() => h.gateway.policy().revision === 1);
    expect(notified.get(1)).toEqual([eve.id]);
    const eveNow = bearer(await h.token('eve', 'ws-marketing'));
    expect(await withClient(h.gateway, 'ws-marketing', eveNow, async (client) => (await client.listTools()).tools.map((t) => t.name))).toEqual(['everything__echo']);
    expect(await withClient(h.gateway, 'ws-marketing', eveNow, (client) => refusalOf(client.callTool({ name: 'everything__get-sum', arguments: {} })))).toEqual({
      code: POLICY_DENIED,
      reason: 'tool_not_selected',
      revision: 1,
    });

    // The organization blocks mirror: chloe's list at Research changes; at Marketing mirror was never visible.
    expect(await store.apply('m-ada', [{ type: 'setConnectorPermission', connectorId: 'c-mirror', mode: 'blocked' }], { now: Date.now() })).toMatchObject({ ok: true, revision: 2 });
    await until(() => h.gateway.policy().revision === 2);
    expect(notified.get(2)).toEqual([chloe.id]);
    await until(() => listChanged(eve) === 1 && listChanged(chloe) === 1);
    expect(await (await fetch(`${h.gateway.url}/healthz`)).json()).toEqual({ revision: 2, lagMs: 0 });
    expect(h.logs.some((line) => line.startsWith('policy_changed revision=2 previous=1 notified=1 '))).toBe(true);
    const key = await withClient(h.gateway, 'ws-research', bearer(SECRETS['k-research-ci']), async (client) => (await client.listTools()).tools.map((t) => t.name));
    expect(key).toEqual([]); // its one connector, mirror, is blocked now
  });

  it('a member removed through the store: her token opens nothing at the next revision, and her session closes', async () => {
    const dave = await openRawSession(h.gateway, 'ws-research', bearer(await h.token('dave', 'ws-research')));
    sessions.push(dave);
    const revision = h.gateway.policy().revision + 1;
    expect(await store.apply('m-ada', [{ type: 'removeMember', memberId: 'm-dave' }], { now: Date.now() })).toMatchObject({ ok: true, revision });
    await until(() => dave.ended());
    const response = await fetch(h.gateway.endpoint('ws-research'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...bearer(await h.token('dave', 'ws-research')) },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { data: { reason: 'not_a_member', revision } } });
  });
});
