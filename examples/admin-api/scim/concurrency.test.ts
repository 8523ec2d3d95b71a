/**
 * Membership PATCHes racing on one group lose no member: each is a delta (addGroupMembers /
 * removeGroupMembers) applied on the head under the store's lock, never a list read, changed and written
 * back — the read-modify-write that SCIM servers are known to lose members to. On PGlite (one instance)
 * and on the PostgreSQL server with two instances of the service, as two Admin API processes would be;
 * the server run is the one whose requests overlap widely enough to catch a read-modify-write (a PATCH
 * add turned into setGroupMembers of the list it saw loses members there).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATCH_SCHEMA } from './resources.js';
import { startScimHarness, type ScimHarness } from './testing.js';

const ADDED = 60;
const REMOVED = 20;

describe.each(['pglite', 'postgres'] as const)('concurrent membership PATCHes on one group (%s)', (database) => {
  const instances: ScimHarness[] = [];
  beforeAll(async () => {
    instances.push(await startScimHarness({ database }));
    if (database === 'postgres') instances.push(await startScimHarness({ database, join: instances[0]! }));
  });
  afterAll(async () => {
    for (const instance of instances.reverse()) await instance.close();
  });

  it(`${ADDED} adds and ${REMOVED} removes at once, through every instance: exactly the expected members, one change each`, async () => {
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
      requests.map((operation, i) => instances[i % instances.length]!.scim('PATCH', `/Groups/${groupId}`, { schemas: [PATCH_SCHEMA], Operations: [operation] })),
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
  });
});
