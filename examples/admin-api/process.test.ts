/**
 * `main.ts` as an operator runs it, in real child processes on a real PGlite directory: the first start
 * without a key says how to set one and prints none; the bootstrap key; a second process on the same
 * directory refused; SIGTERM answers the request in flight before the process exits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminApiProcess, BOOTSTRAP_KEY, client } from './testing.js';

let dataDir: string;
const started: AdminApiProcess[] = [];
const start = (env: Record<string, string>) => {
  const child = AdminApiProcess.start({ DATA_DIR: dataDir, ...env });
  started.push(child);
  return child;
};

beforeAll(() => {
  dataDir = join(mkdtempSync(join(tmpdir(), 'admin-api-process-')), 'db');
});

afterAll(async () => {
  for (const child of started) await child.stop();
  rmSync(join(dataDir, '..'), { recursive: true, force: true });
});

describe('main.ts on PGlite (DATA_DIR)', () => {
  it('the first start without ORG_POLICY_BOOTSTRAP_KEY seeds the sample, prints how to set a key, and no key', async () => {
    const first = start({ ORG_POLICY_BOOTSTRAP_KEY: '' });
    const url = await first.url();
    await first.waitForLine(/no admin key exists yet/);
    expect(first.lines.join('\n')).not.toMatch(/oak_[A-Za-z0-9_-]{20,}/);
    expect((await client(() => url).call(null, 'GET', '/api/admin/roles')).status).toBe(401);
    expect(await first.stop()).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('ORG_POLICY_BOOTSTRAP_KEY becomes the first organization admin’s key, never printed; too short a key is refused', async () => {
    const short = start({ ORG_POLICY_BOOTSTRAP_KEY: 'oak_short' });
    expect((await short.exited).code).toBe(2);
    expect(short.stderr.join('\n')).toContain('at least 32 characters');

    const api = start({ ORG_POLICY_BOOTSTRAP_KEY: BOOTSTRAP_KEY });
    const url = await api.url();
    await api.waitForLine(/bootstrap: ORG_POLICY_BOOTSTRAP_KEY is now the admin key of m-ada/);
    const http = client(() => url);
    expect((await http.call(BOOTSTRAP_KEY, 'GET', '/api/admin/organization')).body.id).toBe('org-acme');

    // A second process on the same directory is refused, and the first goes on.
    const second = start({ ORG_POLICY_BOOTSTRAP_KEY: BOOTSTRAP_KEY });
    expect((await second.exited).code).toBe(1);
    expect(second.stderr.join('\n')).toMatch(/cannot start: the PGlite data directory .* is open in process \d+/);
    expect((await http.call(BOOTSTRAP_KEY, 'GET', '/api/admin/roles')).status).toBe(200);

    // SIGTERM with a request in flight: it is answered (here, its bounded wait runs out), then the process exits.
    const head = Number((await http.call(BOOTSTRAP_KEY, 'GET', '/api/admin/roles')).headers.get('x-policy-revision'));
    const waiting = http.call(BOOTSTRAP_KEY, 'GET', '/api/admin/workspaces', undefined, { 'x-policy-min-revision': String(head + 1) });
    await api.waitForLine(/^waiting_for_revision /);
    api.signal('SIGTERM');
    await api.waitForLine(/^admin-api draining signal=SIGTERM/);
    const answer = await waiting;
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(answer.headers.get('connection')).toBe('close');
    expect(await api.exited).toEqual({ code: 0, signal: null });
    expect(api.lines.at(-1)).toBe('admin-api stopped');
    expect([...api.lines, ...api.stderr].join('\n').includes(BOOTSTRAP_KEY)).toBe(false);
  }, 180_000);
});
