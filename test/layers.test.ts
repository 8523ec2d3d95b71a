/**
 * The layers of src/ point one way: a folder imports only itself and the folders below it, and nothing
 * in src/ imports the code that stands outside the package (examples, benchmarks, tests, scripts) or
 * the package by its own public name. src/index.ts, the public face, may import every folder.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** Lowest first. `change` (changes and replicas) sits between the snapshot model and the decisions. */
const LAYERS = ['roles', 'model', 'change', 'policy', 'admin', 'analysis', 'cli'] as const;
/** Top-level folders of the repository that never ship inside the package. */
const OUTSIDE = ['examples', 'bench', 'test', 'scripts'];
const PACKAGE_NAME = 'org-policy';

const root = resolve(import.meta.dirname, '..');

/** `src/`-relative POSIX path → source text. */
function sources(dir = join(root, 'src')): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !/\.(ts|mts|cts|tsx)$/.test(entry.name)) continue;
    const path = join(entry.parentPath, entry.name);
    out.set(relative(join(root, 'src'), path).split('\\').join('/'), readFileSync(path, 'utf8'));
  }
  return out;
}

/** The layer of a `src/`-relative path: its top folder, or `'<root>'` for a file directly in src/. */
function layerOf(path: string): string {
  return path.includes('/') ? path.slice(0, path.indexOf('/')) : '<root>';
}

/** Every module specifier of a file: static, type-only, re-exports, `import()` and `require()`. */
function specifiers(source: string): string[] {
  return [...new Set(ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName))];
}

/** Each import that breaks the layering, as `file → specifier: why`. */
function violations(files: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [file, source] of files) {
    const from = layerOf(file);
    if (from === '<root>' && file !== 'index.ts') {
      out.push(`${file}: only index.ts may stand directly in src/; put this file in a layer folder`);
      continue;
    }
    const rank = from === '<root>' ? Infinity : LAYERS.indexOf(from as (typeof LAYERS)[number]);
    if (rank < 0) {
      out.push(`${file}: src/${from}/ is not a known layer; add it to LAYERS in test/layers.test.ts (${LAYERS.join(' < ')})`);
      continue;
    }
    for (const specifier of specifiers(source)) {
      const say = (why: string) => out.push(`${file} → ${specifier}: ${why}`);
      if (specifier === PACKAGE_NAME || specifier.startsWith(`${PACKAGE_NAME}/`)) {
        say('src/ imports the package by its public name');
        continue;
      }
      if (!specifier.startsWith('.')) continue; // a dependency or a node: built-in
      const target = posix.normalize(posix.join(posix.dirname(file), specifier));
      if (target.startsWith('../')) {
        const top = target.slice(3).split('/')[0]!;
        if (OUTSIDE.includes(top)) say(`src/ imports ${top}/, which does not ship in the package`);
        continue;
      }
      const to = layerOf(target);
      if (to === from) continue;
      if (to === '<root>') {
        say('a layer imports the public face src/index.ts');
        continue;
      }
      const targetRank = LAYERS.indexOf(to as (typeof LAYERS)[number]);
      if (targetRank < 0) say(`src/${to}/ is not a known layer`);
      else if (targetRank > rank) say(`${from} stands below ${to} (${LAYERS.join(' < ')})`);
    }
  }
  return out;
}

describe('layers point one way (roles < model < change < policy < admin < analysis < cli)', () => {
  it('no file in src/ imports a folder above its own, examples/, bench/, test/ or scripts/', () => {
    const files = sources();
    expect(files.size).toBeGreaterThan(10);
    expect(violations(files)).toEqual([]);
  });

  it('the check itself catches an upward import, an unknown folder and an import from outside src/', () => {
    const found = violations(
      new Map([
        ['index.ts', "export * from './cli/index.js';"],
        ['roles/index.ts', "export const ROLES = [];"],
        ['model/schema.ts', "import { ROLES } from '../roles/index.js';\nimport type { Policy } from '../policy/index.js';"],
        ['policy/tools.ts', "import { x } from './compile.js';\nimport { y } from '../../examples/demo/demo.js';\nconst z = await import('../../bench/run.js');"],
        ['admin/apply.ts', "import { createPolicy } from 'org-policy';\nimport { root } from '../index.js';"],
        ['connectors/decide.ts', "import type { PolicyIndex } from '../policy/compile.js';"],
        ['helpers.ts', ''],
      ]),
    );
    expect(found).toEqual([
      'model/schema.ts → ../policy/index.js: model stands below policy (roles < model < change < policy < admin < analysis < cli)',
      'policy/tools.ts → ../../examples/demo/demo.js: src/ imports examples/, which does not ship in the package',
      'policy/tools.ts → ../../bench/run.js: src/ imports bench/, which does not ship in the package',
      'admin/apply.ts → org-policy: src/ imports the package by its public name',
      'admin/apply.ts → ../index.js: a layer imports the public face src/index.ts',
      expect.stringContaining('connectors/decide.ts: src/connectors/ is not a known layer'),
      expect.stringContaining('helpers.ts: only index.ts may stand directly in src/'),
    ]);
  });
});
