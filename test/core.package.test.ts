/**
 * The package as a user installs it: `npm pack`, install the tarball into an empty project, then both
 * entry points (ESM `import`, CommonJS `require`) load and answer `can`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
let project: string;

const snapshot = {
  schemaVersion: 1,
  id: 'o',
  name: 'o',
  members: [
    { id: 'ada', email: 'ada@x.test', status: 'active', orgRoles: ['organization_admin'] },
    { id: 'bob', email: 'bob@x.test', status: 'active', orgRoles: ['member'] },
  ],
  workspaces: [{ id: 'w', name: 'w', members: [{ memberId: 'bob' }] }],
};

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'index.js'))) run('npm', ['run', 'build'], root);
  project = mkdtempSync(join(tmpdir(), 'org-policy-pack-'));
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', project], root)) as { filename: string }[];
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  writeFileSync(join(project, 'snapshot.json'), JSON.stringify(snapshot));
  // zod and immer come from the npm cache that `npm ci` filled; the registry only if they are missing.
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(project, packed[0]!.filename)], project);
}, 180_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('the published package', () => {
  it('ESM: import("org-policy") answers can', () => {
    const out = run(
      'node',
      ['--input-type=module', '-e', `import { createPolicy } from 'org-policy'; import fs from 'node:fs';
const p = createPolicy(JSON.parse(fs.readFileSync('snapshot.json', 'utf8')));
console.log(JSON.stringify([p.can('bob', 'vibe.use', 'w'), p.can('bob', 'org.members.manage'), p.explain('ada', 'vibe.use', 'w')]));`],
      project,
    );
    expect(JSON.parse(out)).toEqual([true, false, { allowed: false, reason: 'not_a_member' }]);
  });

  it('CommonJS: require("org-policy") answers can', () => {
    const out = run(
      'node',
      ['-e', `const { createPolicy, ROLES } = require('org-policy');
const p = createPolicy(require('./snapshot.json'));
console.log(JSON.stringify([p.can('bob', 'studio.use', 'w'), p.can('ada', 'admin.access'), ROLES.length]));`],
      project,
    );
    expect(JSON.parse(out)).toEqual([true, true, 9]);
  });

  it('ships type declarations for both and the snapshot JSON Schema', () => {
    const installed = join(project, 'node_modules', 'org-policy');
    expect(existsSync(join(installed, 'dist', 'index.d.ts'))).toBe(true);
    expect(existsSync(join(installed, 'dist', 'index.d.cts'))).toBe(true);
    const out = run('node', ['-e', `console.log(require.resolve('org-policy/organization.schema.json'))`], project);
    const schema = JSON.parse(readFileSync(out.trim(), 'utf8'));
    expect(schema.properties.schemaVersion).toBeDefined();
  });

  it('has zod and immer as its only runtime dependencies', () => {
    const manifest = JSON.parse(readFileSync(join(project, 'node_modules', 'org-policy', 'package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['immer', 'zod']);
    expect(manifest.peerDependencies).toBeUndefined();
  });
});
