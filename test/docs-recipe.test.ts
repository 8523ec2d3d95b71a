/**
 * The replication recipe in docs/changes.md runs as written (SPEC §8): the block is extracted from the
 * page, its imports pointed at this checkout, run, and what it prints checked.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const page = readFileSync(join(root, 'docs/changes.md'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'org-policy-recipe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function recipe(): string {
  const marker = page.indexOf('<!-- the block below runs in test/docs-recipe.test.ts, as written -->');
  expect(marker).toBeGreaterThan(0);
  const start = page.indexOf('```ts\n', marker) + '```ts\n'.length;
  return page.slice(start, page.indexOf('\n```', start));
}

describe('docs/changes.md: the replication recipe runs as written', () => {
  it('prints the replica at revision 1, where m-dave (suspended by the change) may no longer use Studio', async () => {
    const code = recipe()
      .replace(`from 'org-policy'`, `from ${JSON.stringify(join(root, 'src/index.ts'))}`)
      .replace(`from '../examples/sample-organization.json'`, `from ${JSON.stringify(join(root, 'examples/sample-organization.json'))}`);
    const file = join(dir, 'recipe.ts');
    writeFileSync(file, code);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await import(file);
      expect(log.mock.calls).toEqual([[1, false]]);
    } finally {
      log.mockRestore();
    }
  });
});
