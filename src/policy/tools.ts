/** The tool decisions of SPEC §4, over the same compiled index as `can`: member rows and keys (`compile.ts`) and connector views (`connectors.ts`). */
import type { PolicyIndex } from './compile.js';
import { STUDIO_USE, VIBE_USE } from './actions.js';
import { keyStanding } from './decide.js';
import { ACTIVE, workspaceMask } from './table.js';
import { readOption } from './options.js';
import type { ConnectorIndex, ConnectorView } from './connectors.js';
import { NO_TOOLS } from './connectors.js';

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


/**
 * Every connector-wide rule of SPEC §4 in the order of §7.15: the connector's view in that workspace
 * when the principal passes them all, or the first reason that removes every tool. One code path for
 * the fast answers and their explanations, so the two cannot disagree.
 */
export function connectorStanding(indexes: Indexes, principal: unknown, connector: unknown, workspace: unknown, options: unknown): ConnectorView | ToolReason {
  return standingAt(indexes, principal, indexes.connectors.numbers.get(connector as string), indexes.policy.workspaceNumbers.get(workspace as string), workspace, options);
}

/**
 * `connectorStanding` with the connector and the workspace already looked up (`c` and `w`, `undefined`
 * for unknown ones), so that `toolsAvailable` and `toolsByConnector`, which have them, do not look them up again.
 * The reasons still come in §7.15 order: the principal is judged before an unknown connector or workspace.
 */
function standingAt(
  { policy, connectors }: Indexes,
  principal: unknown,
  c: number | undefined,
  w: number | undefined,
  workspace: unknown,
  options: unknown,
): ConnectorView | ToolReason {
  // One look-up finds a member (its row's offset) or a key (its entry), or nobody.
  const found = policy.members.find(principal);
  if (found === undefined) return 'unknown_principal';
  const at = typeof found === 'number' ? found : undefined;
  const key = typeof found === 'number' ? undefined : found;
  if (c === undefined) return 'unknown_connector';
  if (w === undefined) return 'unknown_workspace';
  let product: unknown;
  if (options !== undefined && options !== null) {
    if (typeof options !== 'object') return 'malformed_options';
    product = readOption(options, 'product');
    if (product !== undefined && product !== 'vibe' && product !== 'studio') return 'malformed_options'; // §7.10
  }

  const view = connectors.views[w * connectors.count + c]!;
  if (key !== undefined) {
    const standing = keyStanding(key, options);
    if (standing !== null) return standing;
    if (workspace !== key.workspaceId) return 'key_workspace';
    if (key.connectorScopes !== 'all' && !key.connectorScopes.has(view.connector.id)) return 'key_scope';
    if (product === 'vibe') return 'no_product_access'; // D5: keys use Studio only
  } else {
    const rows = policy.members.rows;
    if ((rows[at!]! & ACTIVE) === 0) return 'suspended';
    const needed = product === 'vibe' ? VIBE_USE : product === 'studio' ? STUDIO_USE : VIBE_USE | STUDIO_USE;
    const mask = workspaceMask(rows, at!, w);
    if (mask < 0 || (mask & needed) === 0) return 'no_product_access'; // §4.1, §7.14
  }
  if (view.reason !== null) return view.reason;
  // SPEC §4.4: the workspace's or the organization's connection, else the member's own. Keys never use a member's (§7.4).
  if (!view.connected && (key !== undefined || !connectors.credentials[c]!.members.has(principal as string))) return 'not_connected';
  return view;
}

/** SPEC §7.17: a connector's id, or else its unique name → its id. */
export function resolveConnector({ connectors }: Indexes, connector: unknown): string | undefined {
  const c = connectors.numbers.get(connector as string);
  return c === undefined ? undefined : connectors.ids[c];
}

export function toolsAvailable(indexes: Indexes, principal: unknown, connector: unknown, workspace: unknown, options: unknown): readonly string[] {
  // Every rule only removes tools: when the view of the connector in the workspace has none left, the
  // answer is empty whoever asks, and the principal need not be looked up (its row is a cache miss).
  const { connectors, policy } = indexes;
  const c = connectors.numbers.get(connector as string);
  const w = policy.workspaceNumbers.get(workspace as string);
  if (c === undefined || w === undefined || connectors.views[w * connectors.count + c]!.tools.length === 0) return NO_TOOLS;
  const standing = standingAt(indexes, principal, c, w, workspace, options);
  return typeof standing === 'string' ? NO_TOOLS : standing.tools;
}

export function canInvoke(indexes: Indexes, principal: unknown, connector: unknown, tool: unknown, workspace: unknown, options: unknown): boolean {
  const standing = connectorStanding(indexes, principal, connector, workspace, options);
  return typeof standing !== 'string' && standing.toolSet.has(tool as string);
}

export function toolsByConnector(indexes: Indexes, principal: unknown, workspace: unknown, options: unknown): readonly ConnectorTools[] {
  const out: ConnectorTools[] = [];
  const { connectors, policy } = indexes;
  const w = policy.workspaceNumbers.get(workspace as string);
  if (w === undefined) return Object.freeze(out);
  for (let c = 0; c < connectors.count; c++) {
    const view = connectors.views[w * connectors.count + c]!;
    if (view.tools.length === 0) continue;
    const standing = standingAt(indexes, principal, c, w, workspace, options);
    if (typeof standing === 'string') continue;
    const { connector } = view;
    out.push(Object.freeze({ connector: Object.freeze({ id: connector.id, name: connector.name }), tools: standing.tools }));
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
