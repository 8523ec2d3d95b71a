#!/usr/bin/env node
/**
 * `org-policy`: the command-line tool. The only place in src/ that reads files, stdin, the clock and
 * sets the exit code. Exit codes: 0 valid / allowed / answered / no access change, 1 invalid / denied /
 * access changed (`diff --exit-code`), 2 any error: usage, an unknown action, principal, workspace,
 * connector or tool, a malformed `--now`, an unreadable file, malformed JSON, or (for every command but
 * validate) a snapshot that does not parse. With `--json`, stdout holds exactly one JSON document, an
 * error too (`{ "error": { "code", "message", … } }`), and stderr stays empty.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { listRoles } from '../admin/index.js';
import { accessOf, diffAccess, whoCan, whoCanInvoke } from '../analysis/index.js';
import { formatPath, parseOrganization } from '../model/index.js';
import type { Organization, Problem } from '../model/index.js';
import { createPolicy } from '../policy/index.js';
import type { DecisionOptions, Grant } from '../policy/index.js';
import { ACTIONS, isAction } from '../roles/index.js';

/** How the command ends: an exit code and, for an error, a stable code, a message and details for `--json`. */
class Exit extends Error {
  constructor(
    readonly code: number,
    readonly errorCode: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
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
  diff <before> <after> [--exit-code]                 every decision that differs, gained or lost
  roles                                               the role catalog (GET /api/admin/roles)

<snapshot> is a file path, or - for stdin. Common options: --json, --now <ISO-8601|ms>, --product vibe|studio,
--help, --version. Decisions are made at --now, or else at the current time; the output says which instant.
Exit code 2: usage error, unknown action, principal, workspace, connector or tool, malformed --now,
unreadable file, malformed JSON, or a snapshot that does not parse. With --json, errors are JSON on stdout too.`,
  validate: `Usage: org-policy validate <snapshot> [--json]\n  Lists every problem with its path. Exit 0 valid, 1 invalid, 2 unreadable or not JSON.`,
  check: `Usage: org-policy check <snapshot> <principal> <action> [workspace] [--now T] [--json]
       org-policy check <snapshot> <principal> --connector C --tool T --workspace W [--now T] [--product vibe|studio] [--json]
  Exit 0 allowed, 1 denied, 2 usage error, unknown name or unusable snapshot.`,
  'who-can': `Usage: org-policy who-can <snapshot> <action> [workspace] [--now T] [--json]
       org-policy who-can <snapshot> --connector C --tool T --workspace W [--now T] [--product vibe|studio] [--json]`,
  access: `Usage: org-policy access <snapshot> <principal> [--now T] [--product vibe|studio] [--json]`,
  diff: `Usage: org-policy diff <before> <after> [--now T] [--product vibe|studio] [--exit-code] [--json]
  Exit 0, or with --exit-code: 1 when access changed, 0 when it did not.`,
  roles: `Usage: org-policy roles [--json]\n  --json prints exactly what listRoles() returns: { "roles": [...] }.`,
};

const where = (path: string): string => (path === '-' ? 'stdin' : path);

function readInput(path: string): string {
  try {
    return path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new Exit(2, 'unreadable_file', `org-policy: cannot read ${where(path)}: ${reason}`, { file: path });
  }
}

function readJson(path: string): unknown {
  const text = readInput(path);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Exit(2, 'not_json', `org-policy: ${where(path)} is not JSON: ${(error as Error).message}`, { file: path });
  }
}

/** One line per problem; most messages already begin with their path, the others get it in front. */
function problemLines(problems: readonly Problem[]): string {
  return problems
    .map((p) => {
      const path = formatPath(p.path);
      return `  ${p.message.startsWith(path) ? p.message : `${path}: ${p.message}`} (${p.code})`;
    })
    .join('\n');
}

function loadSnapshot(path: string): Organization {
  const result = parseOrganization(readJson(path));
  if (!result.ok) {
    const count = `${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}`;
    throw new Exit(2, 'invalid_snapshot', `org-policy: ${where(path)} is not a valid snapshot (${count}):\n${problemLines(result.problems)}`, {
      file: path,
      problems: result.problems,
    });
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
  const place = grant.workspace === undefined ? '' : ` in ${grant.workspace}`;
  const how = grant.via === 'group' ? ` via group ${grant.group ?? ''}` : ' direct';
  return `${grant.role}${grant.default ? ' (default)' : ''}${place}${how}`;
}

/** SPEC §7.1's forms of `now`: ISO-8601 with `Z` or an offset, or epoch milliseconds. */
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/** The instant decisions are made at: `--now`, or the clock (the library reads none; the command line may). */
interface Instant {
  readonly ms: number;
  readonly from: 'option' | 'clock';
}

function readInstant(value: string | undefined, clock: () => number): Instant {
  if (value === undefined) return { ms: clock(), from: 'clock' };
  const ms = /^\d+$/.test(value) ? Number(value) : ISO_WITH_OFFSET.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isSafeInteger(ms) || Number.isNaN(new Date(ms).getTime())) {
    throw new Exit(2, 'malformed_now', `org-policy: --now must be ISO-8601 with Z or an offset (2027-01-01T00:00:00Z) or epoch milliseconds, not ${JSON.stringify(value)}`, {
      now: value,
    });
  }
  return { ms, from: 'option' };
}

const instantJson = (instant: Instant) => ({ now: new Date(instant.ms).toISOString(), nowFrom: instant.from });
const instantLine = (instant: Instant): string =>
  `as of ${new Date(instant.ms).toISOString()} (${instant.from === 'clock' ? 'the current time; --now to choose another' : '--now'})`;

function decisionOptions(instant: Instant, product: string | undefined): DecisionOptions {
  if (product !== undefined && product !== 'vibe' && product !== 'studio') {
    throw new Exit(2, 'malformed_product', `org-policy: --product must be vibe or studio, not ${JSON.stringify(product)}`, { product });
  }
  return { now: instant.ms, ...(product === undefined ? {} : { product }) };
}

/** The names a command was given, each checked against the snapshot: a typo is an error, never an empty answer. */
function requireAction(action: string): void {
  if (isAction(action)) return;
  const actions = ACTIONS.map((a) => a.name);
  throw new Exit(2, 'unknown_action', `org-policy: unknown action ${JSON.stringify(action)}; actions are: ${actions.join(', ')}`, { action, actions });
}

function requirePrincipal(org: Organization, principal: string): void {
  if (org.members.has(principal) || org.apiKeys.has(principal)) return;
  throw new Exit(2, 'unknown_principal', `org-policy: ${JSON.stringify(principal)} is neither a member nor an API key of ${org.id}`, { principal });
}

function requireWorkspace(org: Organization, workspace: string | undefined): void {
  if (workspace === undefined || org.workspaces.has(workspace)) return;
  const workspaces = [...org.workspaces.keys()];
  throw new Exit(2, 'unknown_workspace', `org-policy: unknown workspace ${JSON.stringify(workspace)}; workspaces are: ${workspaces.join(', ') || '(none)'}`, {
    workspace,
    workspaces,
  });
}

/** SPEC §7.17: a connector by its id, or else by its unique name; then one of its tools. */
function requireTool(org: Organization, connector: string, tool: string): void {
  const found = org.connectors.get(connector) ?? [...org.connectors.values()].find((c) => c.name === connector);
  if (found === undefined) {
    const connectors = [...org.connectors.values()].map((c) => c.name);
    throw new Exit(2, 'unknown_connector', `org-policy: unknown connector ${JSON.stringify(connector)}; connectors are: ${connectors.join(', ') || '(none)'}`, {
      connector,
      connectors,
    });
  }
  if (found.tools.some((t) => t.name === tool)) return;
  const tools = found.tools.map((t) => t.name);
  throw new Exit(2, 'unknown_tool', `org-policy: connector ${found.name} has no tool ${JSON.stringify(tool)}; its tools are: ${tools.join(', ') || '(none)'}`, {
    connector,
    tool,
    tools,
  });
}

/** package.json's version, found by walking up from this file: dist/cli.js, or src/cli/index.ts under tsx. */
function version(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
        if (pkg.name === 'org-policy' && typeof pkg.version === 'string') return pkg.version;
      } catch {
        // another package.json, or an unreadable one: keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Exit(2, 'unknown_version', 'org-policy: cannot find the package.json of org-policy');
}

function parse(command: string, args: string[], extra: ParseArgsConfig['options'] = {}) {
  try {
    return parseArgs({ args, options: { ...COMMON, ...extra }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new Exit(2, 'usage', `org-policy ${command}: ${(error as Error).message}\n${USAGE[command] ?? USAGE.main}`);
  }
}

function usage(command: string, message: string): never {
  throw new Exit(2, 'usage', `org-policy${command === 'main' ? '' : ` ${command}`}: ${message}\n${USAGE[command] ?? USAGE.main}`);
}

const TOOL_OPTIONS = { connector: { type: 'string' }, tool: { type: 'string' }, workspace: { type: 'string' } } as const;
const DIFF_OPTIONS = { 'exit-code': { type: 'boolean' } } as const;

interface Io {
  readonly out: string[];
  readonly clock: () => number;
}

function run(argv: string[], io: Io): number {
  const [command, ...rest] = argv;
  const print = (text: string): void => void io.out.push(text);
  if (command === '--version') {
    if (rest.length > 1 || (rest.length === 1 && rest[0] !== '--json')) usage('main', '--version takes no arguments');
    print(rest[0] === '--json' ? JSON.stringify({ name: 'org-policy', version: version() }) : version());
    return 0;
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    if (command === undefined) usage('main', 'no command given');
    print(USAGE.main ?? '');
    return 0;
  }
  if (!Object.hasOwn(USAGE, command) || command === 'main') usage('main', `unknown command ${JSON.stringify(command)}`);
  const extra = command === 'check' || command === 'who-can' ? TOOL_OPTIONS : command === 'diff' ? DIFF_OPTIONS : {};
  const { values, positionals } = parse(command, rest, extra);
  const v = values as Record<string, string | boolean | undefined>;
  if (v.help === true) {
    print(USAGE[command] ?? '');
    return 0;
  }
  const json = v.json === true;
  const emit = (data: unknown, human: string): void => print(json ? JSON.stringify(data, null, 2) : human);
  const instant = readInstant(v.now as string | undefined, io.clock);
  const options = decisionOptions(instant, v.product as string | undefined);
  const toolMode = v.connector !== undefined || v.tool !== undefined;
  if (toolMode && (v.connector === undefined || v.tool === undefined || v.workspace === undefined)) {
    usage(command, '--connector, --tool and --workspace go together');
  }
  if (!toolMode && v.workspace !== undefined) usage(command, "--workspace goes with --connector and --tool; give an action's workspace as an argument");

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
      if (!toolMode) requireAction(action);
      const org = loadSnapshot(file);
      requirePrincipal(org, principal);
      const policy = createPolicy(org);
      if (toolMode) {
        const connector = v.connector as string;
        const tool = v.tool as string;
        const ws = v.workspace as string;
        requireWorkspace(org, ws);
        requireTool(org, connector, tool);
        const explanation = policy.explainInvoke(principal, connector, tool, ws, options);
        emit(
          { ...instantJson(instant), principal, connector, tool, workspace: ws, ...explanation },
          `${explanation.allowed ? `allowed: ${principal} may invoke ${connector}/${tool} in ${ws}` : `denied: ${explanation.reason}`}\n${instantLine(instant)}`,
        );
        return explanation.allowed ? 0 : 1;
      }
      requireWorkspace(org, workspace);
      const explanation = policy.explain(principal, action, workspace, options);
      const human = explanation.allowed ? ['allowed', ...explanation.grants.map((g) => `  ${grantText(g)}`)] : [`denied: ${explanation.reason}`];
      emit({ ...instantJson(instant), principal, action, workspace: workspace ?? null, ...explanation }, [...human, instantLine(instant)].join('\n'));
      return explanation.allowed ? 0 : 1;
    }
    case 'who-can': {
      if (toolMode ? positionals.length !== 1 : positionals.length < 2 || positionals.length > 3) usage(command, 'wrong number of arguments');
      const [file = '-', action = '', workspace] = positionals;
      if (!toolMode) requireAction(action);
      const org = loadSnapshot(file);
      const policy = createPolicy(org);
      if (toolMode) {
        const connector = v.connector as string;
        const tool = v.tool as string;
        const ws = v.workspace as string;
        requireWorkspace(org, ws);
        requireTool(org, connector, tool);
        const found = whoCanInvoke(policy, connector, tool, ws, options);
        emit(
          { ...instantJson(instant), connector, tool, workspace: ws, principals: found },
          [
            found.length === 0
              ? `no principal may invoke ${connector}/${tool} in ${ws}`
              : table([
                  ['PRINCIPAL', 'KIND', 'CREDENTIAL', 'GRANTS'],
                  ...found.map((f) => [f.principal, f.kind, f.credential === 'none' ? '-' : `${f.credential.holder}:${f.credential.id}`, f.grants.map(grantText).join('; ')]),
                ]),
            instantLine(instant),
          ].join('\n'),
        );
        return 0;
      }
      requireWorkspace(org, workspace);
      const found = whoCan(policy, action, workspace, options);
      emit(
        { ...instantJson(instant), action, workspace: workspace ?? null, principals: found },
        [
          found.length === 0
            ? `no principal may ${action}${workspace === undefined ? '' : ` in ${workspace}`}`
            : table([['PRINCIPAL', 'KIND', 'GRANTS'], ...found.map((f) => [f.principal, f.kind, f.grants.map(grantText).join('; ')])]),
          instantLine(instant),
        ].join('\n'),
      );
      return 0;
    }
    case 'access': {
      if (positionals.length !== 2) usage(command, 'expected <snapshot> <principal>');
      const [file = '-', principal = ''] = positionals;
      const org = loadSnapshot(file);
      requirePrincipal(org, principal);
      const report = accessOf(createPolicy(org), principal, options);
      const lines = [`${principal} (${report.kind ?? 'unknown principal'})`, `  organization: ${report.organization.join(', ') || '-'}`];
      for (const w of report.workspaces) {
        lines.push(`  ${w.workspace}: ${w.actions.join(', ') || '-'}`);
        for (const c of w.connectors) lines.push(`    ${c.name}: ${c.tools.join(', ')}`);
      }
      lines.push(instantLine(instant));
      emit({ ...instantJson(instant), ...report }, lines.join('\n'));
      return 0;
    }
    case 'diff': {
      if (positionals.length !== 2) usage(command, 'expected <before> <after>');
      const [before = '-', after = '-'] = positionals;
      if (before === '-' && after === '-') usage(command, 'only one snapshot can come from stdin');
      const changes = diffAccess(createPolicy(loadSnapshot(before)), createPolicy(loadSnapshot(after)), options);
      const side = (s: (typeof changes)[number]['before']): string => (s.allowed ? s.grants.map(grantText).join('; ') : s.reason);
      emit(
        { ...instantJson(instant), changes },
        [
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
          instantLine(instant),
        ].join('\n'),
      );
      return v['exit-code'] === true && changes.length > 0 ? 1 : 0;
    }
    case 'roles': {
      if (positionals.length !== 0) usage(command, 'takes no arguments');
      const { roles } = listRoles();
      emit(listRoles(), table([['NAME', 'LABEL', 'SCOPE', 'ID', 'ACTIONS'], ...roles.map((r) => [r.name, r.label, r.scope, r.id, r.actions.join(', ')])]));
      return 0;
    }
    default:
      return usage('main', `unknown command ${JSON.stringify(command)}`);
  }
}

/** `--json` anywhere before a `--` asks for JSON, errors included, even when the rest of the line is wrong. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

function main(): void {
  const argv = process.argv.slice(2);
  const io: Io = { out: [], clock: Date.now };
  let code: number;
  try {
    code = run(argv, io);
  } catch (error) {
    const exit = error instanceof Exit ? error : new Exit(2, 'internal_error', `org-policy: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    io.out.length = 0;
    // In JSON the message is its first line: the problems and the lists are fields of their own.
    const message = exit.message.split('\n', 1)[0];
    if (wantsJson(argv)) io.out.push(JSON.stringify({ error: { code: exit.errorCode, message, ...exit.details } }, null, 2));
    else process.stderr.write(`${exit.message}\n`);
    code = exit.code;
  }
  if (io.out.length > 0) process.stdout.write(`${io.out.join('\n')}\n`);
  process.exitCode = code;
}

main();
