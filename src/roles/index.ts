/**
 * The built-in role catalog (SPEC §2): data, imports nothing.
 * This is what `GET /api/admin/roles` returns; `can` and the docs read the same table.
 */

/** Where a role is held: in the whole organization, or in one workspace. */
export type Scope = 'organization' | 'workspace';

/** Every action, with the scope it is asked in. `admin.access` is the one action of both scopes. */
export const ACTIONS = Object.freeze([
  { name: 'org.profile.manage_own', scope: 'organization' },
  { name: 'org.settings.manage', scope: 'organization' },
  { name: 'org.members.manage', scope: 'organization' },
  { name: 'org.groups.manage', scope: 'organization' },
  { name: 'org.security.manage', scope: 'organization' },
  { name: 'org.billing.manage', scope: 'organization' },
  { name: 'org.usage.view', scope: 'organization' },
  { name: 'org.audit_logs.view', scope: 'organization' },
  { name: 'org.workspaces.manage', scope: 'organization' },
  { name: 'org.connectors.manage', scope: 'organization' },
  { name: 'admin.access', scope: 'both' },
  { name: 'vibe.use', scope: 'workspace' },
  { name: 'studio.use', scope: 'workspace' },
  { name: 'code.use', scope: 'workspace' },
  { name: 'observability.view', scope: 'workspace' },
  { name: 'workspace.members.manage', scope: 'workspace' },
  { name: 'workspace.connectors.manage', scope: 'workspace' },
  { name: 'workspace.api_keys.manage', scope: 'workspace' },
  { name: 'workspace.settings.manage', scope: 'workspace' },
] as const satisfies readonly { name: string; scope: Scope | 'both' }[]);

/** The name of an action, such as `studio.use` or `org.members.manage`: what `can` is asked about. */
export type Action = (typeof ACTIONS)[number]['name'];
/** Where an action is asked: `organization`, `workspace`, or `both` (only `admin.access`). */
export type ActionScope = (typeof ACTIONS)[number]['scope'];
/** An action asked of the organization (no workspace); `admin.access` is one too. */
export type OrganizationAction = Extract<(typeof ACTIONS)[number], { scope: 'organization' | 'both' }>['name'];
/** An action asked in a workspace; `admin.access` is one too. */
export type WorkspaceAction = Extract<(typeof ACTIONS)[number], { scope: 'workspace' | 'both' }>['name'];

const ORG_ADMIN_ACTIONS = [
  'org.profile.manage_own',
  'org.settings.manage',
  'org.members.manage',
  'org.groups.manage',
  'org.security.manage',
  'org.billing.manage',
  'org.usage.view',
  'org.audit_logs.view',
  'org.workspaces.manage',
  'org.connectors.manage',
  'admin.access',
] as const satisfies readonly OrganizationAction[];

const CONTRIBUTOR_ACTIONS = ['vibe.use', 'studio.use', 'code.use'] as const satisfies readonly WorkspaceAction[];

/**
 * Every built-in role: its permanent UUID (`id`), its API name, its label in the Admin Panel, its scope
 * and the actions it grants. What `GET /api/admin/roles` returns.
 */
export const ROLES = Object.freeze([
  role('5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d1001', 'member', 'Member', 'organization', ['org.profile.manage_own']),
  role('5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d1002', 'billing_manager', 'Billing', 'organization', [
    'org.billing.manage',
    'org.usage.view',
  ]),
  role('5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d1003', 'organization_admin', 'Admin', 'organization', ORG_ADMIN_ACTIONS),
  role('5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d2001', 'user', 'User', 'workspace', ['vibe.use']),
  role('5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d2002', 'dev', 'Developer', 'workspace', ['studio.use']),
  role('5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d2003', 'mistral_code_user', 'Mistral Vibe Code User', 'workspace', ['code.use']),
  role('5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d2004', 'workspace_contributor', 'Workspace Contributor', 'workspace', CONTRIBUTOR_ACTIONS),
  role('5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d2005', 'workspace_admin', 'Admin', 'workspace', [
    ...CONTRIBUTOR_ACTIONS,
    'workspace.members.manage',
    'workspace.connectors.manage',
    'workspace.api_keys.manage',
    'workspace.settings.manage',
    'admin.access',
  ]),
  // SPEC D3: a workspace admin is a contributor plus administration; observability is its own role.
  role('5b0c1a52-1f0e-4d3a-9a61-0c2f7f0d2006', 'observability_viewer', 'Observability Viewer', 'workspace', [
    'observability.view',
  ]),
] as const);

/** One entry of {@link ROLES}. */
export type Role = (typeof ROLES)[number];
/** The API name of a built-in role, such as `organization_admin` or `dev`. */
export type RoleName = Role['name'];
/** The name of a role held in the organization: `member`, `billing_manager`, `organization_admin`. */
export type OrganizationRoleName = Extract<Role, { scope: 'organization' }>['name'];
/** The name of a role held in a workspace, such as `user`, `dev` or `workspace_admin`. */
export type WorkspaceRoleName = Extract<Role, { scope: 'workspace' }>['name'];

/** The names of the organization roles, in catalog order. */
export const ORGANIZATION_ROLE_NAMES = Object.freeze(
  ROLES.filter((r) => r.scope === 'organization').map((r) => r.name),
) as readonly OrganizationRoleName[] as unknown as readonly [OrganizationRoleName, ...OrganizationRoleName[]];
/** The names of the workspace roles, in catalog order. */
export const WORKSPACE_ROLE_NAMES = Object.freeze(
  ROLES.filter((r) => r.scope === 'workspace').map((r) => r.name),
) as readonly WorkspaceRoleName[] as unknown as readonly [WorkspaceRoleName, ...WorkspaceRoleName[]];

/** SPEC §3.4: the role a member or group added to a workspace without roles gets. */
export const DEFAULT_WORKSPACE_ROLE = 'workspace_contributor' satisfies WorkspaceRoleName;
/** SPEC §5: the role a new member gets when no roles are given. */
export const DEFAULT_ORGANIZATION_ROLE = 'member' satisfies OrganizationRoleName;

const rolesByName: ReadonlyMap<string, Role> = new Map(ROLES.map((r) => [r.name, r]));
const rolesById: ReadonlyMap<string, Role> = new Map(ROLES.map((r) => [r.id, r]));
const actionsByName: ReadonlyMap<string, (typeof ACTIONS)[number]> = new Map(ACTIONS.map((a) => [a.name, a]));

/** The role with this API name, or `undefined`. Never reads an object's prototype. */
export function roleByName(name: unknown): Role | undefined {
  return typeof name === 'string' ? rolesByName.get(name) : undefined;
}

/** The role with this permanent UUID, or `undefined`. */
export function roleById(id: unknown): Role | undefined {
  return typeof id === 'string' ? rolesById.get(id) : undefined;
}

/** Whether `value` is the name of an action in {@link ACTIONS}. */
export function isAction(value: unknown): value is Action {
  return typeof value === 'string' && actionsByName.has(value);
}

/** The scope an action is asked in: `organization`, `workspace`, or `both` (`admin.access`). */
export function actionScope(action: Action): ActionScope {
  return actionsByName.get(action)!.scope;
}

/** Whether `value` is the name of an organization role. */
export function isOrganizationRoleName(value: unknown): value is OrganizationRoleName {
  return roleByName(value)?.scope === 'organization';
}

/** Whether `value` is the name of a workspace role. */
export function isWorkspaceRoleName(value: unknown): value is WorkspaceRoleName {
  return roleByName(value)?.scope === 'workspace';
}

function role<const N extends string, const S extends Scope, const A extends readonly Action[]>(
  id: string,
  name: N,
  label: string,
  scope: S,
  actions: A,
) {
  return Object.freeze({ id, name, label, scope, actions: Object.freeze([...actions]) as unknown as A });
}
