/**
 * Analysis: who can, what can one principal do, and what does a change do — answered on the
 * compiled policy itself, so every answer agrees exactly with `can` / `toolsAvailable` (it is built
 * from their calls, never from a second reading of the rules).
 */
import { applyCommand } from '../admin/index.js';
import type { CommandResult } from '../admin/index.js';
import type { Organization, OrganizationJson } from '../model/index.js';
import type { DecisionOptions, DenyReason, Grant, Policy, ToolReason } from '../policy/index.js';
import { createPolicy } from '../policy/index.js';
import { policyFor } from '../admin/policy.js';
import { ACTIONS } from '../roles/index.js';
import type { Action } from '../roles/index.js';

export type PrincipalKind = 'member' | 'api_key';

export interface PrincipalGrants {
  readonly principal: string;
  readonly kind: PrincipalKind;
  readonly grants: readonly Grant[];
}

export interface ToolGrant {
  readonly principal: string;
  readonly kind: PrincipalKind;
  /** The product grants that let the principal use tools here (SPEC §4.1): `vibe.use` / `studio.use` explain grants. */
  readonly grants: readonly Grant[];
  /** SPEC §4.4: where the connection comes from — `'none'` for a connector needing no credential. */
  readonly credential: { readonly holder: 'member' | 'workspace' | 'organization'; readonly id: string } | 'none';
}

export interface WorkspaceAccess {
  readonly workspace: string;
  readonly actions: readonly Action[];
  readonly connectors: readonly { readonly connector: string; readonly name: string; readonly tools: readonly string[] }[];
}

export interface AccessReport {
  readonly principal: string;
  readonly kind: PrincipalKind | null;
  readonly organization: readonly Action[];
  readonly workspaces: readonly WorkspaceAccess[];
}

export interface AccessChange {
  readonly principal: string;
  /** `null` for an organization action. */
  readonly workspace: string | null;
  readonly kind: 'action' | 'tool';
  /** The action, or the tool's name for `kind: 'tool'`. */
  readonly action: string;
  /** For `kind: 'tool'`: the connector's id. */
  readonly connector?: string;
  readonly change: 'gained' | 'lost';
  readonly before: Side;
  readonly after: Side;
}

/** One side of a change: the grants that allowed it, or the reason code that denied it. */
export type Side =
  | { readonly allowed: true; readonly grants: readonly Grant[] }
  | { readonly allowed: false; readonly reason: DenyReason | ToolReason };

export type PolicySource = Policy | Organization | OrganizationJson;

const ORGANIZATION_ACTIONS: readonly Action[] = ACTIONS.filter((a) => a.scope !== 'workspace').map((a) => a.name);
const WORKSPACE_ACTIONS: readonly Action[] = ACTIONS.filter((a) => a.scope !== 'organization').map((a) => a.name);
const PRODUCT_ACTIONS = ['vibe.use', 'studio.use'] as const;

function asPolicy(source: PolicySource): Policy {
  if (typeof (source as Policy).can === 'function') return source as Policy;
  return createPolicy(source);
}

function principalsOf(org: Organization): { id: string; kind: PrincipalKind }[] {
  const out: { id: string; kind: PrincipalKind }[] = [];
  for (const id of org.members.keys()) out.push({ id, kind: 'member' });
  for (const id of org.apiKeys.keys()) out.push({ id, kind: 'api_key' });
  return out;
}

function kindOf(org: Organization, principal: string): PrincipalKind | null {
  if (org.members.has(principal)) return 'member';
  if (org.apiKeys.has(principal)) return 'api_key';
  return null;
}

/** Every principal (members, then API keys, in snapshot order) for whom `can(p, action, workspace)` holds, with its grants. */
export function whoCan(
  source: PolicySource,
  action: string,
  workspace?: string | null,
  options?: DecisionOptions | null,
): readonly PrincipalGrants[] {
  const policy = asPolicy(source);
  const out: PrincipalGrants[] = [];
  for (const { id, kind } of principalsOf(policy.organization)) {
    const explanation = policy.explain(id, action, workspace, options);
    if (explanation.allowed) out.push(Object.freeze({ principal: id, kind, grants: explanation.grants }));
  }
  return Object.freeze(out);
}

function credentialFor(
  org: Organization,
  principal: string,
  kind: PrincipalKind,
  connectorId: string,
  workspace: string,
): ToolGrant['credential'] {
  const connector = org.connectors.get(connectorId);
  if (connector === undefined || connector.authentication === 'none') return 'none';
  // SPEC §4.4: the member's own, then the workspace's, then the organization's App Connection.
  const order: ('member' | 'workspace' | 'organization')[] = kind === 'member' ? ['member', 'workspace', 'organization'] : ['workspace', 'organization'];
  for (const holder of order) {
    for (const credential of org.credentials.values()) {
      if (credential.connectorId !== connectorId || credential.holder !== holder) continue;
      if (holder === 'member' && (credential as { memberId?: string }).memberId !== principal) continue;
      if (holder === 'workspace' && (credential as { workspaceId?: string }).workspaceId !== workspace) continue;
      return Object.freeze({ holder, id: credential.id });
    }
  }
  return 'none';
}

function productGrants(policy: Policy, principal: string, workspace: string, options?: DecisionOptions | null): readonly Grant[] {
  const product = options?.product;
  const actions = product === 'vibe' ? ['vibe.use'] : product === 'studio' ? ['studio.use'] : PRODUCT_ACTIONS;
  const grants: Grant[] = [];
  for (const action of actions) {
    const explanation = policy.explain(principal, action, workspace, options);
    if (!explanation.allowed) continue;
    // One role granting both products is one grant, not two.
    for (const grant of explanation.grants) {
      const key = JSON.stringify(grant);
      if (!grants.some((g) => JSON.stringify(g) === key)) grants.push(grant);
    }
  }
  return Object.freeze(grants);
}

/** Every principal for whom `canInvoke(p, connector, tool, workspace)` holds, with its product grants and the credential that connects it. */
export function whoCanInvoke(
  source: PolicySource,
  connector: string,
  tool: string,
  workspace: string,
  options?: DecisionOptions | null,
): readonly ToolGrant[] {
  const policy = asPolicy(source);
  const org = policy.organization;
  const connectorId = org.connectors.has(connector) ? connector : [...org.connectors.values()].find((c) => c.name === connector)?.id;
  const out: ToolGrant[] = [];
  for (const { id, kind } of principalsOf(org)) {
    if (!policy.canInvoke(id, connector, tool, workspace, options)) continue;
    out.push(
      Object.freeze({
        principal: id,
        kind,
        grants: productGrants(policy, id, workspace, options),
        credential: connectorId === undefined ? 'none' : credentialFor(org, id, kind, connectorId, workspace),
      }),
    );
  }
  return Object.freeze(out);
}

/** Everything `principal` may do: organization actions, and per workspace its actions and each connector's available tools. */
export function accessOf(source: PolicySource, principal: string, options?: DecisionOptions | null): AccessReport {
  const policy = asPolicy(source);
  const org = policy.organization;
  const organization = ORGANIZATION_ACTIONS.filter((a) => policy.can(principal, a, undefined, options));
  const workspaces: WorkspaceAccess[] = [];
  for (const workspace of org.workspaces.keys()) {
    const actions = WORKSPACE_ACTIONS.filter((a) => policy.can(principal, a, workspace, options));
    const connectors = policy
      .toolsByConnector(principal, workspace, options)
      .map((entry) => Object.freeze({ connector: entry.connector.id, name: entry.connector.name, tools: entry.tools }));
    if (actions.length > 0 || connectors.length > 0) {
      workspaces.push(Object.freeze({ workspace, actions: Object.freeze(actions), connectors: Object.freeze(connectors) }));
    }
  }
  return Object.freeze({
    principal,
    kind: kindOf(org, principal),
    organization: Object.freeze(organization),
    workspaces: Object.freeze(workspaces),
  });
}

function actionSide(policy: Policy, principal: string, action: string, workspace: string | undefined, options?: DecisionOptions | null): Side {
  return policy.explain(principal, action, workspace, options);
}

function toolSide(policy: Policy, principal: string, connector: string, tool: string, workspace: string, options?: DecisionOptions | null): Side {
  const explanation = policy.explainInvoke(principal, connector, tool, workspace, options);
  if (!explanation.allowed) return { allowed: false, reason: explanation.reason };
  return { allowed: true, grants: productGrants(policy, principal, workspace, options) };
}

/**
 * Every (principal, workspace, action or tool) whose decision differs between two snapshots, gained or
 * lost, with the grants or reason code of each side. Principals, workspaces and connectors of either
 * snapshot are considered (one that exists on one side only is denied on the other).
 */
export function diffAccess(before: PolicySource, after: PolicySource, options?: DecisionOptions | null): readonly AccessChange[] {
  const a = asPolicy(before);
  const b = asPolicy(after);
  const union = <T>(x: Iterable<T>, y: Iterable<T>): T[] => [...new Set([...x, ...y])];
  const principals = union(
    [...a.organization.members.keys(), ...a.organization.apiKeys.keys()],
    [...b.organization.members.keys(), ...b.organization.apiKeys.keys()],
  );
  const workspaces = union(a.organization.workspaces.keys(), b.organization.workspaces.keys());
  // Tools by connector id across both snapshots, each connector's tools in order, before's first.
  const connectorTools = new Map<string, string[]>();
  for (const org of [a.organization, b.organization]) {
    for (const connector of org.connectors.values()) {
      const tools = connectorTools.get(connector.id) ?? [];
      for (const tool of connector.tools) if (!tools.includes(tool.name)) tools.push(tool.name);
      connectorTools.set(connector.id, tools);
    }
  }
  const out: AccessChange[] = [];
  const push = (change: Omit<AccessChange, 'change'>): void => {
    out.push(Object.freeze({ ...change, change: change.after.allowed ? 'gained' : 'lost' } as AccessChange));
  };
  for (const principal of principals) {
    for (const action of ORGANIZATION_ACTIONS) {
      if (a.can(principal, action, undefined, options) === b.can(principal, action, undefined, options)) continue;
      push({ principal, workspace: null, kind: 'action', action, before: actionSide(a, principal, action, undefined, options), after: actionSide(b, principal, action, undefined, options) });
    }
    for (const workspace of workspaces) {
      for (const action of WORKSPACE_ACTIONS) {
        if (a.can(principal, action, workspace, options) === b.can(principal, action, workspace, options)) continue;
        push({ principal, workspace, kind: 'action', action, before: actionSide(a, principal, action, workspace, options), after: actionSide(b, principal, action, workspace, options) });
      }
      for (const [connector, tools] of connectorTools) {
        for (const tool of tools) {
          if (a.canInvoke(principal, connector, tool, workspace, options) === b.canInvoke(principal, connector, tool, workspace, options)) continue;
          push({
            principal,
            workspace,
            kind: 'tool',
            action: tool,
            connector,
            before: toolSide(a, principal, connector, tool, workspace, options),
            after: toolSide(b, principal, connector, tool, workspace, options),
          });
        }
      }
    }
  }
  return Object.freeze(out);
}

export type Preview =
  | { readonly ok: true; readonly result: CommandResult; readonly diff: readonly AccessChange[] }
  | { readonly ok: false; readonly result: CommandResult; readonly diff: readonly AccessChange[] };

/**
 * A dry run of an admin command (SPEC §5): its result and the access it would change, applying nothing —
 * snapshots are immutable, so the caller's snapshot is untouched and nothing is stored. The diff is
 * judged at `options.now` (also the command's time) and `options.product`.
 */
export function previewCommand(
  snapshot: Organization,
  actor: string,
  command: unknown,
  options: DecisionOptions & { readonly now?: number | string } = {},
): Preview {
  const applyOptions = options.now === undefined ? {} : { now: options.now };
  const result = applyCommand(snapshot, actor, command, applyOptions);
  if (!result.ok) return Object.freeze({ ok: false, result, diff: Object.freeze([]) as readonly AccessChange[] });
  const diff = diffAccess(policyFor(snapshot), policyFor(result.snapshot), options);
  return Object.freeze({ ok: true, result, diff });
}
