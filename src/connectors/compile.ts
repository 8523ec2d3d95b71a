import type { Connector, ConnectorPermission, Organization } from '../model/index.js';

/** Why every tool of a connector is gone in a workspace, before asking who wants it (SPEC §4.2–§4.3). */
export type WorkspaceToolReason = 'not_visible' | 'connector_blocked';

/**
 * A connector as seen from one workspace: the tools that visibility and both permission levels leave
 * (D4, D6), in the connector's order, frozen and shared by every principal that may use them.
 */
export interface ConnectorView {
  readonly connector: Connector;
  readonly reason: WorkspaceToolReason | null;
  readonly tools: readonly string[];
  readonly toolSet: ReadonlySet<string>;
  /** SPEC §4.4: a credential is needed unless the connector authenticates with `none`. */
  readonly needsCredential: boolean;
}

/** Who holds a connection of one connector (SPEC §4.4). */
export interface CredentialHolders {
  organization: boolean;
  readonly workspaces: Set<string>;
  readonly members: Set<string>;
}

export interface ConnectorIndex {
  /** SPEC §7.17: a connector is named by its id, or else by its unique name. */
  readonly byName: ReadonlyMap<string, string>;
  /** Workspace → connector id → view, in the snapshot's connector order. */
  readonly views: ReadonlyMap<string, ReadonlyMap<string, ConnectorView>>;
  readonly credentials: ReadonlyMap<string, CredentialHolders>;
}

export function compileConnectors(organization: Organization): ConnectorIndex {
  const byName = new Map<string, string>();
  for (const connector of organization.connectors.values()) byName.set(connector.name, connector.id);
  const views = new Map<string, ReadonlyMap<string, ConnectorView>>();
  const shared = new Map<string, ConnectorView>();
  for (const workspaceId of organization.workspaces.keys()) views.set(workspaceId, compileWorkspaceViews(organization, workspaceId, shared));
  return { byName, views, credentials: compileCredentials(organization) };
}

/**
 * `shared` caches, per connector, the view of a workspace that sees it and sets no permission of its
 * own — most workspaces — so that 2,000 workspaces × 30 connectors share a few dozen frozen views.
 */
export function compileWorkspaceViews(organization: Organization, workspaceId: string, shared?: Map<string, ConnectorView>): Map<string, ConnectorView> {
  const out = new Map<string, ConnectorView>();
  const ownPermissions = organization.workspaces.get(workspaceId)?.connectorPermissions;
  for (const connector of organization.connectors.values()) {
    const plain = shared !== undefined && isVisible(connector, workspaceId) && !ownPermissions?.has(connector.id);
    let view = plain ? shared.get(connector.id) : undefined;
    if (view === undefined) {
      view = compileView(organization, workspaceId, connector);
      if (plain) shared.set(connector.id, view);
    }
    out.set(connector.id, view);
  }
  return out;
}

const EMPTY: readonly string[] = Object.freeze([]);
const EMPTY_SET: ReadonlySet<string> = new Set();

export function compileView(organization: Organization, workspaceId: string, connector: Connector): ConnectorView {
  const needsCredential = connector.authentication !== 'none';
  const organizationPermission = organization.connectorPermissions.get(connector.id);
  const workspacePermission = organization.workspaces.get(workspaceId)?.connectorPermissions.get(connector.id);
  const gone = (reason: WorkspaceToolReason): ConnectorView => ({ connector, reason, tools: EMPTY, toolSet: EMPTY_SET, needsCredential });
  if (!isVisible(connector, workspaceId)) return gone('not_visible');
  if (organizationPermission?.mode === 'blocked' || workspacePermission?.mode === 'blocked') return gone('connector_blocked');
  const tools = Object.freeze(
    connector.tools
      // SPEC §4.5: a read-only connector exposes read tools only (the loader refuses write tools on one).
      .filter((tool) => connector.capabilities === 'read_write' || tool.access === 'read')
      .map((tool) => tool.name)
      .filter((name) => selects(organizationPermission, name) && selects(workspacePermission, name)),
  );
  return { connector, reason: null, tools, toolSet: new Set(tools), needsCredential };
}

/** D6: an organization connector is visible everywhere, a workspace connector where it belongs. */
export function isVisible(connector: Connector, workspaceId: string): boolean {
  return connector.visibility === 'organization' || (connector.workspaceIds?.includes(workspaceId) ?? false);
}

/** D4: nothing set means `allowed`; `restricted` keeps only its selection. */
export function selects(permission: ConnectorPermission | undefined, tool: string): boolean {
  return permission?.mode !== 'restricted' || (permission.tools?.includes(tool) ?? false);
}

export function compileCredentials(organization: Organization): Map<string, CredentialHolders> {
  const out = new Map<string, CredentialHolders>();
  for (const credential of organization.credentials.values()) {
    let holders = out.get(credential.connectorId);
    if (!holders) out.set(credential.connectorId, (holders = { organization: false, workspaces: new Set(), members: new Set() }));
    if (credential.holder === 'organization') holders.organization = true;
    else if (credential.holder === 'workspace') holders.workspaces.add(credential.workspaceId);
    else holders.members.add(credential.memberId);
  }
  return out;
}
