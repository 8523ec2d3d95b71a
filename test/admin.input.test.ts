/**
 * SPEC §5 applyCommand reads its input once: the command is copied into plain data first, and the
 * actor is authorized and the change applied on that copy. Hostile values — getters that answer
 * differently on each read, throwing getters, Proxies, cycles, `null` — give a typed `validation`
 * result, never an exception. Audit targets are deduplicated in linear time.
 */
import { describe, expect, it } from 'vitest';
import { applyCommand, MAX_COMMAND_DEPTH, organizationBuilder, parseOrganization, type AdminErrorCode, type CommandResult, type Organization } from 'org-policy';

const NOW = '2026-11-25T08:00:00Z';

function acme(): Organization {
  return organizationBuilder('acme')
    .member('ada', 'organization_admin')
    .member('wanda')
    .member('dora')
    .member('carl')
    .group('eng', ['carl'])
    .workspace('ws-a', { members: { wanda: 'workspace_admin' } })
    .workspace('ws-b', { members: { dora: 'dev' } })
    .organization();
}
const ORG = acme();
const run = (actor: string, command: unknown, org = ORG) => applyCommand(org, actor, command, { now: NOW });

function refusedWith(result: CommandResult, code: AdminErrorCode, path: readonly (string | number)[]) {
  if (result.ok) throw new Error('applied, expected a refusal');
  expect(result.error).toMatchObject({ class: 'validation', code, path });
  expect(result.snapshot).toBe(ORG);
  expect(result.event.result).toEqual({ status: 'refused', class: 'validation', code });
  return result;
}

/** A value that answers `first` on its first read and `later` on every read after it. */
function shifting<T>(first: T, later: T) {
  let reads = 0;
  return () => (reads++ === 0 ? first : later);
}

describe('SPEC §5 the command is read once: what was authorized is what is applied', () => {
  it("a workspaceId getter answering ws-a (the actor's) first and ws-b later cannot reach ws-b", () => {
    const workspaceId = shifting('ws-a', 'ws-b');
    const command = {
      type: 'addWorkspaceMembers',
      get workspaceId() {
        return workspaceId();
      },
      members: [{ memberId: 'carl', roleNames: ['workspace_admin'] }],
    };
    const result = run('wanda', command);
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    expect(result.snapshot.workspaces.get('ws-a')!.members.get('carl')).toEqual({ memberId: 'carl', roles: ['workspace_admin'] });
    expect(result.snapshot.workspaces.get('ws-b')).toBe(ORG.workspaces.get('ws-b'));
    expect(result.event.targets).toEqual([
      { kind: 'workspace', id: 'ws-a' },
      { kind: 'member', id: 'carl' },
    ]);
  });
  it('the other way round (ws-b first) is forbidden, whatever later reads say', () => {
    const workspaceId = shifting('ws-b', 'ws-a');
    const result = run('wanda', { type: 'removeWorkspaceMember', get workspaceId() { return workspaceId(); }, memberId: 'wanda' });
    expect(!result.ok && result.error.class).toBe('forbidden');
    expect(result.event.targets).toEqual([
      { kind: 'workspace', id: 'ws-b' },
      { kind: 'member', id: 'wanda' },
    ]);
  });
  it('a type getter cannot pass as one command for the actor check and another for the recipe', () => {
    // suspendMember would be checked against org.members.manage, which wanda lacks in any reading
    const type = shifting('removeWorkspaceMember', 'suspendMember');
    const result = run('wanda', { get type() { return type(); }, workspaceId: 'ws-a', memberId: 'wanda' });
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    expect(result.event.command).toBe('removeWorkspaceMember');
    expect(result.snapshot.members.get('wanda')!.status).toBe('active');
  });
  it('nested values are read once too: a member entry whose roles change between reads', () => {
    const roleNames = shifting(['dev'], ['workspace_admin']);
    const result = run('wanda', { type: 'addWorkspaceMembers', workspaceId: 'ws-a', members: [{ memberId: 'dora', get roleNames() { return roleNames(); } }] });
    expect(result.ok && result.snapshot.workspaces.get('ws-a')!.members.get('dora')).toEqual({ memberId: 'dora', roles: ['dev'] });
  });
  it('a Proxy whose get trap answers differently on each read is read once', () => {
    let reads = 0;
    const command = new Proxy(
      { type: 'setWorkspaceMemberRoles', workspaceId: 'ws-a', memberId: 'wanda', roleNames: ['workspace_admin'] },
      { get: (target, key, receiver) => (key === 'workspaceId' && reads++ > 0 ? 'ws-b' : Reflect.get(target, key, receiver)) },
    );
    const result = run('wanda', command);
    expect(result.ok && result.snapshot.workspaces.get('ws-b')).toBe(ORG.workspaces.get('ws-b'));
    expect(reads).toBe(1);
  });
  it('a well-behaved Proxy or a command with a null prototype is an ordinary command', () => {
    const proxied = new Proxy({ type: 'suspendMember', memberId: 'carl' }, {});
    expect(run('ada', proxied).ok).toBe(true);
    const bare = Object.assign(Object.create(null) as object, { type: 'suspendMember', memberId: 'carl' });
    expect(run('ada', bare).ok).toBe(true);
  });
});

describe('SPEC §5 hostile commands are typed validation errors, never exceptions', () => {
  it('null, undefined, a string, a number, an array, a function: invalid_type at the root', () => {
    for (const command of [null, undefined, 'removeMember', 0, [], () => ({ type: 'removeMember' })]) refusedWith(run('ada', command), 'invalid_type', []);
  });
  it('a throwing getter: unreadable_value at its path', () => {
    const command = {
      type: 'addWorkspaceMembers',
      workspaceId: 'ws-a',
      members: [
        { memberId: 'dora' },
        {
          get memberId(): string {
            throw new Error('boom');
          },
        },
      ],
    };
    const result = refusedWith(run('ada', command), 'unreadable_value', ['members', 1, 'memberId']);
    expect(result.event.command).toBeNull();
  });
  it('what a getter throws is never inspected: a thrown Proxy whose every trap throws', () => {
    const poison = new Proxy({}, new Proxy({}, { get: () => () => { throw new Error('trap'); } }));
    const command = {
      type: 'suspendMember',
      get memberId(): string {
        throw poison;
      },
    };
    refusedWith(run('ada', command), 'unreadable_value', ['memberId']);
  });
  it('Proxies with throwing traps, revoked Proxies', () => {
    const throwing = (trap: keyof ProxyHandler<object>) => new Proxy({ type: 'suspendMember', memberId: 'carl' }, { [trap]: () => { throw new Error(trap); } });
    for (const trap of ['get', 'ownKeys', 'getOwnPropertyDescriptor'] as const) {
      const result = run('ada', throwing(trap));
      expect(!result.ok && result.error.code).toBe('unreadable_value');
    }
    const { proxy, revoke } = Proxy.revocable({ type: 'suspendMember', memberId: 'carl' }, {});
    revoke();
    refusedWith(run('ada', proxy), 'unreadable_value', []);
    const revokedInside = Proxy.revocable([{ memberId: 'dora' }], {});
    revokedInside.revoke();
    refusedWith(run('ada', { type: 'addWorkspaceMembers', workspaceId: 'ws-a', members: revokedInside.proxy }), 'unreadable_value', ['members']);
  });
  it('a circular command, or one nested beyond any command, is too_deep', () => {
    const command: Record<string, unknown> = { type: 'suspendMember', memberId: 'carl' };
    command.self = command;
    expect(!run('ada', command).ok && (run('ada', command) as { error: { code: string } }).error.code).toBe('too_deep');
    let deep: unknown = 'carl';
    for (let i = 0; i < MAX_COMMAND_DEPTH + 2; i++) deep = [deep];
    const result = run('ada', { type: 'setGroupMembers', groupId: 'eng', memberIds: deep });
    expect(!result.ok && result.error.code).toBe('too_deep');
  });
  it('an array claiming an absurd length is too_large, without walking it', () => {
    const sparse: unknown[] = [];
    sparse.length = 2 ** 32 - 1;
    refusedWith(run('ada', { type: 'setGroupMembers', groupId: 'eng', memberIds: sparse }), 'too_large', ['memberIds']);
  });
  it('toJSON and inherited fields are not read: own enumerable fields only, as JSON', () => {
    const inherited = Object.create({ memberId: 'carl' }) as Record<string, unknown>;
    inherited.type = 'suspendMember';
    refusedWith(run('ada', inherited), 'missing_field', ['memberId']);
    const withToJson = { type: 'suspendMember', memberId: 'carl', toJSON: () => ({ type: 'removeMember', memberId: 'ada' }) };
    refusedWith(run('ada', withToJson), 'unknown_field', ['toJSON']);
  });
  it('a hostile actor is refused and recorded without calling it', () => {
    const actor = { toString: () => { throw new Error('no'); } } as unknown as string;
    const result = run(actor, { type: 'suspendMember', memberId: 'carl' });
    expect(!result.ok && result.error.class).toBe('forbidden');
    expect(result.event.actor).toBe('(object)');
  });
});

describe('SPEC §5 audit targets: what the command names or changed, each once, in linear time', () => {
  it('a refused command of 300,000 entries, each id twice, lists each member once', () => {
    // Quadratic deduplication would take minutes here (well past the test timeout).
    const ids = Array.from({ length: 150_000 }, (_, i) => `m${i}`);
    const result = run('carl', { type: 'setGroupMembers', groupId: 'eng', memberIds: [...ids, ...ids] });
    expect(!result.ok && result.error.class).toBe('forbidden');
    expect(result.event.targets).toHaveLength(150_001);
    expect(result.event.targets[0]).toEqual({ kind: 'group', id: 'eng' });
    expect(result.event.targets[150_000]).toEqual({ kind: 'member', id: 'm149999' });
  });
  it('an applied command adding 100,000 members to a group lists the group and each of them', () => {
    const members = Array.from({ length: 100_000 }, (_, i) => ({ id: `m${i}`, email: `m${i}@x.test`, status: 'active', orgRoles: ['member'] }));
    const parsed = parseOrganization({
      schemaVersion: 1,
      id: 'big',
      name: 'Big',
      members: [{ id: 'ada', email: 'ada@x.test', status: 'active', orgRoles: ['organization_admin'] }, ...members],
      groups: [{ id: 'all', name: 'All', memberIds: ['m0'] }],
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const result = applyCommand(parsed.organization, 'ada', { type: 'addGroupMembers', groupId: 'all', memberIds: members.map((m) => m.id) });
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    expect(result.snapshot.groups.get('all')!.memberIds).toHaveLength(100_000);
    // m0 was already in the group: not a change
    expect(result.event.targets).toHaveLength(100_000);
    expect(result.event.targets.slice(0, 2)).toEqual([
      { kind: 'group', id: 'all' },
      { kind: 'member', id: 'm1' },
    ]);
  });
});
