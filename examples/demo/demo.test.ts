/**
 * `npm run demo`, run as a newcomer runs it (`npx tsx examples/demo/demo.ts`): on the bundled sample it
 * shows the roles behind every mark and explains decisions in sentences; on a snapshot it cannot use it
 * lists the problems and exits 2, never with a stack trace.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { organizationBuilder } from 'org-policy';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url));

function demo(...args: string[]) {
  const result = spawnSync('npx', ['tsx', 'examples/demo/demo.ts', ...args], { cwd: root, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The lines of one table: from its title to the blank line that ends it. */
function section(stdout: string, title: string): string[] {
  const lines = stdout.split('\n');
  const start = lines.indexOf(title);
  expect(start, title).toBeGreaterThanOrEqual(0);
  const end = lines.indexOf('', start);
  return lines.slice(start, end);
}

describe('the demo on the bundled sample', () => {
  let run: ReturnType<typeof demo>;
  beforeAll(() => {
    run = demo('--now=2027-01-01T00:00:00Z');
  }, 60_000);

  it('exits 0, prints nothing on stderr, and no raw JSON anywhere', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(/[{}]/);
    expect(run.stdout).toContain('Decisions at 2027-01-01T00:00:00Z.');
  });

  it('a legend names the role behind each letter of a mark', () => {
    for (const entry of ['A organization_admin', 'W workspace_admin', 'D dev', 'U user', 'O observability_viewer', 'K API key', 'c: workspace_contributor held by default']) {
      expect(run.stdout).toContain(entry);
    }
  });

  it('each ✓ carries the roles that allow it, each row the roles its principal holds there', () => {
    const research = section(run.stdout, 'Workspace Research (ws-research)');
    expect(research[1]).toMatch(/^\s+admin\.access\s+vibe\s+studio\s+code\s+observability\s+members\s+connectors\s+api_keys\s+settings\s+holds$/);
    const row = (label: string) => research.find((l) => l.startsWith(`  ${label} `))!.trim().split(/\s{2,}/);
    expect(row('chloe')).toEqual(['chloe', '✓W', '✓W', '✓W', '✓W', '·', '✓W', '✓W', '✓W', '✓W', 'workspace_admin']);
    expect(row('dave')).toEqual(['dave', '·', '·', '✓D', '·', '·', '·', '·', '·', '·', 'dev']);
    expect(row('eve')).toEqual(['eve', '·', '✓c', '✓c', '·', '·', '·', '·', '·', '·', 'workspace_contributor (default)']);
    // An organization admin manages the workspace (D1) without being in it; its own workspace role shows as O.
    expect(row('ada')).toEqual(['ada', '✓A', '·', '·', '·', '✓O', '✓A', '✓A', '✓A', '✓A', 'observability_viewer']);
    expect(row('key Research CI')).toEqual(['key Research CI', '·', '·', '✓K', '·', '·', '·', '·', '·', '·', 'API key of this workspace']);
    expect(research.join('\n')).not.toContain('  bruno ');
    expect(run.stdout).toContain('  Nothing here for: bruno, finn (suspended), hugo, key Platform bot');

    const platform = section(run.stdout, 'Workspace Platform (ws-platform)');
    expect(platform.find((l) => l.startsWith('  chloe '))).toContain('dev via Engineering, mistral_code_user via Engineering');
    const organization = section(run.stdout, 'Organization');
    expect(organization.find((l) => l.startsWith('  gia '))).toMatch(/✓MA .*member, organization_admin via IT administrators$/);
  });

  it('explains decisions as sentences, with the reason code', () => {
    const why = run.stdout.slice(run.stdout.indexOf('Why?\n'));
    for (const line of [
      'm-ada vibe.use in ws-platform: denied: it holds no role in this workspace (not_a_member).',
      'm-eve studio.use in ws-research: allowed: workspace_contributor (in ws-research, the default for a member given no roles) gives it.',
      'm-gia org.members.manage: allowed: organization_admin (organization role, through the group IT administrators) gives it.',
      'k-platform-bot studio.use in ws-platform, asked without a time: denied: the API key expires, and no time was given to judge it by (now_required).',
      'k-platform-bot studio.use in ws-platform: allowed: it is an API key of ws-platform.',
      "m-eve's slack tools in ws-research: search_messages; not read_channel, send_message, manage_canvas: not selected by a restricted permission (tool_not_selected).",
      'm-dave calling atlassian/search_confluence in ws-research: denied: no credential connects it',
    ]) {
      expect(why).toContain(line);
    }
  });
});

describe('the demo on other snapshots', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'org-policy-demo-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a malformed snapshot: a readable list of its problems on stderr, exit 2, no stack trace', () => {
    const run = demo(fixture('invalid-snapshot.json'));
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`demo: ${fixture('invalid-snapshot.json')} is not a valid organization snapshot (2 problems):`);
    expect(run.stderr).toContain('  - members[0].orgRoles[0]: ');
    expect(run.stderr).toContain('[wrong_scope_role]');
    expect(run.stderr).toContain('  - members[1].colour is not a field of this object [unknown_field]');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('a blank name and a control character in another: both problems at once', () => {
    const file = join(dir, 'blank.json');
    const json = organizationBuilder('acme').member('ada', 'organization_admin').workspace('lab').toJSON() as { name: string; workspaces: { name: string }[] };
    json.name = '  ';
    json.workspaces[0]!.name = 'Lab\n';
    writeFileSync(file, JSON.stringify(json));
    const run = demo(file);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('  - name must not be empty or only whitespace [empty_name]');
    expect(run.stderr).toContain('  - workspaces[0].name must not contain control characters (U+000A at index 3) [control_character]');
  });

  it('a file that is not JSON, a missing file, a malformed --now: one line, exit 2', () => {
    const notJson = demo(fixture('not-json.json'));
    expect(notJson).toMatchObject({ code: 2, stdout: '' });
    expect(notJson.stderr).toMatch(/^demo: .*not-json\.json is not JSON: /);
    const missing = demo(join(dir, 'missing.json'));
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toBe(`demo: cannot read ${join(dir, 'missing.json')}: ENOENT\n`);
    const badNow = demo('--now=tomorrow');
    expect(badNow).toMatchObject({ code: 2, stdout: '' });
    expect(badNow.stderr).toContain('--now must be ISO-8601 with Z or an offset');
  });

  it('a valid snapshot of its own: its tables, and explanations of its own decisions', () => {
    const file = join(dir, 'own.json');
    writeFileSync(file, JSON.stringify(organizationBuilder('lab-org').member('root', 'organization_admin').member('sam').workspace('lab', { members: { sam: ['dev'] } }).toJSON()));
    const run = demo(file);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(section(run.stdout, 'Workspace lab (lab)').find((l) => l.startsWith('  sam '))).toMatch(/✓D .*dev$/);
    expect(run.stdout).toContain('sam studio.use in lab: allowed: dev (in lab) gives it.');
    expect(run.stdout).toContain('root vibe.use in lab: denied: it holds no role in this workspace (not_a_member).');
  });
});
