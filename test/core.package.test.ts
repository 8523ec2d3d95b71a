/**
 * The package as a user gets it. A copy of the repository without dist/ (as a fresh clone has it) is
 * packed with `npm pack`, whose prepack script builds dist/; the tarball is checked for what it must and
 * must not carry, then installed into an empty project where the ESM `import`, the CommonJS `require`
 * and the `org-policy` bin all work.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, relative, resolve, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { organizationJsonSchema } from 'org-policy';

const root = resolve(import.meta.dirname, '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  license: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};

let work: string; // everything temporary lives under here
let clone: string; // the repository copy, without dist/
let project: string; // the empty consumer project
let unpacked: string; // the tarball, extracted (its top folder is package/)
let tarball: string;
let entries: string[]; // the tarball's files, relative to package/

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

/** What a clone holds: the working tree less what git ignores for being built or installed. */
const NOT_IN_A_CLONE = new Set(['node_modules', 'dist', 'api-docs', 'coverage', '.git', '.data', 'scratch']);

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'org-policy-pack-'));
  clone = join(work, 'clone');
  project = join(work, 'project');
  unpacked = join(work, 'unpacked');
  for (const dir of [project, unpacked]) mkdirSync(dir);
  cpSync(root, clone, {
    recursive: true,
    filter: (source) => {
      const parts = relative(root, source).split(sep);
      return !parts.some((part) => NOT_IN_A_CLONE.has(part)) && !/\.(tgz|cpuprofile)$/.test(source);
    },
  });
  symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'), 'dir'); // the clone's `npm ci`
  expect(existsSync(join(clone, 'dist'))).toBe(false);

  run('npm', ['pack', '--pack-destination', work], clone); // prepack: npm run build
  const packed = readdirSync(work).filter((name) => name.endsWith('.tgz'));
  expect(packed).toEqual([`org-policy-${manifest.version}.tgz`]);
  tarball = join(work, packed[0]!);
  run('tar', ['-xzf', tarball, '-C', unpacked], work);
  entries = run('tar', ['-tzf', tarball], work)
    .split('\n')
    .filter((line) => line !== '' && !line.endsWith('/'))
    .map((line) => line.replace(/^package\//, ''));

  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  writeFileSync(join(project, 'snapshot.json'), JSON.stringify(snapshot));
  // zod and immer come from the npm cache that `npm ci` filled; the registry only if they are missing.
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], project);
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm pack on a fresh clone', () => {
  it('builds dist/ first: prepack runs the build', () => {
    expect(manifest.scripts.prepack).toBe('npm run build');
    expect(existsSync(join(clone, 'dist', 'index.js'))).toBe(true);
  });

  it('ships the builds, their declarations, the JSON Schema, the docs and the LICENSE', () => {
    for (const file of [
      'package.json',
      'README.md',
      'LICENSE',
      'dist/index.js',
      'dist/index.cjs',
      'dist/index.d.ts',
      'dist/index.d.cts',
      'dist/cli.js',
      'dist/organization.schema.json',
      'docs/concepts.md',
    ]) {
      expect(entries, file).toContain(file);
    }
  });

  it('ships no CommonJS bin and nothing but dist/, docs/ and the top-level files', () => {
    expect(entries).not.toContain('dist/cli.cjs');
    const outside = entries.filter((file) => !/^(dist|docs)\//.test(file) && file.includes('/'));
    expect(outside).toEqual([]);
    const topLevel = entries.filter((file) => !file.includes('/'));
    expect(topLevel).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json']));
    expect(topLevel.filter((file) => !['CHANGELOG.md', 'LICENSE', 'README.md', 'package.json'].includes(file))).toEqual([]);
  });

  it('the LICENSE is the MIT licence package.json names', () => {
    expect(manifest.license).toBe('MIT');
    const license = readFileSync(join(unpacked, 'package', 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} org-policy contributors\n/);
    expect(license).toContain('THE SOFTWARE IS PROVIDED "AS IS"');
  });

  it('source maps point into src/ but embed no sources', () => {
    const maps = entries.filter((file) => file.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    for (const file of maps) {
      const map = JSON.parse(readFileSync(join(unpacked, 'package', file), 'utf8')) as { sources: string[]; sourcesContent?: unknown };
      expect(map.sourcesContent, file).toBeUndefined();
      expect(map.sources.some((source) => source.includes('src/')), file).toBe(true);
    }
  });

  it('every relative link in the README resolves to a file inside the tarball', () => {
    const readme = readFileSync(join(unpacked, 'package', 'README.md'), 'utf8').replace(/```[\s\S]*?```/g, '');
    const targets = [
      ...[...readme.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!), // [text](target "title")
      ...[...readme.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]!), // [ref]: target
      ...[...readme.matchAll(/\b(?:href|src)="([^"]+)"/g)].map((m) => m[1]!), // <a href="…">
    ];
    expect(targets.length).toBeGreaterThan(5);
    const shipped = new Set(entries);
    const broken = targets
      .filter((target) => !/^[a-z][a-z+.-]*:/i.test(target) && !target.startsWith('#'))
      .map((target) => decodeURIComponent(target.split('#')[0]!))
      .filter((path) => {
        const file = posix.normalize(path).replace(/^\.\//, '').replace(/\/$/, '');
        return !shipped.has(file) && !entries.some((entry) => entry.startsWith(`${file}/`));
      });
    expect(broken).toEqual([]);
  });

  it('package.json: repository, homepage and bugs; caret ranges for the runtime dependencies', () => {
    const packed = JSON.parse(readFileSync(join(unpacked, 'package', 'package.json'), 'utf8'));
    expect(packed.repository).toEqual({ type: 'git', url: 'git+https://github.com/org-policy/org-policy.git' });
    expect(packed.homepage).toMatch(/^https:\/\/github\.com\/org-policy\/org-policy/);
    expect(packed.bugs.url).toBe('https://github.com/org-policy/org-policy/issues');
    expect(Object.keys(packed.dependencies).sort()).toEqual(['immer', 'zod']);
    for (const range of Object.values(packed.dependencies)) expect(range).toMatch(/^\^\d+\.\d+\.\d+$/);
    expect(packed.peerDependencies).toBeUndefined();
    // Our own installs stay exact: the lockfile pins what the caret ranges allow.
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
    for (const name of ['immer', 'zod']) expect(lock.packages[`node_modules/${name}`].version).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('the tarball installed into an empty project', () => {
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

  it('a snapshot parsed by the CommonJS copy is parsed again, not trusted, by the ESM copy, and works', () => {
    const out = run(
      'node',
      ['--input-type=module', '-e', `import { createRequire } from 'node:module'; import fs from 'node:fs';
import * as esm from 'org-policy';
const cjs = createRequire(import.meta.url)('org-policy');
const parsed = cjs.parseOrganization(JSON.parse(fs.readFileSync('snapshot.json', 'utf8')));
const policy = esm.createPolicy(parsed.organization);
console.log(JSON.stringify([cjs.isParsedOrganization(parsed.organization), esm.isParsedOrganization(parsed.organization), policy.organization === parsed.organization, policy.can('bob', 'studio.use', 'w')]));`],
      project,
    );
    expect(JSON.parse(out)).toEqual([true, false, false, true]);
  });

  it('the org-policy bin runs from node_modules/.bin', () => {
    const bin = join(project, 'node_modules', '.bin', 'org-policy');
    expect(run(bin, ['--version'], project).trim()).toBe(manifest.version);
    expect(run(bin, ['--help'], project)).toMatch(/^Usage: org-policy/m);
    expect(run(bin, ['validate', 'snapshot.json'], project)).toMatch(/valid/);
  });

  it('ships type declarations for both and the snapshot JSON Schema, with $id and title', () => {
    const installed = join(project, 'node_modules', 'org-policy');
    expect(existsSync(join(installed, 'dist', 'index.d.ts'))).toBe(true);
    expect(existsSync(join(installed, 'dist', 'index.d.cts'))).toBe(true);
    const out = run('node', ['-e', `console.log(require.resolve('org-policy/organization.schema.json'))`], project);
    const schema = JSON.parse(readFileSync(out.trim(), 'utf8'));
    expect(schema).toEqual(organizationJsonSchema());
    expect(schema.$id).toMatch(/^https:\/\//);
    expect(typeof schema.title).toBe('string');
  });
});
