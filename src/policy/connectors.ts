/** The connector half of the compiled index: what every connector looks like from every workspace (SPEC §4.2–§4.5). */
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
  /**
   * SPEC §4.4 settled for everyone in the workspace: the connector authenticates with `none`, or the
   * workspace or the organization holds a connection. Otherwise only a member's own connection helps.
   */
  readonly connected: boolean;
}

/** Who holds a connection of one connector (SPEC §4.4). */
export interface CredentialHolders {
  readonly organization: boolean;
  readonly workspaces: ReadonlySet<string>;
  readonly members: ReadonlySet<string>;
}

/**
 * Connectors interned to their position in the snapshot, and one view per workspace × connector in a
 * flat array: a tool question is one look-up for the connector, one for the workspace, and an index.
 */
export interface ConnectorIndex {
  /** SPEC §7.17: a connector's id, or else its unique name → its number. */
  readonly numbers: ReadonlyMap<string, number>;
  /** Connector number → id. */
  readonly ids: readonly string[];
  readonly count: number;
  /** The view of connector `c` in workspace number `w` is at `w * count + c`. */
  readonly views: readonly ConnectorView[];
  /** Connector number → who holds a connection of it. */
  readonly credentials: readonly CredentialHolders[];
}

/**
 * Views for every workspace × connector. `workspaceNumbers` is the policy's numbering of the workspaces
 * (their positions after a full build; after incremental updates the numbers of deleted workspaces stay
 * unused), and `slots` one more than the highest number.
 */
export function compileConnectors(organization: Organization, workspaceNumbers: ReadonlyMap<string, number>, slots: number): ConnectorIndex {
  const connectors = [...organization.connectors.values()];
  const holders = compileCredentials(organization);
  const credentials = connectors.map((c) => holders.get(c.id)!);
  const views: ConnectorView[] = new Array(slots * connectors.length);
  connectors.forEach((connector, c) => fillColumn(organization, workspaceNumbers, connectors.length, views, c, connector, credentials[c]!));
  return { numbers: connectorNumbers(organization), ids: connectors.map((c) => c.id), count: connectors.length, views, credentials };
}

/** SPEC §7.17: names first, then ids over them, so that an id always wins over another connector's name. */
export function connectorNumbers(organization: Organization): Map<string, number> {
  const numbers = new Map<string, number>();
  let c = 0;
  for (const connector of organization.connectors.values()) numbers.set(connector.name, c++);
  c = 0;
  for (const connector of organization.connectors.values()) numbers.set(connector.id, c++);
  return numbers;
}

/**
 * One connector's view in every workspace, written into `views`. Most workspaces see the connector and
 * set no permission of their own; they share one frozen view per connectedness, so that 2,000
 * workspaces × 30 connectors hold a few dozen distinct views.
 */
export function fillColumn(
  organization: Organization,
  workspaceNumbers: ReadonlyMap<string, number>,
  count: number,
  views: ConnectorView[],
  c: number,
  connector: Connector,
  holders: CredentialHolders,
) {
  const plain: (ConnectorView | undefined)[] = [undefined, undefined];
  for (const workspace of organization.workspaces.values()) {
    const connected = isConnected(connector, holders, workspace.id);
    const shared = isVisible(connector, workspace.id) && !workspace.connectorPermissions.has(connector.id);
    let view = shared ? plain[+connected] : undefined;
    if (view === undefined) {
      view = compileView(organization, workspace.id, connector, connected);
      if (shared) plain[+connected] = view;
    }
    views[workspaceNumbers.get(workspace.id)! * count + c] = view;
  }
}

/** SPEC §4.4 for everyone in a workspace: no credential needed, or the workspace's or the organization's connection. */
export function isConnected(connector: Connector, holders: CredentialHolders, workspaceId: string): boolean {
  return connector.authentication === 'none' || holders.organization || holders.workspaces.has(workspaceId);
}

/** Every empty tool list a view or a tool question gives: one frozen array. */
export const NO_TOOLS: readonly string[] = Object.freeze([]);
const EMPTY_SET: ReadonlySet<string> = new Set();

export function compileView(organization: Organization, workspaceId: string, connector: Connector, connected: boolean): ConnectorView {
  const organizationPermission = organization.connectorPermissions.get(connector.id);
  const workspacePermission = organization.workspaces.get(workspaceId)?.connectorPermissions.get(connector.id);
  const gone = (reason: WorkspaceToolReason): ConnectorView => ({ connector, reason, tools: NO_TOOLS, toolSet: EMPTY_SET, connected });
  if (!isVisible(connector, workspaceId)) return gone('not_visible');
  if (organizationPermission?.mode === 'blocked' || workspacePermission?.mode === 'blocked') return gone('connector_blocked');
  const left = Object.freeze(
    connector.tools
      // SPEC §4.5: a read-only connector exposes read tools only (the loader refuses write tools on one).
      .filter((tool) => connector.capabilities === 'read_write' || tool.access === 'read')
      .map((tool) => tool.name)
      .filter((name) => selects(organizationPermission, name) && selects(workspacePermission, name)),
  );
  const tools = left.length === 0 ? NO_TOOLS : left;
  return { connector, reason: null, tools, toolSet: new Set(tools), connected };
}

/** D6: an organization connector is visible everywhere, a workspace connector where it belongs. */
export function isVisible(connector: Connector, workspaceId: string): boolean {
  return connector.visibility === 'organization' || (connector.workspaceIds?.includes(workspaceId) ?? false);
}

/** D4: nothing set means `allowed`; `restricted` keeps only its selection. */
export function selects(permission: ConnectorPermission | undefined, tool: string): boolean {
  return permission?.mode !== 'restricted' || (permission.tools?.includes(tool) ?? false);
}

/** Who holds a connection of each connector (of those in `only`, when given), in one pass over the credentials. */
export function compileCredentials(organization: Organization, only?: ReadonlySet<string>): Map<string, CredentialHolders> {
  const out = new Map<string, { organization: boolean; workspaces: Set<string>; members: Set<string> }>();
  for (const id of only ?? organization.connectors.keys()) out.set(id, { organization: false, workspaces: new Set(), members: new Set() });
  for (const credential of organization.credentials.values()) {
    const holders = out.get(credential.connectorId);
    if (holders === undefined) continue;
    if (credential.holder === 'organization') holders.organization = true;
    else if (credential.holder === 'workspace') holders.workspaces.add(credential.workspaceId);
    else holders.members.add(credential.memberId);
  }
  return out;
}
