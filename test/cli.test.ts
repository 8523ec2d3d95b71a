import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const SAMPLE = fixture('sample.json');

function cli(args: string[], input?: string) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: root, input: input ?? '', encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  // `npm test` builds before vitest; a standalone run builds the bin first.
  if (!existsSync(bin)) spawnSync('npx', ['tsup'], { cwd: root, stdio: 'ignore' });
}, 120_000);

describe('org-policy CLI: the built bin on fixture files', () => {
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
    const body = JSON.parse(json.stdout) as { valid: boolean; problems: { code: string; path: unknown[] }[] };
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

  it('check: exit 0 allowed with its grants, exit 1 denied with its reason code (SPEC §3.7)', () => {
    const allowed = cli(['check', SAMPLE, 'm-chloe', 'studio.use', 'ws-research']);
    expect(allowed).toMatchObject({ code: 0 });
    expect(allowed.stdout).toBe('allowed\n  workspace_admin in ws-research direct\n');
    const denied = cli(['check', SAMPLE, 'm-bruno', 'org.members.manage', '--json']);
    expect(denied.code).toBe(1);
    expect(JSON.parse(denied.stdout)).toEqual({ principal: 'm-bruno', action: 'org.members.manage', workspace: null, allowed: false, reason: 'no_grant' });
  });

  it('check a tool call with --connector/--tool/--workspace; --now judges API key expiry (SPEC §7.1)', () => {
    const tool = cli(['check', SAMPLE, 'm-chloe', '--connector', 'github', '--tool', 'create_issue', '--workspace', 'ws-platform', '--json']);
    expect(tool.code).toBe(0);
    expect(JSON.parse(tool.stdout)).toMatchObject({ allowed: true, reason: null, connector: 'github', tool: 'create_issue' });
    // k-platform-bot expires 2027-06-30T00:00:00Z.
    const noNow = cli(['check', SAMPLE, 'k-platform-bot', 'studio.use', 'ws-platform', '--json']);
    expect(noNow.code).toBe(1);
    expect(JSON.parse(noNow.stdout)).toMatchObject({ allowed: false, reason: 'now_required' });
    expect(cli(['check', SAMPLE, 'k-platform-bot', 'studio.use', 'ws-platform', '--now', '2027-01-01T00:00:00Z']).code).toBe(0);
    const expired = cli(['check', SAMPLE, 'k-platform-bot', 'studio.use', 'ws-platform', '--now', String(Date.UTC(2027, 6, 1))]);
    expect(expired).toMatchObject({ code: 1, stdout: 'denied: key_expired\n' });
  });

  it('stdin as "-"', () => {
    const run = cli(['check', '-', 'm-ada', 'org.members.manage'], readSample());
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('organization_admin');
  });

  it('who-can --json: principals with their grants; tool form with the credential that connects', () => {
    const run = cli(['who-can', SAMPLE, 'studio.use', 'ws-research', '--json', '--now', '2026-01-01T00:00:00Z']);
    expect(run.code).toBe(0);
    const body = JSON.parse(run.stdout) as { principal: string; kind: string; grants: unknown[] }[];
    expect(body.map((p) => p.principal)).toContain('m-chloe');
    for (const p of body) expect(p.grants.length).toBeGreaterThan(0);
    const tools = cli(['who-can', SAMPLE, '--connector', 'github', '--tool', 'create_issue', '--workspace', 'ws-research', '--json']);
    const toolBody = JSON.parse(tools.stdout) as { principal: string; credential: unknown }[];
    expect(toolBody.find((p) => p.principal === 'm-chloe')?.credential).toEqual({ holder: 'organization', id: 'cred-github-app' });
  });

  it('access: human text and --json shape', () => {
    const human = cli(['access', SAMPLE, 'm-chloe']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('m-chloe (member)');
    expect(human.stdout).toContain('    github: search_repositories, get_issue, create_issue, create_pull_request');
    const body = JSON.parse(cli(['access', SAMPLE, 'm-chloe', '--json']).stdout) as { principal: string; kind: string; organization: string[]; workspaces: { workspace: string; actions: string[]; connectors: unknown[] }[] };
    expect(body.kind).toBe('member');
    expect(body.organization).toEqual(['org.profile.manage_own', 'admin.access']);
    expect(body.workspaces.map((w) => w.workspace)).toEqual(['ws-research', 'ws-platform']);
  });

  it('diff: what removing a default contributor loses, and nothing between a snapshot and itself', () => {
    const same = cli(['diff', SAMPLE, SAMPLE]);
    expect(same).toMatchObject({ code: 0, stdout: 'no access changes\n' });
    const body = JSON.parse(cli(['diff', SAMPLE, fixture('sample-after.json'), '--json']).stdout) as { principal: string; change: string; kind: string; action: string }[];
    expect(body.length).toBeGreaterThan(0);
    for (const c of body) expect([c.principal, c.change]).toEqual(['m-eve', 'lost']);
    expect(body.filter((c) => c.kind === 'action').map((c) => c.action)).toEqual(['vibe.use', 'studio.use']);
  });

  it('roles: the catalog with its fixed ids (SPEC §2)', () => {
    const body = JSON.parse(cli(['roles', '--json']).stdout) as { name: string; id: string }[];
    expect(body.find((r) => r.name === 'organization_admin')?.id).toBe('5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d1003');
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

function readSample(): string {
  return readFileSync(SAMPLE, 'utf8');
}
