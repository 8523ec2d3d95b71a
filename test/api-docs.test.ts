/**
 * `npm run docs` renders the API reference from the TSDoc comments with typedoc, and typedoc has nothing
 * to complain about: no type that an export refers to is left out, no `{@link}` is broken.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
let out: string;
let log: string;

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'org-policy-api-docs-'));
  const typedoc = join(root, 'node_modules', 'typedoc', 'bin', 'typedoc');
  // typedoc prints its warnings on stdout and stderr, and exits 0 on warnings: both streams are read.
  log = execFileSync('sh', ['-c', `"${process.execPath}" "${typedoc}" --out "${out}" 2>&1`], { cwd: root, encoding: 'utf8' });
}, 180_000);

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

describe('npm run docs', () => {
  it('is typedoc with the repository config, writing to the git-ignored api-docs/', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(manifest.scripts.docs).toBe('typedoc');
    const config = JSON.parse(readFileSync(join(root, 'typedoc.json'), 'utf8'));
    expect(config.out).toBe('api-docs');
    expect(readFileSync(join(root, '.gitignore'), 'utf8').split('\n')).toContain('api-docs/');
  });

  it('runs without warnings or errors', () => {
    const complaints = log.split('\n').filter((line) => /\[(warning|error)\]/.test(line));
    expect(complaints).toEqual([]);
  });

  it('documents the entry points', () => {
    expect(existsSync(join(out, 'index.html'))).toBe(true);
    for (const name of ['createPolicy', 'parseOrganization', 'applyCommand', 'organizationJsonSchema', 'whoCan']) {
      expect(existsSync(join(out, 'functions', `${name}.html`)), name).toBe(true);
    }
    const page = readFileSync(join(out, 'functions', 'organizationJsonSchema.html'), 'utf8');
    expect(page).toContain('structure only');
  });
});
