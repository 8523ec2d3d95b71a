/**
 * `npm run demo`: loads the bundled sample organization and prints who may do what, with a few
 * explanations. Usage: npm run demo [-- path/to/snapshot.json] [-- --now=2027-01-01T00:00:00Z]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ACTIONS, createPolicy, parseOrganization, type Action, type Policy } from 'org-policy';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--')) ?? fileURLToPath(new URL('../sample-organization.json', import.meta.url));
const now = args.find((a) => a.startsWith('--now='))?.slice('--now='.length) ?? new Date().toISOString();

const parsed = parseOrganization(JSON.parse(readFileSync(file, 'utf8')));
if (!parsed.ok) {
  console.error(`${file} is not a valid snapshot:`);
  for (const p of parsed.problems) console.error(`  ${p.path.join('.')}: ${p.message} [${p.code}]`);
  process.exit(1);
}
const org = parsed.organization;
const policy = createPolicy(org);
const options = { now };

const principals = [...org.members.values()].map((m) => ({ id: m.id, label: `${m.email.split('@')[0]}${m.status === 'suspended' ? ' (suspended)' : ''}` }));
principals.push(...[...org.apiKeys.values()].map((k) => ({ id: k.id, label: `key ${k.name}${k.status === 'revoked' ? ' (revoked)' : ''}` })));

console.log(`${org.name}: ${org.members.size} members, ${org.groups.size} groups, ${org.workspaces.size} workspaces, ${org.connectors.size} connectors, ${org.apiKeys.size} API keys`);
console.log(`Decisions at ${now}. ✓ allowed, · denied.\n`);

const orgActions = ACTIONS.filter((a) => a.scope !== 'workspace').map((a) => a.name);
table('Organization', orgActions, (id, action) => policy.can(id, action, undefined, options));

const workspaceActions = ACTIONS.filter((a) => a.scope !== 'organization').map((a) => a.name);
for (const workspace of org.workspaces.values()) {
  table(`Workspace ${workspace.name} (${workspace.id})`, workspaceActions, (id, action) => policy.can(id, action, workspace.id, options));
  console.log('  Connector tools:');
  for (const { id, label } of principals) {
    const tools = policy.toolsByConnector(id, workspace.id, options);
    if (tools.length === 0) continue;
    console.log(`    ${label.padEnd(24)} ${tools.map((c) => `${c.connector.name}: ${c.tools.join(', ')}`).join(' | ')}`);
  }
  console.log();
}

console.log('Why?');
trace(`explain('m-ada', 'workspace.members.manage', 'ws-platform')`, policy.explain('m-ada', 'workspace.members.manage', 'ws-platform'));
trace(`explain('m-ada', 'vibe.use', 'ws-platform')`, policy.explain('m-ada', 'vibe.use', 'ws-platform'));
trace(`explain('m-eve', 'studio.use', 'ws-research')`, policy.explain('m-eve', 'studio.use', 'ws-research'));
trace(`explain('m-dave', 'code.use', 'ws-platform')`, policy.explain('m-dave', 'code.use', 'ws-platform'));
trace(`explain('m-gia', 'org.members.manage')`, policy.explain('m-gia', 'org.members.manage'));
trace(`explain('k-platform-bot', 'studio.use', 'ws-platform')  // no now`, policy.explain('k-platform-bot', 'studio.use', 'ws-platform'));
trace(`explainTools('m-eve', 'slack', 'ws-research')`, policy.explainTools('m-eve', 'slack', 'ws-research', options));
trace(`explainInvoke('m-dave', 'atlassian', 'search_confluence', 'ws-research')`, policy.explainInvoke('m-dave', 'atlassian', 'search_confluence', 'ws-research', options));

function table(title: string, actions: readonly Action[], allowed: (principal: string, action: Action) => boolean) {
  console.log(title);
  const width = Math.max(...principals.map((p) => p.label.length)) + 2;
  const headers = actions.map((a) => a.replace(/^(org|workspace)\./, '').replace(/\.(manage|use|view)(_own)?$/, ''));
  console.log(`  ${''.padEnd(width)}${headers.map((h) => h.padEnd(Math.max(h.length, 1) + 2)).join('')}`);
  for (const { id, label } of principals) {
    const cells = actions.map((a, i) => (allowed(id, a) ? '✓' : '·').padEnd(headers[i]!.length + 2));
    console.log(`  ${label.padEnd(width)}${cells.join('')}`);
  }
  console.log();
}

function trace(call: string, result: unknown) {
  console.log(`  ${call}\n    → ${JSON.stringify(result)}`);
}

export type { Policy };
