/**
 * The `org-policy` command, run as a user runs it: the built bin (dist/cli.js) in a child process, on
 * fixture files and stdin. Exit codes: 0 valid / allowed / answered, 1 invalid / denied / access changed
 * (`diff --exit-code`), 2 every error. With `--json`, stdout is one JSON document, errors included.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS, listRoles } from 'org-policy';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const SAMPLE = fixture('sample.json');
const ACTION_NAMES = ACTIONS.map((a) => a.name);
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function cli(args: string[], input?: string, options: { bin?: string; cwd?: string } = {}) {
  const result = spawnSync(process.execPath, [options.bin ?? bin, ...args], { cwd: options.cwd ?? root, input: input ?? '', encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `--json` output: exactly one JSON document on stdout, nothing on stderr. */
function jsonOf(run: ReturnType<typeof cli>): Record<string, unknown> {
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

/** The sample with k-platform-bot's expiry moved, as stdin: a key the clock judges, whatever day the tests run. */
function sampleWithKeyExpiring(expiresAt: string): string {
  const json = JSON.parse(readFileSync(SAMPLE, 'utf8')) as { apiKeys: { id: string; expiresAt?: string }[] };
  json.apiKeys.find((k) => k.id === 'k-platform-bot')!.expiresAt = expiresAt;
  return JSON.stringify(json);
}

beforeAll(() => {
  // `npm test` builds before vitest; a standalone run builds the bin first.
  if (!existsSync(bin)) spawnSync('npx', ['tsup'], { cwd: root, stdio: 'ignore' });
}, 120_000);

describe('org-policy CLI: validate, check, who-can, access, diff, roles on fixture files', () => {
  it('validate: exit 0 on a valid snapshot', () => {
    const run = cli(['validate', SAMPLE]);
    expect(run).toMatchObject({ code: 0, stdout: 'valid\n' });
  });

  it('validate: every problem with its path, exit 1 (SPEC §6: never the first alone)', () => {
    const run = cli(['validate', fixture('invalid-snapshot.json')]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('members[0].orgRoles[0]');
    expect(run.stdout).toContain('wrong_scope_role');
    expect(run.stdout).toContain('members[1].colour');
    const json = cli(['validate', fixture('invalid-snapshot.json'), '--json']);
    expect(json.code).toBe(1);
    const body = jsonOf(json) as { valid: boolean; problems: { code: string; path: unknown[] }[] };
    expect(body.valid).toBe(false);
    expect(body.problems.map((p) => p.code).sort()).toEqual(['unknown_field', 'wrong_scope_role']);
  });

  it('malformed JSON, a missing file: exit 2 with a message on stderr', () => {
    const bad = cli(['validate', fixture('not-json.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('is not JSON');
    const missing = cli(['check', fixture('missing.json'), 'm-ada', 'org.members.manage']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read');
    expect(missing.stderr).toContain('ENOENT');
  });

  it('check on a snapshot that does not parse: exit 2 with its problems', () => {
    const run = cli(['check', fixture('invalid-snapshot.json'), 'm-ada', 'org.members.manage']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('members[0].orgRoles[0]');
    expect(run.stdout).toBe('');
  });

  it('check: exit 0 allowed with its grants, exit 1 denied with its reason code (SPEC §3.7), and the instant decided at', () => {
    const allowed = cli(['check', SAMPLE, 'm-chloe', 'studio.use', 'ws-research', '--now', '2026-11-25T09:00:00Z']);
    expect(allowed).toMatchObject({ code: 0, stderr: '' });
    expect(allowed.stdout).toBe('allowed\n  workspace_admin in ws-research direct\nas of 2026-11-25T09:00:00.000Z (--now)\n');
    const denied = cli(['check', SAMPLE, 'm-bruno', 'org.members.manage', '--json', '--now', '1764061200000']);
    expect(denied.code).toBe(1);
    expect(jsonOf(denied)).toEqual({
      now: '2025-11-25T09:00:00.000Z',
      nowFrom: 'option',
      principal: 'm-bruno',
      action: 'org.members.manage',
      workspace: null,
      allowed: false,
      reason: 'no_grant',
    });
  });

  it('check a tool call with --connector/--tool/--workspace; --now judges API key expiry (SPEC §7.1)', () => {
    const tool = cli(['check', SAMPLE, 'm-chloe', '--connector', 'github', '--tool', 'create_issue', '--workspace', 'ws-platform', '--json']);
    expect(tool.code).toBe(0);
    expect(jsonOf(tool)).toMatchObject({ allowed: true, reason: null, connector: 'github', tool: 'create_issue', nowFrom: 'clock' });
    // k-platform-bot expires 2027-06-30T00:00:00Z.
    expect(cli(['check', SAMPLE, 'k-platform-bot', 'studio.use', 'ws-platform', '--now', '2027-01-01T00:00:00Z']).code).toBe(0);
    const expired = cli(['check', SAMPLE, 'k-platform-bot', 'studio.use', 'ws-platform', '--now', String(Date.UTC(2027, 6, 1))]);
    expect(expired).toMatchObject({ code: 1, stdout: 'denied: key_expired\nas of 2027-07-01T00:00:00.000Z (--now)\n' });
    const offset = cli(['check', SAMPLE, 'k-platform-bot', 'studio.use', 'ws-platform', '--now', '2027-06-30T01:30:00+02:00']);
    expect(offset).toMatchObject({ code: 0 });
    expect(offset.stdout).toContain('as of 2027-06-29T23:30:00.000Z (--now)');
  });

  it('stdin as "-"', () => {
    const run = cli(['check', '-', 'm-ada', 'org.members.manage'], readFileSync(SAMPLE, 'utf8'));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('organization_admin');
  });

  it('who-can --json: { now, nowFrom, action, workspace, principals } with their grants; tool form with the credential that connects', () => {
    const run = cli(['who-can', SAMPLE, 'studio.use', 'ws-research', '--json', '--now', '2026-01-01T00:00:00Z']);
    expect(run.code).toBe(0);
    const body = jsonOf(run) as { now: string; nowFrom: string; action: string; workspace: string; principals: { principal: string; kind: string; grants: unknown[] }[] };
    expect(body).toMatchObject({ now: '2026-01-01T00:00:00.000Z', nowFrom: 'option', action: 'studio.use', workspace: 'ws-research' });
    expect(body.principals.map((p) => p.principal)).toEqual(['m-chloe', 'm-dave', 'm-eve', 'k-research-ci']);
    for (const p of body.principals) expect(p.grants.length).toBeGreaterThan(0);
    const tools = cli(['who-can', SAMPLE, '--connector', 'github', '--tool', 'create_issue', '--workspace', 'ws-research', '--json']);
    const toolBody = jsonOf(tools) as { connector: string; principals: { principal: string; credential: unknown }[] };
    expect(toolBody.connector).toBe('github');
    expect(toolBody.principals.find((p) => p.principal === 'm-chloe')?.credential).toEqual({ holder: 'organization', id: 'cred-github-app' });
  });

  it('who-can: a table, or a sentence when nobody may', () => {
    const run = cli(['who-can', SAMPLE, 'studio.use', 'ws-research', '--now', '2026-01-01T00:00:00Z']);
    expect(run.stdout.split('\n')[0]).toMatch(/^PRINCIPAL\s+KIND\s+GRANTS$/);
    const nobody = cli(['who-can', SAMPLE, 'code.use', 'ws-marketing', '--now', '2026-01-01T00:00:00Z']);
    expect(nobody).toMatchObject({ code: 0, stdout: 'no principal may code.use in ws-marketing\nas of 2026-01-01T00:00:00.000Z (--now)\n' });
  });

  it('access: human text and --json shape', () => {
    const human = cli(['access', SAMPLE, 'm-chloe']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('m-chloe (member)');
    expect(human.stdout).toContain('    github: search_repositories, get_issue, create_issue, create_pull_request');
    const body = jsonOf(cli(['access', SAMPLE, 'm-chloe', '--json'])) as { principal: string; kind: string; organization: string[]; workspaces: { workspace: string }[] };
    expect(body.kind).toBe('member');
    expect(body.organization).toEqual(['org.profile.manage_own', 'admin.access']);
    expect(body.workspaces.map((w) => w.workspace)).toEqual(['ws-research', 'ws-platform']);
  });

  it('diff: what removing a default contributor loses, and nothing between a snapshot and itself', () => {
    const same = cli(['diff', SAMPLE, SAMPLE, '--now', '2026-01-01T00:00:00Z']);
    expect(same).toMatchObject({ code: 0, stdout: 'no access changes\nas of 2026-01-01T00:00:00.000Z (--now)\n' });
    const body = jsonOf(cli(['diff', SAMPLE, fixture('sample-after.json'), '--json'])) as {
      nowFrom: string;
      changes: { principal: string; change: string; kind: string; action: string }[];
    };
    expect(body.nowFrom).toBe('clock');
    expect(body.changes.length).toBeGreaterThan(0);
    for (const c of body.changes) expect([c.principal, c.change]).toEqual(['m-eve', 'lost']);
    expect(body.changes.filter((c) => c.kind === 'action').map((c) => c.action)).toEqual(['vibe.use', 'studio.use']);
  });

  it('diff --exit-code: 1 when access changed, 0 when it did not (without it, 0 either way)', () => {
    expect(cli(['diff', SAMPLE, fixture('sample-after.json'), '--exit-code']).code).toBe(1);
    expect(cli(['diff', SAMPLE, fixture('sample-after.json'), '--exit-code', '--json']).code).toBe(1);
    expect(cli(['diff', SAMPLE, SAMPLE, '--exit-code']).code).toBe(0);
    expect(cli(['diff', SAMPLE, fixture('sample-after.json')]).code).toBe(0);
    expect(cli(['check', SAMPLE, 'm-ada', 'org.members.manage', '--exit-code']).code).toBe(2);
  });

  it('roles --json is exactly listRoles(), the JSON of GET /api/admin/roles (SPEC §2)', () => {
    const body = jsonOf(cli(['roles', '--json']));
    expect(body).toEqual(JSON.parse(JSON.stringify(listRoles())));
    expect((body.roles as { name: string; id: string }[]).find((r) => r.name === 'organization_admin')?.id).toBe('5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d1003');
    expect(cli(['roles']).stdout).toContain('workspace_contributor');
  });

  it('usage errors exit 2; --help on every command exits 0', () => {
    expect(cli([]).code).toBe(2);
    expect(cli(['bogus']).code).toBe(2);
    expect(cli(['__proto__']).code).toBe(2);
    expect(cli(['check', SAMPLE, 'm-ada']).code).toBe(2);
    expect(cli(['check', SAMPLE, 'm-ada', 'x', '--frobnicate']).code).toBe(2);
    expect(cli(['check', SAMPLE, 'm-ada', '--connector', 'github']).code).toBe(2);
    expect(cli(['who-can', SAMPLE, 'studio.use', '--workspace', 'ws-research']).code).toBe(2);
    expect(cli(['access', SAMPLE, 'm-ada', '--product', 'code']).code).toBe(2);
    for (const command of ['validate', 'check', 'who-can', 'access', 'diff', 'roles']) {
      const help = cli([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: org-policy ${command}`);
    }
    expect(cli(['--help']).code).toBe(0);
  });
});

describe('org-policy CLI: a typo is exit 2 with a message, never an empty answer or a denial', () => {
  it('an unknown action, for check and who-can: exit 2, listing every valid action', () => {
    for (const args of [
      ['check', SAMPLE, 'm-chloe', 'stuido.use', 'ws-research'],
      ['check', SAMPLE, 'm-ada', 'org.member.manage'],
      ['who-can', SAMPLE, 'stuido.use', 'ws-research'],
      ['who-can', SAMPLE, '__proto__'],
    ]) {
      const run = cli(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`unknown action "${args[args[0] === 'check' ? 3 : 2]}"`);
      for (const action of ACTION_NAMES) expect(run.stderr).toContain(action);
      const json = cli([...args, '--json']);
      expect(json.code).toBe(2);
      expect((jsonOf(json).error as { code: string; actions: string[] })).toMatchObject({ code: 'unknown_action', actions: ACTION_NAMES });
    }
  });

  it('an unknown principal, for check (both forms) and access: exit 2', () => {
    for (const args of [
      ['check', SAMPLE, 'm-nobody', 'studio.use', 'ws-research'],
      ['check', SAMPLE, 'm-nobody', '--connector', 'github', '--tool', 'get_issue', '--workspace', 'ws-research'],
      ['access', SAMPLE, 'm-nobody'],
      ['access', SAMPLE, 'toString'],
    ]) {
      const run = cli(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('is neither a member nor an API key');
      expect(jsonOf(cli([...args, '--json'])).error).toMatchObject({ code: 'unknown_principal', principal: args[2] });
    }
  });

  it('an unknown workspace, as an argument or as --workspace, for check and who-can: exit 2, listing the workspaces', () => {
    for (const args of [
      ['check', SAMPLE, 'm-chloe', 'studio.use', 'ws-reserch'],
      ['check', SAMPLE, 'm-ada', 'org.members.manage', 'ws-reserch'],
      ['check', SAMPLE, 'm-chloe', '--connector', 'github', '--tool', 'get_issue', '--workspace', 'ws-reserch'],
      ['who-can', SAMPLE, 'studio.use', 'ws-reserch'],
      ['who-can', SAMPLE, '--connector', 'github', '--tool', 'get_issue', '--workspace', 'ws-reserch'],
    ]) {
      const run = cli(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('unknown workspace "ws-reserch"; workspaces are: ws-research, ws-marketing, ws-platform');
      expect(jsonOf(cli([...args, '--json'])).error).toMatchObject({ code: 'unknown_workspace', workspace: 'ws-reserch' });
    }
  });

  it('an unknown connector or tool in the tool form: exit 2, listing what exists', () => {
    const connector = cli(['who-can', SAMPLE, '--connector', 'gitlab', '--tool', 'get_issue', '--workspace', 'ws-research']);
    expect(connector.code).toBe(2);
    expect(connector.stderr).toContain('unknown connector "gitlab"; connectors are: github');
    const tool = cli(['check', SAMPLE, 'm-chloe', '--connector', 'c-github', '--tool', 'get_isue', '--workspace', 'ws-research', '--json']);
    expect(tool.code).toBe(2);
    expect(jsonOf(tool).error).toMatchObject({ code: 'unknown_tool', tool: 'get_isue', tools: ['search_repositories', 'get_issue', 'create_issue', 'create_pull_request'] });
  });

  it('a malformed --now, for check, who-can, access and diff: exit 2 with the accepted forms', () => {
    const commands = [
      ['check', SAMPLE, 'm-chloe', 'studio.use', 'ws-research'],
      ['who-can', SAMPLE, 'studio.use', 'ws-research'],
      ['access', SAMPLE, 'm-chloe'],
      ['diff', SAMPLE, SAMPLE],
    ];
    // No offset (the host's time zone would decide), not a date, not a day, a float, a negative, empty, beyond Date's range.
    for (const now of ['2027-01-01T00:00:00', 'yesterday', '2027-13-01T00:00:00Z', '1.5', '-5', '', '99999999999999999']) {
      for (const args of commands) {
        const run = cli([...args, `--now=${now}`]);
        expect(run.code, `${args[0]} --now ${now}`).toBe(2);
        expect(run.stdout).toBe('');
        expect(run.stderr).toContain('--now must be ISO-8601 with Z or an offset');
        expect(jsonOf(cli([...args, `--now=${now}`, '--json'])).error).toMatchObject({ code: 'malformed_now', now });
      }
    }
  });
});

describe('org-policy CLI: without --now, decisions are made at the current time, and the output says so', () => {
  const CLOCK_LINE = /^as of (\S+) \(the current time; --now to choose another\)$/;
  const nearNow = (iso: string) => {
    expect(iso).toMatch(ISO);
    expect(Math.abs(Date.parse(iso) - Date.now())).toBeLessThan(120_000);
  };

  it('who-can lists an API key with an expiry that has not passed, and says which instant it used', () => {
    const future = sampleWithKeyExpiring('2999-01-01T00:00:00Z');
    const text = cli(['who-can', '-', 'studio.use', 'ws-platform'], future);
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines.some((l) => l.startsWith('k-platform-bot  api_key'))).toBe(true);
    nearNow(CLOCK_LINE.exec(lines.at(-1)!)![1]!);
    const body = jsonOf(cli(['who-can', '-', 'studio.use', 'ws-platform', '--json'], future)) as { now: string; nowFrom: string; principals: { principal: string }[] };
    expect(body.nowFrom).toBe('clock');
    nearNow(body.now);
    expect(body.principals.map((p) => p.principal)).toContain('k-platform-bot');
    // The tool form too.
    const tools = jsonOf(cli(['who-can', '-', '--connector', 'github', '--tool', 'get_issue', '--workspace', 'ws-platform', '--json'], future)) as { principals: { principal: string }[] };
    expect(tools.principals.map((p) => p.principal)).toContain('k-platform-bot');
  });

  it('a key whose expiry has passed is judged expired at the current time, not dropped for want of a now', () => {
    const past = sampleWithKeyExpiring('2001-01-01T00:00:00Z');
    const body = jsonOf(cli(['who-can', '-', 'studio.use', 'ws-platform', '--json'], past)) as { principals: { principal: string }[] };
    expect(body.principals.map((p) => p.principal)).not.toContain('k-platform-bot');
    const check = cli(['check', '-', 'k-platform-bot', 'studio.use', 'ws-platform', '--json'], past);
    expect(check.code).toBe(1);
    expect(jsonOf(check)).toMatchObject({ allowed: false, reason: 'key_expired', nowFrom: 'clock' });
    // Asked at a time before the expiry, it is there.
    const then = jsonOf(cli(['who-can', '-', 'studio.use', 'ws-platform', '--json', '--now', '2000-01-01T00:00:00Z'], past)) as { principals: { principal: string }[] };
    expect(then.principals.map((p) => p.principal)).toContain('k-platform-bot');
  });

  it('access and check judge an expiring key at the current time (never now_required)', () => {
    const future = sampleWithKeyExpiring('2999-01-01T00:00:00Z');
    const text = cli(['access', '-', 'k-platform-bot'], future);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('  ws-platform: studio.use');
    nearNow(CLOCK_LINE.exec(text.stdout.trimEnd().split('\n').at(-1)!)![1]!);
    const body = jsonOf(cli(['access', '-', 'k-platform-bot', '--json'], future)) as { now: string; nowFrom: string; workspaces: { workspace: string }[] };
    expect(body.nowFrom).toBe('clock');
    nearNow(body.now);
    expect(body.workspaces.map((w) => w.workspace)).toEqual(['ws-platform']);
    const check = cli(['check', '-', 'k-platform-bot', 'studio.use', 'ws-platform'], future);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/^allowed\n {2}api key of workspace ws-platform\nas of \S+ \(the current time; --now to choose another\)\n$/);
  });
});

describe('org-policy CLI: --json errors are JSON on stdout, stderr empty; text errors go to stderr', () => {
  it.each([
    ['an unknown command', ['bogus'], 'usage'],
    ['no arguments', ['check'], 'usage'],
    ['an unknown option', ['check', SAMPLE, 'm-ada', 'org.members.manage', '--frobnicate'], 'usage'],
    ['a missing file', ['check', fixture('missing.json'), 'm-ada', 'org.members.manage'], 'unreadable_file'],
    ['malformed JSON', ['validate', fixture('not-json.json')], 'not_json'],
    ['a malformed --product', ['access', SAMPLE, 'm-ada', '--product', 'code'], 'malformed_product'],
  ])('%s', (_what, args, code) => {
    const text = cli(args);
    expect(text.code).toBe(2);
    expect(text.stdout).toBe('');
    expect(text.stderr).toMatch(/^org-policy/);
    const json = cli([...args, '--json']);
    expect(json.code).toBe(2);
    const body = jsonOf(json) as { error: { code: string; message: string } };
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error.code).toBe(code);
    expect(body.error.message).toMatch(/^org-policy/);
    expect(body.error.message).not.toContain('\n');
  });

  it('a snapshot that does not parse: invalid_snapshot with every problem as data', () => {
    const run = cli(['who-can', fixture('invalid-snapshot.json'), 'studio.use', '--json']);
    expect(run.code).toBe(2);
    const error = jsonOf(run).error as { code: string; problems: { code: string; path: unknown[] }[] };
    expect(error.code).toBe('invalid_snapshot');
    expect(error.problems.map((p) => p.code).sort()).toEqual(['unknown_field', 'wrong_scope_role']);
  });
});

describe('org-policy CLI: --version', () => {
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  let installed: string;

  beforeAll(() => {
    // The bin as npm installs it: <package>/dist/cli.js beside <package>/package.json, run from elsewhere.
    installed = mkdtempSync(join(tmpdir(), 'org-policy-bin-'));
    mkdirSync(join(installed, 'dist'));
    copyFileSync(bin, join(installed, 'dist', 'cli.js'));
    writeFileSync(join(installed, 'package.json'), JSON.stringify({ name: 'org-policy', version: '9.8.7-installed', type: 'module' }));
    symlinkSync(join(root, 'node_modules'), join(installed, 'node_modules'), 'dir');
  });
  afterAll(() => rmSync(installed, { recursive: true, force: true }));

  it("prints package.json's version, exit 0", () => {
    expect(cli(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect(jsonOf(cli(['--version', '--json']))).toEqual({ name: 'org-policy', version });
  });

  it('reads the package.json of the package it is installed in, whatever the working directory', () => {
    expect(cli(['--version'], undefined, { bin: join(installed, 'dist', 'cli.js'), cwd: tmpdir() })).toEqual({ code: 0, stdout: '9.8.7-installed\n', stderr: '' });
  });
});
