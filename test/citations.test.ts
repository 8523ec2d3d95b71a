/**
 * Every citation a reader meets resolves to a document that ships in the repository: a `§n` or `§n.m`
 * names a section or a numbered rule of docs/spec.md, and a `Dn` a decision that docs/spec.md states
 * and docs/decisions.md records. Nothing cites an issue tracker's numbers instead.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** Where citations are looked for: the code, the docs, the examples, the tests and the benchmarks. */
const CITING = ['README.md', 'src', 'docs', 'examples', 'test', 'bench'];
const SKIP = new Set(['node_modules', 'results', 'fixtures', '.data']);
const THIS_FILE = 'test/citations.test.ts';

function files(path: string): string[] {
  const full = join(root, path);
  if (!statSync(full, { throwIfNoEntry: false })) return [];
  if (statSync(full).isFile()) return [path];
  return readdirSync(full, { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name)) return [];
    const child = relative(root, join(full, entry.name)).split('\\').join('/');
    if (entry.isDirectory()) return files(child);
    return /\.(ts|md)$/.test(entry.name) && child !== THIS_FILE ? [child] : [];
  });
}

/** Lines outside fenced code blocks, with their 1-based numbers. */
function prose(text: string): { line: string; number: number }[] {
  let fenced = false;
  return text.split('\n').flatMap((line, i) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return [];
    }
    return fenced ? [] : [{ line, number: i + 1 }];
  });
}

/** The sections (`## 3.`, `### 6.1`) and numbered rules (`4.` under `## 3.`) of a contract. */
export function contractNumbers(text: string): { numbers: Set<string>; problems: string[] } {
  const numbers = new Set<string>();
  const problems: string[] = [];
  let section: string | null = null;
  let previous = 0;
  const add = (number: string, where: number) => {
    if (numbers.has(number)) problems.push(`line ${where}: §${number} is defined twice`);
    numbers.add(number);
  };
  for (const { line, number } of prose(text)) {
    const heading = /^(#{2,6})\s+(\d+(?:\.\d+)*)\.?\s/.exec(line);
    if (heading) {
      add(heading[2]!, number);
      section = heading[1] === '##' ? heading[2]! : null; // rules are numbered under a top-level section only
      previous = 0;
      continue;
    }
    if (/^#/.test(line)) {
      section = null;
      continue;
    }
    const rule = /^(\d+)\.\s/.exec(line);
    if (rule && section !== null) {
      const n = Number(rule[1]);
      if (n !== previous + 1) problems.push(`line ${number}: rule ${section}.${n} follows ${section}.${previous}`);
      previous = n;
      add(`${section}.${n}`, number);
    }
  }
  return { numbers, problems };
}

// A section of an RFC (`RFC 7644 §3.12`) is the RFC's, not ours.
const SECTION_CITATION = /(?<!RFC \d{3,5} )§\s?(\d+(?:\.\d+)?)/g;
const DECISION_CITATION = /\bD(\d+)\b/g;

function citations(pattern: RegExp): { file: string; line: number; cited: string }[] {
  return CITING.flatMap(files).flatMap((file) =>
    read(file)
      .split('\n')
      .flatMap((text, i) => [...text.matchAll(pattern)].map((m) => ({ file, line: i + 1, cited: m[1]! }))),
  );
}

describe('citations resolve in the documents that ship', () => {
  const spec = read('docs/spec.md');
  const contract = contractNumbers(spec);
  const statedDecisions = new Set([...spec.matchAll(/\*\*D(\d+)\*\*/g)].map((m) => m[1]!));
  const recordedDecisions = new Set([...read('docs/decisions.md').matchAll(/^## D(\d+) —/gm)].map((m) => m[1]!));

  it('docs/spec.md numbers its sections and rules once each, in order, §1 to §9', () => {
    expect(contract.problems).toEqual([]);
    for (let n = 1; n <= 9; n++) expect(contract.numbers.has(String(n)), `§${n}`).toBe(true);
    expect(contract.numbers.has('7.21')).toBe(true);
  });

  it('every §n and §n.m names a section or a numbered rule of docs/spec.md', () => {
    const cited = citations(SECTION_CITATION);
    expect(cited.length).toBeGreaterThan(100);
    expect(cited.filter(({ cited }) => !contract.numbers.has(cited)).map(({ file, line, cited }) => `${file}:${line}: §${cited}`)).toEqual([]);
  });

  it('every Dn is stated in docs/spec.md and recorded in docs/decisions.md', () => {
    const cited = citations(DECISION_CITATION);
    expect(cited.length).toBeGreaterThan(20);
    expect(cited.filter(({ cited }) => !statedDecisions.has(cited)).map(({ file, line, cited }) => `${file}:${line}: D${cited} not stated in docs/spec.md`)).toEqual([]);
    expect(cited.filter(({ cited }) => !recordedDecisions.has(cited)).map(({ file, line, cited }) => `${file}:${line}: D${cited} not in docs/decisions.md`)).toEqual([]);
    expect([...statedDecisions].sort()).toEqual([...recordedDecisions].sort());
  });

  it('the check itself finds rules under sections and ignores code blocks', () => {
    const found = contractNumbers(['## 3. Decisions', '1. one', '   1. nested, not a rule', '2. two', '```', '3. in code', '```', '### 3.9 Sub', '1. not numbered here', '## 4. Tools', '2. a gap'].join('\n'));
    expect([...found.numbers]).toEqual(['3', '3.1', '3.2', '3.9', '4', '4.2']);
    expect(found.problems).toEqual(['line 11: rule 4.2 follows 4.0']);
  });
});

describe('no issue numbers in code or docs', () => {
  it('nothing cites an issue by its number: say what the thing is', () => {
    const ISSUE = new RegExp(['\\bissues?', '\\s*#?\\d+'].join(''), 'i');
    const found = CITING.flatMap(files).flatMap((file) =>
      read(file)
        .split('\n')
        .flatMap((text, i) => (ISSUE.test(text) ? [`${file}:${i + 1}: ${text.trim()}`] : [])),
    );
    expect(found).toEqual([]);
  });
});
