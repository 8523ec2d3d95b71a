import { applyCommands, createPolicy, type Organization } from 'org-policy';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { openStore, type Store } from '../src/index.js';
import { ADMIN, inviteAndPlace, inviteMember, NOW, policyGrid, sampleOrganization, snapshotSha256 } from './support/fixtures.js';
import { Child, type Message } from './support/processes.js';
import { createTestDatabase, sql, type TestDatabase } from './support/server.js';

/**
 * Faults over real processes (writers and followers spawned as node processes) and the real server:
 * every acknowledged change survives, none is skipped, every follower converges to the policy
 * createPolicy builds from the final snapshot.
 */
describe('faults over real processes and PostgreSQL', () => {
  let database: TestDatabase;
  let organizations = 0;
  const children: Child[] = [];
  const stores: Store[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('faults');
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => child.stop()));
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });
  afterAll(async () => {
    await database?.drop();
  });

  /** A new organization in the test database, seeded; the store stays open in this process for inspection. */
  const seeded = async () => {
    const organizationId = `faults-${++organizations}`;
    const store = await openStore({ url: database.url, organizationId, applicationName: 'faults-test' });
    stores.push(store);
    await store.init(sampleOrganization(organizationId));
    return { store, organizationId };
  };
  const start = async (script: 'writer' | 'follower', name: string, organizationId: string, env: Record<string, string> = {}) => {
    const child = Child.start(script, name, { DATABASE_URL: database.url, ORGANIZATION_ID: organizationId, ...env });
    children.push(child);
    await child.waitFor((message) => message.type === 'ready', 60_000, 'ready');
    return child;
  };
  const apply = (writer: Child, tag: string, commands = inviteAndPlace(tag)) => writer.request({ op: 'apply', actor: ADMIN, commands, now: NOW, tag }, 60_000);
  const logRevisions = async (organizationId: string) =>
    (await sql<{ revision: string }>(database.url, 'SELECT revision FROM org_policy.changes WHERE organization_id = $1 ORDER BY revision', [organizationId])).map((row) => Number(row.revision));
  const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

  /**
   * The snapshot at the head, computed independently of the store's replay: the acknowledged command
   * lists applied with applyCommands in their revisions' order, from the seed.
   */
  const expectedSnapshot = (organizationId: string, acknowledged: readonly { revision: number; commands: unknown[] }[]): Organization => {
    let organization = sampleOrganization(organizationId);
    for (const { commands } of [...acknowledged].sort((a, b) => a.revision - b.revision)) {
      const result = applyCommands(organization, ADMIN, commands, { now: NOW });
      if (!result.ok) throw new Error(`replaying the acknowledged commands: ${result.error.message}`);
      organization = result.snapshot;
    }
    return organization;
  };
  /** The log's changes as the inviteAndPlace commands they came from (their tags are in the audit events). */
  const acknowledgedInLog = async (organizationId: string) =>
    (await sql<{ revision: string; member: string }>(
      database.url,
      `SELECT revision, change -> 'events' -> 0 -> 'targets' -> 0 ->> 'id' AS member FROM org_policy.changes WHERE organization_id = $1 ORDER BY revision`,
      [organizationId],
    )).map((row) => ({ revision: Number(row.revision), commands: inviteAndPlace(row.member.replace(/^m-/, '')) }));
  const gridOf = async (follower: Child) => (await follower.request({ op: 'grid' })) as Message & { revision: number; grid: unknown; snapshot: string };
  const waitAt = async (follower: Child, revision: number, timeoutMs = 30_000) => {
    const answer = await follower.request({ op: 'wait', revision, timeoutMs }, timeoutMs + 10_000);
    expect(answer, follower.name).toMatchObject({ ok: true });
  };
  /** The revisions a follower applied change by change, in order, and whether it ever reloaded. */
  const applied = (follower: Child) => follower.messages.filter((message) => message.type === 'change').map((message) => message.revision as number);

  test('two writers and three followers: 200 concurrent commands, 200 acknowledged, 200 in the log without a gap, every follower at the head answering like createPolicy', async () => {
    const { organizationId } = await seeded();
    const [writers, followers] = await Promise.all([
      Promise.all(['w1', 'w2'].map((name) => start('writer', name, organizationId))),
      Promise.all(['f1', 'f2', 'f3'].map((name) => start('follower', name, organizationId))),
    ]);
    const commands = upTo(200).map((i) => ({ tag: `c${i}`, writer: writers[i % 2]!, commands: inviteAndPlace(`c${i}`) }));
    const acks = await Promise.all(commands.map(({ writer, tag, commands: list }) => apply(writer, tag, list)));
    expect(acks.filter((ack) => ack.ok === true)).toHaveLength(200);
    expect(acks.map((ack) => ack.revision as number).sort((a, b) => a - b)).toEqual(upTo(200));
    expect(await logRevisions(organizationId)).toEqual(upTo(200));

    const expected = expectedSnapshot(organizationId, acks.map((ack, i) => ({ revision: ack.revision as number, commands: commands[i]!.commands })));
    const reference = policyGrid(createPolicy(expected), expected);
    expect(reference.decisions).toBeGreaterThan(10_000);
    for (const follower of followers) {
      await waitAt(follower, 200);
      const answer = await gridOf(follower);
      expect(answer.revision, follower.name).toBe(200);
      expect(answer.grid, follower.name).toEqual(reference);
      expect(answer.snapshot, follower.name).toBe(snapshotSha256(expected));
    }
  });

  test('a follower killed with SIGKILL mid-stream converges once restarted', async () => {
    const { organizationId } = await seeded();
    const writer = await start('writer', 'w', organizationId);
    const victim = await start('follower', 'victim', organizationId);
    const burst = upTo(60).map((i) => apply(writer, `k${i}`));
    await victim.waitFor((message) => message.type === 'change' && (message.revision as number) >= 10, 60_000, 'the tenth change');
    victim.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
    expect((await Promise.all(burst)).every((ack) => ack.ok === true)).toBe(true);
    const restarted = await start('follower', 'restarted', organizationId);
    await waitAt(restarted, 60);
    const expected = expectedSnapshot(organizationId, await acknowledgedInLog(organizationId));
    expect((await gridOf(restarted)).grid).toEqual(policyGrid(createPolicy(expected), expected));
  });

  test("pg_terminate_backend on a follower's listening connection: it reconnects and catches up, no change skipped", async () => {
    const { organizationId } = await seeded();
    const writer = await start('writer', 'w', organizationId);
    // No timer to lean on: only notifications and the catch-up after the reconnect.
    const follower = await start('follower', 'cut', organizationId, { POLL_INTERVAL_MS: '600000' });
    for (let i = 1; i <= 10; i += 1) await apply(writer, `before${i}`);
    await waitAt(follower, 10);
    const killed = await sql<{ killed: boolean }>(
      database.url,
      `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'follower-cut:listen'`,
    );
    expect(killed).toEqual([{ killed: true }]);
    await follower.waitFor((message) => message.type === 'connection' && message.state === 'lost', 30_000, 'the connection lost');
    // Committed while it may not be listening.
    for (let i = 1; i <= 10; i += 1) await apply(writer, `during${i}`);
    await follower.waitFor((message) => message.type === 'connection' && message.state === 'listening' && message.reconnected === true, 30_000, 'a reconnect');
    // Asked through the notification path only: no wait request until the change events are in.
    for (let i = 1; i <= 5; i += 1) await apply(writer, `after${i}`);
    await follower.waitFor((message) => message.type === 'change' && message.revision === 25, 30_000, 'revision 25');
    expect(applied(follower)).toEqual(upTo(25));
    expect(follower.count('reload')).toBe(0);
  });

  test('notifications suppressed: the timer catch-up alone brings the follower to the head, change by change', async () => {
    const { organizationId } = await seeded();
    const writer = await start('writer', 'w', organizationId);
    const deaf = await start('follower', 'deaf', organizationId, { CHANNEL: 'org_policy_suppressed', POLL_INTERVAL_MS: '250' });
    for (let i = 1; i <= 8; i += 1) await apply(writer, `quiet${i}`);
    await deaf.waitFor((message) => message.type === 'change' && message.revision === 8, 30_000, 'revision 8 by the timer');
    expect(applied(deaf)).toEqual(upTo(8));
    const answer = await gridOf(deaf);
    expect(answer.stats).toMatchObject({ notifications: 0 });
    expect((answer.stats as { catchUps: { timer: number } }).catchUps.timer).toBeGreaterThan(0);
  });

  test('a writer killed with SIGKILL mid-burst: every acknowledged change is in the log after a restart, none half written', async () => {
    const { store, organizationId } = await seeded();
    const writer = await start('writer', 'doomed', organizationId);
    const burst = upTo(300).map((i) => apply(writer, `b${i}`).catch(() => undefined));
    await writer.waitFor((message) => message.type === 'applied' && (message.revision as number) >= 20, 60_000, 'twenty acknowledgements');
    writer.kill('SIGKILL');
    await writer.exited;
    await Promise.all(burst);
    const acknowledged = writer.messages.filter((message) => message.type === 'applied' && message.ok === true);
    expect(acknowledged.length).toBeGreaterThanOrEqual(20);
    expect(acknowledged.length, 'killed mid-burst').toBeLessThan(300);

    const restarted = await start('writer', 'restarted', organizationId);
    const head = (await store.head())!.revision;
    expect(head).toBeGreaterThanOrEqual(Math.max(...acknowledged.map((message) => message.revision as number)));
    expect(await logRevisions(organizationId)).toEqual(upTo(head));
    for (const ack of acknowledged) {
      const [row] = await sql<{ tag: string }>(database.url, `SELECT change -> 'events' -> 0 -> 'targets' -> 0 ->> 'id' AS tag FROM org_policy.changes WHERE organization_id = $1 AND revision = $2`, [organizationId, ack.revision]);
      expect(row?.tag).toBe(`m-${String(ack.tag)}`);
    }
    // Whole changes only: each with both of its audit events, the head at the last one.
    const audit = await sql<{ revision: string; events: string }>(database.url, 'SELECT revision, count(*) AS events FROM org_policy.audit WHERE organization_id = $1 GROUP BY revision ORDER BY revision', [organizationId]);
    expect(audit.map((row) => [Number(row.revision), Number(row.events)])).toEqual(upTo(head).map((revision) => [revision, 2]));
    expect(await apply(restarted, 'after-restart')).toMatchObject({ ok: true, revision: head + 1 });
    const follower = await store.follow();
    expect(follower.revision).toBe(head + 1);
  });

  test('a writer whose state is stale never commits a change computed on an old revision', async () => {
    const { store, organizationId } = await seeded();
    const stale = await start('writer', 'stale', organizationId);
    const busy = await start('writer', 'busy', organizationId);
    expect(await apply(stale, 'loaded', inviteMember('loaded'))).toMatchObject({ ok: true, revision: 1 });
    for (let i = 1; i <= 20; i += 1) await apply(busy, `busy${i}`);
    // Valid only at the head: it names a member the other writer invited last.
    const dependent = await apply(stale, 'dependent', [{ type: 'setMemberOrgRoles', memberId: 'm-busy20', roleNames: ['billing_manager'] }]);
    expect(dependent).toMatchObject({ ok: true, revision: 22 });
    // Every change applies to the one before it: replayed from the seed, none was computed on an older base.
    const follower = await store.follow();
    expect(follower.revision).toBe(22);
    expect(follower.stats().reloads).toBe(0);
    expect(follower.policy.can('m-busy20', 'org.billing.manage')).toBe(true);
    // And a change on an old revision cannot be written behind the store's back either.
    await expect(
      sql(database.url, `INSERT INTO org_policy.changes (organization_id, revision, change, size_bytes) SELECT organization_id, revision, change, size_bytes FROM org_policy.changes WHERE organization_id = $1 AND revision = 2`, [organizationId]),
    ).rejects.toThrow(/duplicate key/);
  });
});
