import type { PolicyIndex } from '../policy/compile.js';
import { STUDIO_USE, VIBE_USE } from '../policy/actions.js';
import { keyStanding } from '../policy/decide.js';
import { isMalformedOptions, readOption } from '../policy/options.js';
import type { ConnectorIndex, ConnectorView } from './compile.js';

/** Why a connector's tools, or one tool, are not available: SPEC §7.15, in the order they are checked. */
export type ToolReason =
  | 'unknown_principal'
  | 'unknown_connector'
  | 'unknown_workspace'
  | 'malformed_options'
  | 'key_revoked'
  | 'now_required'
  | 'key_expired'
  | 'key_workspace'
  | 'key_scope'
  | 'no_product_access'
  | 'suspended'
  | 'not_visible'
  | 'connector_blocked'
  | 'not_connected'
  | 'tool_not_selected'
  | 'unknown_tool';

export interface ToolsExplanation {
  /** The first rule that removes every tool at once, or `null`. */
  readonly reason: ToolReason | null;
  /** Each of the connector's tools, in its order; `reason: null` when available. Empty for an unknown connector. */
  readonly tools: readonly { readonly name: string; readonly reason: ToolReason | null }[];
}

export type InvokeExplanation =
  | { readonly allowed: true; readonly reason: null }
  | { readonly allowed: false; readonly reason: ToolReason };

export interface ConnectorTools {
  readonly connector: { readonly id: string; readonly name: string };
  readonly tools: readonly string[];
}

export interface Indexes {
  readonly policy: PolicyIndex;
  readonly connectors: ConnectorIndex;
}

const NO_TOOLS: readonly string[] = Object.freeze([]);

/**
 * Every connector-wide rule of SPEC §4 in the order of §7.15: the connector's view in that workspace
 * when the principal passes them all, or the first reason that removes every tool. One code path for
 * the fast answers and their explanations, so the two cannot disagree.
 */
export function connectorStanding(
  { policy, connectors }: Indexes,
  principal: unknown,
  connector: unknown,
  workspace: unknown,
  options: unknown,
): ConnectorView | ToolReason {
  const entry = policy.principals.get(principal as string);
  if (entry === undefined) return 'unknown_principal';
  const connectorId = resolveConnector({ policy, connectors }, connector);
  if (connectorId === undefined) return 'unknown_connector';
  const views = connectors.views.get(workspace as string);
  if (views === undefined) return 'unknown_workspace';
  if (isMalformedOptions(options)) return 'malformed_options';
  const product = readOption(options, 'product');
  if (product !== undefined && product !== 'vibe' && product !== 'studio') return 'malformed_options'; // §7.10

  const view = views.get(connectorId)!;
  if (entry.kind === 'key') {
    const standing = keyStanding(entry, options);
    if (standing !== null) return standing;
    if (workspace !== entry.workspaceId) return 'key_workspace';
    if (entry.connectorScopes !== 'all' && !entry.connectorScopes.has(connectorId)) return 'key_scope';
    if (product === 'vibe') return 'no_product_access'; // D5: keys use Studio only
  } else {
    if (!entry.active) return 'suspended';
    const needed = product === 'vibe' ? VIBE_USE : product === 'studio' ? STUDIO_USE : VIBE_USE | STUDIO_USE;
    if (((entry.workspaceMasks.get(workspace as string) ?? 0) & needed) === 0) return 'no_product_access'; // §4.1, §7.14
  }
  if (view.reason !== null) return view.reason;
  if (view.needsCredential && !isConnected(connectors, connectorId, workspace as string, entry.kind === 'member' ? entry.id : undefined)) {
    return 'not_connected';
  }
  return view;
}

/** SPEC §4.4: the member's own connection, the workspace's, the organization's App Connection. Keys never use a member's (§7.4). */
function isConnected(connectors: ConnectorIndex, connectorId: string, workspaceId: string, memberId: string | undefined): boolean {
  const holders = connectors.credentials.get(connectorId);
  if (holders === undefined) return false;
  return (memberId !== undefined && holders.members.has(memberId)) || holders.workspaces.has(workspaceId) || holders.organization;
}

/** SPEC §7.17: an id first, else a unique name. */
export function resolveConnector({ policy, connectors }: Indexes, connector: unknown): string | undefined {
  if (typeof connector !== 'string') return undefined;
  return policy.organization.connectors.has(connector) ? connector : connectors.byName.get(connector);
}

export function toolsAvailable(indexes: Indexes, principal: unknown, connector: unknown, workspace: unknown, options: unknown): readonly string[] {
  const standing = connectorStanding(indexes, principal, connector, workspace, options);
  return typeof standing === 'string' ? NO_TOOLS : standing.tools;
}

export function canInvoke(indexes: Indexes, principal: unknown, connector: unknown, tool: unknown, workspace: unknown, options: unknown): boolean {
  const standing = connectorStanding(indexes, principal, connector, workspace, options);
  return typeof standing !== 'string' && standing.toolSet.has(tool as string);
}

export function toolsByConnector(indexes: Indexes, principal: unknown, workspace: unknown, options: unknown): readonly ConnectorTools[] {
  const out: ConnectorTools[] = [];
  const views = indexes.connectors.views.get(workspace as string);
  if (views === undefined) return Object.freeze(out);
  for (const { connector } of views.values()) {
    const tools = toolsAvailable(indexes, principal, connector.id, workspace, options);
    if (tools.length > 0) out.push(Object.freeze({ connector: Object.freeze({ id: connector.id, name: connector.name }), tools }));
  }
  return Object.freeze(out);
}

export function explainTools(indexes: Indexes, principal: unknown, connector: unknown, workspace: unknown, options: unknown): ToolsExplanation {
  const standing = connectorStanding(indexes, principal, connector, workspace, options);
  const connectorId = resolveConnector(indexes, connector);
  const definition = connectorId === undefined ? undefined : indexes.policy.organization.connectors.get(connectorId);
  const reason = typeof standing === 'string' ? standing : null;
  const tools = (definition?.tools ?? []).map(({ name }) =>
    Object.freeze({ name, reason: reason ?? (typeof standing !== 'string' && standing.toolSet.has(name) ? null : ('tool_not_selected' as const)) }),
  );
  return Object.freeze({ reason, tools: Object.freeze(tools) });
}

export function explainInvoke(
  indexes: Indexes,
  principal: unknown,
  connector: unknown,
  tool: unknown,
  workspace: unknown,
  options: unknown,
): InvokeExplanation {
  const standing = connectorStanding(indexes, principal, connector, workspace, options);
  if (typeof standing === 'string') return Object.freeze({ allowed: false, reason: standing });
  if (typeof tool !== 'string' || !standing.connector.tools.some((t) => t.name === tool)) return Object.freeze({ allowed: false, reason: 'unknown_tool' });
  if (!standing.toolSet.has(tool)) return Object.freeze({ allowed: false, reason: 'tool_not_selected' });
  return Object.freeze({ allowed: true, reason: null });
}
