import type { Patch } from 'immer';
import { applyChange, type Change, type ChangeError, type WirePatch } from '../change/index.js';
import type { Organization, OrganizationJson } from '../model/index.js';
import { loadOrganization } from '../model/index.js';
import type { Action } from '../roles/index.js';
import type { PolicyIndex } from './compile.js';
import { compileIndex } from './compile.js';
import type { ConnectorIndex } from './connectors.js';
import { compileConnectors } from './connectors.js';
import * as tools from './tools.js';
import type { ConnectorTools, InvokeExplanation, ToolsExplanation } from './tools.js';
import { updateCompiled } from './update.js';
import type { Explanation } from './decide.js';
import { decide, explainDecision } from './decide.js';
import type { DecisionOptions } from './options.js';

export type { DecisionOptions } from './options.js';
export type { DenyReason, Explanation, Grant } from './decide.js';
export type { ToolReason, ToolsExplanation, InvokeExplanation, ConnectorTools } from './tools.js';
export type { WorkspaceToolReason } from './connectors.js';

/** An action name; any other string is accepted and denied (`unknown_action`). */
export type ActionName = Action | (string & {});
/** A workspace id; `undefined` or `null` is "no workspace" (SPEC §7.16). */
export type WorkspaceRef = string | null | undefined;

/**
 * A compiled, immutable policy over one snapshot. Every method is safe to call with any value — it
 * never throws and denies what it does not understand (SPEC §3.5). Methods do not use `this`, so they
 * can be passed around on their own.
 */
export interface Policy {
  readonly organization: Organization;
  /** The revision of the snapshot it decides on (SPEC §8.4): every answer is at this revision. */
  readonly revision: number;
  /** SPEC §3: may `principal` take `action` (in `workspace`, for a workspace action)? */
  can(principal: string, action: ActionName, workspace?: WorkspaceRef, options?: DecisionOptions | null): boolean;
  /** The same decision as `can`, with each grant that allowed it or the first rule that denied it (§7.15). */
  explain(principal: string, action: ActionName, workspace?: WorkspaceRef, options?: DecisionOptions | null): Explanation;
  /** SPEC §4: the connector's tools `principal` may invoke in `workspace` now, in the connector's order (shared, frozen). */
  toolsAvailable(principal: string, connector: string, workspace: string, options?: DecisionOptions | null): readonly string[];
  /** SPEC §4: may `principal` invoke this one tool? Agrees with `toolsAvailable`. */
  canInvoke(principal: string, connector: string, tool: string, workspace: string, options?: DecisionOptions | null): boolean;
  /** SPEC §4: every connector with at least one available tool, in snapshot order — a gateway's tool list. */
  toolsByConnector(principal: string, workspace: string, options?: DecisionOptions | null): readonly ConnectorTools[];
  /** SPEC §4: the first rule that removes every tool, and each tool's own reason. */
  explainTools(principal: string, connector: string, workspace: string, options?: DecisionOptions | null): ToolsExplanation;
  /** SPEC §4: one call's decision and reason, `unknown_tool` for a tool the connector lacks. */
  explainInvoke(principal: string, connector: string, tool: string, workspace: string, options?: DecisionOptions | null): InvokeExplanation;
  /**
   * A new policy over `nextSnapshot` (a parsed or adopted snapshot), recompiling only what the
   * `patches` that produced it touch (a change's wire patches, or immer's); a full build when they are
   * too broad or not understood. This policy is left as it is and keeps answering for the old snapshot.
   */
  update(nextSnapshot: Organization, patches: readonly (Patch | WirePatch)[]): Policy;
  /**
   * The policy at the revision a change produces (SPEC §8): `applyChange` on this policy's snapshot,
   * then an incremental update. Throws a `ChangeRejectedError` (with the change's typed error) when the
   * change does not apply here; this policy is unchanged either way.
   */
  update(change: Change): Policy;
}

/** Thrown by `policy.update(change)` for a change that does not apply to the policy's snapshot; `error` says why. */
export class ChangeRejectedError extends Error {
  readonly error: ChangeError;
  constructor(error: ChangeError) {
    super(`change not applied (${error.code}): ${error.message}`);
    this.name = 'ChangeRejectedError';
    this.error = error;
  }
}

/** Internal: the compiled indexes behind a policy, for the layers above (administration, analysis). */
export interface PolicyInternals {
  readonly index: PolicyIndex;
  readonly connectors: ConnectorIndex;
}

const internals = new WeakMap<Policy, PolicyInternals>();
/**
 * The first policy compiled for each snapshot, by a full build or an update: the layers above reuse
 * it for that snapshot (a writer's authorization after it followed a change) instead of compiling
 * another. A policy holds its snapshot anyway, so this keeps nothing alive that its snapshot does not.
 */
const compiled = new WeakMap<Organization, Policy>();

/** Internal: a policy already compiled for exactly this snapshot object, if any. */
export function compiledPolicyOf(organization: Organization): Policy | undefined {
  return compiled.get(organization);
}

/**
 * Compiles a snapshot into a policy. A snapshot from `parseOrganization` is compiled as it is; anything
 * else is parsed first, and an invalid one throws an `OrganizationError` listing every problem.
 */
export function createPolicy(input: Organization | OrganizationJson | unknown): Policy {
  const organization = loadOrganization(input);
  const index = compileIndex(organization);
  return policyFrom({ index, connectors: compileConnectors(organization, index.workspaceNumbers, index.workspaceIds.length) });
}

/**
 * Internal: a policy over indexes already compiled (a full build, or an incremental update). `trusted`:
 * the indexes are known to be the snapshot's (a full build, or a change this library applied), so the
 * policy may be reused for that snapshot (`compiledPolicyOf`).
 */
export function policyFrom(compiledIndexes: PolicyInternals, trusted = true): Policy {
  const { index } = compiledIndexes;
  const indexes = { policy: index, connectors: compiledIndexes.connectors };
  const policy: Policy = Object.freeze({
    organization: index.organization,
    can: (principal: unknown, action: unknown, workspace?: unknown, options?: unknown) => decide(index, principal, action, workspace, options),
    explain: (principal: unknown, action: unknown, workspace?: unknown, options?: unknown) =>
      explainDecision(index, principal, action, workspace, options),
    toolsAvailable: (principal: unknown, connector: unknown, workspace: unknown, options?: unknown) =>
      tools.toolsAvailable(indexes, principal, connector, workspace, options),
    canInvoke: (principal: unknown, connector: unknown, tool: unknown, workspace: unknown, options?: unknown) =>
      tools.canInvoke(indexes, principal, connector, tool, workspace, options),
    toolsByConnector: (principal: unknown, workspace: unknown, options?: unknown) => tools.toolsByConnector(indexes, principal, workspace, options),
    explainTools: (principal: unknown, connector: unknown, workspace: unknown, options?: unknown) =>
      tools.explainTools(indexes, principal, connector, workspace, options),
    explainInvoke: (principal: unknown, connector: unknown, tool: unknown, workspace: unknown, options?: unknown) =>
      tools.explainInvoke(indexes, principal, connector, tool, workspace, options),
    revision: index.organization.revision,
    update: (next: Organization | Change, patches?: readonly (Patch | WirePatch)[]) => {
      // Patches the caller gives are not checked against the snapshot: that policy is the caller's alone.
      if (patches !== undefined) return policyFrom(updateCompiled(compiledIndexes, loadOrganization(next), patches), false);
      const applied = applyChange(index.organization, next);
      if (!applied.ok) throw new ChangeRejectedError(applied.error);
      return policyFrom(updateCompiled(compiledIndexes, applied.organization, (next as Change).patches));
    },
  });
  internals.set(policy, compiledIndexes);
  if (trusted && !compiled.has(index.organization)) compiled.set(index.organization, policy);
  return policy;
}

export function policyInternals(policy: Policy): PolicyInternals | undefined {
  return internals.get(policy);
}
