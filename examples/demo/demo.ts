/**
 * `npm run demo`: loads an organization snapshot (the bundled sample unless a path is given) and prints
 * who may do what — each ✓ with the roles that allow it, each row with the roles its principal holds
 * there — and, in plain sentences, why a few decisions came out as they did.
 *
 *   npm run demo [-- path/to/snapshot.json] [-- --now=2027-01-01T00:00:00Z]
 *
 * A snapshot that cannot be read, is not JSON or does not parse prints its problems and exits 2, as
 * does a malformed --now.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  ACTIONS,
  createPolicy,
  formatPath,
  parseOrganization,
  type Action,
  type DenyReason,
  type Grant,
  type Organization,
  type Policy,
  type RoleName,
  type ToolReason,
} from 'org-policy';

const SAMPLE = fileURLToPath(new URL('../sample-organization.json', import.meta.url));
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/** One letter per role in the marks; the legend spells them out. */
const LETTERS: Record<RoleName, string> = {
  member: 'M',
  billing_manager: 'B',
  organization_admin: 'A',
  user: 'U',
  dev: 'D',
  mistral_code_user: 'V',
  workspace_contributor: 'C',
  workspace_admin: 'W',
  observability_viewer: 'O',
};
const KEY_LETTER = 'K';

/** What a reason code (SPEC §7.15) means, in a sentence a reader of the demo understands. */
const REASONS: Record<DenyReason | ToolReason, string> = {
  unknown_action: 'there is no such action',
  unknown_principal: 'there is no such member or API key',
  malformed_options: 'the decision options are malformed',
  key_revoked: 'the API key is revoked',
  now_required: 'the API key expires, and no time was given to judge it by',
  key_expired: 'the API key has expired',
  no_grant: 'no role it holds gives this action',
  not_a_member: 'it holds no role in this workspace',
  suspended: 'the member is suspended',
  unknown_workspace: 'there is no such workspace',
  workspace_required: 'this action is asked in a workspace',
  seat_required: 'it needs a mistral_code seat',
  unknown_connector: 'there is no such connector',
  key_workspace: 'the API key belongs to another workspace',
  key_scope: "the connector is outside the API key's scopes",
  no_product_access: 'it may use neither Vibe nor Studio here',
  not_visible: 'the connector is not visible in this workspace',
  connector_blocked: 'the connector is blocked',
  not_connected: 'no credential connects it (its own, the workspace’s or the organization’s)',
  tool_not_selected: 'not selected by a restricted permission',
  unknown_tool: 'the connector has no such tool',
};

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--')) ?? SAMPLE;
const nowArg = args.find((a) => a.startsWith('--now='))?.slice('--now='.length);
if (nowArg !== undefined && !ISO_WITH_OFFSET.test(nowArg)) fail(`--now must be ISO-8601 with Z or an offset (2027-01-01T00:00:00Z), not ${JSON.stringify(nowArg)}`);
const now = nowArg ?? new Date().toISOString();
const options = { now };

const org = load(file);
const policy = createPolicy(org);

interface Principal {
  readonly id: string;
  readonly label: string;
  readonly kind: 'member' | 'api_key';
}
const principals: Principal[] = [
  ...[...org.members.values()].map((m) => ({ id: m.id, label: `${m.email.split('@')[0]}${m.status === 'suspended' ? ' (suspended)' : ''}`, kind: 'member' as const })),
  ...[...org.apiKeys.values()].map((k) => ({ id: k.id, label: `key ${k.name}${k.status === 'revoked' ? ' (revoked)' : ''}`, kind: 'api_key' as const })),
];

console.log(`${org.name}: ${org.members.size} members, ${org.groups.size} groups, ${org.workspaces.size} workspaces, ${org.connectors.size} connectors, ${org.apiKeys.size} API keys`);
console.log(`Decisions at ${now}${nowArg === undefined ? ' (the current time; --now=… to choose another)' : ''}.`);
console.log('✓ allowed, followed by the roles that allow it; · denied.');
console.log(
  `  ${Object.entries(LETTERS)
    .map(([role, letter]) => `${letter} ${role}`)
    .join(', ')}, ${KEY_LETTER} API key; c: workspace_contributor held by default (a workspace member given no roles).\n`,
);

const orgActions = ACTIONS.filter((a) => a.scope !== 'workspace').map((a) => a.name);
table('Organization', orgActions, undefined, principals, (p) => organizationRoles(p));

const workspaceActions = ACTIONS.filter((a) => a.scope !== 'organization').map((a) => a.name);
for (const workspace of org.workspaces.values()) {
  const rows = principals.filter((p) => workspaceRoles(p, workspace.id) !== '' || workspaceActions.some((a) => policy.can(p.id, a, workspace.id, options)));
  table(`Workspace ${workspace.name} (${workspace.id})`, workspaceActions, workspace.id, rows, (p) => workspaceRoles(p, workspace.id));
  const outside = principals.filter((p) => !rows.includes(p));
  if (outside.length > 0) console.log(`  Nothing here for: ${outside.map((p) => p.label).join(', ')}\n`);
  const withTools = principals
    .map((p) => ({ p, tools: policy.toolsByConnector(p.id, workspace.id, options) }))
    .filter(({ tools }) => tools.length > 0);
  if (withTools.length > 0) {
    console.log('  Connector tools:');
    for (const { p, tools } of withTools) console.log(`    ${p.label.padEnd(24)} ${tools.map((c) => `${c.connector.name}: ${c.tools.join(', ')}`).join(' | ')}`);
    console.log();
  }
}

console.log('Why?');
for (const line of explanations()) console.log(`  ${line}`);

function load(path: string): Organization {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return fail(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return fail(`${path} is not JSON: ${(error as Error).message}`);
  }
  const parsed = parseOrganization(json);
  if (parsed.ok) return parsed.organization;
  const count = `${parsed.problems.length} problem${parsed.problems.length === 1 ? '' : 's'}`;
  // Most messages begin with their path; the others get it in front.
  const lines = parsed.problems.map((p) => {
    const where = formatPath(p.path);
    return `  - ${p.message.startsWith(where) ? p.message : `${where}: ${p.message}`} [${p.code}]`;
  });
  return fail(`${path} is not a valid organization snapshot (${count}):\n${lines.join('\n')}`);
}

function fail(message: string): never {
  console.error(`demo: ${message}`);
  process.exit(2);
}

function table(title: string, actions: readonly Action[], workspace: string | undefined, rows: readonly Principal[], holds: (p: Principal) => string) {
  console.log(title);
  const width = Math.max(...principals.map((p) => p.label.length)) + 2;
  const headers = actions.map((a) => a.replace(/^(org|workspace)\./, '').replace(/\.(manage|use|view)(_own)?$/, ''));
  const cells = rows.map((p) => actions.map((a) => mark(policy.explain(p.id, a, workspace, options))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)) + 2);
  console.log(`  ${''.padEnd(width)}${headers.map((h, i) => h.padEnd(widths[i]!)).join('')}holds`);
  rows.forEach((p, r) => console.log(`  ${p.label.padEnd(width)}${cells[r]!.map((c, i) => c.padEnd(widths[i]!)).join('')}${holds(p) || '-'}`));
  console.log();
}

/** `✓` and a letter for each role behind the decision, `·` when denied. */
function mark(explanation: ReturnType<Policy['explain']>): string {
  if (!explanation.allowed) return '·';
  const letters = new Set(explanation.grants.map((g) => (g.via === 'api_key' ? KEY_LETTER : g.default ? 'c' : LETTERS[g.role])));
  return `✓${[...letters].join('')}`;
}

function groupName(id: string | undefined): string {
  return (id !== undefined && org.groups.get(id)?.name) || (id ?? '');
}

function organizationRoles(p: Principal): string {
  if (p.kind === 'api_key') {
    const key = org.apiKeys.get(p.id)!;
    return `API key of ${key.workspaceId}${key.expiresAt === undefined ? '' : `, expires ${key.expiresAt}`}`;
  }
  const direct = [...org.members.get(p.id)!.orgRoles];
  const viaGroups = [...org.groups.values()].filter((g) => g.memberIds.includes(p.id)).flatMap((g) => g.orgRoles.map((role) => `${role} via ${g.name}`));
  return [...direct, ...viaGroups].join(', ');
}

function workspaceRoles(p: Principal, workspaceId: string): string {
  const workspace = org.workspaces.get(workspaceId)!;
  if (p.kind === 'api_key') return org.apiKeys.get(p.id)!.workspaceId === workspaceId ? 'API key of this workspace' : '';
  const entry = workspace.members.get(p.id);
  const direct = entry === undefined ? [] : entry.roles === undefined ? ['workspace_contributor (default)'] : [...entry.roles];
  const viaGroups = [...workspace.groupGrants.values()]
    .filter((grant) => org.groups.get(grant.groupId)?.memberIds.includes(p.id))
    .flatMap((grant) => (grant.roles ?? ['workspace_contributor']).map((role) => `${role} via ${groupName(grant.groupId)}`));
  return [...direct, ...viaGroups].join(', ');
}

function grantText(grant: Grant): string {
  if (grant.via === 'api_key') return `it is an API key of ${grant.workspace}`;
  const where = grant.scope === 'organization' ? 'organization role' : `in ${grant.workspace}`;
  const how = grant.via === 'group' ? `, through the group ${groupName(grant.group)}` : '';
  return `${grant.role} (${where}${grant.default ? ', the default for a member given no roles' : ''}${how}) gives it`;
}

type Question =
  | { readonly principal: string; readonly action: Action; readonly workspace?: string; readonly withoutNow?: true }
  | { readonly principal: string; readonly connector: string; readonly workspace: string; readonly tool?: string };

/** A few decisions worth explaining: the sample's own, or, for another snapshot, one allowed and one denied per workspace. */
function explanations(): string[] {
  const curated: Question[] = [
    { principal: 'm-ada', action: 'workspace.members.manage', workspace: 'ws-platform' },
    { principal: 'm-ada', action: 'vibe.use', workspace: 'ws-platform' },
    { principal: 'm-eve', action: 'studio.use', workspace: 'ws-research' },
    { principal: 'm-dave', action: 'code.use', workspace: 'ws-platform' },
    { principal: 'm-gia', action: 'org.members.manage' },
    { principal: 'k-platform-bot', action: 'studio.use', workspace: 'ws-platform', withoutNow: true },
    { principal: 'k-platform-bot', action: 'studio.use', workspace: 'ws-platform' },
    { principal: 'm-eve', connector: 'slack', workspace: 'ws-research' },
    { principal: 'm-dave', connector: 'atlassian', tool: 'search_confluence', workspace: 'ws-research' },
  ];
  const exists = (q: Question) =>
    (org.members.has(q.principal) || org.apiKeys.has(q.principal)) &&
    (q.workspace === undefined || org.workspaces.has(q.workspace)) &&
    (!('connector' in q) || [...org.connectors.values()].some((c) => c.name === q.connector || c.id === q.connector));
  const questions = curated.every(exists) ? curated : generated();
  return questions.map(answer);
}

function generated(): Question[] {
  const out: Question[] = [];
  for (const workspace of [...org.workspaces.keys()].slice(0, 3)) {
    const allowed = principals.find((p) => policy.can(p.id, 'studio.use', workspace, options) || policy.can(p.id, 'vibe.use', workspace, options));
    if (allowed) out.push({ principal: allowed.id, action: policy.can(allowed.id, 'studio.use', workspace, options) ? 'studio.use' : 'vibe.use', workspace });
    const denied = principals.find((p) => p.kind === 'member' && !policy.can(p.id, 'vibe.use', workspace, options));
    if (denied) out.push({ principal: denied.id, action: 'vibe.use', workspace });
  }
  return out;
}

function answer(q: Question): string {
  const where = q.workspace === undefined ? '' : ` in ${q.workspace}`;
  if ('connector' in q) {
    if (q.tool !== undefined) {
      const result = policy.explainInvoke(q.principal, q.connector, q.tool, q.workspace, options);
      return `${q.principal} calling ${q.connector}/${q.tool}${where}: ${result.allowed ? 'allowed' : `denied: ${REASONS[result.reason]} (${result.reason})`}.`;
    }
    const result = policy.explainTools(q.principal, q.connector, q.workspace, options);
    if (result.reason !== null) return `${q.principal}'s ${q.connector} tools${where}: none: ${REASONS[result.reason]} (${result.reason}).`;
    const available = result.tools.filter((t) => t.reason === null).map((t) => t.name);
    const refused = new Map<ToolReason, string[]>();
    for (const t of result.tools) if (t.reason !== null) refused.set(t.reason, [...(refused.get(t.reason) ?? []), t.name]);
    const not = [...refused].map(([reason, tools]) => `; not ${tools.join(', ')}: ${REASONS[reason]} (${reason})`).join('');
    return `${q.principal}'s ${q.connector} tools${where}: ${available.join(', ') || 'none'}${not}.`;
  }
  const result = q.withoutNow ? policy.explain(q.principal, q.action, q.workspace) : policy.explain(q.principal, q.action, q.workspace, options);
  const asked = `${q.principal} ${q.action}${where}${q.withoutNow ? ', asked without a time' : ''}`;
  return result.allowed ? `${asked}: allowed: ${result.grants.map(grantText).join('; ')}.` : `${asked}: denied: ${REASONS[result.reason]} (${result.reason}).`;
}
