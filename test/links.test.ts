/**
 * Every relative link of the README and the docs leads somewhere in the repository: the file exists,
 * and a `#fragment` names a heading of the Markdown page it points at (as GitHub makes anchors).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

/** README.md, docs/*.md, and the README of each example. */
function pages(): string[] {
  const docs = readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`);
  const examples = readdirSync(join(root, 'examples'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, 'examples', entry.name, 'README.md')))
    .map((entry) => `examples/${entry.name}/README.md`);
  return ['README.md', ...docs, ...examples];
}

/** Markdown outside fenced code blocks. */
function unfenced(text: string): string {
  return text
    .split(/^\s*```.*$/m)
    .filter((_, i) => i % 2 === 0)
    .join('\n');
}

/** Inline `[text](target "title")` and reference `[label]: target` links. */
export function linkTargets(markdown: string): string[] {
  const text = unfenced(markdown).replace(/`[^`\n]*`/g, '``'); // nor in inline code
  const inline = [...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  const reference = [...text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)].map((m) => m[1]!);
  return [...inline, ...reference];
}

/** GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, heading] of unfenced(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = heading!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    out.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return out;
}

function broken(page: string): string[] {
  const markdown = readFileSync(join(root, page), 'utf8');
  const out: string[] = [];
  for (const target of linkTargets(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, …: not a file of the repository
    const [path, fragment] = target.split('#', 2) as [string, string | undefined];
    const file = path === '' ? join(root, page) : resolve(dirname(join(root, page)), decodeURIComponent(path));
    if (!file.startsWith(root + '/') && file !== root) {
      out.push(`${page}: ${target} leaves the repository`);
      continue;
    }
    if (!existsSync(file)) {
      out.push(`${page}: ${target} — no file ${relative(root, file)}`);
      continue;
    }
    if (fragment !== undefined && file.endsWith('.md') && statSync(file).isFile() && !anchors(readFileSync(file, 'utf8')).has(fragment)) {
      out.push(`${page}: ${target} — no heading #${fragment} in ${relative(root, file)}`);
    }
  }
  return out;
}

describe('relative links in README.md and docs/ resolve', () => {
  it.each(pages())('%s', (page) => {
    expect(broken(page)).toEqual([]);
  });

  it('the check reads inline and reference links, skips code, and makes anchors as GitHub does', () => {
    const page = '[a](docs/spec.md) `[b](nowhere.md)`\n```\n[c](nowhere.md)\n```\n[d]: ../x.md "t"\n[e](https://x.test/y)';
    expect(linkTargets(page)).toEqual(['docs/spec.md', 'https://x.test/y', '../x.md']);
    expect([...anchors('## 7. Clarifications\n## D1 — an admin, and `code`\n## Notes\n## Notes')]).toEqual([
      '7-clarifications',
      'd1--an-admin-and-code',
      'notes',
      'notes-1',
    ]);
  });
});
