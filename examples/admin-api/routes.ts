/**
 * The Admin API's command routes (SPEC §5 table) as data: each maps a method and a path to one admin
 * command of the library; path parameters are named after the command's fields and merged over the JSON
 * body (after `payload.ts` maps the Admin API's own role and member fields onto the command's), so the
 * library's own payload schemas check the request (docs/admin.md lists the commands and these routes).
 * The reads, the API key secrets and the admin keys are routes of `server.ts`.
 */
import type { CommandType } from 'org-policy';

export interface CommandRoute {
  readonly method: 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly command: CommandType;
  /** Fixed fields the route adds to the command (e.g. the credential holder). */
  readonly fixed?: Readonly<Record<string, unknown>>;
  /** Fields the body may not carry on this route (the organization-level permission names no workspace). */
  readonly refuse?: readonly string[];
  /** The service generates the key's secret, stores its SHA-256 in the command and answers the secret once (SPEC §9.1). */
  readonly issuesSecret?: true;
}

/** The ids a route's path names, as the audit event's targets of a refusal at the edge. */
export const TARGET_OF_PARAMETER: Readonly<Record<string, 'member' | 'workspace' | 'group' | 'connector' | 'credential' | 'api_key' | 'seat_pool'>> = {
  memberId: 'member',
  workspaceId: 'workspace',
  groupId: 'group',
  connectorId: 'connector',
  credentialId: 'credential',
  keyId: 'api_key',
  product: 'seat_pool',
};

export const COMMAND_ROUTES: readonly CommandRoute[] = [
  // members
  { method: 'POST', path: '/api/admin/users', command: 'inviteMember' },
  { method: 'PATCH', path: '/api/admin/users/:memberId', command: 'setMemberOrgRoles' },
  { method: 'PUT', path: '/api/admin/users/:memberId/email', command: 'changeMemberEmail' },
  { method: 'PUT', path: '/api/admin/users/:memberId/profile', command: 'setMemberProfile' },
  { method: 'POST', path: '/api/admin/users/:memberId/suspend', command: 'suspendMember' },
  { method: 'POST', path: '/api/admin/users/:memberId/reactivate', command: 'reactivateMember' },
  { method: 'DELETE', path: '/api/admin/users/:memberId', command: 'removeMember' },
  { method: 'PUT', path: '/api/admin/users/:memberId/seats/:product', command: 'assignSeat' },
  { method: 'DELETE', path: '/api/admin/users/:memberId/seats/:product', command: 'releaseSeat' },
  { method: 'PUT', path: '/api/admin/seat-pools/:product', command: 'setSeatPoolSize' },
  // workspaces
  { method: 'POST', path: '/api/admin/workspaces', command: 'createWorkspace' },
  { method: 'PATCH', path: '/api/admin/workspaces/:workspaceId', command: 'renameWorkspace' },
  { method: 'DELETE', path: '/api/admin/workspaces/:workspaceId', command: 'deleteWorkspace' },
  { method: 'PATCH', path: '/api/admin/workspaces/:workspaceId/users', command: 'addWorkspaceMembers' },
  { method: 'PUT', path: '/api/admin/workspaces/:workspaceId/users/:memberId', command: 'setWorkspaceMemberRoles' },
  { method: 'DELETE', path: '/api/admin/workspaces/:workspaceId/users/:memberId', command: 'removeWorkspaceMember' },
  { method: 'PUT', path: '/api/admin/workspaces/:workspaceId/groups/:groupId', command: 'setGroupWorkspaceRoles' },
  { method: 'DELETE', path: '/api/admin/workspaces/:workspaceId/groups/:groupId', command: 'removeGroupWorkspaceRoles' },
  { method: 'PUT', path: '/api/admin/workspaces/:workspaceId/connectors/:connectorId/permission', command: 'setConnectorPermission' },
  { method: 'POST', path: '/api/admin/workspaces/:workspaceId/credentials', command: 'addCredential', fixed: { holder: 'workspace' } },
  { method: 'POST', path: '/api/admin/workspaces/:workspaceId/api-keys', command: 'createApiKey', refuse: ['secrets'], issuesSecret: true },
  // groups
  { method: 'POST', path: '/api/admin/groups', command: 'createGroup' },
  { method: 'PATCH', path: '/api/admin/groups/:groupId', command: 'renameGroup' },
  { method: 'DELETE', path: '/api/admin/groups/:groupId', command: 'deleteGroup' },
  { method: 'PUT', path: '/api/admin/groups/:groupId/members', command: 'setGroupMembers' },
  { method: 'POST', path: '/api/admin/groups/:groupId/members', command: 'addGroupMembers' },
  { method: 'DELETE', path: '/api/admin/groups/:groupId/members', command: 'removeGroupMembers' },
  { method: 'PUT', path: '/api/admin/groups/:groupId/roles', command: 'setGroupOrgRoles' },
  // connectors, permissions, credentials
  { method: 'POST', path: '/api/admin/connectors', command: 'registerConnector' },
  { method: 'PATCH', path: '/api/admin/connectors/:connectorId', command: 'updateConnector' },
  { method: 'DELETE', path: '/api/admin/connectors/:connectorId', command: 'removeConnector' },
  { method: 'PUT', path: '/api/admin/connectors/:connectorId/permission', command: 'setConnectorPermission', refuse: ['workspaceId'] },
  { method: 'POST', path: '/api/admin/connectors/:connectorId/app-connection', command: 'addCredential', fixed: { holder: 'organization' } },
  { method: 'POST', path: '/api/admin/credentials', command: 'addCredential' },
  { method: 'DELETE', path: '/api/admin/credentials/:credentialId', command: 'removeCredential' },
  // API keys
  { method: 'POST', path: '/api/admin/api-keys/:keyId/revoke', command: 'revokeApiKey' },
  { method: 'PUT', path: '/api/admin/api-keys/:keyId/connector-scopes', command: 'setApiKeyConnectorScopes' },
  { method: 'PUT', path: '/api/admin/api-keys/:keyId/expiry', command: 'setApiKeyExpiry' },
];

/**
 * Matches a request path against a route pattern; parameters are decoded exactly (SPEC §7.11: ids
 * compare exactly) into a null-prototype object, since ids such as `__proto__` are real ids.
 */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = Object.create(null);
  for (let i = 0; i < want.length; i++) {
    const part = want[i]!;
    const actual = got[i]!;
    if (part.startsWith(':')) {
      let value: string;
      try {
        value = decodeURIComponent(actual);
      } catch {
        return null;
      }
      if (value === '') return null;
      params[part.slice(1)] = value;
    } else if (part !== actual) return null;
  }
  return params;
}
