import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializeOrganization } from 'org-policy';
import { afterEach, describe, expect, test } from 'vitest';
import { isStoreError, openStore, type Store } from '../src/index.js';
import { ADMIN, inviteMember, NOW, sampleOrganization } from './support/fixtures.js';
import { Child } from './support/processes.js';

const LOCK = '.org-policy-store.lock';

/** PGlite is single-process: its data directory is held by one process, every other opener is refused. */
describe('PGlite data directory: one process at a time', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });
  const directory = () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'org-policy-store-lock-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    return dataDir;
  };
  const open = async (dataDir: string, organizationId = 'acme') => {
    const store = await openStore({ dataDir, organizationId });
    cleanup.push(() => store.close());
    return store;
  };
  const child = (dataDir: string, name: string) => {
    const process = Child.start('pglite-writer', name, { DATA_DIR: dataDir, ORGANIZATION_ID: 'acme' });
    cleanup.push(() => process.stop());
    return process;
  };
  /** The members this test invited, as a follower of the store sees them. */
  const invited = async (store: Store) => {
    const follower = await store.follow();
    const json = serializeOrganization(follower.organization) as { members: { id: string }[] };
    await follower.close();
    return json.members.map((member) => member.id).filter((id) => id.startsWith('m-'));
  };

  test('a second process is refused while the first holds the directory; nothing is lost, and a holder killed with SIGKILL leaves a lock that is taken over', async () => {
    const dataDir = directory();
    const first = await open(dataDir);
    await first.init(sampleOrganization('acme'));
    expect(await first.apply(ADMIN, inviteMember('before'), { now: NOW })).toMatchObject({ ok: true, revision: 1 });

    const refused = child(dataDir, 'refused');
    expect(await refused.waitFor((message) => message.type === 'refused', 60_000, 'a refusal')).toMatchObject({ code: 'data_directory_locked', holder: process.pid });
    expect((await refused.exited).code).toBe(3);
    expect(await first.apply(ADMIN, inviteMember('refused-meanwhile'), { now: NOW })).toMatchObject({ ok: true, revision: 2 });
    await first.close();
    expect(existsSync(join(dataDir, LOCK))).toBe(false);

    const second = child(dataDir, 'second');
    expect(await second.waitFor((message) => message.type === 'ready', 60_000, 'ready')).toMatchObject({ revision: 2 });
    for (const tag of ['child-1', 'child-2', 'child-3']) expect(await second.request({ op: 'apply', tag })).toMatchObject({ ok: true });
    second.kill('SIGKILL');
    await second.exited;
    expect(JSON.parse(readFileSync(join(dataDir, LOCK), 'utf8'))).toMatchObject({ pid: second.pid });

    const third = await open(dataDir);
    expect(await third.head()).toMatchObject({ revision: 5 });
    expect(await invited(third)).toEqual(['m-before', 'm-refused-meanwhile', 'm-child-1', 'm-child-2', 'm-child-3']);
  });

  test('a second store on the same directory in the same process is refused too', async () => {
    const dataDir = directory();
    await open(dataDir);
    await expect(openStore({ dataDir, organizationId: 'acme' })).rejects.toSatisfy((error) => isStoreError(error, 'data_directory_locked') && /this one/.test(error.message));
  });

  test('a lock file being written right now (unreadable, fresh) is respected, not taken over', async () => {
    const dataDir = directory();
    writeFileSync(join(dataDir, LOCK), '');
    await expect(openStore({ dataDir, organizationId: 'acme' })).rejects.toSatisfy((error) => isStoreError(error, 'data_directory_locked'));
  });
});
