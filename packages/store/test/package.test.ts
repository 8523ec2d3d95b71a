/**
 * The two packages as a user gets them: a copy of the repository without dist/ (a fresh clone) is
 * packed twice — the root `org-policy` and `packages/store` — each tarball built by its prepack script;
 * both are installed into an empty project, which writes and follows on PGlite through ESM and CommonJS.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
const storeManifest = JSON.parse(readFileSync(join(root, 'packages/store/package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};
const NOT_IN_A_CLONE = new Set(['node_modules', 'dist', 'api-docs', 'coverage', '.git', '.data', 'scratch']);

let work: string;
let project: string;
let storeEntries: string[];

const run = (command: string, args: string[], cwd: string) => execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'org-policy-store-pack-'));
  const clone = join(work, 'clone');
  project = join(work, 'project');
  mkdirSync(project);
  cpSync(root, clone, {
    recursive: true,
    filter: (source) => {
      const parts = relative(root, source).split(sep);
      return !parts.some((part) => NOT_IN_A_CLONE.has(part)) && !/\.(tgz|cpuprofile)$/.test(source);
    },
  });
  symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'), 'dir'); // the clone's `npm ci`
  run('npm', ['pack', '--pack-destination', work], clone);
  run('npm', ['pack', '--pack-destination', work], join(clone, 'packages/store'));
  const tarballs = readdirSync(work).filter((name) => name.endsWith('.tgz')).sort();
  expect(tarballs).toEqual([`org-policy-0.1.0.tgz`, `org-policy-store-${storeManifest.version}.tgz`]);
  storeEntries = run('tar', ['-tzf', join(work, tarballs[1]!)], work)
    .split('\n')
    .filter((line) => line !== '' && !line.endsWith('/'))
    .map((line) => line.replace(/^package\//, ''));

  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  // pg, PGlite, zod and immer from the npm cache that `npm ci` filled; the registry only if they are missing.
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs.map((name) => join(work, name))], project);
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const WRITE_AND_FOLLOW = `
const organization = organizationBuilder('acme').member('ada', 'organization_admin').member('bob').workspace('research', { members: { bob: null } }).organization();
const store = await openStore({ dataDir: process.argv[2], organizationId: 'acme' });
const seeded = await store.init(organization);
const follower = await store.follow({ pollIntervalMs: 600000 });
const arrived = new Promise((resolve) => follower.once('change', resolve));
const result = await store.apply('ada', [
  { type: 'inviteMember', memberId: 'cy', email: 'cy@acme.test' },
  { type: 'addWorkspaceMembers', workspaceId: 'research', members: [{ memberId: 'cy', roleNames: ['dev'] }] },
], { now: 0 });
const event = await arrived;
console.log(JSON.stringify({ seeded: seeded.ok, ok: result.ok, revision: result.revision, followed: event.revision, before: event.previousPolicy.can('cy', 'studio.use', 'research'), after: follower.policy.can('cy', 'studio.use', 'research') }));
await store.close();
`;

describe('npm pack of org-policy and @org-policy/store, installed together', () => {
  test('the store tarball ships its ESM and CommonJS builds, their declarations, its README, and nothing else', () => {
    expect(storeEntries.sort()).toEqual(['README.md', 'dist/index.cjs', 'dist/index.cjs.map', 'dist/index.d.cts', 'dist/index.d.ts', 'dist/index.js', 'dist/index.js.map', 'package.json']);
    expect(storeManifest.peerDependencies).toEqual({ 'org-policy': '^0.1.0' });
    expect(Object.keys(storeManifest.dependencies).sort()).toEqual(['@electric-sql/pglite', 'pg']);
  });

  test('its declarations import org-policy rather than carry a copy of it', () => {
    const declarations = readFileSync(join(project, 'node_modules/@org-policy/store/dist/index.d.ts'), 'utf8');
    expect(declarations).toMatch(/from 'org-policy'/);
    expect(declarations).not.toMatch(/interface Organization\b/);
  });

  test('an ESM program writes a change and follows it on PGlite', () => {
    writeFileSync(join(project, 'esm.mjs'), `import { openStore } from '@org-policy/store';\nimport { organizationBuilder } from 'org-policy';\n${WRITE_AND_FOLLOW}`);
    const output = JSON.parse(run('node', ['esm.mjs', join(project, 'data-esm')], project)) as unknown;
    expect(output).toEqual({ seeded: true, ok: true, revision: 1, followed: 1, before: false, after: true });
    expect(existsSync(join(project, 'data-esm', 'PG_VERSION'))).toBe(true);
  });

  test('a CommonJS program does the same through require', () => {
    writeFileSync(
      join(project, 'cjs.cjs'),
      `const { openStore } = require('@org-policy/store');\nconst { organizationBuilder } = require('org-policy');\n(async () => {${WRITE_AND_FOLLOW}})();`,
    );
    const output = JSON.parse(run('node', ['cjs.cjs', join(project, 'data-cjs')], project)) as unknown;
    expect(output).toEqual({ seeded: true, ok: true, revision: 1, followed: 1, before: false, after: true });
  });
});
