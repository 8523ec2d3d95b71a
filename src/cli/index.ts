#!/usr/bin/env node
/**
 * `org-policy`: the command-line tool. The only place in src/ that reads files, stdin, the
 * clock and sets the exit code. Exit codes: 0 valid/allowed, 1 invalid/denied, 2 usage error, unreadable
 * file, malformed JSON, or (for every command but validate) a snapshot that does not parse.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { accessOf, diffAccess, whoCan, whoCanInvoke } from '../analysis/index.js';
import { parseOrganization } from '../model/index.js';
import type { Organization } from '../model/index.js';
import { createPolicy } from '../policy/index.js';
import type { DecisionOptions, Grant } from '../policy/index.js';
import { ROLES } from '../roles/index.js';

class Exit extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

const COMMON = {
  json: { type: 'boolean' },
  now: { type: 'string' },
  product: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const USAGE: Record<string, string> = {
  main: `Usage: org-policy <command> [options]

Commands:
  validate <snapshot>                                 check a snapshot; exit 0 valid, 1 invalid
  check <snapshot> <principal> <action> [workspace]   one decision with its explanation; exit 0 allowed, 1 denied
  check <snapshot> <principal> --connector C --tool T --workspace W   one tool call
  who-can <snapshot> <action> [workspace]             every principal allowed (or --connector C --tool T --workspace W)
  access <snapshot> <principal>                       everything a principal may do
  diff <before> <after>                               every decision that differs, gained or lost
  roles                                               the role catalog

<snapshot> is a file path, or - for stdin. Common options: --json, --now <ISO-8601|ms>, --product vibe|studio, --help.
Exit code 2: usage error, unreadable file, malformed JSON, or a snapshot that does not parse.`,
  validate: `Usage: org-policy validate <snapshot> [--json]\n  Lists every problem with its path. Exit 0 valid, 1 invalid, 2 unreadable or not JSON.`,
  check: `Usage: org-policy check <snapshot> <principal> <action> [workspace] [--now T] [--json]
       org-policy check <snapshot> <principal> --connector C --tool T --workspace W [--now T] [--product vibe|studio] [--json]
  Exit 0 allowed, 1 denied, 2 usage error or unusable snapshot.`,
  'who-can': `Usage: org-policy who-can <snapshot> <action> [workspace] [--now T] [--json]
       org-policy who-can <snapshot> --connector C --tool T --workspace W [--now T] [--product vibe|studio] [--json]`,
  access: `Usage: org-policy access <snapshot> <principal> [--now T] [--product vibe|studio] [--json]`,
  diff: `Usage: org-policy diff <before> <after> [--now T] [--product vibe|studio] [--json]\n  Exit 0 whatever the differences.`,
  roles: `Usage: org-policy roles [--json]`,
};

function readInput(path: string): string {
  try {
    return path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8');
  } catch (error) {
    throw new Exit(2, `org-policy: cannot read ${path === '-' ? 'stdin' : path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

function readJson(path: string): unknown {
  const text = readInput(path);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Exit(2, `org-policy: ${path === '-' ? 'stdin' : path} is not JSON: ${(error as Error).message}`);
  }
}

type Problems = readonly { code: string; path: readonly (string | number)[]; message: string }[];

function formatPath(path: readonly (string | number)[]): string {
  return path.length === 0 ? '(root)' : path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
}

function problemLines(problems: Problems): string {
  return problems.map((p) => `  ${formatPath(p.path)}: ${p.message} (${p.code})`).join('\n');
}

function loadSnapshot(path: string): Organization {
  const result = parseOrganization(readJson(path));
  if (!result.ok) {
    throw new Exit(2, `org-policy: ${path === '-' ? 'stdin' : path} is not a valid snapshot (${result.problems.length} problem(s)):\n${problemLines(result.problems)}`);
  }
  return result.organization;
}

function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

function grantText(grant: Grant): string {
  if (grant.via === 'api_key') return `api key of workspace ${grant.workspace}`;
  const where = grant.workspace === undefined ? '' : ` in ${grant.workspace}`;
  const how = grant.via === 'group' ? ` via group ${grant.group ?? ''}` : ' direct';
  return `${grant.role}${grant.default ? ' (default)' : ''}${where}${how}`;
}

function decisionOptions(values: { now?: string | undefined; product?: string | undefined }): DecisionOptions {
  let now: number | string | undefined = values.now;
  if (now !== undefined && /^\d+$/.test(now)) now = Number(now);
  const product = values.product;
  if (product !== undefined && product !== 'vibe' && product !== 'studio') throw new Exit(2, `org-policy: --product must be vibe or studio, not ${product}`);
  return { ...(now === undefined ? {} : { now }), ...(product === undefined ? {} : { product }) };
}

interface Io {
  out: string[];
}

function parse(command: string, args: string[], extra: ParseArgsConfig['options'] = {}) {
  try {
    return parseArgs({ args, options: { ...COMMON, ...extra }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new Exit(2, `org-policy ${command}: ${(error as Error).message}\n${USAGE[command] ?? USAGE.main}`);
  }
}

function usage(command: string, message: string): never {
  throw new Exit(2, `org-policy${command === 'main' ? '' : ` ${command}`}: ${message}\n${USAGE[command]}`);
}

const TOOL_OPTIONS = { connector: { type: 'string' }, tool: { type: 'string' }, workspace: { type: 'string' } } as const;

function run(argv: string[], io: Io): number {
  const [command, ...rest] = argv;
  const print = (text: string): void => void io.out.push(text);
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    print(USAGE.main ?? '');
    return command === undefined ? 2 : 0;
  }
  if (!Object.hasOwn(USAGE, command) || command === 'main') usage('main', `unknown command ${command}`);
  const { values, positionals } = parse(command, rest, command === 'check' || command === 'who-can' ? TOOL_OPTIONS : {});
  const v = values as Record<string, string | boolean | undefined>;
  if (v.help === true) {
    print(USAGE[command] ?? '');
    return 0;
  }
  const json = v.json === true;
  const emit = (data: unknown, human: string): void => print(json ? JSON.stringify(data, null, 2) : human);
  const options = decisionOptions({ now: v.now as string | undefined, product: v.product as string | undefined });
  const toolMode = v.connector !== undefined || v.tool !== undefined;
  if (toolMode && (v.connector === undefined || v.tool === undefined || v.workspace === undefined)) {
    usage(command, '--connector, --tool and --workspace go together');
  }
  if (!toolMode && v.workspace !== undefined) usage(command, '--workspace goes with --connector and --tool; give an action\'s workspace as an argument');

  switch (command) {
    case 'validate': {
      if (positionals.length !== 1) usage(command, 'expected one snapshot');
      const result = parseOrganization(readJson(positionals[0] ?? '-'));
      const problems = result.ok ? [] : result.problems;
      emit({ valid: result.ok, problems }, result.ok ? 'valid' : `invalid: ${problems.length} problem(s)\n${problemLines(problems)}`);
      return result.ok ? 0 : 1;
    }
    case 'check': {
      if (toolMode ? positionals.length !== 2 : positionals.length < 3 || positionals.length > 4) usage(command, 'wrong number of arguments');
      const [file = '-', principal = '', action = '', workspace] = positionals;
      const policy = createPolicy(loadSnapshot(file));
      if (toolMode) {
        const connector = v.connector as string;
        const tool = v.tool as string;
        const ws = v.workspace as string;
        const explanation = policy.explainInvoke(principal, connector, tool, ws, options);
        emit(
          { principal, connector, tool, workspace: ws, ...explanation },
          explanation.allowed ? `allowed: ${principal} may invoke ${connector}/${tool} in ${ws}` : `denied: ${explanation.reason}`,
        );
        return explanation.allowed ? 0 : 1;
      }
      const explanation = policy.explain(principal, action, workspace, options);
      emit(
        { principal, action, workspace: workspace ?? null, ...explanation },
        explanation.allowed ? `allowed\n${explanation.grants.map((g) => `  ${grantText(g)}`).join('\n')}` : `denied: ${explanation.reason}`,
      );
      return explanation.allowed ? 0 : 1;
    }
    case 'who-can': {
      if (toolMode ? positionals.length !== 1 : positionals.length < 2 || positionals.length > 3) usage(command, 'wrong number of arguments');
      const [file = '-', action = '', workspace] = positionals;
      const policy = createPolicy(loadSnapshot(file));
      if (toolMode) {
        const found = whoCanInvoke(policy, v.connector as string, v.tool as string, v.workspace as string, options);
        emit(
          found,
          table([
            ['PRINCIPAL', 'KIND', 'CREDENTIAL', 'GRANTS'],
            ...found.map((f) => [f.principal, f.kind, f.credential === 'none' ? '-' : `${f.credential.holder}:${f.credential.id}`, f.grants.map(grantText).join('; ')]),
          ]),
        );
        return 0;
      }
      const found = whoCan(policy, action, workspace, options);
      emit(found, table([['PRINCIPAL', 'KIND', 'GRANTS'], ...found.map((f) => [f.principal, f.kind, f.grants.map(grantText).join('; ')])]));
      return 0;
    }
    case 'access': {
      if (positionals.length !== 2) usage(command, 'expected <snapshot> <principal>');
      const [file = '-', principal = ''] = positionals;
      const report = accessOf(createPolicy(loadSnapshot(file)), principal, options);
      const lines = [`${principal} (${report.kind ?? 'unknown principal'})`, `  organization: ${report.organization.join(', ') || '-'}`];
      for (const w of report.workspaces) {
        lines.push(`  ${w.workspace}: ${w.actions.join(', ') || '-'}`);
        for (const c of w.connectors) lines.push(`    ${c.name}: ${c.tools.join(', ')}`);
      }
      emit(report, lines.join('\n'));
      return 0;
    }
    case 'diff': {
      if (positionals.length !== 2) usage(command, 'expected <before> <after>');
      const [before = '-', after = '-'] = positionals;
      if (before === '-' && after === '-') usage(command, 'only one snapshot can come from stdin');
      const changes = diffAccess(createPolicy(loadSnapshot(before)), createPolicy(loadSnapshot(after)), options);
      const side = (s: (typeof changes)[number]['before']): string => (s.allowed ? s.grants.map(grantText).join('; ') : s.reason);
      emit(
        changes,
        changes.length === 0
          ? 'no access changes'
          : table([
              ['CHANGE', 'PRINCIPAL', 'WORKSPACE', 'ACTION / TOOL', 'BEFORE', 'AFTER'],
              ...changes.map((c) => [
                c.change,
                c.principal,
                c.workspace ?? '(organization)',
                c.kind === 'tool' ? `${c.connector ?? ''}/${c.action}` : c.action,
                side(c.before),
                side(c.after),
              ]),
            ]),
      );
      return 0;
    }
    case 'roles': {
      if (positionals.length !== 0) usage(command, 'takes no arguments');
      emit(ROLES, table([['NAME', 'LABEL', 'SCOPE', 'ID', 'ACTIONS'], ...ROLES.map((r) => [r.name, r.label, r.scope, r.id, r.actions.join(', ')])]));
      return 0;
    }
    default:
      return usage('main', `unknown command ${command}`);
  }
}

function main(): void {
  const io: Io = { out: [] };
  let code: number;
  try {
    code = run(process.argv.slice(2), io);
  } catch (error) {
    if (error instanceof Exit) {
      process.stderr.write(`${error.message}\n`);
      code = error.code;
    } else {
      process.stderr.write(`org-policy: ${String(error)}\n`);
      code = 2;
    }
  }
  if (io.out.length > 0) process.stdout.write(`${io.out.join('\n')}\n`);
  process.exitCode = code;
}

main();
